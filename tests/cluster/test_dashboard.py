"""The dashboard (/dashboard) and the home page (/), served by a real node; the dashboard in a real
browser (headless Chromium through Selenium) over a real 3-node cluster on HTTP ports 25100-25199.

The browser test saves screenshots into <build>/test-artifacts/ (or $MINIDYNAMO_ARTIFACTS);
docs/dashboard.png and docs/key-inspector.png are copies of two of them. Without Chromium,
chromedriver or Selenium it fails (CI installs them: scripts/setup.sh), but skips, saying so,
when run locally by a user who cannot install them (not root, not CI).
"""
import base64
import os
import re
import shutil
import sys
import threading
import unittest

from harness import BINARY, HOST, Cluster, ClusterTest, request

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = os.environ.get("MINIDYNAMO_ARTIFACTS") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(BINARY))), "test-artifacts")

try:
    from selenium import webdriver
except ImportError:  # Debian's python3-selenium, under another Python 3.11 than /usr/bin/python3
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        from selenium import webdriver
    except ImportError:
        webdriver = None
if webdriver:
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

# A page in a browser may load nothing from outside this machine: src= and href= are local.
EXTERNAL_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


class DashboardHttpTest(ClusterTest):
    """What the node serves: / links to every page, /dashboard is self-contained, CORS on info pages."""

    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster(25100, size=3)
        cls.addClassCleanup(cls.cluster.close)
        cls.cluster.start()
        cls.port = cls.cluster.ports[0]

    def test_home_page_links_to_every_page(self):
        r = request(self.port, "GET", "/")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["content-type"].startswith("text/html"), r.headers)
        for page in ("/dashboard", "/cluster", "/ring", "/metrics", "/health"):
            self.assertIn(f'href="{page}"', r.raw)

    def test_dashboard_files_are_embedded_and_local(self):
        for path, content_type in (("/dashboard", "text/html"), ("/dashboard/", "text/html"),
                                   ("/dashboard/dashboard.js", "text/javascript"),
                                   ("/dashboard/dashboard.css", "text/css")):
            r = request(self.port, "GET", path)
            self.assertEqual(r.status, 200, path)
            self.assertTrue(r.headers["content-type"].startswith(content_type), (path, r.headers))
            self.assertIsNone(EXTERNAL_REFERENCE.search(r.raw), f"{path} loads something from outside")
            self.assertIn("default-src 'self'", r.headers["content-security-policy"])
        page = request(self.port, "GET", "/dashboard").raw
        self.assertIn('src="/dashboard/dashboard.js"', page)
        self.assertIn('href="/dashboard/dashboard.css"', page)
        self.assertEqual(request(self.port, "GET", "/dashboard/nope.js").status, 404)
        self.assertEqual(request(self.port, "POST", "/dashboard", body="").status, 405)

    def test_info_pages_allow_any_origin_and_kv_does_not(self):
        for path in ("/cluster", "/ring", "/health", "/health/live", "/metrics"):
            r = request(self.port, "GET", path, headers={"Origin": "http://127.0.0.1:25199"})
            self.assertEqual(r.status, 200, path)
            self.assertEqual(r.headers.get("access-control-allow-origin"), "*", path)
        self.assertEqual(request(self.port, "PUT", "/kv/cors", {"value": 1}).status, 200)
        for method, path in (("GET", "/kv/cors"), ("GET", "/kv/missing"), ("GET", "/inspect/cors"), ("DELETE", "/kv/cors")):
            r = request(self.port, method, path, headers={"Origin": "http://127.0.0.1:25199"})
            self.assertNotIn("access-control-allow-origin", r.headers, f"{method} {path}")


def missing_browser():
    missing = [name for name, present in (("chromium", os.path.exists(CHROMIUM)),
                                           ("chromium-driver", os.path.exists(CHROMEDRIVER)),
                                           ("python3-selenium", webdriver is not None)) if not present]
    return missing


def start_browser():
    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--window-size=1280,1000", "--hide-scrollbars",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-default-apps", "--disable-extensions",
                # Only loopback: anything else the browser tried would go to a proxy that is not there.
                "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1;localhost"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


class DashboardBrowserTest(ClusterTest):
    """The dashboard of a live 3-node cluster, in headless Chromium."""

    @classmethod
    def setUpClass(cls):
        missing = missing_browser()
        if missing:
            reason = f"the browser test needs {', '.join(missing)}: scripts/setup.sh installs them"
            if os.environ.get("CI") or os.geteuid() == 0:
                raise AssertionError(reason)
            raise unittest.SkipTest(reason + " (not root: skipped)")
        os.makedirs(ARTIFACTS, exist_ok=True)
        cls.browser = start_browser()
        cls.addClassCleanup(cls.browser.quit)

    def setUp(self):
        self.cluster = self.start_cluster(25110)
        self.addresses = [f"{HOST}:{p}" for p in self.cluster.ports]
        self.browser.get(f"http://{HOST}:{self.cluster.ports[0]}/dashboard")
        self.browser.get_log("browser")  # drains what an earlier page logged

    def wait(self, condition, what, timeout=30):
        return WebDriverWait(self.browser, timeout, poll_frequency=0.1).until(
            lambda driver: condition(driver), message=f"waiting for {what}")

    def statuses(self, selector):
        """In one script: the page redraws its tables every second, so found elements go stale."""
        return self.browser.execute_script(
            "return [...document.querySelectorAll(arguments[0])].map((e) => e.getAttribute('data-status'));", selector)

    def console_errors(self, allowed=()):
        entries = self.browser.get_log("browser")
        return [e["message"] for e in entries
                if e["level"] == "SEVERE" and not any(a in e["message"] for a in allowed)]

    def screenshot(self, name, element_id=None):
        """The whole page, or one element, beyond the window's height too."""
        clip = self.browser.execute_script("""
            const e = arguments[0] ? document.getElementById(arguments[0]) : null;
            if (!e) return {x: 0, y: 0, width: document.documentElement.scrollWidth,
                            height: document.documentElement.scrollHeight, scale: 1};
            const r = e.getBoundingClientRect();
            return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height, scale: 1};
        """, element_id)
        shot = self.browser.execute_cdp_cmd("Page.captureScreenshot", {"captureBeyondViewport": True, "clip": clip})
        path = os.path.join(ARTIFACTS, name)
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        print(f"screenshot: {path}", file=sys.stderr)

    def test_live_cluster_kill_and_siblings(self):
        port = self.cluster.ports[0]
        # Every node's view: three nodes up as all three see them, each reached from the browser.
        self.wait(lambda d: self.statuses("#nodes-matrix td.summary") == ["up"] * 3 and
                  self.statuses("#nodes-matrix td.cell") == ["up"] * 9 and
                  self.statuses("#nodes-matrix td.browser") == ["reachable"] * 3, "three nodes up")
        roles = self.browser.execute_script(
            "return [...document.querySelectorAll('#nodes-matrix td.role')].map((e) => e.getAttribute('data-role'));")
        self.assertEqual(roles, ["serving"] * 3)
        self.assertEqual(self.browser.find_element(By.ID, "transfers-summary").text, "No change of owners under way.")
        arcs = self.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#ring path.arc"), "the ring")
        self.assertEqual(len(arcs), request(port, "GET", "/ring").json["partitions"])
        ActionChains(self.browser).move_to_element(arcs[len(arcs) // 8]).perform()
        self.wait(lambda d: " (owner), " in d.find_element(By.ID, "ring-detail").text, "a preference list on hover")

        # Traffic for the charts, bounded in count and time, until the page has counted it.
        stop = threading.Event()

        def traffic():
            for i in range(5000):
                if stop.is_set():
                    return
                method = "PUT" if i % 6 in (0, 3) else "DELETE" if i % 6 == 5 else "GET"
                request(port, method, f"/kv/traffic-{i % 50}", {"value": i} if method == "PUT" else None)
                stop.wait(0.005)
        sender = threading.Thread(target=traffic)
        sender.start()
        summary = self.browser.find_element(By.ID, "traffic-summary")
        try:  # 15 samples: lines a reader can see in the screenshot
            self.wait(lambda d: int(summary.get_attribute("data-requests") or 0) >= 300 and
                      int(summary.get_attribute("data-samples")) >= 15, "the traffic chart to count 300 requests",
                      timeout=60)
        finally:
            stop.set()
            sender.join()
        self.assertEqual(self.console_errors(), [], "console errors with every node up")
        self.screenshot("dashboard.png")

        # Two blind writes of one key through two nodes: concurrent, so a read at R=2 sees two siblings.
        key = "dashboard-demo"
        for node, value in ((0, "Alice"), (1, "Bob")):
            r = request(self.cluster.ports[node], "PUT", f"/kv/{key}", {"value": value})
            self.assertEqual(r.status, 200, r)
        self.browser.find_element(By.ID, "inspect-key").send_keys(key)
        Select(self.browser.find_element(By.ID, "inspect-n")).select_by_value("3")
        Select(self.browser.find_element(By.ID, "inspect-r")).select_by_value("2")
        self.browser.find_element(By.CSS_SELECTOR, "#inspect-form button[type=submit]").click()
        read = self.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#inspect-read[data-siblings='2']"),
                         "the inspector's read to show two siblings")[0]
        self.assertEqual(read.get_attribute("data-status"), "conflict")
        values = sorted(e.text for e in read.find_elements(By.CSS_SELECTOR, "li.read-sibling code.value"))
        self.assertEqual(values, ['"Alice"', '"Bob"'])
        self.assertEqual(self.statuses("#inspect-replicas tbody tr"), ["ok"] * 3)
        self.assertIn("merge", read.text)
        self.assertEqual(self.console_errors(), [], "console errors while inspecting")
        self.screenshot("key-inspector.png", "inspector-section")

        # kill -9 the third node: the others see its connection close (down at once, or suspect by
        # its missing heartbeats), and the browser cannot reach it.
        victim = self.addresses[2]
        self.cluster.kill9(self.cluster.ports[2])
        self.wait(lambda d: self.statuses(f"#nodes-matrix td.summary[data-node='{victim}']")[0] in ("suspect", "down") and
                  self.statuses(f"#nodes-matrix td.cell[data-observer='{self.addresses[0]}'][data-node='{victim}']")[0]
                  in ("suspect", "down") and
                  self.statuses(f"#nodes-matrix td.browser[data-node='{victim}']") == ["unreachable"],
                  "the killed node to turn suspect or down", timeout=20)
        self.assertEqual(self.statuses("#nodes-matrix td.summary")[:2], ["up", "up"])
        # The only errors allowed now: the browser's own failed fetches of the dead node.
        self.assertEqual(self.console_errors(allowed=(victim,)), [], "console errors after the kill")
        self.screenshot("dashboard-node-down.png")

    def test_metrics_parser(self):
        sample = "\n".join([
            "# HELP minidynamo_request_duration_seconds Client request latency.",
            "# TYPE minidynamo_request_duration_seconds histogram",
            'minidynamo_request_duration_seconds_bucket{protocol="http",op="get",outcome="ok",le="0.001"} 3',
            'minidynamo_request_duration_seconds_bucket{protocol="http",op="get",outcome="ok",le="0.005"} 8',
            'minidynamo_request_duration_seconds_bucket{protocol="http",op="get",outcome="ok",le="+Inf"} 10',
            'minidynamo_request_duration_seconds_sum{protocol="http",op="get",outcome="ok"} 0.03',
            'minidynamo_request_duration_seconds_count{protocol="http",op="get",outcome="ok"} 10',
            'minidynamo_request_duration_seconds_bucket{protocol="http",op="put",outcome="conflict",le="0.001"} 0',
            'minidynamo_request_duration_seconds_bucket{protocol="http",op="put",outcome="conflict",le="0.005"} 1',
            'minidynamo_request_duration_seconds_bucket{protocol="http",op="put",outcome="conflict",le="+Inf"} 2',
            'minidynamo_request_duration_seconds_count{protocol="http",op="put",outcome="conflict"} 2',
            'minidynamo_request_duration_seconds_count{protocol="peer",op="get",outcome="ok"} 99',
            'minidynamo_other_total{path="a \\"quoted\\" b"} 7 1700000000000',
            "minidynamo_requests_in_flight 1",
            "",
        ])
        result = self.browser.execute_script("""
            const d = window.minidynamoDashboard;
            const samples = d.parseMetrics(arguments[0]);
            const s = d.summarise(samples);
            const before = d.summarise(d.parseMetrics(arguments[0].replace('le="+Inf"} 10', 'le="+Inf"} 9')));
            return {count: samples.length, get: s.count.get, put: s.count.put, del: s.count.delete,
                    inFlight: s.inFlight, quoted: samples[10].labels.path,
                    p50: d.quantile(0.5, null, s), p99: d.quantile(0.99, null, s),
                    deltaP50: d.quantile(0.5, before, s), none: d.quantile(0.5, s, s)};
        """, sample)
        self.assertEqual(result["count"], 12)
        self.assertEqual((result["get"], result["put"], result["del"], result["inFlight"]), (10, 2, 0, 1))
        self.assertEqual(result["quoted"], 'a "quoted" b')
        # 12 requests: 3 under 1 ms, 9 under 5 ms; the 6th is interpolated in (1 ms, 5 ms]; the 12th
        # is past the last finite bound, which is all that can be said of it.
        self.assertAlmostEqual(result["p50"], 0.003)
        self.assertAlmostEqual(result["p99"], 0.005)
        self.assertAlmostEqual(result["deltaP50"], 0.005)  # the one request since `before` took over 5 ms
        self.assertIsNone(result["none"])


if __name__ == "__main__":
    unittest.main()
