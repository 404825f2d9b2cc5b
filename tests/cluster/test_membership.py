"""Gossip membership with real processes: a node joins a running cluster with --join, every node
learns the new ring by gossip, the newcomer gets its partitions' data by partition transfer before
it owns them (and its trees then equal its peers'), and keeps its membership across a restart."""
import unittest

from harness import HOST, Cluster, ClusterTest, counter, request, wait_until

BASE = 20500  # founders 20501-20503, the newcomer 20504 (peers 21501-21504)


def cluster_view(port):
    return request(port, "GET", "/cluster").json


class MembershipTest(ClusterTest):
    def test_a_node_joins_by_gossip_and_gets_its_data_by_transfer(self):
        c = self.start_cluster(BASE, extra_args=["--gossip-ms", "200", "--partitions", "16", "--aae-interval-ms", "20"])
        founders, newcomer = list(c.ports), BASE + 4
        keys = [f"member{i}" for i in range(40)]
        for k in keys:
            self.assertEqual(request(founders[0], "PUT", f"/kv/{k}", {"value": k, "W": 3}).status, 200)
        self.assertEqual(cluster_view(founders[1])["ring_version"], 1)

        c.join(newcomer, via=founders[2])  # serves (answers /health) only once admitted
        every = founders + [newcomer]

        # Version 2 plans the join (the newcomer is a member that owns nothing yet), version 3
        # serves it once every transfer to it is done.
        def ring_everywhere():
            views = [cluster_view(p) for p in every]
            return all(v["ring_version"] == 3 and len(v["nodes"]) == 4 and not v["changing"] for v in views)
        wait_until(ring_everywhere, what="every node to serve by the ring with the newcomer")
        self.assertGreater(counter(newcomer, "transfer_keys_received"), 0)
        self.assertEqual({n["role"] for n in cluster_view(founders[0])["nodes"]}, {"serving"})
        rings = [request(p, "GET", "/ring").json for p in every]
        for r in rings:
            self.assertEqual((r["members"], r["owners"]), (rings[0]["members"], rings[0]["owners"]), "rings differ")
        self.assertEqual(cluster_view(founders[0])["claimant"], f"127.0.0.1:{founders[0]}")
        newcomer_address = f"127.0.0.1:{newcomer}"
        owned = [o["partition"] for o in rings[0]["owners"] if newcomer_address in o["preference_list"]]
        self.assertGreaterEqual(len(owned), 16 // 4, rings[0])
        c.wait_connected()

        # Requests work from every node, the newcomer's included.
        self.assertEqual(request(newcomer, "PUT", "/kv/after", {"value": 1, "W": 3}).status, 200)
        for p in every:
            self.assertEqual(request(p, "GET", "/kv/after").json["value"], 1)

        # The newcomer's partitions reach it by anti-entropy: wait until its trees equal its peers'.
        def in_sync_for_two_rounds():
            before = (counter(newcomer, "aae_exchanges"), counter(newcomer, "aae_exchanges_in_sync"))
            wait_until(lambda: counter(newcomer, "aae_exchanges") >= before[0] + 64, what="64 more exchanges")
            after = (counter(newcomer, "aae_exchanges"), counter(newcomer, "aae_exchanges_in_sync"))
            return after[1] - before[1] >= after[0] - before[0] - 1  # one may still be under way
        wait_until(in_sync_for_two_rounds, timeout_s=60, what="the newcomer's trees to equal its peers'")

        # A restart keeps the membership (the data dir has it; --nodes does not name the newcomer).
        c.stop(newcomer)
        c.start(newcomer)
        self.assertEqual(cluster_view(newcomer)["ring_version"], 3)
        for p in founders:  # from now on only what reached the newcomer can be read there
            c.stop(p)
        # A key the newcomer replicates is answered from its own copy; any other key needs a
        # founder to coordinate it, so it is refused (503). None may be missing (404).
        answers = {k: request(newcomer, "GET", f"/kv/{k}?R=1") for k in keys}
        served = [k for k, r in answers.items() if r.status == 200]
        for k, r in answers.items():
            self.assertIn(r.status, (200, 503), f"{k}: {r}")
            if r.status == 200:
                self.assertEqual(r.json["value"], k, r)
        self.assertGreaterEqual(len(served), len(keys) // 4, answers)

    def test_join_requests_are_checked(self):
        c = self.start_cluster(BASE + 10)
        p = c.ports[0]
        self.assertEqual(request(p, "GET", "/cluster/join").status, 405)
        for body in ["garbage", "{}", '{"address": "nohost", "node_id": "x"}', '{"address": "127.0.0.1:0", "node_id": "x"}',
                     '{"address": "127.0.0.1:20599", "node_id": "has space"}']:
            r = request(p, "POST", "/cluster/join", body)
            self.assertEqual(r.status, 400, body)
            self.assertEqual(r.json["status"], "error", body)
        self.assertEqual(cluster_view(p)["joining"], [])

    def test_each_join_attempt_to_an_address_that_refuses_is_logged(self):
        c = Cluster(BASE + 20, size=0)  # nothing listens on 20529: the newcomer's --join is refused
        self.addCleanup(c.close)
        newcomer = BASE + 21
        c.spawn(newcomer, ["--join", f"{HOST}:{BASE + 29}"])
        for attempt in (1, 2):
            wait_until(lambda: f"--join {HOST}:{BASE + 29}: attempt {attempt} failed" in c.log(newcomer),
                       what=f"join attempt {attempt} to be logged")
        self.assertIsNone(c.procs[newcomer].poll())  # it keeps trying (for 60 s), saying so each time


if __name__ == "__main__":
    unittest.main()
