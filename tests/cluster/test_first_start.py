"""A data dir's first start: nothing is kept (NODE_ID, EPOCH, CLUSTER) unless the node came up, and
flags that describe the cluster must agree with the membership kept on later starts."""
import os
import socket
import subprocess
import tempfile
import unittest

from harness import BINARY, HOST, ClusterTest, client_port_flags, request, stop_process, wait_until

BASE = 20800  # nodes 20801-20806 (peers 21801-21806)


def run_node(*args):
    """Runs a node that is expected to refuse to start; returns (exit code, output)."""
    r = subprocess.run([BINARY, "node", "--peer-port-offset", "1000"] + list(args), capture_output=True, text=True,
                       timeout=30)
    return r.returncode, r.stdout + r.stderr


def _healthy(port):
    try:
        return request(port, "GET", "/health", timeout=1).status == 200
    except OSError:
        return False


class FirstStart(ClusterTest):
    def test_a_first_start_that_fails_leaves_no_membership_behind(self):
        port = BASE + 4
        data_dir = os.path.join(self.enterContext(tempfile.TemporaryDirectory(prefix="minidynamo-first-start-")), "node")
        with socket.socket() as squatter:  # the HTTP port is taken
            squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            squatter.bind((HOST, port))
            squatter.listen()
            code, out = run_node("--port", str(port), "--data-dir", data_dir, "--nodes", f"{HOST}:{port}")
        self.assertNotEqual(code, 0, out)
        self.assertIn("cannot start", out)
        for name in ("NODE_ID", "EPOCH", "CLUSTER", "RUNNING"):
            self.assertFalse(os.path.exists(os.path.join(data_dir, name)), f"{name} kept by a start that failed:\n{out}")

    def test_flags_that_disagree_with_the_kept_membership_are_refused_with_the_way_out(self):
        c = self.start_cluster(BASE, extra_args=["--partitions", "64"])
        third = c.ports[2]
        c.stop(third)
        code, out = run_node("--port", str(third), "--data-dir", c.data_dir(third), "--partitions", "128")
        self.assertNotEqual(code, 0, out)
        self.assertIn("--partitions 128 disagrees with the cluster kept in", out)
        self.assertIn("(Q=64)", out)
        self.assertIn("drop the flag", out)
        code, out = run_node("--port", str(third), "--data-dir", c.data_dir(third),
                             "--nodes", f"{HOST}:{third},{HOST}:{BASE + 9}")
        self.assertNotEqual(code, 0, out)
        self.assertIn("--nodes names neither the founders nor the members of the cluster kept in", out)
        # The same flags as at the first start, or none, start it as before.
        c.spawn(third, ["--nodes", c.nodes_flag])
        c.wait_healthy(third)
        self.assertEqual(request(third, "GET", "/ring").json["partitions"], 64)

    def test_a_host_name_is_resolved_before_anything_is_bound_or_kept(self):
        root = self.enterContext(tempfile.TemporaryDirectory(prefix="minidynamo-first-start-"))
        code, out = run_node("--host", "no-such-host.invalid", "--port", str(BASE + 5),
                             "--data-dir", os.path.join(root, "bad"), "--nodes", f"no-such-host.invalid:{BASE + 5}")
        self.assertNotEqual(code, 0, out)
        self.assertIn("--host no-such-host.invalid is neither an IP address nor a name that resolves", out)
        self.assertFalse(os.path.exists(os.path.join(root, "bad", "NODE_ID")))

        port = BASE + 6  # a name that resolves: bound on its address, and known by it in --nodes
        log = open(os.path.join(root, "named.log"), "wb")
        self.addCleanup(log.close)
        proc = subprocess.Popen([BINARY, "node", "--host", "localhost", "--port", str(port), "--peer-port-offset", "1000",
                                 "--data-dir", os.path.join(root, "named"), "--nodes", f"localhost:{port}", "--n", "1",
                                 "--r", "1", "--w", "1"] + client_port_flags(port), stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(stop_process, proc)
        wait_until(lambda: _healthy(port), what="the node started with --host localhost")
        self.assertEqual(request(port, "GET", "/cluster").json["address"], f"localhost:{port}")


if __name__ == "__main__":
    unittest.main()
