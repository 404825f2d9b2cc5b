"""Key listing with real processes: GET /kv?prefix=&limit=&cursor= pages through every live key of
the cluster in order from any node, leaves deleted keys out, refuses what it does not take, and
answers 503 rather than a short listing when a partition has no replica to read.
Ports 20140-20149 (peers 21140-21149)."""
import unittest
from urllib.parse import quote

from harness import ClusterTest, request, wait_until

BASE = 20140


def list_all(port, prefix, limit):
    """Every page from the node on `port`; returns the keys and the number of pages."""
    keys, cursor, pages = [], None, 0
    while True:
        path = f"/kv?prefix={quote(prefix)}&limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        r = request(port, "GET", path)
        assert r.status == 200, (path, r.status, r.raw)
        assert len(r.json["keys"]) <= limit, r.json
        keys += r.json["keys"]
        pages += 1
        cursor = r.json["cursor"]
        if cursor is None:
            return keys, pages


class ListTest(ClusterTest):
    def test_pages_of_live_keys_in_order_from_every_node_without_deleted_ones(self):
        c = self.start_cluster(BASE)
        a, b, third = c.ports
        live = set()
        for i in range(60):
            key = f"user/{i:03d}"
            self.assertEqual(request(c.ports[i % 3], "PUT", f"/kv/{key}", {"value": i}).status, 200)
            live.add(key)
        for i in range(10):
            self.assertEqual(request(a, "PUT", f"/kv/order/{i}", {"value": i}).status, 200)
        for i in range(0, 60, 9):
            self.assertEqual(request(b, "DELETE", f"/kv/user/{i:03d}").status, 200)
            live.discard(f"user/{i:03d}")
        for port in c.ports:
            keys, pages = list_all(port, "user/", 8)
            self.assertEqual(keys, sorted(live), port)
            self.assertGreaterEqual(pages, len(live) // 8)
        # The command-line client pages through the same, a key per line.
        r = self.run_cli("keys", "--prefix", "user/", "--page-size", "7", "--node", f"127.0.0.1:{third}", check_code=0)
        self.assertEqual(r.stdout.splitlines(), sorted(live))
        everything, _ = list_all(third, "", 1000)
        self.assertEqual(len(everything), len(live) + 10)
        self.assertEqual(list_all(a, "nobody/", 5), ([], 1))
        # Each page shows in the metrics as a listing.
        metrics = request(a, "GET", "/metrics").raw
        self.assertIn('minidynamo_request_duration_seconds_count{protocol="http",op="list",outcome="ok"}', metrics)

    def test_bad_listings_are_refused_and_a_partition_without_a_replica_is_a_503(self):
        c = self.start_cluster(BASE + 5)
        a, b, down = c.ports
        self.assertEqual(request(a, "PUT", "/kv/k", {"value": 1}).status, 200)
        for path, says in (("/kv?limit=0", "limit must be 1 to 10000"), ("/kv?limit=abc", "limit must be an integer"),
                           ("/kv?cursor=0", "not one a listing handed out"), ("/kv?W=2", "accepted: prefix, limit"),
                           ("/kv?N=7", "N")):
            r = request(a, "GET", path)
            self.assertEqual(r.status, 400, (path, r.raw))
            self.assertIn(says, r.json["error"], path)
        self.assertEqual(request(a, "POST", "/kv", {"value": 1}).status, 405)
        self.run_cli("keys", "--page-size", "0", check_code=2)

        c.kill9(down)
        # N=1: the dead node's partitions have no other replica, so no honest page can be made.
        def refused():
            r = request(a, "GET", "/kv?N=1")
            return r.status == 503 and "no replica of partition" in r.json["error"]
        wait_until(refused, what="a listing at N=1 to be refused while a node is down")
        r = request(b, "GET", "/kv?N=3")  # N=3: every partition has a live replica
        self.assertEqual((r.status, r.json["keys"]), (200, ["k"]), r.raw)
        r = self.run_cli("keys", "--n", "1", "--node", f"127.0.0.1:{b}", check_code=5)  # 5: unavailable
        self.assertIn("no replica of partition", r.stderr)


if __name__ == "__main__":
    unittest.main()
