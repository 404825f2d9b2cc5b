"""Compression between real nodes: nodes with --compression auto and one with --compression off
replicate large JSON documents to each other (the peers negotiate: the off node advertises nothing
and is sent plain frames), HTTP bodies are inflated and answers compressed as Accept-Encoding asks,
bombs get 413, and bad flag values are refused. Ports 25001-25003 (peers 26001-26003)."""
import gzip
import http.client
import json
import random
import subprocess
import unittest

from harness import BINARY, HOST, Cluster, ClusterTest, counter, request

AUTO_A, AUTO_B, OFF = 25001, 25002, 25003


def document(seed):
    """A JSON document of some KiB, as an application keeps."""
    rng = random.Random(seed)
    return {"account": f"acct_{seed}", "customers": [
        {"id": rng.randrange(10**6), "name": rng.choice(["Ada Lovelace", "Alan Turing", "Grace Hopper"]),
         "city": rng.choice(["Oslo", "Lisbon", "Vienna"]), "tags": ["vip", "beta"], "active": rng.random() < 0.5}
        for _ in range(rng.randrange(60, 200))]}


def raw_request(port, method, path, body=None, headers=None):
    """(status, headers as a dict with lower-case names, body bytes as sent: not inflated)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


class Compression(ClusterTest):
    def start_mixed_cluster(self):
        cluster = Cluster(25000, size=3)
        self.addCleanup(cluster.close)
        for port in cluster.ports:
            cluster.spawn(port, ["--nodes", cluster.nodes_flag, "--compression-min-bytes", "256"] +
                          (["--compression", "off"] if port == OFF else []))
        for port in cluster.ports:
            cluster.wait_healthy(port)
        cluster.wait_connected()
        return cluster

    def test_nodes_with_and_without_compression_replicate_large_documents_and_negotiate(self):
        self.start_mixed_cluster()
        docs = {}
        for i in range(30):
            key, doc = f"doc{i}", document(i)
            docs[key] = doc
            via = (AUTO_A, AUTO_B, OFF)[i % 3]
            r = request(via, "PUT", f"/kv/{key}", {"value": doc, "W": 3})
            self.assertEqual(r.status, 200, r)
        for port in (AUTO_A, AUTO_B, OFF):
            for key, doc in docs.items():
                r = request(port, "GET", f"/kv/{key}?R=3")
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json["value"], doc)
        # The auto nodes compress to each other; nobody compresses to the off node, which never
        # compresses either.
        self.assertGreater(counter(AUTO_A, "peer_frames_compressed_received"), 0)
        self.assertGreater(counter(AUTO_B, "peer_frames_compressed_received"), 0)
        self.assertEqual(counter(OFF, "peer_frames_compressed_received"), 0)
        self.assertEqual(counter(OFF, "peer_frames_compressed_sent"), 0)
        for port in (AUTO_A, AUTO_B, OFF):
            self.assertEqual(counter(port, "peer_closed_bad_frame"), 0)
            self.assertEqual(counter(port, "bad_peer_messages"), 0)

    def test_http_bodies_in_and_out(self):
        self.start_mixed_cluster()
        doc = document(99)
        body = gzip.compress(json.dumps({"value": doc, "W": 3}).encode())
        for port in (AUTO_A, OFF):  # both inflate requests
            status, _, answer = raw_request(port, "PUT", f"/kv/zipped{port}", body, {"Content-Encoding": "gzip"})
            self.assertEqual(status, 200, answer)
        for port in (AUTO_A, OFF):
            status, headers, answer = raw_request(port, "GET", f"/kv/zipped{AUTO_A}?R=3", headers={"Accept-Encoding": "gzip"})
            self.assertEqual(status, 200)
            if port == AUTO_A:  # compresses as asked
                self.assertEqual(headers.get("content-encoding"), "gzip")
                self.assertEqual(headers.get("vary"), "Accept-Encoding")
                answer = gzip.decompress(answer)
            else:  # --compression off: answers as they are
                self.assertNotIn("content-encoding", headers)
            self.assertEqual(json.loads(answer)["value"], doc)
        # Small answers go as they are.
        status, headers, _ = raw_request(AUTO_A, "GET", "/health", headers={"Accept-Encoding": "gzip"})
        self.assertEqual(status, 200)
        self.assertNotIn("content-encoding", headers)

        # A 1 KiB-ish body that inflates past the limits is 413; other codings 415; garbage 400.
        bomb = gzip.compress(b'{"value":"' + b"a" * (8 << 20) + b'"}')
        self.assertLess(len(bomb), 16 << 10)
        status, _, answer = raw_request(AUTO_A, "PUT", "/kv/bomb", bomb, {"Content-Encoding": "gzip"})
        self.assertEqual(status, 413, answer)
        self.assertEqual(json.loads(answer)["status"], "error")
        # Inflated, the value alone is over --max-value-bytes (1 MiB) though the body is within the
        # body limit (value + key + 64 KiB): 413 as well, as for the same body sent as it is.
        over_value = b'{"value":"' + b"a" * ((1 << 20) + 1000) + b'"}'
        status, _, answer = raw_request(AUTO_A, "PUT", "/kv/big", gzip.compress(over_value), {"Content-Encoding": "gzip"})
        self.assertLess(len(gzip.compress(over_value)), 2 << 10)
        self.assertEqual(status, 413, answer)
        self.assertIn("the value is", json.loads(answer)["error"])
        status, _, answer = raw_request(AUTO_A, "PUT", "/kv/big", over_value)
        self.assertEqual(status, 413, answer)
        status, _, answer = raw_request(AUTO_A, "PUT", "/kv/x", b'{"value":1}', {"Content-Encoding": "br"})
        self.assertEqual(status, 415, answer)
        status, _, answer = raw_request(OFF, "PUT", "/kv/x", b'{"value":1}', {"Content-Encoding": "gzip"})
        self.assertEqual(status, 400, answer)
        self.assertEqual(request(AUTO_A, "GET", "/kv/bomb").status, 404)

    def test_bad_flag_values_are_refused(self):
        for args in (["--compression", "fast"], ["--compression-min-bytes", "-1"], ["--compression-min-bytes", "lots"]):
            r = subprocess.run([BINARY, "node", *args, "--port", "25090"], capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 2, f"{args}: {r.stdout}{r.stderr}")
            self.assertIn("--compression", r.stderr + r.stdout)


if __name__ == "__main__":
    unittest.main()
