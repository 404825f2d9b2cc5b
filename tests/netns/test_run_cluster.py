"""scripts/run-cluster.sh --secure as a user runs it, on the tour's own ports (5001-5003, RESP 6380),
inside a network namespace of its own so that nothing else on the machine can hold them: it starts
the cluster with TLS and users, and every command it prints works as printed."""
import os
import re
import signal
import subprocess
import tempfile
import unittest

from harness import BINARY
from netns import Network

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


class RunClusterSecure(unittest.TestCase):
    def test_the_printed_commands_work_as_printed(self):
        net = Network(self, 1)
        data = self.enterContext(tempfile.TemporaryDirectory(prefix="minidynamo-run-cluster-"))
        env = {**os.environ, "MINIDYNAMO_BIN": os.path.abspath(BINARY), "CLUSTER_DATA": data}
        script = subprocess.Popen(net.exec_args(0, ["scripts/run-cluster.sh", "--secure"]), cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)

        def stop():
            os.killpg(script.pid, signal.SIGINT)  # Ctrl-C: the script stops its nodes
            script.wait(timeout=30)
        self.addCleanup(stop)
        printed = []
        for line in script.stdout:
            printed.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl-C"):
                break
        text = "\n".join(printed)
        self.assertIn("running with TLS and --security on", text, text)
        commands = [line.strip() for line in text.split("Try:\n", 1)[1].split("\n\n", 1)[0].splitlines()]
        self.assertEqual(len(commands), 6, commands)

        def run(command):
            r = subprocess.run(net.exec_args(0, ["bash", "-c", command]), cwd=ROOT, env=env, capture_output=True,
                               text=True, timeout=30)
            return r.stdout + r.stderr

        put, get, anonymous, redis, cli_get, user_list = commands
        self.assertIn('"status":"success"', run(put))
        self.assertIn('"value":"Alice"', run(get))
        self.assertIn("requires credentials", run(anonymous))
        self.assertRegex(run(redis), r"(?m)^Alice$")
        self.assertIn('"Alice"', run(cli_get))
        self.assertRegex(run(user_list), r"(?m)^admin\s+set\s")
        # The password printed is the one the nodes were given, and only there: not in the logs.
        password = re.search(r'admin:([^"]+)"', put).group(1)
        for port in (5001, 5002, 5003):
            with open(os.path.join(data, f"node_{port}.log")) as log:
                self.assertNotIn(password, log.read())


if __name__ == "__main__":
    unittest.main()
