"""Sloppy quorum and hinted handoff on a real three-node cluster: a write for a killed node
reaches it by handoff once it returns, with no read touching the key, and hints survive a
restart of the node that holds them, also for a joiner whose address sorts before the founders'.
Ports 20401-20403 and 20450-20463 (peers 21401-21403, 21450-21463)."""
import unittest

from harness import HOST, ClusterTest, request, wait_until

BASE = 20400


def node_view(port, about):
    """What `port`'s /cluster says about the node whose HTTP port is `about`."""
    nodes = request(port, "GET", "/cluster").json["nodes"]
    return next(n for n in nodes if n["address"] == f"{HOST}:{about}")


def counters(port):
    return request(port, "GET", "/cluster").json["counters"]


class Handoff(ClusterTest):
    def kill_and_wait_until_seen_down(self, c, victim):
        c.kill9(victim)
        for port in c.procs:
            wait_until(lambda: not node_view(port, victim)["reachable"], what=f"{port} to see {victim} down")

    def hints_for(self, c, owner):
        return sum(node_view(p, owner)["pending_hints"] for p in c.procs if p != owner)

    def read_alone(self, c, port, key):
        """Reads `key` from `port` with every other node stopped: only its own copy can answer."""
        for other in [p for p in c.procs if p != port]:
            c.stop(other)
        return request(port, "GET", f"/kv/{key}?R=1")

    def test_a_write_for_a_node_down_reaches_it_by_handoff_and_w3_counts_only_two_machines(self):
        c = self.start_cluster(BASE, extra_args=["--timeout-ms", "1500"])
        a, b, third = c.ports
        self.kill_and_wait_until_seen_down(c, third)

        w = request(a, "PUT", "/kv/handed", {"value": "by handoff", "W": 2})
        self.assertEqual(w.status, 200, w)
        self.assertEqual(w.json["replicas_written"], 2)
        # Two machines hold the write: a hint beside a replica is not a third copy (the seed's drill).
        sloppy = request(a, "PUT", "/kv/two-copies", {"value": 1, "W": 3})
        self.assertEqual(sloppy.status, 503, sloppy)
        self.assertEqual((sloppy.json["required"], sloppy.json["acknowledged"]), (3, 2))
        strict = request(a, "PUT", "/kv/strict?sloppy=false", {"value": 1, "W": 3})
        self.assertEqual(strict.status, 503, strict)
        self.assertEqual(strict.json["required"], 3)
        self.assertIn("strict", strict.json["error"])
        self.assertGreaterEqual(self.hints_for(c, third), 1)
        holder = next(p for p in (a, b) if node_view(p, third)["pending_hints"] >= 1)
        table = self.run_cli("status", "--node", f"{HOST}:{holder}", check_code=0).stdout
        row = next(line for line in table.splitlines() if f":{third} " in line)
        self.assertEqual(row.split()[2:], ["-", "down", "-", str(node_view(holder, third)["pending_hints"]), "serving"],
                         table)
        self.assertEqual(request(a, "PUT", "/kv/x", {"value": 1, "sloppy": "no"}).status, 400)

        c.start(third)
        wait_until(lambda: self.hints_for(c, third) == 0, what="the hints to be handed off")
        self.assertGreaterEqual(sum(counters(p)["hints_delivered"] for p in (a, b)), 1)
        self.assertEqual(sum(counters(p)["read_repairs"] for p in (a, b, third)), 0)
        self.assertEqual(counters(third)["replica_reads"], 0)  # no read touched the key
        r = self.read_alone(c, third, "handed")
        self.assertEqual((r.status, r.json.get("value")), (200, "by handoff"), r)

    def test_hints_survive_a_restart_of_the_node_that_holds_them(self):
        c = self.start_cluster(BASE, extra_args=["--timeout-ms", "1500"])
        a, b, third = c.ports
        self.kill_and_wait_until_seen_down(c, third)
        self.assertEqual(request(a, "PUT", "/kv/kept", {"value": "survived", "W": 2}).status, 200)
        holder = next(p for p in (a, b) if node_view(p, third)["pending_hints"] >= 1)

        c.kill9(holder)
        c.start(holder)
        self.assertGreaterEqual(node_view(holder, third)["pending_hints"], 1)
        self.assertGreaterEqual(counters(holder)["hints_recovered"], 1)

        c.start(third)
        wait_until(lambda: node_view(holder, third)["pending_hints"] == 0, what="the recovered hint to be handed off")
        self.assertGreaterEqual(counters(holder)["hints_delivered"], 1)
        r = self.read_alone(c, third, "kept")
        self.assertEqual((r.status, r.json.get("value")), (200, "survived"), r)

    def test_hints_for_a_joiner_that_sorts_before_the_founders_survive_a_restart_of_their_holder(self):
        # Members are numbered in joining order: the joiner on 20450 comes after 20461-20463 although
        # its address sorts first. Hints for it used to be found by a binary search, as if sorted.
        c = self.start_cluster(BASE + 60, extra_args=["--timeout-ms", "1500", "--gossip-ms", "100"])
        joiner = BASE + 50
        c.join(joiner, via=c.ports[0])
        wait_until(lambda: all(len(request(p, "GET", "/cluster").json["nodes"]) == 4 for p in c.ports),
                   what="every node to serve by the ring with the joiner")
        c.wait_connected()
        self.kill_and_wait_until_seen_down(c, joiner)
        keys = [f"late{i}" for i in range(20)]  # some of them are the joiner's
        for k in keys:
            self.assertEqual(request(c.ports[0], "PUT", f"/kv/{k}", {"value": k, "W": 2}).status, 200)
        holder = next(p for p in c.procs if node_view(p, joiner)["pending_hints"] >= 1)
        held = node_view(holder, joiner)["pending_hints"]

        # A clean stop, so that every hint counted is on disk: a hint is counted when it is stored,
        # before its fsync, and a kill -9 then may lose one that no write counted on (CI saw 6 of
        # 7). What this test is about, finding hints again by their owner's index, is the same.
        c.stop(holder)
        c.start(holder)
        self.assertEqual(counters(holder)["hints_unreadable"], 0)
        self.assertEqual(node_view(holder, joiner)["pending_hints"], held)

        c.start(joiner)
        wait_until(lambda: node_view(holder, joiner)["pending_hints"] == 0, what="the recovered hints to be handed off")
        self.assertGreaterEqual(counters(holder)["hints_delivered"], held)


if __name__ == "__main__":
    unittest.main(verbosity=2)
