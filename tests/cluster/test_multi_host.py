"""Issue 26 on real hosts: three nodes in three network namespaces (hosts.py, netns.py), each on port 5001 at
its own address with the default node id, as a fleet of servers or a Kubernetes StatefulSet runs
them. Writes acknowledged on both sides of a partition must all survive, as siblings on every
replica, and the replicas must converge. Needs root; skipped otherwise."""
import unittest

from harness import wait_until
from hosts import PORT, Hosts

KEY = "/kv/split"
CONVERGE_S = 20


class MultiHost(unittest.TestCase):
    def setUp(self):
        self.hosts = Hosts(self, count=3)
        self.net = self.hosts.net

    def get(self, host, path, timeout=10):
        return self.hosts.request(host, "GET", path, timeout=timeout)

    def put(self, host, path, body):
        return self.hosts.request(host, "PUT", path, body)

    def start_nodes(self):
        self.hosts.start()
        self.hosts.wait_connected()

    def sees_down(self, host, other):
        address = f"{self.net.addresses[other]}:{PORT}"
        view = next(n for n in self.get(host, "/cluster").json["nodes"] if n["address"] == address)
        return view["status"] != "up"

    def siblings(self, host, r):
        """The sorted sibling values of a conflict answer, or the whole answer when it is not one."""
        try:
            answer = self.get(host, f"{KEY}?R={r}", timeout=3)
        except OSError as e:
            return repr(e)
        if answer.json and answer.json.get("status") == "conflict":
            return sorted(s["value"] for s in answer.json["siblings"])
        return answer

    def report(self, answers):
        lines = []
        for host in range(3):
            try:
                cluster = self.get(host, "/cluster").json
                me = next(n for n in cluster["nodes"] if n["address"] == f"{self.net.addresses[host]}:{PORT}")
                who = f"node_id {me['node_id']}, actor {cluster['actor']}"
            except OSError as e:
                who = f"/cluster unreachable: {e!r}"
            lines.append(f"host {host} ({self.net.addresses[host]}, {who}): {answers.get(host)}")
        return "\n".join(lines) + "\n" + self.hosts.logs()

    def test_writes_acknowledged_on_both_sides_of_a_partition_are_siblings_on_every_replica(self):
        self.start_nodes()
        self.net.cut(0)
        # Write once both sides see the partition, as they would during a real one.
        wait_until(lambda: self.sees_down(0, 1) and self.sees_down(1, 0), what="hosts 0 and 1 to suspect each other")
        w1 = self.put(0, f"{KEY}?W=1", {"value": "side-1"})
        w2 = self.put(1, f"{KEY}?W=1", {"value": "side-2"})
        self.assertEqual((w1.status, w2.status), (200, 200), f"{w1} {w2}")
        self.net.heal(0)

        both = ["side-1", "side-2"]
        answers = {}

        def converged():
            answers.update({host: {r: self.siblings(host, r) for r in (1, 3)} for host in range(3)})
            return all(a == {1: both, 3: both} for a in answers.values())
        try:
            wait_until(converged, timeout_s=CONVERGE_S, what="every node to answer both writes as siblings at R=1 and R=3")
        except AssertionError as e:
            self.fail(f"{e}; last answers (R: sibling values, or the answer when not a conflict):\n{self.report(answers)}")

        # The API has no read of one replica's own copy; with every host cut off from the others, an
        # R=1 read through a node can only be answered by that node's copy.
        for host in range(3):
            self.net.cut(host)
        local = {host: self.siblings(host, 1) for host in range(3)}
        self.assertEqual(local, {0: both, 1: both, 2: both}, f"each replica's own copy:\n{self.report(local)}")


if __name__ == "__main__":
    unittest.main()
