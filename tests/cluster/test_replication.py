"""Quorums, siblings, deletes, failures and durability on a real three-node cluster."""
import os
import re
import shutil
import signal
import time
import unittest

from harness import HOST, ClusterTest, counter, request, wait_until


class Replication(ClusterTest):
    def test_concurrent_writes_without_context_are_siblings_and_a_write_with_context_resolves_them(self):
        c = self.start_cluster(20010)
        a, b, third = c.ports
        self.assertEqual(request(a, "PUT", "/kv/cart", {"value": ["milk"]}).status, 200)
        self.assertEqual(request(b, "PUT", "/kv/cart", {"value": ["eggs"]}).status, 200)
        r = request(third, "GET", "/kv/cart?R=3")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json["status"], "conflict")
        self.assertEqual(sorted(s["value"][0] for s in r.json["siblings"]), ["eggs", "milk"])
        for s in r.json["siblings"]:
            self.assertTrue(s["vector_clock"])
        w = request(third, "PUT", "/kv/cart", {"value": ["eggs", "milk"], "context": r.json["context"], "W": 3})
        self.assertEqual(w.status, 200, w)
        for port in c.ports:
            r = request(port, "GET", "/kv/cart?R=3")
            self.assertEqual(r.json["status"], "success", r)
            self.assertEqual(r.json["value"], ["eggs", "milk"])

    def test_delete_then_read_is_not_found_on_every_node(self):
        c = self.start_cluster(20020)
        a, b, third = c.ports
        self.assertEqual(request(a, "PUT", "/kv/gone", {"value": 1, "W": 3}).status, 200)
        d = request(b, "DELETE", "/kv/gone", {"W": 3})
        self.assertEqual(d.status, 200, d)
        self.assertEqual(d.json["status"], "success")
        for port in c.ports:
            r = request(port, "GET", "/kv/gone?R=3")
            self.assertEqual(r.status, 404, r)
            self.assertEqual(r.json, {"status": "not_found", "key": "gone", "context": r.json["context"]})

    def test_one_node_killed_quorum_two_works_strict_w3_answers_503_and_the_node_returns_with_its_data(self):
        c = self.start_cluster(20030, extra_args=["--timeout-ms", "1500"])
        a, b, third = c.ports
        self.assertEqual(request(a, "PUT", "/kv/before", {"value": "kept", "W": 3}).status, 200)
        c.kill9(third)

        self.assertEqual(request(a, "PUT", "/kv/after", {"value": "missed", "W": 2}).status, 200)
        r = request(b, "GET", "/kv/after", {"R": 2})
        self.assertEqual((r.status, r.json["value"]), (200, "missed"))
        started = time.monotonic()
        r = request(a, "PUT", "/kv/strict", {"value": 1, "W": 3, "sloppy": False})  # sloppy: tests/cluster/test_handoff.py
        self.assertEqual(r.status, 503, r)
        self.assertLess(time.monotonic() - started, 1.5 + 1.0)
        # The answer waits for both live replicas, so it says truthfully where the write is.
        self.assertEqual((r.json["required"], r.json["acknowledged"]), (3, 2), r)
        self.assertIn("strict quorum", r.json["error"])
        self.assertIn("indeterminate", r.json["error"])
        # A delete is a write: the same answer.
        self.assertEqual(request(a, "PUT", "/kv/strict-delete", {"value": 1}).status, 200)
        r = request(a, "DELETE", "/kv/strict-delete", {"W": 3, "sloppy": False})
        self.assertEqual((r.status, r.json["required"], r.json["acknowledged"]), (503, 3, 2), r)
        self.assertIn("strict quorum", r.json["error"])
        # The command line's strict drill: exit code 5 (quorum not reached).
        r = self.run_cli("put", "strict-cli", "1", "--node", f"127.0.0.1:{a}", "--w", "3", "--sloppy", "false",
                         check_code=5)
        self.assertIn("strict quorum", r.stderr)
        self.assertIn("[2 of the 3 required acknowledged]", r.stderr)
        # Sloppy or not, W=3 needs three machines: two are up here.
        self.run_cli("put", "sloppy-cli", "1", "--node", f"127.0.0.1:{a}", "--w", "3", "--sloppy", "true",
                     check_code=5)
        self.run_cli("put", "sloppy-cli", "1", "--node", f"127.0.0.1:{a}", "--w", "2", "--sloppy", "true",
                     check_code=0)

        c.start(third)
        c.wait_connected()
        # Indeterminate means it may surface: the coordinator's hint brings the strict write to the node
        # that was down.
        wait_until(lambda: all(n["pending_hints"] == 0 for n in request(a, "GET", "/cluster").json["nodes"]),
                   what="the hints of the strict writes to be handed off")
        # A crash may lose a write the node sent to replicas while it was still syncing it: the node
        # makes new dots under a new actor id (docs/design.md, "Actor epochs").
        view = request(third, "GET", "/cluster").json
        self.assertEqual(view["actor"], view["node_id"] + "~1")
        # A read of the key it missed repairs it, if handoff did not bring it first.
        self.assertEqual(request(a, "GET", "/kv/after?R=3").json["value"], "missed")
        wait_until(lambda: counter(third, "replica_writes") >= 1, what="the read repair to land")
        c.stop(a)
        c.stop(b)
        for key, value in (("before", "kept"), ("after", "missed"), ("strict", 1), ("strict-cli", 1)):
            r = request(third, "GET", f"/kv/{key}?R=1")
            self.assertEqual((r.status, r.json.get("value")), (200, value), f"{key}: {r}")

    def test_a_key_written_with_n1_is_readable_from_every_node(self):
        c = self.start_cluster(20040)
        self.assertEqual(request(c.ports[0], "PUT", "/kv/solo?N=1&W=1", {"value": {"a": 1}}).status, 200)
        for port in c.ports:
            r = request(port, "GET", "/kv/solo?N=1&R=1")
            self.assertEqual((r.status, r.json.get("value")), (200, {"a": 1}), r)

    def test_sibling_limit_refuses_writes_and_keeps_the_siblings(self):
        c = self.start_cluster(20050, extra_args=["--max-siblings", "3"])
        a = c.ports[0]
        for i in range(3):
            self.assertEqual(request(a, "PUT", "/kv/hot", {"value": i}).status, 200)
        r = request(a, "PUT", "/kv/hot", {"value": 99})
        self.assertEqual(r.status, 409, r)
        self.assertIn("context", r.json["error"])
        read = request(a, "GET", "/kv/hot?R=3")
        self.assertEqual(sorted(s["value"] for s in read.json["siblings"]), [0, 1, 2])
        self.assertEqual(request(a, "PUT", "/kv/hot", {"value": 3, "context": read.json["context"]}).status, 200)

    def test_cluster_and_ring_pages(self):
        c = self.start_cluster(20060)
        cluster = request(c.ports[0], "GET", "/cluster").json
        ids = [request(p, "GET", "/cluster").json["node_id"] for p in c.ports]
        self.assertEqual([n["node_id"] for n in cluster["nodes"]], ids)
        self.assertEqual(len(set(ids)), 3, "node ids must be unique")
        self.assertTrue(all(re.fullmatch("node_[0-9a-f]{32}", i) for i in ids), ids)  # node_ + 128 random bits
        self.assertEqual([n["address"] for n in cluster["nodes"]], [f"{HOST}:{p}" for p in c.ports])
        self.assertIsNone(cluster["id_conflict"])
        self.assertEqual(sum(n["self"] for n in cluster["nodes"]), 1)
        ring = request(c.ports[1], "GET", "/ring").json
        self.assertEqual(ring["partitions"], 256)
        self.assertEqual(len(ring["owners"]), 256)
        self.assertTrue(all(len(set(o["preference_list"])) == 3 for o in ring["owners"]))
        self.assertEqual(request(c.ports[2], "GET", "/ring").json["owners"], ring["owners"])

    def test_a_hung_node_becomes_suspect_and_up_again_when_it_resumes(self):
        # SIGSTOP: the process hangs with its connections open; only its heartbeats stop.
        c = self.start_cluster(20080, extra_args=["--heartbeat-ms", "100"])
        watcher, hung = c.ports[0], c.ports[2]

        def status_of(port):
            nodes = request(watcher, "GET", "/cluster").json["nodes"]
            return next(n["status"] for n in nodes if n["address"].endswith(f":{port}"))

        self.assertEqual(status_of(hung), "up")
        c.procs[hung].send_signal(signal.SIGSTOP)
        try:
            wait_until(lambda: status_of(hung) == "suspect", timeout_s=15, what="the hung node to be suspected")
            wait_until(lambda: f"peer 127.0.0.1:{hung} is suspect" in c.log(watcher), what="the suspicion logged")
            # A read that needs the hung replica runs out of time, and says so.
            r = request(watcher, "GET", "/kv/any?R=3", timeout=10)
            self.assertEqual((r.status, r.json["required"], r.json["acknowledged"]), (503, 3, 2), r)
            self.assertIn("before the deadline", r.json["error"])
            self.assertGreaterEqual(counter(watcher, "suspicions"), 1)
            table = self.run_cli("status", "--node", f"127.0.0.1:{watcher}", check_code=0).stdout
            row = next(line for line in table.splitlines() if f":{hung} " in line)
            self.assertEqual(row.split()[3], "suspect", table)
            self.assertIn("suspicions=", table)
        finally:
            c.procs[hung].send_signal(signal.SIGCONT)
        wait_until(lambda: status_of(hung) == "up", timeout_s=15, what="the resumed node to be up")
        wait_until(lambda: f"peer 127.0.0.1:{hung} is up again" in c.log(watcher), what="its return logged")

    def test_anti_entropy_repairs_a_replica_that_missed_writes_without_any_read(self):
        # Few partitions and fast exchanges, so that every (partition, peer) pair comes round quickly.
        c = self.start_cluster(20090, extra_args=["--partitions", "16", "--aae-interval-ms", "20"])
        behind, others = c.ports[2], c.ports[:2]
        # The replica comes back with an old copy of its data dir: it lacks writes that every node
        # acknowledged, so no hint holds them and only anti-entropy can bring them back.
        old = os.path.join(c.root, "old_copy")
        c.stop(behind)
        shutil.copytree(c.data_dir(behind), old)
        c.start(behind)
        c.wait_connected()
        keys = [f"aae{i}" for i in range(20)]
        for k in keys:
            self.assertEqual(request(others[0], "PUT", f"/kv/{k}", {"value": k, "W": 3}).status, 200)
        c.stop(behind)
        shutil.rmtree(c.data_dir(behind))
        shutil.copytree(old, c.data_dir(behind))
        c.start(behind)
        c.wait_connected()
        wait_until(lambda: counter(others[0], "aae_objects_sent") + counter(others[1], "aae_objects_sent") > 0,
                   what="anti-entropy to send the missed objects")

        def all_in_sync_for_two_rounds():
            # 64 exchanges: every (partition, peer) pair of the restarted node twice over.
            before = (counter(behind, "aae_exchanges"), counter(behind, "aae_exchanges_in_sync"))
            wait_until(lambda: counter(behind, "aae_exchanges") >= before[0] + 64, what="64 more exchanges")
            after = (counter(behind, "aae_exchanges"), counter(behind, "aae_exchanges_in_sync"))
            return after[1] - before[1] >= after[0] - before[0] - 1  # one may still be under way
        wait_until(all_in_sync_for_two_rounds, what="the restarted node's trees to equal its peers'")
        self.assertEqual([counter(p, "hints_stored") for p in others], [0, 0])  # not handoff's doing
        for p in others:  # from now on, only what reached the restarted node can be read there
            c.stop(p)
        for k in keys:
            r = request(behind, "GET", f"/kv/{k}?R=1")
            self.assertEqual((r.status, r.json["value"]), (200, k), r)

    def test_a_crash_that_may_lose_unsynced_writes_gives_new_writes_a_new_actor_id(self):
        c = self.start_cluster(20120, extra_args=["--sync", "none"])
        a, b, third = c.ports
        actor = lambda p: request(p, "GET", "/cluster").json["actor"]
        node_id = request(third, "GET", "/cluster").json["node_id"]
        self.assertEqual(actor(third), node_id)
        c.stop(third)  # a clean stop loses nothing: the same actor
        c.start(third)
        self.assertEqual(actor(third), node_id)
        c.kill9(third)  # a crash with --sync none may have lost writes it versioned
        c.start(third)
        c.wait_connected()
        self.assertEqual(actor(third), f"{node_id}~1")
        self.assertIn("did not stop cleanly", c.log(third))
        w = request(third, "PUT", "/kv/after-crash", {"value": 1, "W": 3})
        self.assertEqual(w.status, 200, w)
        clock = request(a, "GET", "/kv/after-crash?R=3").json["vector_clock"]
        self.assertEqual(clock, {f"{node_id}~1": 1})

    def test_command_line_client(self):
        c = self.start_cluster(20070)
        node = f"127.0.0.1:{c.ports[0]}"
        self.run_cli("put", "user42", "Alice", "--node", node, check_code=0)
        r = self.run_cli("get", "user42", "--node", node, check_code=0)
        self.assertIn('"Alice"', r.stdout)
        self.assertIn("context: ", r.stdout)
        self.run_cli("put", "user42", '{"name":"Bob"}', "--node", node, check_code=0)
        r = self.run_cli("get", "user42", "--node", node, "--r", "3", check_code=4)
        self.assertIn("2 siblings", r.stdout)
        context = [l for l in r.stdout.splitlines() if l.startswith("context: ")][0].split(" ", 1)[1]
        self.run_cli("put", "user42", "Carol", "--context", context, "--w", "3", "--node", node, check_code=0)
        self.assertIn('"Carol"', self.run_cli("get", "user42", "--node", node, check_code=0).stdout)
        self.run_cli("delete", "user42", "--node", node, "--w", "3", check_code=0)
        self.run_cli("get", "user42", "--node", node, check_code=3)
        r = self.run_cli("get", "user42", "--node", node, "--r", "9", check_code=1)
        self.assertIn("R must be", r.stderr)
        self.run_cli("get", "x", "--node", "127.0.0.1:1", check_code=1)
        table = self.run_cli("status", "--node", node, check_code=0).stdout
        self.assertEqual(sum(" up " in line for line in table.splitlines()), 2, table)
        self.assertIn("self", table)
        self.run_cli("status", "--node", "127.0.0.1:1", check_code=1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
