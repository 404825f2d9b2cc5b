"""Tombstone reaping on a real three-node cluster: deleted keys leave every node once all held their
tombstones for the grace period, a stopped node keeps them everywhere until it is back, and a key
written again afterwards is versioned above the kept dot floor. Ports 20601-20603 and 20611-20613
(peers 21601-21603, 21611-21613). A grace period too short is refused: test_bad_input.py."""
import unittest

from harness import HOST, ClusterTest, request, wait_until

# A short grace, which must exceed the request deadline plus the read-repair window.
ARGS = ["--timeout-ms", "1000", "--read-repair-window-ms", "200", "--tombstone-grace-ms", "1500",
        "--gossip-ms", "100"]


def cluster_view(port):
    return request(port, "GET", "/cluster").json


def delete_written(port, key, w=3):
    """Writes `key`, then deletes it with the write's context."""
    put = request(port, "PUT", f"/kv/{key}", {"value": "doomed", "W": w})
    assert put.status == 200, put
    d = request(port, "DELETE", f"/kv/{key}", {"context": put.json["context"], "W": w})
    assert d.status == 200, d


def wait_for_gossip_rounds(port, rounds):
    """Time passing, observed: `port` starts a gossip round every --gossip-ms."""
    start = cluster_view(port)["counters"]["gossip_rounds"]
    wait_until(lambda: cluster_view(port)["counters"]["gossip_rounds"] >= start + rounds,
               what=f"{rounds} gossip rounds of {port}")


class Reaping(ClusterTest):
    def test_deleted_keys_leave_every_node_and_a_rewrite_is_versioned_above_the_kept_floor(self):
        c = self.start_cluster(20600, extra_args=ARGS)
        keys = [f"doomed{i}" for i in range(20)]
        for i, key in enumerate(keys):
            delete_written(c.ports[i % 3], key)

        def reaped_everywhere():
            views = [cluster_view(p) for p in c.ports]
            return all(v["tombstones"] == 0 and v["counters"]["tombstones_reaped"] == len(keys) for v in views)
        wait_until(reaped_everywhere, timeout_s=60, what="every tombstone to be reaped on every node")
        for key in keys:
            self.assertEqual(request(c.ports[0], "GET", f"/kv/{key}?R=3").status, 404)
        floors = {p: cluster_view(p)["dot_floor"] for p in c.ports}
        self.assertTrue(all(f >= 2 for f in floors.values()), floors)  # a write and its delete: counter 2

        a = c.ports[0]
        c.stop(a)
        c.start(a)
        self.assertEqual(cluster_view(a)["dot_floor"], floors[a], "the floor must survive a restart")
        c.wait_connected()
        actor = cluster_view(a)["actor"]
        self.assertEqual(request(a, "PUT", f"/kv/{keys[0]}", {"value": "reborn", "W": 3}).status, 200)
        r = request(a, "GET", f"/kv/{keys[0]}?R=3")
        self.assertEqual((r.status, r.json.get("value")), (200, "reborn"), r)
        self.assertGreater(r.json["vector_clock"][actor], floors[a], r)

        status = self.run_cli("status", "--node", f"{HOST}:{a}", check_code=0).stdout
        self.assertIn("tombstones: 0 held here", status)
        self.assertIn("tombstones_reaped=", status)

    def test_a_stopped_node_keeps_every_tombstone_in_place_until_it_is_back(self):
        c = self.start_cluster(20610, extra_args=ARGS)
        a, b, third = c.ports
        keys = [f"kept{i}" for i in range(10)]
        for key in keys:
            self.assertEqual(request(a, "PUT", f"/kv/{key}", {"value": "old", "W": 3}).status, 200)
        c.stop(third)
        wait_until(lambda: not next(n for n in cluster_view(a)["nodes"] if n["address"] == f"{HOST}:{third}")["reachable"],
                   what=f"{a} to see {third} down")
        for key in keys:
            r = request(a, "GET", f"/kv/{key}")
            self.assertEqual(request(a, "DELETE", f"/kv/{key}", {"context": r.json["context"], "W": 2}).status, 200)
        wait_until(lambda: all(cluster_view(p)["tombstones"] == len(keys) for p in (a, b)),
                   what="both running nodes to hold every tombstone")

        wait_for_gossip_rounds(a, 40)  # over 4 s: past the grace period and several reaping intervals
        for p in (a, b):
            view = cluster_view(p)
            self.assertEqual(view["tombstones"], len(keys), f"{p} reaped while {third} was down")
            self.assertEqual(view["counters"]["tombstones_reaped"], 0)

        c.start(third)  # it gets the tombstones by handoff; its grace period starts then
        wait_until(lambda: all(cluster_view(p)["tombstones"] == 0 for p in c.ports), timeout_s=60,
                   what="the tombstones to be reaped once every node is back")
        for key in keys:
            self.assertEqual(request(third, "GET", f"/kv/{key}?R=3").status, 404, key)


if __name__ == "__main__":
    unittest.main()
