"""`minidynamo check` on loopback (HTTP ports 21741-21763, peers 22741-22763; HTTP ports 21700-21734
would meet the peer ports of the tests on 20700-20734): a short run that starts its own three nodes
and kills and pauses them finds no violation; against nodes that lose acknowledged writes (N=1, the
memory engine, kill -9) it finds the lost writes and exits 1; a node it cannot start (its port
taken) stops the run; flags it cannot use are refused."""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import unittest

from harness import BINARY, log_tail

QUICK = "--heartbeat-ms 50 --aae-interval-ms 100 --timeout-ms 1000 --gossip-ms 200 --tombstone-grace-ms 20000"


def nodes(base):
    return ",".join(f"127.0.0.1:{base + i}" for i in range(1, 4))


class Check(unittest.TestCase):
    def run_check(self, *args, timeout=180):
        root = tempfile.mkdtemp(prefix="minidynamo-check-")
        self.addCleanup(shutil.rmtree, root, ignore_errors=True)
        r = subprocess.run([BINARY, "check", "--start-cluster", root] + list(args),
                           capture_output=True, text=True, timeout=timeout)
        logs = "".join(f"--- {name}:\n{log_tail(os.path.join(root, name))}"
                       for name in sorted(os.listdir(root)) if name.endswith(".log"))
        return r, f"{r.stdout}\n{r.stderr[-3000:]}\n{logs}"

    def test_a_short_run_under_kills_and_pauses_finds_no_violation(self):
        r, output = self.run_check("--nodes", nodes(21740), f"--node-args={QUICK}", "--duration", "15",
                                   "--clients", "8", "--keys", "10", "--faults", "kill,pause",
                                   "--fault-interval", "1", "--fault-duration", "2", "--seed", "7",
                                   "--timeout-ms", "3000", "--converge-timeout", "60")
        self.assertEqual(r.returncode, 0, output)
        self.assertIn("violations   none", r.stdout)
        faults = int(re.search(r"^faults +(\d+)", r.stdout, re.M).group(1))
        self.assertGreater(faults, 0, output)
        for kind in ("write", "update", "delete"):
            self.assertRegex(r.stdout, rf"\n  {kind} +ok [1-9]", output)

    def test_writes_lost_by_the_cluster_are_found(self):
        # One replica per key, kept in memory: a node killed -9 comes back empty, and the
        # acknowledged writes it held are gone for good.
        r, output = self.run_check("--nodes", nodes(21750),
                                   f"--node-args={QUICK} --engine memory --n 1 --r 1 --w 1",
                                   "--duration", "6", "--clients", "4", "--keys", "10", "--faults", "kill",
                                   "--fault-interval", "2", "--fault-duration", "1", "--seed", "11",
                                   "--converge-timeout", "10")
        self.assertEqual(r.returncode, 1, output)
        self.assertRegex(r.stdout, r"\n  lost write: key check:11:\d+, version c\d+-\d+: acknowledged", output)
        self.assertRegex(r.stdout, r"#\d+ client \d+ .* -> ok \(HTTP 200\)", output)  # the history that shows it

    def test_a_node_it_cannot_start_stops_the_run(self):
        # Whatever holds the port must not be taken for the node and checked instead.
        with socket.socket() as taken:
            taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past an earlier run's TIME_WAITs
            taken.bind(("127.0.0.1", 21761))
            taken.listen()
            r, output = self.run_check("--nodes", nodes(21760), "--duration", "5", timeout=60)
        self.assertEqual(r.returncode, 1, output)
        self.assertIn("the node started for 127.0.0.1:21761 exited", r.stderr)

    def test_flags_it_cannot_use_are_refused(self):
        for args, message in [
            (["--faults", "kill"], "kill needs --start-cluster"),
            (["--faults", "hook"], "hook needs --nemesis-hook"),
            (["--faults", "flood"], "flood"),
            (["--write-percent", "80", "--delete-percent", "30"], "at most 100"),
            (["--duration", "0"], "more than 0"),
            (["--nodes", "localhost"], "is not host:port"),
        ]:
            r = subprocess.run([BINARY, "check"] + args, capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 2, f"{args}: {r.stdout}{r.stderr}")
            self.assertIn(message, r.stderr, args)


if __name__ == "__main__":
    unittest.main()
