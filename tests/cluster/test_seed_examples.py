"""Every curl example and failure drill of the seed README, run with real curl against real nodes."""
import json
import subprocess
import unittest

from harness import ClusterTest, counter, request, wait_until

BASE = 20000  # ports 20001-20003 (peers 21001-21003)


def curl(*args):
    out = subprocess.run(["curl", "-s", "-S", "--max-time", "10"] + list(args),
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


class SeedTour:
    """The seed README's tour against cluster `c`, whose nodes are reached at `scheme`://localhost with
    `curl_args` added to every curl (a CA, credentials) and `request_args` to every harness request."""

    def run_tour(self, c, scheme="http", curl_args=(), **request_args):
        a, b, third = c.ports

        def url(port, path):
            return f"{scheme}://localhost:{port}{path}"

        def tour_curl(*args):
            return curl(*curl_args, *args)

        # Write a Value
        r = tour_curl("-X", "PUT", url(a, "/kv/user123"), "-H", "Content-Type: application/json",
                      "-d", '{\n    "value": "Alice",\n    "N": 3,\n    "W": 2\n  }')
        self.assertEqual(r["status"], "success")
        self.assertEqual(r["key"], "user123")
        self.assertGreaterEqual(r["replicas_written"], 2)

        # Read a Value (GET with a JSON body)
        r = tour_curl("-X", "GET", url(b, "/kv/user123"), "-H", "Content-Type: application/json",
                      "-d", '{"R": 2}')
        self.assertEqual(r["status"], "success")
        self.assertEqual(r["value"], "Alice")
        self.assertEqual(list(r["vector_clock"].values()), [1])
        self.assertTrue(r["context"])

        # Delete a Value
        r = tour_curl("-X", "DELETE", url(third, "/kv/user123"), "-H", "Content-Type: application/json",
                      "-d", '{"W": 2}')
        self.assertEqual(r["status"], "success")
        for port in c.ports:
            self.assertEqual(request(port, "GET", "/kv/user123", **request_args).status, 404)

        # Failure simulation: kill -9 one node; writes and reads with quorum 2 still succeed.
        c.kill9(third)
        r = tour_curl("-X", "PUT", url(a, "/kv/test"), "-d", '{"value":"data","N":3,"W":2}')
        self.assertEqual(r["status"], "success")
        r = tour_curl("-X", "GET", url(a, "/kv/test"), "-d", '{"R":2}')
        self.assertEqual(r["value"], "data")

        # Recovery: restart; a read repairs the restarted node.
        c.start(third)
        c.wait_connected()
        r = tour_curl("-X", "GET", url(a, "/kv/test"), "-d", '{"R":3}')
        self.assertEqual(r["value"], "data")
        wait_until(lambda: counter(third, "replica_writes", **request_args) >= 1,
                   what="the read repair to reach the restarted node")
        # Checked on the restarted node alone: the others are stopped, so only its own copy can answer.
        c.stop(a)
        c.stop(b)
        r = request(third, "GET", "/kv/test?R=1&N=3", **request_args)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["value"], "data")


class SeedExamples(ClusterTest, SeedTour):
    def test_api_examples_and_failure_drill(self):
        self.run_tour(self.start_cluster(BASE))


if __name__ == "__main__":
    unittest.main(verbosity=2)
