"""Five "hosts": minidynamo nodes, each in its own network namespace (tests/cluster/netns.py) on port
5001 at its own address on one bridge, with the default random node ids, as a fleet of servers runs
them. The test process in the root namespace reaches every host; faults between hosts are the
Network's nftables rules (block, cut, heal) and, on the processes, kill -9 and SIGSTOP. Everything
is stopped and removed by the test's cleanups, whether it passes or fails.
"""
import os
import shutil
import signal
import subprocess
import tempfile

from harness import BINARY, log_tail, request, stop_process, wait_until
from netns import Network

PORT = 5001
# Quick failure detection, anti-entropy and gossip, so that faults are noticed and healed within
# seconds; tombstones reaped 20 s after a delete, so that long runs reap under faults too.
QUICK = ["--heartbeat-ms", "50", "--aae-interval-ms", "100", "--timeout-ms", "1000", "--gossip-ms", "200",
         "--tombstone-grace-ms", "20000"]


class Hosts:
    def __init__(self, test, count=5, extra_args=QUICK):
        self.net = Network(test, hosts=count)
        self.count = count
        self.extra_args = list(extra_args)
        self.root = tempfile.mkdtemp(prefix="minidynamo-netns-")
        test.addCleanup(shutil.rmtree, self.root, ignore_errors=True)
        self.procs = {}
        test.addCleanup(self.stop_all)  # before the namespaces go: cleanups run last first

    def address(self, host):
        return f"{self.net.addresses[host]}:{PORT}"

    def log(self, host):
        return log_tail(os.path.join(self.root, f"host{host}.log"))

    def logs(self):
        return "\n".join(f"--- host {h} ({self.address(h)}) log:\n{self.log(h)}" for h in range(self.count))

    def start(self, host=None):
        members = ",".join(self.address(h) for h in range(self.count))
        for h in range(self.count) if host is None else [host]:
            with open(os.path.join(self.root, f"host{h}.log"), "ab") as log:  # the child keeps its own copy
                self.procs[h] = subprocess.Popen(
                    self.net.exec_args(h, [BINARY, "node", "--host", self.net.addresses[h], "--port", str(PORT),
                                           "--nodes", members, "--data-dir", os.path.join(self.root, f"host{h}")]
                                       + self.extra_args),
                    stdout=log, stderr=subprocess.STDOUT)
        for h in range(self.count) if host is None else [host]:
            wait_until(lambda: self.healthy(h), what=f"host {h} to answer /health")

    def healthy(self, host):
        if self.procs[host].poll() is not None:
            raise AssertionError(f"host {host} exited with {self.procs[host].returncode}:\n{self.log(host)}")
        try:
            return self.request(host, "GET", "/health", timeout=1).status == 200
        except OSError:
            return False

    def wait_connected(self):
        """Every running host reaches every other running host."""
        def connected():
            running = {self.address(h) for h in self.procs}
            return all(n["reachable"] for h in self.procs
                       for n in self.request(h, "GET", "/cluster").json["nodes"] if n["address"] in running)
        wait_until(connected, what="every host to reach every other")

    def request(self, host, method, path, body=None, timeout=10):
        return request(PORT, method, path, body, host=self.net.addresses[host], timeout=timeout)

    def kill9(self, host):
        proc = self.procs.pop(host)
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def pause(self, host):
        self.procs[host].send_signal(signal.SIGSTOP)

    def resume(self, host):
        self.procs[host].send_signal(signal.SIGCONT)

    def stop_all(self):
        for host in list(self.procs):
            self.procs[host].send_signal(signal.SIGCONT)  # a paused node must run to take the SIGTERM
            stop_process(self.procs.pop(host))
