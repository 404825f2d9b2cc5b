"""The RESP front end with clients we did not write (redis-cli, Python's redis), its Dynamo
extensions, its interop with HTTP, and bad input on the RESP port, against real 3-node clusters.

HTTP ports 20300-20349 (so RESP 10300-10349: harness.client_port_flags)."""
import os
import subprocess
import sys
import threading
import unittest

from harness import HOST, RESP_BELOW, ClusterTest, metric, raw_exchange, request, wait_until

try:
    import redis
except ImportError:  # Debian's python3-redis, when the tests run under another python3 (a pyenv one)
    sys.path.append("/usr/lib/python3/dist-packages")
    import redis


def resp_port(http_port):
    return http_port - RESP_BELOW


def client(http_port):
    return redis.Redis(host=HOST, port=resp_port(http_port), socket_timeout=15)


def cli(http_port, *args, resp3=False, tls_ca=None):
    """redis-cli as a user runs it: its output as a terminal would show it (--no-raw); in TLS trusting tls_ca."""
    r = subprocess.run(["redis-cli", "-h", HOST, "-p", str(resp_port(http_port)), "--no-raw"] + (["-3"] if resp3 else []) +
                       (["--tls", "--cacert", tls_ca] if tls_ca else []) + [str(a) for a in args],
                       capture_output=True, text=True, timeout=30)
    return r.stdout.strip(), r.stderr.strip()


def exchange(http_port, data, timeout=15, half_close=False):
    """raw_exchange with the RESP port of the node serving HTTP on `http_port`."""
    return raw_exchange(resp_port(http_port), data, timeout, half_close)


class RespClients(ClusterTest):
    def setUp(self):
        self.c = self.start_cluster(20300)
        self.a, self.b, _ = self.c.ports

    def test_redis_cli_runs_the_tour_and_interoperates_with_http_both_ways(self):
        self.assertEqual(cli(self.a, "PING"), ("PONG", ""))
        self.assertEqual(cli(self.a, "SET", "user123", "Alice"), ("OK", ""))
        self.assertEqual(cli(self.b, "GET", "user123"), ('"Alice"', ""))
        # RESP -> HTTP: the value is the JSON string "Alice".
        r = request(self.a, "GET", "/kv/user123")
        self.assertEqual((r.status, r.json["value"]), (200, "Alice"))
        # HTTP -> RESP: any JSON value reads as its text.
        self.assertEqual(request(self.a, "PUT", "/kv/doc", {"value": {"a": 1}}).status, 200)
        self.assertEqual(cli(self.b, "GET", "doc"), ('"{\\"a\\":1}"', ""))
        self.assertEqual(cli(self.a, "EXISTS", "user123", "doc", "nope"), ("(integer) 2", ""))
        self.assertEqual(cli(self.a, "DEL", "user123", "nope"), ("(integer) 1", ""))
        self.assertEqual(cli(self.a, "GET", "user123"), ("(nil)", ""))
        self.assertEqual(request(self.a, "GET", "/kv/user123").status, 404)
        out, err = cli(self.a, "INFO")
        self.assertEqual(err, "")
        for field in ("role:master", "default_n:3", "default_r:2", "default_w:2", "cluster_members:3"):
            self.assertIn(field, out)
        self.assertEqual(cli(self.a, "FLUSHALL"), ("(error) ERR unknown command 'FLUSHALL', with args beginning with:", ""))
        self.assertIn("keeps no expiry", cli(self.a, "SET", "k", "v", "EX", "10")[0])
        self.assertIn("security is off", cli(self.a, "AUTH", "secret")[0])
        # What redis-cli asks on its own start (COMMAND DOCS in a terminal) answers without an error.
        out, err = cli(self.a, "COMMAND", "DOCS")
        self.assertEqual((out, err), ("(empty array)", ""))

    def test_python_redis_pipelines_sets_and_gets_in_order_with_mget_mset_del_exists(self):
        r = client(self.a)
        pipe = r.pipeline(transaction=False)
        for i in range(300):
            pipe.set(f"p:{i}", f"v{i}")
        for i in range(300):
            pipe.get(f"p:{i}")
        results = pipe.execute()
        self.assertEqual(results[:300], [True] * 300)
        self.assertEqual(results[300:], [f"v{i}".encode() for i in range(300)])
        self.assertTrue(r.mset({"m:1": "one", "m:2": b"\x00\xff binary \r\n"}))
        self.assertEqual(client(self.b).mget(["m:1", "m:2", "m:3"]), [b"one", b"\x00\xff binary \r\n", None])
        self.assertEqual(r.exists("m:1", "m:2", "m:3"), 2)
        self.assertEqual(r.delete("m:1", "m:3"), 1)
        self.assertEqual(r.exists("m:1", "m:2"), 1)
        # Repeated SETs through one coordinator replace each other: never siblings.
        for i in range(20):
            r.set("again", f"v{i}")
        self.assertEqual(r.get("again"), b"v19")
        self.assertEqual(len(r.execute_command("DGET", "again")[3]), 1)

    def test_scan_lists_every_key_to_the_end(self):
        r = client(self.a)
        wanted = {f"scan:{i:03}".encode() for i in range(150)}
        r.mset({k: "x" for k in wanted})
        r.set("other", "y")
        self.assertEqual(set(client(self.b).scan_iter(match="scan:*", count=20)), wanted)
        self.assertEqual(set(r.scan_iter(count=1000)), wanted | {b"other"})
        with self.assertRaisesRegex(redis.ResponseError, "only a literal prefix"):
            r.scan(0, match="s*n:*")

    def test_hello_3_switches_the_connection_to_resp3(self):
        client(self.a).set("h", "v")
        got, closed = exchange(self.a, b"HELLO 3\r\nGET h\r\nGET missing\r\nDGET h\r\nQUIT\r\n")
        self.assertTrue(closed)
        self.assertTrue(got.startswith(b"%7\r\n$6\r\nserver\r\n$10\r\nminidynamo\r\n"), got)
        self.assertIn(b"$1\r\nv\r\n_\r\n%2\r\n$7\r\ncontext\r\n", got)
        self.assertTrue(got.endswith(b"+OK\r\n"), got)
        out, _ = cli(self.a, "DGET", "h", resp3=True)
        self.assertIn('"context"', out)

    def test_siblings_are_a_conflict_that_dget_shows_and_dset_resolves(self):
        # DSET with an empty context writes blind: two of them through two nodes are siblings.
        ra, rb = client(self.a), client(self.b)
        self.assertTrue(ra.execute_command("DSET", "cart", "milk", ""))
        self.assertTrue(rb.execute_command("DSET", "cart", "eggs", ""))
        with self.assertRaisesRegex(redis.ResponseError, "^CONFLICT 2 siblings, read them with DGET$"):
            ra.get("cart")
        reply = ra.execute_command("DGET", "cart", "R", "3")
        self.assertEqual(reply[0], b"context")
        context, siblings = reply[1], reply[3]
        self.assertEqual(sorted(s[1] for s in siblings), [b"eggs", b"milk"])
        for s in siblings:
            self.assertEqual((s[0], s[2]), (b"value", b"vector_clock"))
            self.assertEqual(len(s[3]), 2)  # one node and its counter
        self.assertTrue(rb.execute_command("DSET", "cart", "milk,eggs", context, "W", "3"))
        self.assertEqual(ra.get("cart"), b"milk,eggs")
        self.assertEqual(request(self.a, "GET", "/kv/cart").json["value"], "milk,eggs")

    def test_plain_sets_through_two_coordinators_at_once_still_become_siblings(self):
        # Two clients SET the same keys through two nodes at once. Whether any two SETs of a key
        # overlap is up to the scheduler (on a loaded host one pipeline can finish before the other
        # starts), so a round without overlap is tried again with new keys; a merge that dropped
        # concurrent SETs would give no siblings in any round.
        for attempt in range(3):
            keys = [f"race{attempt}:{i}" for i in range(300)]
            start = threading.Barrier(2)

            def write(port, value):
                pipe = client(port).pipeline(transaction=False)
                for k in keys:
                    pipe.set(k, value)
                start.wait(timeout=30)
                pipe.execute()

            threads = [threading.Thread(target=write, args=(p, v)) for p, v in ((self.a, "a"), (self.b, "b"))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            pipe = client(self.a).pipeline(transaction=False)
            for k in keys:
                pipe.execute_command("DGET", k, "R", "3")
            counts = [len(reply[3]) for reply in pipe.execute()]
            self.assertTrue(all(1 <= n <= 2 for n in counts), counts)
            if counts.count(2) > 0:
                break
        self.assertGreater(counts.count(2), 0, "no SET through one node was concurrent with one through the other")

    def test_quorum_sets_the_connections_n_r_w_and_the_core_checks_them(self):
        r = client(self.a)
        self.assertEqual(r.execute_command("QUORUM"), [b"R", 2, b"W", 2, b"N", 3])
        self.assertTrue(r.execute_command("QUORUM", 1, 3, 3))
        self.assertTrue(r.set("q", "v"))
        self.assertIn("R=1 W=3 N=3", r.execute_command("CLIENT", "INFO").decode())
        got, _ = exchange(self.a, b"QUORUM 1 3 3\r\nINFO quorum\r\nQUIT\r\n")
        self.assertIn(b"connection:R=1 W=3 N=3", got)
        self.assertTrue(r.execute_command("QUORUM", 2, 2, 9))
        with self.assertRaisesRegex(redis.ResponseError, "^N must be"):
            r.get("q")
        self.assertTrue(r.execute_command("QUORUM", 3, 3, 3))
        self.c.stop(self.c.ports[2])
        with self.assertRaisesRegex(redis.ResponseError, r"^UNAVAILABLE .*\(required 3, acknowledged 2\)"):
            r.set("q", "w")
        # Another connection keeps the node's defaults.
        self.assertTrue(client(self.a).set("q", "x"))
        self.assertGreater(metric(self.a, r'minidynamo_request_duration_seconds_count\{protocol="resp",op="put",'
                                          r'outcome="quorum_failed"\}'), 0)


class RespBadInput(ClusterTest):
    def setUp(self):
        self.c = self.start_cluster(20320, extra_args=["--max-key-bytes", "64", "--max-value-bytes", "1000"])
        self.port = self.c.ports[0]

    def assert_serving(self):
        self.assertTrue(client(self.port).ping())
        self.assertEqual(request(self.port, "GET", "/health").status, 200)

    def test_protocol_errors_are_answered_then_the_connection_closes_and_the_node_keeps_serving(self):
        for data, error in [
            (b"*2\r\n$3\r\nGET\r\n$1073741824\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
            (b"*2\r\n$3\r\nGET\r\nPING\r\n", b"-ERR Protocol error: expected '$', got 'P'\r\n"),
            (b"*99999999999\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
            (bytes(b for b in range(1, 256) if b not in b"\r\n") * 300, b"-ERR Protocol error: too big inline request\r\n"),
        ]:
            with self.subTest(data=data[:40]):
                got, closed = exchange(self.port, data)
                self.assertTrue(closed)
                self.assertTrue(got.endswith(error), got)
                self.assert_serving()
        self.assertEqual(metric(self.port, "minidynamo_resp_protocol_errors_total"), 4)

    def test_a_bulk_length_beyond_the_value_limit_is_refused_from_its_header(self):
        # Above the value limit plus slack: a protocol error before any of it is read.
        got, closed = exchange(self.port, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000000\r\n")
        self.assertEqual((got, closed), (b"-ERR Protocol error: invalid bulk length\r\n", True))
        # Within the slack but over the limit as JSON: a command error, and the connection stays.
        r = client(self.port)
        with self.assertRaisesRegex(redis.ResponseError, "the value is 2002 bytes as JSON; the limit is 1000"):
            r.set("k", "v" * 2000)
        with self.assertRaisesRegex(redis.ResponseError, "the key is 65 bytes; the limit is 64"):
            r.get("k" * 65)
        self.assertTrue(r.ping())

    def test_garbage_lines_and_unknown_commands_are_errors_and_the_connection_stays(self):
        got, closed = exchange(self.port, b"\x00\x01\x02garbage\r\nNOSUCH a b\r\nPING\r\nQUIT\r\n")
        self.assertTrue(closed)
        self.assertEqual(got, b"-ERR unknown command '\x00\x01\x02garbage', with args beginning with: \r\n"
                              b"-ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' \r\n+PONG\r\n+OK\r\n")
        self.assert_serving()

    def test_a_command_cut_in_half_then_closed_is_dropped_and_those_before_it_answered(self):
        got, closed = exchange(self.port, b"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGE", half_close=True)
        self.assertEqual((got, closed), (b"+PONG\r\n", True))
        self.assert_serving()

    def test_a_client_that_stops_halfway_through_a_command_is_closed_after_the_read_timeout(self):
        got, closed = exchange(self.port, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n", timeout=30)
        self.assertEqual((got, closed), (b"", True))
        self.assertEqual(metric(self.port, "minidynamo_resp_connections_timed_out_total"), 1)
        self.assert_serving()

    def test_requests_show_in_metrics_with_protocol_resp(self):
        r = client(self.port)
        r.set("m", "v")
        r.get("m")
        r.get("absent")
        with self.assertRaises(redis.ResponseError):
            r.execute_command("NOSUCH")
        for op, outcome in (("put", "ok"), ("get", "ok"), ("get", "not_found")):
            self.assertEqual(metric(self.port, r'minidynamo_request_duration_seconds_count\{protocol="resp",op="%s",'
                                               r'outcome="%s"\}' % (op, outcome)), 1)
        self.assertGreaterEqual(metric(self.port, "minidynamo_resp_commands_total"), 4)
        self.assertEqual(metric(self.port, "minidynamo_resp_error_replies_total"), 1)
        self.assertEqual(metric(self.port, "minidynamo_resp_connections_open"), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)


class Threads(ClusterTest):
    """--threads: the client connections served on the node's own thread (1), or on its I/O threads
    (3: two of them), which hand every request to the node's thread and its answer back; with I/O
    threads, writes that wait for no fsync (--sync none) are written on the commit thread too."""

    def serve_concurrent_clients(self, cluster):
        a, b, _ = cluster.ports
        errors = []

        def work(i):
            try:
                r = client(a)
                for j in range(40):
                    key = f"t{i}:{j}"
                    r.set(key, f"v{j}")
                    if r.get(key) != f"v{j}".encode():
                        errors.append(f"{key}: RESP read back {r.get(key)!r}")
                    h = request(b, "GET", f"/kv/{key}")
                    if (h.status, h.json.get("value")) != (200, f"v{j}"):
                        errors.append(f"{key}: HTTP read {h.status} {h.json}")
            except Exception as e:  # noqa: BLE001 - every failure is reported below
                errors.append(f"client {i}: {e!r}")

        workers = [threading.Thread(target=work, args=(i,)) for i in range(6)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        self.assertEqual(errors, [])
        out, err = cli(a, "INFO")  # figures the node's thread gives the I/O threads
        self.assertEqual(err, "")
        self.assertIn("cluster_members:3", out)

    def thread_names(self, cluster, port):
        pid = cluster.procs[port].pid
        names = []
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/comm") as f:
                names.append(f.read().strip())
        return sorted(n for n in names if n.startswith("md-io"))

    def test_io_threads_serve_concurrent_resp_and_http_clients(self):
        c = self.start_cluster(20340, extra_args=["--threads", "3", "--sync", "none"])
        self.serve_concurrent_clients(c)
        self.assertEqual(self.thread_names(c, c.ports[0]), ["md-io-1", "md-io-2"])
        self.assertIn("(3 threads)", c.log(c.ports[0]))
        self.assertGreater(metric(c.ports[0], r"minidynamo_commit_writes_count"), 0)

    def test_one_thread_serves_concurrent_resp_and_http_clients_itself(self):
        c = self.start_cluster(20344, extra_args=["--threads", "1", "--sync", "none"])
        self.serve_concurrent_clients(c)
        self.assertEqual(self.thread_names(c, c.ports[0]), [])
        self.assertEqual(metric(c.ports[0], r"minidynamo_commit_writes_count"), 0)  # written inline
