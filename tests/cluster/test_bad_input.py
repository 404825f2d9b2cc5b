"""Bad input gets a clear error with the right status, and the node keeps serving."""
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import unittest

from harness import ClusterTest, HOST, PEER_OFFSET, counter, request


class BadInput(ClusterTest):
    def setUp(self):
        self.c = self.start_cluster(20100, extra_args=["--max-key-bytes", "64", "--max-value-bytes", "1000"])
        self.port = self.c.ports[0]

    def expect_error(self, status, method, path, body=None, contains="", headers=None):
        r = request(self.port, method, path, body, headers)
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.json["status"], "error", r)
        self.assertIn(contains, r.json["error"])
        return r

    def test_bad_requests_get_their_documented_answers(self):
        self.expect_error(400, "PUT", "/kv/k", "{not json", "not valid JSON")
        self.expect_error(400, "PUT", "/kv/k", "[1,2]", "JSON object")
        self.expect_error(400, "PUT", "/kv/k", {"N": 3}, '"value"')
        self.expect_error(400, "PUT", "/kv/k", "", '"value"')
        self.expect_error(400, "PUT", "/kv/k", {"value": 1, "context": "garbage!"}, "context token is malformed")
        self.expect_error(400, "PUT", "/kv/k", {"value": 1, "context": 7}, "context")
        self.expect_error(400, "PUT", "/kv/k", {"value": 1, "N": 4}, "N must be")
        self.expect_error(400, "PUT", "/kv/k", {"value": 1, "W": 0}, "W must be")
        self.expect_error(400, "PUT", "/kv/k", {"value": 1, "W": "two"}, "W must be an integer")
        self.expect_error(400, "GET", "/kv/k?R=5", None, "R must be")
        self.expect_error(400, "GET", "/kv/k?R=x", None, "R must be an integer")
        self.expect_error(400, "GET", "/kv/k", {"R": 0}, "R must be")
        self.expect_error(400, "DELETE", "/kv/k", {"W": 9}, "W must be")
        self.expect_error(400, "GET", "/kv/", None, "key must not be empty")
        self.expect_error(400, "GET", "/kv/" + "k" * 65, None, "limit is 64")
        self.expect_error(413, "PUT", "/kv/k", {"value": "v" * 1000}, "limit is 1000")

    def test_an_unknown_or_misspelled_parameter_is_refused_and_nothing_is_written(self):
        accepted = "accepted: value, context, N, R, W, sloppy (case-sensitive)"
        self.expect_error(400, "PUT", "/kv/typo", {"value": 1, "w": 3}, "unknown field in the body 'w'; " + accepted)
        self.expect_error(400, "PUT", "/kv/typo", {"value": 1, "Sloppy": False}, "'Sloppy'")
        self.expect_error(400, "DELETE", "/kv/typo", {"quorum": 2}, "'quorum'")
        self.expect_error(400, "GET", "/kv/typo?r=2", None,
                          "unknown query parameter 'r'; accepted: context, N, R, W, sloppy (case-sensitive)")
        self.expect_error(400, "PUT", "/kv/typo?W=2&Sloppy=false", {"value": 1}, "'Sloppy'")
        self.assertEqual(request(self.port, "GET", "/kv/typo").status, 404)
        self.expect_error(400, "GET", "/kv/bad%zzescape", None, "")
        self.expect_error(404, "GET", "/nope", None, "no such route")
        self.expect_error(405, "PATCH", "/kv/k", {"value": 1}, "not allowed")
        self.expect_error(405, "POST", "/health", None, "not allowed")
        # The node still serves, and nothing was written by any of the above.
        self.assertEqual(request(self.port, "GET", "/kv/k").status, 404)
        self.assertEqual(request(self.port, "PUT", "/kv/k", {"value": "ok"}).status, 200)

    def test_an_oversized_body_is_413_from_its_headers(self):
        big = "x" * (2 * 1024 * 1024)
        # The 413 comes from the headers: sent before the client has uploaded the body.
        with socket.create_connection((HOST, self.port), timeout=10) as s:
            s.sendall(b"PUT /kv/k HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n{\"value\":\"xx" % len(big))
            reply = s.recv(4096).decode()
        self.assertTrue(reply.startswith("HTTP/1.1 413"), reply)
        self.assertIn('"status":"error"', reply)
        # curl sends Expect: 100-continue for large bodies and must get the 413 before uploading.
        out = subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "--max-time", "10",
             "-H", "Expect: 100-continue", "--data-binary", "@-", f"http://{HOST}:{self.port}/kv/k"],
            input='{"value":"' + big + '"}', capture_output=True, text=True)
        self.assertEqual(out.stdout, "413")
        self.assertEqual(request(self.port, "GET", "/health").status, 200)

    def test_garbage_on_the_peer_port_does_not_disturb_the_node(self):
        peer_port = self.port + PEER_OFFSET
        for payload in (b"GET / HTTP/1.1\r\n\r\n", b"\x00" * 64, b"MDPEER" + b"\xff" * 32,
                        struct.pack("<II", 1 << 31, 0) + b"x" * 16):
            with socket.create_connection((HOST, peer_port), timeout=5) as s:
                s.settimeout(5)
                try:  # the node may close before we finish: any of these steps can see the reset
                    s.sendall(payload)
                    s.shutdown(socket.SHUT_WR)
                    while s.recv(4096):
                        pass
                except OSError:
                    pass
        self.assertGreaterEqual(counter(self.port, "peer_closed_bad_handshake") +
                                counter(self.port, "peer_closed_bad_frame"), 4)
        self.assertEqual(request(self.port, "PUT", "/kv/after-garbage", {"value": 1, "W": 3}).status, 200)
        self.assertEqual(request(self.c.ports[1], "GET", "/kv/after-garbage?R=3").json["value"], 1)



class BadFlags(ClusterTest):
    """A node refuses flags it cannot honour before it starts (port 20190, never bound)."""

    def test_negative_numbers_a_short_grace_a_huge_commit_window_and_a_bad_thread_count_are_refused_at_start(self):
        data_dir = tempfile.mkdtemp(prefix="minidynamo-flags-")
        self.addCleanup(shutil.rmtree, data_dir, True)
        for flags, says in ((["--timeout-ms", "-1"], "must not be negative"),
                            (["--max-hints", "-5"], "must not be negative"),
                            (["--tombstone-grace-ms", "-5"], "must not be negative"),
                            (["--tombstone-grace-ms", "100"], "must exceed --timeout-ms"),
                            (["--commit-window-us", "-5"], "not in range 0 to 100000"),
                            (["--commit-window-us", "200000"], "not in range 0 to 100000"),
                            (["--threads", "0"], "not in range 1 to 64"),
                            (["--threads", "65"], "not in range 1 to 64")):
            r = self.run_cli("node", "--port", "20190", "--nodes", f"{HOST}:20190", "--data-dir", data_dir, *flags)
            self.assertNotEqual(r.returncode, 0, flags)
            self.assertIn(flags[0], r.stdout + r.stderr)
            self.assertIn(says, r.stdout + r.stderr)
        r = self.run_cli("sim", "--seed", "-1")  # every command's unsigned options
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("must not be negative", r.stdout + r.stderr)

    def test_an_unknown_log_level_is_refused_with_the_allowed_names_before_anything_is_written(self):
        data_dir = tempfile.mkdtemp(prefix="minidynamo-flags-")
        self.addCleanup(shutil.rmtree, data_dir, True)
        for level in ("verbose", "WARN"):
            r = self.run_cli("node", "--port", "20190", "--nodes", f"{HOST}:20190", "--data-dir", data_dir,
                             "--log-level", level)
            self.assertEqual(r.returncode, 2, r)
            self.assertIn(f"--log-level: {level} not in {{trace,debug,info,warn,error}}", r.stderr)
            self.assertEqual(os.listdir(data_dir), [])

    def test_usage_errors_exit_2_as_documented(self):
        for args in (["get"], ["put", "k"], ["get", "k", "--bogus"], ["put", "k", "1", "--sloppy", "no"],
                     ["get", "k", "--node", "nohostport"], ["bench", "--workload", "nope"], ["node", "--port", "x"]):
            r = self.run_cli(*args)
            self.assertEqual(r.returncode, 2, (args, r.stdout, r.stderr))
            self.assertNotEqual(r.stderr.strip(), "", args)
        self.assertEqual(self.run_cli("get", "--help").returncode, 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
