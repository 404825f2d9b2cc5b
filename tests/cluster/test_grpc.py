"""The gRPC front end (minidynamo.v1.KeyValue) with a client we did not write: Python's grpcio.

Round trips, siblings and contexts, interoperation with HTTP, listing to the end in pages, Health,
every status code, metrics by protocol, and bad bytes on the gRPC port. HTTP ports 20350-20379
(gRPC: HTTP - 8000, harness.client_port_flags).
"""
import contextlib
import errno
import io
import os
import re
import signal
import socket
import time
import unittest

import grpc

from grpc_client import REPO, KeyValue, kv
from harness import GRPC_BELOW, Cluster, ClusterTest, request, wait_until


def grpc_port(http_port):
    return http_port - GRPC_BELOW


class GrpcTest(ClusterTest):
    def client(self, http_port):
        client = KeyValue(grpc_port(http_port))
        self.addCleanup(client.close)
        return client

    def assert_status(self, code, call, *args, contains="", **kwargs):
        with self.assertRaises(grpc.RpcError) as raised:
            call(*args, **kwargs)
        self.assertEqual(raised.exception.code(), code, raised.exception.details())
        self.assertIn(contains, raised.exception.details())
        return raised.exception


class RoundTrips(GrpcTest):
    def setUp(self):
        self.c = self.start_cluster(20350, extra_args=["--max-key-bytes", "64", "--max-value-bytes", "1000",
                                                        "--max-siblings", "3"])
        self.g = self.client(self.c.ports[0])

    def test_put_get_delete_round_trip(self):
        written = self.g.put(b"user", b"Alice", w=3)
        self.assertEqual(written.replicas_written, 3)
        read = self.g.get(b"user", r=3)
        self.assertEqual([s.value for s in read.siblings], [b"Alice"])
        node_id = self.g.health().node_id
        self.assertEqual(dict(read.siblings[0].vector_clock), {node_id: 1})
        self.assertTrue(read.context)
        self.assertGreaterEqual(self.g.delete(b"user", context=read.context).replicas_written, 2)
        self.assert_status(grpc.StatusCode.NOT_FOUND, self.g.get, b"user")

    def test_concurrent_writes_become_siblings_and_a_context_write_resolves_them(self):
        other = self.client(self.c.ports[1])
        self.g.put(b"cart", b"apple")
        other.put(b"cart", b"pear")  # blind, through another coordinator: concurrent
        read = self.g.get(b"cart", r=3)
        self.assertEqual(sorted(s.value for s in read.siblings), [b"apple", b"pear"])
        for sibling in read.siblings:
            self.assertEqual(sum(sibling.vector_clock.values()), 1, sibling)
        self.g.put(b"cart", b"apple,pear", context=read.context, w=3)
        resolved = self.g.get(b"cart", r=3)
        self.assertEqual([s.value for s in resolved.siblings], [b"apple,pear"])
        http = request(self.c.ports[2], "GET", "/kv/cart").json
        self.assertEqual(http["vector_clock"], dict(resolved.siblings[0].vector_clock))

    def test_values_interoperate_with_http_both_ways(self):
        self.g.put(b"greeting", b'say "hi"\n', w=3)
        self.assertEqual(request(self.c.ports[1], "GET", "/kv/greeting").json["value"], 'say "hi"\n')
        binary = bytes(range(256))
        self.g.put(b"binary", binary)
        self.assertEqual(self.g.get(b"binary").siblings[0].value, binary)
        self.assertEqual(request(self.c.ports[0], "PUT", "/kv/doc", {"value": {"age": 3}}).status, 200)
        self.assertEqual(self.g.get(b"doc").siblings[0].value, b'{"age":3}')
        self.assertEqual(request(self.c.ports[0], "PUT", "/kv/name", {"value": "Bob"}).status, 200)
        self.assertEqual(self.g.get(b"name").siblings[0].value, b"Bob")
        # A context from HTTP works over gRPC, and the other way round.
        context = request(self.c.ports[0], "GET", "/kv/name").json["context"]
        self.g.put(b"name", b"Robert", context=context.encode(), w=3)
        after = request(self.c.ports[0], "GET", "/kv/name?R=3").json
        self.assertEqual(after["value"], "Robert")
        self.assertEqual(request(self.c.ports[0], "PUT", "/kv/name",
                                 {"value": "Rob", "context": self.g.get(b"name").context.decode()}).status, 200)
        self.assertEqual([s.value for s in self.g.get(b"name", r=3).siblings], [b"Rob"])

    def test_the_python_example_of_the_api_docs_runs(self):
        with open(os.path.join(REPO, "docs", "api.md")) as f:
            section = f.read().split("## gRPC\n", 1)[1].split("\n## ", 1)[0]
        example = re.search(r"```python\n(.*?)```", section, re.S).group(1)
        example = example.replace("localhost:7001", f"127.0.0.1:{grpc_port(self.c.ports[0])}")
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(example, "docs/api.md (gRPC)", "exec"), {})  # the stubs grpc_client generated import
        self.assertIn("b'Alice' {'node_", printed.getvalue())
        self.assertIn("StatusCode.INVALID_ARGUMENT W must be between 1 and N (3), got 9", printed.getvalue())
        self.assertIn("[b'user200']", printed.getvalue())
        self.assertEqual(self.g.get(b"user200").siblings[0].value, b"Alicia")

    def test_health_says_ready_and_names_the_node(self):
        health = self.g.health()
        self.assertTrue(health.ready)
        self.assertEqual(health.node_id, request(self.c.ports[0], "GET", "/health").json["node_id"])

    def test_list_streams_every_key_in_pages_and_resumes_from_a_cursor(self):
        keys = [f"list:{i:03}".encode() for i in range(25)]
        for key in keys:
            self.g.put(key, b"v")
        self.g.put(b"other", b"v")
        pages = list(self.g.list(prefix=b"list:", limit=10))
        self.assertEqual([k for page in pages for k in page.keys], keys)
        self.assertEqual(pages[-1].next_cursor, "")
        self.assertTrue(all(page.next_cursor for page in pages[:-1]), pages)
        self.assertGreaterEqual(len(pages), 3)
        # Resuming after the first page gives the rest.
        rest = list(self.g.list(prefix=b"list:", limit=10, cursor=pages[0].next_cursor))
        self.assertEqual([k for page in rest for k in page.keys], keys[len(pages[0].keys):])
        self.assert_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: list(self.g.list(cursor="not-a-cursor")),
                           contains="cursor")

    def test_bad_requests_get_their_documented_codes(self):
        invalid = grpc.StatusCode.INVALID_ARGUMENT
        self.assert_status(invalid, self.g.put, b"k", b"v", w=-1, contains="W must be")
        self.assert_status(invalid, self.g.put, b"k", b"v", w=4, contains="W must be")
        self.assert_status(invalid, self.g.put, b"k", b"v", n=9, contains="N must be")
        self.assert_status(invalid, self.g.get, b"k", r=5, contains="R must be")
        self.assert_status(invalid, self.g.delete, b"k", w=-1, contains="W must be")
        self.assert_status(invalid, self.g.get, b"", contains="key must not be empty")
        self.assert_status(invalid, self.g.get, b"k" * 65, contains="limit is 64")
        self.assert_status(invalid, self.g.put, b"k", b"v" * 1000, contains="limit is 1000")
        self.assert_status(invalid, self.g.put, b"k", b"v", context=b"garbage!", contains="context")
        self.assert_status(invalid, lambda: list(self.g.list(limit=10001)))
        self.assert_status(grpc.StatusCode.NOT_FOUND, self.g.get, b"never-written")
        # Nothing above wrote anything.
        self.assert_status(grpc.StatusCode.NOT_FOUND, self.g.get, b"k")

    def test_too_many_siblings_is_failed_precondition(self):
        for i in range(3):
            self.g.put(b"crowded", b"v%d" % i)
        self.assert_status(grpc.StatusCode.FAILED_PRECONDITION, self.g.put, b"crowded", b"v3",
                           contains="context")

    def test_requests_show_in_metrics_as_grpc(self):
        self.g.put(b"m", b"v")
        self.g.get(b"m")
        self.assert_status(grpc.StatusCode.INVALID_ARGUMENT, self.g.get, b"")
        metrics = request(self.c.ports[0], "GET", "/metrics").raw
        for op, outcome in [("put", "ok"), ("get", "ok"), ("get", "bad_request")]:
            self.assertIn(f'minidynamo_request_duration_seconds_count{{protocol="grpc",op="{op}",outcome="{outcome}"}} 1',
                          metrics)


class Failures(GrpcTest):
    """Quorums out of reach, a deadline shorter than the node's, a stopping node."""

    def setUp(self):
        self.c = self.start_cluster(20360, extra_args=["--timeout-ms", "5000"])
        self.g = self.client(self.c.ports[0])

    def test_unreachable_replicas_are_unavailable_with_required_and_acknowledged(self):
        for port in self.c.ports[1:]:
            self.c.kill9(port)
        wait_until(lambda: sum(n["reachable"] for n in request(self.c.ports[0], "GET", "/cluster").json["nodes"]) == 1,
                   what="the peers to be seen down")
        with self.assertRaises(grpc.RpcError) as raised:
            self.g.call_with_metadata("Put", kv.PutRequest(key=b"k", value=b"v", w=3, strict_quorum=True))
        error = raised.exception
        self.assertEqual(error.code(), grpc.StatusCode.UNAVAILABLE, error.details())
        self.assertIn("(required 3, acknowledged 1)", error.details())
        trailers = dict(error.trailing_metadata())
        self.assertEqual((trailers["md-required"], trailers["md-acknowledged"]), ("3", "1"))

    def test_the_clients_deadline_ends_the_call_before_the_node_gives_up(self):
        paused = self.c.procs[self.c.ports[1]]
        paused.send_signal(signal.SIGSTOP)  # connected but silent: the write waits for its 5 s deadline
        self.addCleanup(paused.send_signal, signal.SIGCONT)
        started = time.monotonic()
        self.assert_status(grpc.StatusCode.DEADLINE_EXCEEDED, self.g.put, b"slow", b"v", w=3, timeout=0.3)
        self.assertLess(time.monotonic() - started, 3)
        # The late answer is dropped safely: the node goes on serving.
        self.assertTrue(self.g.health().ready)
        self.assertEqual(self.g.put(b"fast", b"v", w=1).replicas_written >= 1, True)

    def test_a_stopping_node_answers_unavailable(self):
        paused = self.c.procs[self.c.ports[1]]
        paused.send_signal(signal.SIGSTOP)
        self.addCleanup(paused.send_signal, signal.SIGCONT)
        in_flight = self.g.calls["Put"].future(kv.PutRequest(key=b"k", value=b"v", w=3), timeout=30)
        node = self.c.procs[self.c.ports[0]]
        wait_until(lambda: request(self.c.ports[0], "GET", "/metrics").raw.find(
            "minidynamo_requests_in_flight 1") >= 0, what="the write to be in flight")
        node.send_signal(signal.SIGTERM)  # stops gracefully: the write in flight keeps it running

        def refused():
            try:
                self.g.get(b"k", timeout=2)
            except grpc.RpcError as e:
                return e.code() == grpc.StatusCode.UNAVAILABLE
            return False
        wait_until(refused, what="new calls to be refused as UNAVAILABLE")
        self.assertIsNone(node.poll(), "the node waits for its write in flight")
        self.assertEqual(in_flight.exception().code(), grpc.StatusCode.UNAVAILABLE)  # W=3 not reached by 5 s
        paused.send_signal(signal.SIGCONT)
        self.assertEqual(node.wait(timeout=20), 0)
        self.c.procs.pop(self.c.ports[0])


class BadBytes(GrpcTest):
    """Bytes that are not gRPC get a closed connection or an error; the node keeps serving."""

    def setUp(self):
        self.c = Cluster(20370, size=1, extra_args=["--max-value-bytes", "1000"])
        self.addCleanup(self.c.close)
        self.c.start()
        self.port = self.c.ports[0]
        self.g = self.client(self.port)

    def assert_serving(self):
        self.assertTrue(self.g.health().ready)
        self.assertEqual(request(self.port, "GET", "/health").status, 200)

    def send_raw(self, data):
        """Sends `data`, closes the sending side, and reads until the node closes the connection
        (it may close it, or reset it, while the bytes are still arriving)."""
        with socket.create_connection(("127.0.0.1", grpc_port(self.port)), timeout=5) as s:
            try:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
                while s.recv(4096):
                    pass
            except (ConnectionResetError, BrokenPipeError):
                pass
            except OSError as e:
                if e.errno != errno.ENOTCONN:
                    raise

    def test_garbage_bytes_close_the_connection(self):
        self.send_raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + bytes(range(256)) * 4)
        self.send_raw(bytes(range(256)) * 64)
        self.assert_serving()

    def test_a_frame_cut_in_half_is_dropped_with_its_connection(self):
        preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
        settings = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
        headers = b"\x00\x10\x00\x01\x05\x00\x00\x00\x01"  # HEADERS, 4096 bytes promised...
        self.send_raw(preface + settings + headers + b"\x82\x86")  # ...two sent, then closed
        with socket.create_connection(("127.0.0.1", grpc_port(self.port)), timeout=5) as s:
            s.sendall(preface + settings[:4])  # and a connection that goes quiet mid-frame
        self.assert_serving()

    def test_an_oversized_message_is_refused_unread(self):
        self.assert_status(grpc.StatusCode.RESOURCE_EXHAUSTED, self.g.put, b"big", b"x" * (4 << 20))
        self.assert_status(grpc.StatusCode.NOT_FOUND, self.g.get, b"big")
        self.assert_serving()


if __name__ == "__main__":
    unittest.main()
