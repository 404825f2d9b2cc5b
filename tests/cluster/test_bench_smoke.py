"""The load generator works and reports (a smoke run; no timing is asserted)."""
import json
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
            self.assertGreater(report["latency_ms"]["max"], 0)
            self.assertLessEqual(report["latency_ms"]["p50"], report["latency_ms"]["p99"])
            if workload == "read":
                self.assertEqual(report["writes"], 0)
            if workload == "write":
                self.assertEqual(report["reads"], 0)

    def test_bench_against_no_cluster_fails_clearly(self):
        r = self.run_cli("bench", "--nodes", "127.0.0.1:20299", "--duration", "0.3", "--connections", "1",
                         "--json", "--no-preload")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("connection", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
