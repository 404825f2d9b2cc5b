"""Zones with real processes: nodes started with --zone announce it, the claimant places replicas
by it under a new ring version, and losing a whole zone loses no key; a node's zone cannot change,
a bad one is a usage error, and a joiner brings its zone. Ports 20970-20979 (peers 21970-21979)."""
import unittest

from harness import HOST, Cluster, ClusterTest, request, wait_until

BASE = 20970
ZONES = {BASE + 1: "a", BASE + 2: "a", BASE + 3: "b", BASE + 4: "b"}


def cluster_view(port):
    return request(port, "GET", "/cluster").json


class ZonesTest(ClusterTest):
    def start_zoned(self, size=4):
        c = Cluster(BASE, size, ["--gossip-ms", "200", "--partitions", "16"])
        self.addCleanup(c.close)
        c.node_args = {p: ["--zone", z] for p, z in ZONES.items()}
        c.start()
        c.wait_connected()

        # The claimant adopts zones as gossip brings them, each under a new ring version.
        def placed_by_zones():
            rings = [request(p, "GET", "/ring").json for p in c.ports]
            return all(r["zones"] == [ZONES[int(m.split(":")[1])] for m in r["members"]] for r in rings)
        wait_until(placed_by_zones, what="every node to serve by a ring placed by every zone")
        return c

    def test_losing_a_whole_zone_loses_no_key(self):
        c = self.start_zoned()
        zone_of = {f"{HOST}:{p}": z for p, z in ZONES.items()}
        self.assertEqual({n["address"]: n["zone"] for n in cluster_view(BASE + 1)["nodes"]}, zone_of)
        for owner in request(BASE + 3, "GET", "/ring").json["owners"]:
            first_two = owner["preference_list"][:2]
            self.assertEqual({zone_of[a] for a in first_two}, {"a", "b"}, owner)

        # N=2: on the plain ring a quarter of the partitions would have both replicas in zone a.
        keys = [f"zoned{i}" for i in range(80)]
        for i, k in enumerate(keys):
            self.assertEqual(request(BASE + 1 + i % 4, "PUT", f"/kv/{k}", {"value": i, "N": 2, "W": 2}).status, 200)
        c.kill9(BASE + 1)
        c.kill9(BASE + 2)
        for i, k in enumerate(keys):
            r = request(BASE + 3 + i % 2, "GET", f"/kv/{k}?N=2&R=1")
            self.assertEqual((r.status, r.json.get("value")), (200, i), f"{k} was lost with zone a: {r.json}")

    def test_a_zone_is_fixed_checked_and_brought_by_a_joiner(self):
        c = self.start_zoned()
        moved = BASE + 4
        c.stop(moved)
        c.node_args[moved] = ["--zone", "c"]
        c.spawn(moved, ["--nodes", c.nodes_flag])
        self.assertNotEqual(c.procs[moved].wait(timeout=20), 0)
        self.assertIn("a node's zone cannot change; start it with --zone b", c.log(moved))
        c.procs.pop(moved)
        c.node_args[moved] = ["--zone", "b"]
        c.start(moved)

        bad = self.run_cli("node", "--port", str(BASE + 9), "--zone", "two words", check_code=2)
        self.assertIn("a zone is 1 to 64 letters", bad.stderr + bad.stdout)

        joiner = BASE + 5
        c.node_args[joiner] = ["--zone", "c"]
        c.join(joiner, via=BASE + 2)

        def joiner_placed():
            r = request(BASE + 1, "GET", "/ring").json
            return dict(zip(r["members"], r["zones"])).get(f"{HOST}:{joiner}") == "c"
        wait_until(joiner_placed, what="the joiner to be admitted in zone c")
        # Three zones now: every preference list of N=3 spans all three.
        zone_of = {n["address"]: n["zone"] for n in cluster_view(BASE + 1)["nodes"]}
        wait_until(lambda: all(len({zone_of[a] for a in o["preference_list"]}) == 3
                               for o in request(BASE + 3, "GET", "/ring").json["owners"]),
                   what="preference lists over three zones on every node")


if __name__ == "__main__":
    unittest.main()
