"""Node ids name one node each: two nodes that claim one id are refused on both sides, since they
would make the same dots for different writes and one acknowledged write would be lost."""
import os
import shutil
import subprocess
import unittest

from harness import BINARY, HOST, Cluster, ClusterTest, counter, request, wait_until

BASE = 20700  # nodes 20701-20734 (peers 21701-21734)


class NodeIds(ClusterTest):
    def test_two_founders_with_one_id_both_refuse_to_version_writes(self):
        c = Cluster(BASE, extra_args=["--heartbeat-ms", "50"])
        self.addCleanup(c.close)
        a, twin1, twin2 = c.ports
        c.spawn(a, ["--nodes", c.nodes_flag])
        for p in (twin1, twin2):
            c.spawn(p, ["--nodes", c.nodes_flag, "--node-id", "node_twin"])
        for p in c.ports:
            c.wait_healthy(p)
        c.wait_connected()

        def both_refuse():
            return all(request(p, "GET", "/cluster").json["id_conflict"] for p in (twin1, twin2))
        wait_until(both_refuse, what="both nodes named node_twin to find each other")
        self.assertEqual(request(twin1, "GET", "/cluster").json["id_conflict"], f"{HOST}:{twin2}")
        self.assertEqual(request(twin2, "GET", "/cluster").json["id_conflict"], f"{HOST}:{twin1}")
        for p in (twin1, twin2):
            self.assertGreaterEqual(counter(p, "duplicate_ids_refused"), 1)
            r = request(p, "PUT", "/kv/k", {"value": "v", "W": 1})
            self.assertEqual(r.status, 503, r)
            self.assertIn("node_twin is also claimed by", r.json["error"])
            self.assertIn("is claimed by both", c.log(p))
        # The node with an id of its own still coordinates writes, and reads work everywhere.
        self.assertIsNone(request(a, "GET", "/cluster").json["id_conflict"])
        w = request(a, "PUT", "/kv/k", {"value": "v", "W": 3})
        self.assertEqual(w.status, 200, w)
        r = request(twin1, "GET", "/kv/k?R=3")
        self.assertEqual((r.status, r.json.get("value")), (200, "v"), r)

    def test_a_joiner_that_takes_a_members_id_is_refused(self):
        c = self.start_cluster(BASE + 10)
        taken = request(c.ports[0], "GET", "/cluster").json["node_id"]
        joiner = BASE + 14
        data_dir = c.data_dir(joiner)
        r = subprocess.run([BINARY, "node", "--port", str(joiner), "--peer-port-offset", "1000", "--data-dir", data_dir,
                            "--join", f"{HOST}:{c.ports[1]}", "--node-id", taken],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("refused us", r.stdout + r.stderr)
        self.assertIn(f"node id {taken} is claimed by both", r.stdout + r.stderr)
        self.assertGreaterEqual(counter(c.ports[1], "duplicate_ids_refused"), 1)
        self.assertFalse(os.path.exists(os.path.join(data_dir, "CLUSTER")), "a refused joiner kept a membership")
        for p in c.ports:  # the members never took it in
            self.assertEqual(request(p, "GET", "/cluster").json["joining"], [])

    def test_default_ids_differ_and_survive_a_restart(self):
        c = self.start_cluster(BASE + 20)
        ids = [request(p, "GET", "/cluster").json["node_id"] for p in c.ports]
        self.assertEqual(len(set(ids)), 3, ids)
        c.stop(c.ports[2])
        c.start(c.ports[2])
        self.assertEqual(request(c.ports[2], "GET", "/cluster").json["node_id"], ids[2])
        with open(os.path.join(c.data_dir(c.ports[2]), "NODE_ID")) as f:
            self.assertEqual(f.read().strip(), ids[2])

    def test_a_node_that_comes_back_at_another_address_keeps_its_id_partitions_and_data(self):
        c = self.start_cluster(BASE + 30, extra_args=["--heartbeat-ms", "50", "--gossip-ms", "100"])
        a, b, old = c.ports
        keys = [f"moved{i}" for i in range(20)]
        for k in keys:
            self.assertEqual(request(a, "PUT", f"/kv/{k}", {"value": k, "W": 3}).status, 200)
        ring_before = request(a, "GET", "/ring").json
        moved_id = request(old, "GET", "/cluster").json["node_id"]

        c.stop(old)  # the same data dir comes back on another address (a new port here, a new IP on a host)
        new = BASE + 34
        shutil.move(c.data_dir(old), c.data_dir(new))
        c.ports[c.ports.index(old)] = new
        c.spawn(new, [])
        c.wait_healthy(new)
        self.assertIn(f"moved from {HOST}:{old} to {HOST}:{new}", c.log(new))

        def everyone_knows():
            for p in (a, b, new):
                nodes = request(p, "GET", "/cluster").json["nodes"]
                me = [n for n in nodes if n["node_id"] == moved_id]
                if len(me) != 1 or me[0]["address"] != f"{HOST}:{new}" or not me[0]["reachable"]:
                    return False
            return True
        wait_until(everyone_knows, what="every node to reach the moved node at its new address")
        self.assertEqual(request(new, "GET", "/cluster").json["node_id"], moved_id)
        ring_after = request(new, "GET", "/ring").json
        self.assertEqual((ring_after["members"], ring_after["owners"]), (ring_before["members"], ring_before["owners"]))
        for k in keys:  # its data came along
            r = request(new, "GET", f"/kv/{k}?R=1")
            self.assertEqual((r.status, r.json["value"]), (200, k), r)
        w = request(a, "PUT", "/kv/after-move", {"value": 1, "W": 3, "sloppy": False})  # all three replicas ack
        self.assertEqual(w.status, 200, w)


if __name__ == "__main__":
    unittest.main()
