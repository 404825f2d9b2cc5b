"""Issue 26 on real hosts: three nodes in three network namespaces (netns.py), each on port 5001 at
its own address with the default node id, as a fleet of servers or a Kubernetes StatefulSet runs
them. Writes acknowledged on both sides of a partition must all survive, as siblings on every
replica, and the replicas must converge. Needs root; skipped otherwise."""
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import BINARY, log_tail, request, stop_process, wait_until
from netns import Network

PORT = 5001
KEY = "/kv/split"
# Quick failure detection and anti-entropy, so that a partition is noticed and healed within seconds.
QUICK = ["--heartbeat-ms", "50", "--aae-interval-ms", "100", "--timeout-ms", "1000", "--gossip-ms", "200"]
CONVERGE_S = 20


class MultiHost(unittest.TestCase):
    def setUp(self):
        self.net = Network(self, hosts=3)
        self.root = tempfile.mkdtemp(prefix="minidynamo-multihost-")
        self.addCleanup(shutil.rmtree, self.root, ignore_errors=True)
        self.procs = []

    def log_path(self, host):
        return os.path.join(self.root, f"host{host}.log")

    def get(self, host, path, timeout=10):
        return request(PORT, "GET", path, host=self.net.addresses[host], timeout=timeout)

    def put(self, host, path, body):
        return request(PORT, "PUT", path, body, host=self.net.addresses[host])

    def start_nodes(self):
        members = ",".join(f"{a}:{PORT}" for a in self.net.addresses)
        for host, address in enumerate(self.net.addresses):
            with open(self.log_path(host), "ab") as log:  # the child keeps its own copy
                proc = subprocess.Popen(
                    self.net.exec_args(host, [BINARY, "node", "--host", address, "--port", str(PORT),
                                              "--nodes", members, "--data-dir", os.path.join(self.root, f"host{host}")]
                                       + QUICK),
                    stdout=log, stderr=subprocess.STDOUT)
            self.addCleanup(stop_process, proc)  # before the namespaces go: cleanups run last first
            self.procs.append(proc)
        for host in range(3):
            wait_until(lambda: self.healthy(host), what=f"host {host} to answer /health")
        wait_until(self.connected, what="every node to reach every other")

    def healthy(self, host):
        if self.procs[host].poll() is not None:
            raise AssertionError(f"host {host} exited with {self.procs[host].returncode}:\n{log_tail(self.log_path(host))}")
        try:
            return self.get(host, "/health", timeout=1).status == 200
        except OSError:
            return False

    def connected(self):
        return all(n["reachable"] for host in range(3) for n in self.get(host, "/cluster").json["nodes"])

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
        for host in range(3):
            lines.append(f"--- host {host} log:\n{log_tail(self.log_path(host))}")
        return "\n".join(lines)

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
