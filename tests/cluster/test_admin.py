"""`minidynamo admin` against real processes: the status and ring of a 3-node cluster, a fourth node
joining (watched by `admin join --wait` started before the node is) and leaving (`admin leave
--wait` asked of the leaver itself, which stops), the transfers of a leave held up by a frozen
source, a killed node removed, a replacement, a repair, and bad requests refused with a message
and a non-zero exit."""
import json
import signal
import subprocess
import unittest

from harness import BINARY, HOST, ClusterTest, request, wait_until

BASE = 20270  # founders 20271-20273, newcomers 20274-20276 (peers 21271-21276); nothing on 20298
PARTITIONS = 16


def address(port):
    return f"{HOST}:{port}"


def rows(table, port):
    """The split rows of a table (indented lines) that start with the node on `port`."""
    return [line.split() for line in table.splitlines() if line.startswith("  ") and line.split()[0] == address(port)]


class AdminTest(ClusterTest):
    def admin(self, *args, port, code=0):
        return self.run_cli("admin", *args, "--node", address(port), check_code=code)

    def admin_json(self, *args, port):
        return json.loads(self.admin(*args, "--json", port=port).stdout)

    def admin_in_background(self, *args, port):
        proc = subprocess.Popen([BINARY, "admin", *args, "--node", address(port)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        self.addCleanup(proc.wait)
        self.addCleanup(proc.kill)  # a no-op once it has finished
        return proc

    def finished(self, proc):
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0, out + err)
        return out.splitlines()

    def role(self, watcher, port):
        nodes = self.admin_json("status", port=watcher)["nodes"]
        return next(n["role"] for n in nodes if n["address"] == address(port))

    def test_membership_changes_through_admin(self):
        c = self.start_cluster(BASE, extra_args=["--partitions", str(PARTITIONS), "--gossip-ms", "200"])
        a, b, third = c.ports
        for i in range(60):
            self.assertEqual(request(a, "PUT", f"/kv/admin{i}", {"value": i, "W": 3}).status, 200)

        # The cluster as a founder sees it: every founder serves and owns a third of the partitions.
        status = self.admin("status", port=a).stdout
        self.assertIn(f"{address(a)} sees ring version 1, claimant {address(a)}; owners settled", status)
        self.assertEqual(rows(status, a)[0][1:3], ["serving", "self"], status)
        self.assertEqual(rows(status, b)[0][1:3], ["serving", "up"], status)
        owned = {p: int(rows(status, p)[0][4]) for p in c.ports}
        self.assertEqual(sum(owned.values()), PARTITIONS, status)
        view = self.admin_json("status", port=a)
        self.assertEqual((view["ring_version"], view["claimant"], view["changing"]), (1, address(a), False))
        self.assertEqual({n["address"]: n["partitions"] for n in view["nodes"]}, {address(p): owned[p] for p in c.ports})

        ring = self.admin("ring", port=b).stdout
        self.assertIn(f"owners now (ring version 1, {PARTITIONS} partitions):", ring)
        self.assertNotIn("next owners", ring)
        for p in c.ports:  # ADDRESS ROLE OWNS REPLICATES PARTITIONS: three replicas of each on three nodes
            self.assertEqual(rows(ring, p)[0][1:4], ["serving", str(owned[p]), str(PARTITIONS)], ring)
        ring_view = self.admin_json("ring", port=b)
        self.assertIsNone(ring_view["next_owners"])
        self.assertEqual(sorted(q for o in ring_view["owners"] for q in o["owns"]), list(range(PARTITIONS)))
        by_partition = self.admin("ring", "--partitions", port=b).stdout.splitlines()
        self.assertEqual(len(by_partition), 1 + PARTITIONS)
        self.assertEqual(by_partition[1].split()[0], "0")
        lists = self.admin_json("ring", "--partitions", port=b)["owners"]  # GET /ring as it came
        self.assertEqual(lists, request(b, "GET", "/ring").json["owners"])
        self.assertEqual(by_partition[1].split()[1], ",".join(lists[0]["preference_list"]))

        # Repair: a partition the node asked replicates queues an exchange with each other replica.
        repaired = self.admin("repair", "--partition", "5", port=a).stdout
        self.assertIn("2 anti-entropy exchanges queued", repaired)
        self.assertIn("partition 5", repaired)
        self.assertEqual(self.admin_json("repair", port=a), {"status": "success", "exchanges": 2 * PARTITIONS})

        # Bad requests: a message that names what is wrong on stderr, exit 1, nothing changed.
        for args, says in ((["remove", "127.0.0.1:20297"], "127.0.0.1:20297 is not a member"),
                           (["replace", address(third), address(b)], f"{address(b)} is a member already"),
                           (["repair", "--partition", str(PARTITIONS)], f"partition {PARTITIONS} does not exist")):
            r = self.admin(*args, port=a, code=1)
            self.assertIn(says, r.stderr, args)
            self.assertEqual(r.stdout, "", args)
        self.assertIn("127.0.0.1:20298", self.admin("status", port=20298, code=1).stderr)
        unknown = self.admin("join", "127.0.0.1:20297", port=a, code=1).stderr
        self.assertIn("is not known", unknown)
        self.assertIn(f"--join {address(a)}", unknown)
        self.assertEqual(self.admin_json("status", port=a)["ring_version"], 1)

        # A fourth node joins; `admin join --wait` is started first, and waits for it to serve.
        fourth = BASE + 4
        waiting = self.admin_in_background("join", address(fourth), "--wait", "--timeout-s", "25", port=a)
        self.assertIn(f"{address(fourth)} is not known to {address(a)}", waiting.stdout.readline())
        c.join(fourth, via=b)
        joined = self.finished(waiting)
        self.assertEqual(joined[-1], f"{address(fourth)} serves (ring version 3)")
        self.assertEqual(self.admin("join", address(fourth), port=a).stdout.strip(),  # a, whose view was awaited
                         f"{address(fourth)} serves (ring version 3)")
        moved = self.admin("transfers", port=a).stdout
        self.assertIn("no transfers under way: the owners are settled (ring version 3)", moved)
        sent = [self.admin_json("transfers", port=p)["counters"] for p in c.ports[:3]]
        self.assertGreater(sum(s["transfers_done"] for s in sent), 0, sent)
        self.assertIn(f"{address(a)} since it started: {sent[0]['transfers_done']} transfers done as their source, "
                      f"{sent[0]['transfer_keys_sent']} keys sent", moved)
        self.assertGreater(sum(s["transfer_keys_sent"] for s in sent), 0, sent)
        self.assertGreater(self.admin_json("transfers", port=fourth)["counters"]["transfer_keys_received"], 0)

        # It leaves, asked itself: the wait watches from another member, as the leaver stops.
        left = self.admin("leave", "--wait", "--timeout-s", "25", port=fourth).stdout.splitlines()
        self.assertIn(f"leave of {address(fourth)} asked", left[0])
        self.assertTrue(left[-1].startswith(f"{address(fourth)} has departed"), left)
        self.assertEqual(c.procs.pop(fourth).wait(timeout=20), 0)
        self.assertEqual(self.role(a, fourth), "departed")
        again = self.admin("leave", address(fourth), port=a, code=1).stderr
        self.assertIn(f"{address(fourth)} has left the cluster already", again)

        # A leave whose source is frozen (suspect, still connected: the claimant leaves its transfers
        # with it): they stay under way, as transfers, status and ring show, until it runs again.
        fifth = BASE + 5
        c.join(fifth, via=a)
        self.admin("join", address(fifth), "--wait", "--timeout-s", "25", port=a)
        c.procs[fifth].send_signal(signal.SIGSTOP)
        try:
            self.assertIn(f"leave of {address(fifth)} asked", self.admin("leave", address(fifth), port=a).stdout)
            wait_until(lambda: self.admin_json("transfers", port=a)["total"] > 0, what="the leave to be planned")
            under_way = self.admin_json("transfers", port=a)
            self.assertTrue(under_way["changing"])
            self.assertEqual({t["from"] for t in under_way["transfers"]}, {address(fifth)})
            self.assertEqual(under_way["done"], 0)
            table = self.admin("transfers", port=a).stdout
            transfer_rows = [line.split() for line in table.splitlines() if address(fifth) in line.split()]
            self.assertEqual(len(transfer_rows), under_way["total"], table)
            self.assertEqual({row[1] for row in transfer_rows}, {address(fifth)}, table)
            self.assertEqual({row[4] for row in transfer_rows}, {"no"}, table)
            self.assertIn(f"0 of {under_way['total']} transfers done, 0 keys moved", table)
            status = self.admin("status", port=a).stdout
            self.assertIn("owners changing", status)
            plain = self.run_cli("status", "--node", address(a), check_code=0).stdout  # minidynamo status too
            self.assertIn(f"0 of {under_way['total']} partition transfers done, 0 keys moved", plain)
            self.assertIn("leaving", next(line for line in plain.splitlines() if address(fifth) in line))
            self.assertEqual(rows(status, fifth)[0][1], "leaving", status)
            ring = self.admin("ring", port=a).stdout
            next_owners = ring[ring.index("next owners"):]
            self.assertEqual(rows(next_owners, fifth)[0][1:4], ["leaving", "0", "0"], ring)
        finally:
            c.procs[fifth].send_signal(signal.SIGCONT)
        wait_until(lambda: self.role(a, fifth) == "departed", timeout_s=40,
                   what="the frozen leaver to depart once it runs")
        self.assertEqual(c.procs.pop(fifth).wait(timeout=20), 0)

        # A killed founder is removed; its partitions are served by the others.
        c.kill9(third)
        removed = self.admin("remove", address(third), "--wait", "--timeout-s", "25", port=b).stdout.splitlines()
        self.assertTrue(removed[-1].startswith(f"{address(third)} has departed"), removed)
        serving = {n["address"] for n in self.admin_json("status", port=b)["nodes"] if n["role"] == "serving"}
        self.assertEqual(serving, {address(a), address(b)})
        owned_by_b = next(o["owns"] for o in self.admin_json("ring", port=b)["owners"] if o["address"] == address(b))
        self.assertGreater(len(owned_by_b), 0)

        # A replacement is asked for first, then started with --join; it takes exactly b's partitions.
        sixth = BASE + 6
        waiting = self.admin_in_background("replace", address(b), address(sixth), "--wait", "--timeout-s", "25", port=a)
        wait_until(lambda: self.role(a, b) == "replacing", what="the replacement to be asked for")
        c.join(sixth, via=a)
        replaced = self.finished(waiting)
        self.assertIn(f"now start {address(sixth)} with `minidynamo node --join {address(a)}`", replaced[1])
        self.assertTrue(replaced[-1].startswith(f"{address(b)} has departed"), replaced)
        self.assertEqual(c.procs.pop(b).wait(timeout=20), 0)
        owners = {o["address"]: o["owns"] for o in self.admin_json("ring", port=a)["owners"]}
        self.assertEqual(owners, {address(a): owners[address(a)], address(sixth): owned_by_b})
        self.admin("join", address(sixth), "--wait", "--timeout-s", "25", port=sixth)  # it reads by the new ring too
        for i in range(60):
            self.assertEqual(request(sixth, "GET", f"/kv/admin{i}?R=2").json["value"], i)


if __name__ == "__main__":
    unittest.main()
