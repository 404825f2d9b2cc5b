"""Membership changes with real processes. Under load: a cluster grows from 3 to 5 nodes and shrinks
back to 3 (one node leaves, one is killed with SIGKILL and removed) while clients write with W=2 and
read with R=2. No acknowledged write is lost: at the end every key is read from the final owners
alone with R=N. The requests that failed meanwhile are counted and printed. And a node killed and
replaced: the new node takes exactly its partitions, rebuilt from the survivors."""
import random
import threading
import time
import unittest

from harness import HOST, ClusterTest, request, wait_until

BASE = 20384  # founders 20385-20387, then 20388 and 20389 join (peers 21385-21389)


class Load:
    """Writers put fresh keys with W=2, a reader reads acknowledged ones with R=2, through random
    nodes of `ports` (a list the test changes as nodes come and go)."""

    def __init__(self, ports):
        self.ports = ports
        self.acked = {}  # key -> value, for writes answered 200
        self.failed = {"put": 0, "get": 0}
        self.why = {}  # (op, reason) -> count: no connection, an HTTP status, or a stale value
        self.done = {"put": 0, "get": 0}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.write, args=(w,)) for w in range(2)]
        self.threads.append(threading.Thread(target=self.read))

    def node(self):
        with self.lock:
            return random.choice(self.ports)

    def write(self, writer):
        i = 0
        while not self.stopping.is_set():
            key, value = f"load{writer}_{i}", f"v{writer}_{i}"
            i += 1
            try:
                status = request(self.node(), "PUT", f"/kv/{key}", {"value": value, "W": 2}, timeout=5).status
                reason = None if status == 200 else str(status)
            except OSError:  # a node that left or was killed between the choice and the request
                reason = "no connection"
            with self.lock:
                self.done["put"] += 1
                if reason is None:
                    self.acked[key] = value
                else:
                    self.failed["put"] += 1
                    self.why[("put", reason)] = self.why.get(("put", reason), 0) + 1

    def read(self):
        while not self.stopping.is_set():
            with self.lock:
                keys = list(self.acked)
            if not keys:
                time.sleep(0.01)
                continue
            key = random.choice(keys)
            with self.lock:
                value = self.acked[key]
            try:
                r = request(self.node(), "GET", f"/kv/{key}?R=2", timeout=5)
                reason = str(r.status) if r.status != 200 else None if r.json.get("value") == value else "stale"
            except OSError:
                reason = "no connection"
            with self.lock:
                self.done["get"] += 1
                if reason is not None:
                    self.failed["get"] += 1
                    self.why[("get", reason)] = self.why.get(("get", reason), 0) + 1

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for t in self.threads:
            t.join()

    def acked_count(self):
        with self.lock:
            return len(self.acked)


def cluster_view(port):
    return request(port, "GET", "/cluster").json


def settled(expect_serving):
    """Every node of `expect_serving` sees no change under way, and exactly those nodes serving."""
    for port in expect_serving:
        view = cluster_view(port)
        serving = sorted(n["address"] for n in view["nodes"] if n["role"] == "serving")
        if view["changing"] or serving != sorted(f"{HOST}:{p}" for p in expect_serving):
            return False
    return True


class MembershipUnderLoadTest(ClusterTest):
    def test_grow_to_five_and_shrink_to_three_under_load_loses_no_acknowledged_write(self):
        c = self.start_cluster(BASE, extra_args=["--gossip-ms", "200", "--partitions", "32"])
        founders = list(c.ports)
        serving = list(founders)
        fourth, fifth = BASE + 4, BASE + 5
        with Load(list(founders)) as load:
            wait_until(lambda: load.acked_count() >= 50, what="the first writes")
            for newcomer in (fourth, fifth):
                c.join(newcomer, via=founders[0])
                serving.append(newcomer)
                with load.lock:
                    load.ports.append(newcomer)
                wait_until(lambda: settled(serving), timeout_s=60,
                           what=f"{newcomer} to serve with its partitions transferred")
            grown = load.acked_count()

            # The fourth leaves: it hands its partitions off, then stops by itself.
            with load.lock:
                load.ports.remove(fourth)
            self.assertEqual(request(fourth, "POST", "/admin/leave").status, 202)
            serving.remove(fourth)
            wait_until(lambda: settled(serving), timeout_s=60, what="the leave to complete")
            wait_until(lambda: c.procs[fourth].poll() is not None, what="the node that left to stop")
            self.assertEqual(c.procs[fourth].returncode, 0, c.log(fourth))

            # The fifth is killed, then removed: the survivors rebuild its partitions.
            with load.lock:
                load.ports.remove(fifth)
            c.kill9(fifth)
            r = request(founders[2], "POST", "/admin/remove", {"node": f"{HOST}:{fifth}"})
            self.assertEqual(r.status, 202, r)
            serving.remove(fifth)
            wait_until(lambda: settled(serving), timeout_s=60, what="the remove to complete")
            wait_until(lambda: load.acked_count() >= grown + 50, what="more writes on the final cluster")

        # Every acknowledged write, from the final owners alone (the others are gone), with R=N.
        missing = []
        for key, value in sorted(load.acked.items()):
            r = request(founders[len(missing) % 3], "GET", f"/kv/{key}?R=3")
            if r.status != 200 or r.json.get("value") != value:
                missing.append((key, r.status))
        print(f"\n{len(load.acked)} acknowledged writes, all read back with R=3 from the 3 final nodes; "
              f"failed during the changes: {load.failed['put']} of {load.done['put']} puts, "
              f"{load.failed['get']} of {load.done['get']} gets; why: {sorted(load.why.items())}", flush=True)
        self.assertEqual(missing, [], f"{len(missing)} acknowledged writes lost")
        for p in founders:
            roles = {n["address"]: n["role"] for n in cluster_view(p)["nodes"]}
            self.assertEqual((roles[f"{HOST}:{fourth}"], roles[f"{HOST}:{fifth}"]), ("departed", "departed"))


class ReplaceTest(ClusterTest):
    REPLACE_BASE = 20150  # founders 20151-20153, the replacement 20154 (peers 21151-21154)

    def test_a_killed_node_is_replaced_by_a_new_one_that_takes_exactly_its_partitions(self):
        base = self.REPLACE_BASE
        c = self.start_cluster(base, extra_args=["--gossip-ms", "200", "--partitions", "32"])
        first, second, old = c.ports
        new = base + 4
        for i in range(200):
            self.assertEqual(request(first, "PUT", f"/kv/r{i}", {"value": i, "W": 3}).status, 200)

        def owned(port, owners_of):
            address = f"{HOST}:{port}"
            return [o["partition"] for o in owners_of if o["preference_list"][0] == address]
        before = owned(old, request(first, "GET", "/ring").json["owners"])
        c.kill9(old)
        old_address, new_address = f"{HOST}:{old}", f"{HOST}:{new}"
        bad = request(first, "POST", "/admin/replace", {"node": old_address, "replacement": f"{HOST}:{second}"})
        self.assertEqual(bad.status, 400, bad)  # the replacement must be a new node
        r = request(first, "POST", "/admin/replace", {"node": old_address, "replacement": new_address})
        self.assertEqual(r.status, 202, r)
        self.assertEqual(request(first, "POST", "/admin/remove", {"node": old_address}).status, 409)  # departing

        c.join(new, via=second)  # started after the replace was asked for, as documented
        wait_until(lambda: settled([first, second, new]), timeout_s=60, what="the replacement to serve")
        after = request(first, "GET", "/ring").json["owners"]
        self.assertEqual(owned(new, after), before)
        self.assertEqual(owned(old, after), [])
        roles = {n["address"]: n["role"] for n in cluster_view(new)["nodes"]}
        self.assertEqual(roles[old_address], "departed")
        for i in range(200):  # from the final owners alone: the old node is dead
            r = request(new, "GET", f"/kv/r{i}?R=3")
            self.assertEqual((r.status, r.json.get("value")), (200, i), f"r{i}")


if __name__ == "__main__":
    unittest.main()
