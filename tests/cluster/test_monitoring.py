"""Monitoring against real components: Debian's promtool checks every node's /metrics and the
shipped scrape configuration; Debian's prometheus scrapes a 3-node cluster with that configuration
while load runs, and its HTTP API returns a request rate and a latency quantile for all three
nodes; every panel of the shipped Grafana dashboard is well formed and its PromQL parses and
returns data. Ports 20960-20963 (peers 21960-21963), Prometheus on 20969."""
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request

from harness import HOST, ClusterTest, request, stop_process, wait_until

BASE = 20960
PROMETHEUS_PORT = 20969
REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SCRAPE_CONFIG = os.path.join(REPO, "deploy", "prometheus", "prometheus.yml")
DASHBOARD = os.path.join(REPO, "deploy", "grafana", "dashboards", "minidynamo.json")
PROVISIONING = os.path.join(REPO, "deploy", "grafana", "provisioning")


def promtool(*args, stdin=None):
    return subprocess.run(["promtool", *args], input=stdin, capture_output=True, text=True, timeout=60)


def metrics_text(port):
    with urllib.request.urlopen(f"http://{HOST}:{port}/metrics", timeout=10) as r:
        return r.headers["Content-Type"], r.read().decode()


class MonitoringTest(ClusterTest):
    @classmethod
    def setUpClass(cls):
        missing = [tool for tool in ("promtool", "prometheus") if shutil.which(tool) is None]
        if missing:  # scripts/setup.sh installs Debian's prometheus package, which has both
            raise AssertionError(f"{' and '.join(missing)} not installed: run scripts/setup.sh")

    def query(self, expr):
        url = f"http://{HOST}:{PROMETHEUS_PORT}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.load(r)
        self.assertEqual(body["status"], "success", f"{expr}: {body}")
        return body["data"]["result"]

    def start_prometheus(self, ports):
        root = tempfile.mkdtemp(prefix="minidynamo-prometheus-")
        self.addCleanup(shutil.rmtree, root, ignore_errors=True)
        shutil.copy(SCRAPE_CONFIG, root)  # the shipped configuration as it is; only its targets are ours
        with open(os.path.join(root, "targets.json"), "w") as f:
            json.dump([{"targets": [f"{HOST}:{p}" for p in ports], "labels": {"cluster": "test"}}], f)
        log = open(os.path.join(root, "prometheus.log"), "wb")
        self.addCleanup(log.close)
        proc = subprocess.Popen(["prometheus", f"--config.file={os.path.join(root, 'prometheus.yml')}",
                                 f"--storage.tsdb.path={os.path.join(root, 'data')}",
                                 f"--web.listen-address={HOST}:{PROMETHEUS_PORT}"], stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(stop_process, proc)

        def ready():
            if proc.poll() is not None:
                raise AssertionError(f"prometheus exited with {proc.returncode}")
            try:
                return urllib.request.urlopen(f"http://{HOST}:{PROMETHEUS_PORT}/-/ready", timeout=1).status == 200
            except OSError:
                return False
        wait_until(ready, timeout_s=60, what="prometheus to be ready")

    def test_prometheus_scrapes_every_node_and_every_dashboard_panel_has_data(self):
        c = self.start_cluster(BASE)
        self.assertEqual(promtool("check", "config", SCRAPE_CONFIG).returncode, 0,
                         promtool("check", "config", SCRAPE_CONFIG).stdout)
        self.start_prometheus(c.ports)

        # Load from a thread: writes, reads, a missing key and a malformed body, on every node.
        stop = threading.Event()
        def load():
            i = 0
            while not stop.is_set():
                port = c.ports[i % 3]
                request(port, "PUT", f"/kv/m{i % 50}", {"value": {"n": i}})
                request(port, "GET", f"/kv/m{i % 50}")
                if i % 10 == 0:
                    request(port, "GET", f"/kv/missing{i}")
                    request(port, "PUT", f"/kv/bad{i}", "not json")
                i += 1
        worker = threading.Thread(target=load)
        worker.start()
        self.addCleanup(worker.join)
        self.addCleanup(stop.set)

        nodes = {f"{HOST}:{p}" for p in c.ports}
        rate = 'sum by (instance) (rate(minidynamo_request_duration_seconds_count[20s]))'
        wait_until(lambda: {r["metric"]["instance"] for r in self.query(rate)
                            if float(r["value"][1]) > 0} == nodes, timeout_s=60,
                   what="a request rate for all three nodes")
        for port in c.ports:
            content_type, text = metrics_text(port)
            self.assertEqual(content_type, "text/plain; version=0.0.4; charset=utf-8")
            checked = promtool("check", "metrics", stdin=text)
            self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)
            self.assertIn('minidynamo_request_duration_seconds_bucket{protocol="http",op="put",outcome="ok",le="+Inf"}',
                          text)

        p99 = 'histogram_quantile(0.99, sum by (le, instance) (rate(minidynamo_request_duration_seconds_bucket[20s])))'
        latencies = {r["metric"]["instance"]: float(r["value"][1]) for r in self.query(p99)}
        self.assertEqual(set(latencies), nodes)
        self.assertTrue(all(0 < v < 10 for v in latencies.values()), latencies)

        # The Grafana dashboard: its structure, and each panel's query against this Prometheus.
        with open(DASHBOARD) as f:
            dashboard = json.load(f)
        panels = dashboard["panels"]
        self.assertEqual(len({p["id"] for p in panels}), len(panels))
        titles = " ".join(p["title"].lower() for p in panels)
        for topic in ("throughput", "latency p50", "latency p99", "errors", "quorum failures", "status", "hints",
                      "anti-entropy", "storage"):
            self.assertIn(topic, titles)
        uid = dashboard["templating"]["list"][0]["datasource"]["uid"]
        with open(os.path.join(PROVISIONING, "datasources", "minidynamo.yml")) as f:
            self.assertIn(f"uid: {uid}", f.read())  # the provisioned data source is the one the panels name
        for panel in panels:
            self.assertEqual(panel["datasource"]["uid"], uid, panel["title"])
            self.assertTrue({"h", "w", "x", "y"} <= set(panel["gridPos"]), panel["title"])
            self.assertTrue(panel["targets"], panel["title"])
            for target in panel["targets"]:
                expr = target["expr"].replace("$__rate_interval", "20s").replace('"$instance"', '".*"')
                self.assertNotIn("$", expr, panel["title"])
                wait_until(lambda: self.query(expr), timeout_s=30, what=f"data for panel {panel['title']!r}: {expr}")


if __name__ == "__main__":
    unittest.main()
