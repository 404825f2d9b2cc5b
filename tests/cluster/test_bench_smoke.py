"""The load generator works, reports only what succeeded, and never hangs (no timing is asserted
but the bound of a run)."""
import json
import time
import unittest

from harness import ClusterTest


class BenchSmoke(ClusterTest):
    def test_bench_runs_each_workload_and_reports_json(self):
        c = self.start_cluster(20200)
        nodes = ",".join(f"127.0.0.1:{p}" for p in c.ports)
        for workload in ("mixed", "write", "read", "read-heavy"):
            r = self.run_cli("bench", "--nodes", nodes, "--workload", workload, "--duration", "0.5",
                             "--connections", "4", "--keys", "50", "--json", "--n", "3", "--w", "2", "--r", "2",
                             check_code=0)
            report = json.loads(r.stdout)
            self.assertGreater(report["operations"], 0, r.stdout)
            self.assertEqual(report["errors"], {}, r.stdout)
            self.assertEqual(report["error_rate"], 0, r.stdout)
            self.assertGreater(report["latency_ms"]["max"], 0)
            self.assertLessEqual(report["latency_ms"]["p50"], report["latency_ms"]["p99"])
            if workload == "read":
                self.assertEqual(report["writes"], 0)
            if workload == "write":
                self.assertEqual(report["reads"], 0)

    def test_failed_requests_are_errors_not_throughput_and_fail_the_run_above_the_threshold(self):
        c = self.start_cluster(20210)
        nodes = ",".join(f"127.0.0.1:{p}" for p in c.ports)
        common = ["bench", "--nodes", nodes, "--duration", "0.5", "--connections", "3", "--keys", "20", "--json"]
        # W=5 with N=3: every request is refused (400), so nothing counts as throughput.
        r = self.run_cli(*common, "--workload", "write", "--w", "5", check_code=1)
        report = json.loads(r.stdout)
        self.assertEqual((report["operations"], report["ops_per_second"]), (0, 0), r.stdout)
        self.assertGreater(report["errors"]["HTTP 400"], 0, r.stdout)
        self.assertIn("no operation succeeded", r.stderr)
        # The same refusal in the preload ends the run before measuring.
        r = self.run_cli(*common, "--workload", "read", "--w", "5", check_code=1)
        self.assertIn("preload wrote 0 of 20 keys", r.stderr)
        self.assertIn("HTTP 400", r.stderr)

        # One of the three nodes down: its connections fail, and those failures are counted. (A
        # threshold far below the few failed connects per run, whatever the host's throughput.)
        c.kill9(c.ports[2])
        r = self.run_cli(*common, "--workload", "write", "--max-error-rate", "0.0001", check_code=1)
        report = json.loads(r.stdout)
        self.assertGreater(report["operations"], 0, r.stdout)
        self.assertGreater(report["errors"]["connect: Connection refused"], 0, r.stdout)
        self.assertAlmostEqual(report["ops_per_second"], report["operations"] / report["seconds"], delta=1)
        self.assertGreater(report["error_rate"], 0.000001)
        self.assertIn("more than --max-error-rate 0.0001%", r.stderr)
        self.assertIn(f"cannot connect to 127.0.0.1:{c.ports[2]}", r.stderr)
        # A threshold the run stays under passes it.
        self.run_cli(*common, "--workload", "write", "--max-error-rate", "100", check_code=0)

    def test_bench_against_no_cluster_ends_within_its_duration_and_fails_clearly(self):
        for args in (["--no-preload"], []):  # measuring; and the preload of the default mixed workload
            started = time.monotonic()
            r = self.run_cli("bench", "--nodes", "127.0.0.1:20299", "--duration", "1", "--connections", "2",
                             "--json", *args)
            elapsed = time.monotonic() - started
            self.assertEqual(r.returncode, 1, r)
            self.assertLess(elapsed, 1 + 2.0, args)
            self.assertIn("cannot connect to 127.0.0.1:20299 (Connection refused)", r.stderr)
        self.assertIn("preload wrote 0 of 10000 keys", r.stderr)

    def test_a_duration_or_preload_timeout_of_zero_or_less_is_refused(self):
        for flag, value in (("--duration", "0"), ("--duration", "-1"), ("--preload-timeout", "0")):
            r = self.run_cli("bench", "--nodes", "127.0.0.1:20299", flag, value)
            self.assertEqual(r.returncode, 2, r)
            self.assertIn(f"{flag}: must be more than 0 seconds", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
