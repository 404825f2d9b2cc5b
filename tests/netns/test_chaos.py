"""`minidynamo check` against five hosts (network namespaces, hosts.py) while the harness's nemesis
(nemesis.py) partitions them (fully, one way, partly), flaps links, kills and pauses nodes: no
acknowledged write may be lost, no delete undone, no sibling dropped, and the replicas must converge
once the faults stop. check asks for each fault through its hook (nemesis_hook.py) and heals them all
before it measures convergence.

CI runs it for MINIDYNAMO_CHAOS_SECONDS (default 20); docs/reliability.md gives the longer recipe.
Needs root; skipped otherwise."""
import os
import subprocess
import sys
import tempfile
import unittest

from harness import BINARY
from hosts import Hosts
from nemesis import ControlSocket, Nemesis

SECONDS = float(os.environ.get("MINIDYNAMO_CHAOS_SECONDS", "20"))
SEED = int(os.environ.get("MINIDYNAMO_CHAOS_SEED", "0")) or os.getpid()
HOOK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nemesis_hook.py")


class Chaos(unittest.TestCase):
    def test_check_finds_no_violation_under_partitions_kills_and_pauses(self):
        hosts = Hosts(self)
        hosts.start()
        hosts.wait_connected()
        nemesis = Nemesis(hosts, SEED)
        control = os.path.join(tempfile.mkdtemp(prefix="minidynamo-nemesis-"), "control")
        sock = ControlSocket(self, nemesis, control)
        args = [BINARY, "check", "--nodes", ",".join(hosts.address(h) for h in range(hosts.count)),
                "--duration", str(SECONDS), "--clients", "10", "--keys", "20", "--seed", str(SEED),
                "--timeout-ms", "3000", "--converge-timeout", "60", "--faults", "hook",
                "--nemesis-hook", f"{sys.executable} {HOOK} {control}",
                "--fault-interval", "1", "--fault-duration", "3"]
        run = subprocess.run(args, capture_output=True, text=True, timeout=SECONDS + 300)
        print(run.stdout)  # the report, also when it passes: ctest -V shows it
        self.assertEqual(sock.errors, [], "the nemesis failed")
        self.assertGreater(len(nemesis.injected), 0, f"no fault was injected:\n{run.stdout}{run.stderr}")
        self.assertEqual(run.returncode, 0, f"{' '.join(args)}\n{run.stdout}\n{run.stderr[-3000:]}\n{hosts.logs()}")
        self.assertIn("violations   none", run.stdout)


if __name__ == "__main__":
    unittest.main()
