"""Real-process test harness: starts minidynamo nodes on loopback ports and always stops them.

Each test passes its own base port (below 32768, distinct per test, so ctest can run test files
in parallel). A node with HTTP port P serves peers on P + PEER_OFFSET, RESP on P - RESP_BELOW and
gRPC on P - GRPC_BELOW (client_port_flags). Readiness is awaited by polling /health against a
deadline; nothing sleeps to synchronise.
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

BINARY = os.environ.get("MINIDYNAMO_BIN", "build/bin/minidynamo")
PEER_OFFSET = 1000
HOST = "127.0.0.1"
# Tests give HTTP ports 20000-21999 and 25000-25999 (peers: + PEER_OFFSET). The node's defaults for
# its other client ports (HTTP + 1379, + 2000) would land on other tests' ports, so every node a
# test starts gets these instead: 10000-11999 and 15000-15999 for RESP, 12000-13999 and
# 17000-17999 for gRPC, taken by no test for anything else.
RESP_BELOW = 10000
GRPC_BELOW = 8000


def client_port_flags(port):
    """The flags giving the node that serves HTTP on `port` its RESP and gRPC ports."""
    return ["--resp-port", str(port - RESP_BELOW), "--grpc-port", str(port - GRPC_BELOW)]


class Response:
    def __init__(self, status, body, headers=()):
        self.status = status
        self.raw = body
        self.headers = {name.lower(): value for name, value in headers}
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return f"<{self.status} {self.raw[:300]!r}>"


def request(port, method, path, body=None, headers=None, timeout=10, host=HOST, tls_ca=None, source=None):
    """One HTTP request; body may be a dict (sent as JSON), str or bytes. With tls_ca (a CA file),
    over TLS, verifying the node's certificate against it. source: the local address to send from
    (another 127.0.0.x, to be another client address)."""
    if isinstance(body, dict):
        body = json.dumps(body)
    source_address = (source, 0) if source else None
    if tls_ca:
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=ssl.create_default_context(cafile=tls_ca),
                                           source_address=source_address)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout, source_address=source_address)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return Response(r.status, r.read().decode("utf-8", "replace"), r.getheaders())
    finally:
        conn.close()


def metric(port, pattern, tls_ca=None):
    """The sum of the node's /metrics samples whose line matches `pattern` (a regex up to the value)."""
    total = 0.0
    for line in request(port, "GET", "/metrics", tls_ca=tls_ca).raw.splitlines():
        m = re.match(pattern + r"\s+(\S+)$", line)
        if m:
            total += float(m.group(1))
    return total


def raw_exchange(port, data, timeout=15, half_close=False):
    """Sends raw bytes to `port` and reads until the server closes the connection or `timeout` passes;
    (what was read, whether the server closed). A reset counts as closed."""
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        got = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return got, True
                got += chunk
        except socket.timeout:
            return got, False
        except ConnectionResetError:
            return got, True


def wait_until(predicate, timeout_s=20, what="condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def stop_process(proc):
    """SIGTERM, then SIGKILL if it is still running 10 s later."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def log_tail(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")[-4000:]
    except OSError:
        return ""


def counter(port, name, **request_args):
    return request(port, "GET", "/cluster", **request_args).json["counters"][name]


class Cluster:
    def __init__(self, base_port, size=3, extra_args=(), data_root=None, tls_ca=None):
        self.ports = [base_port + i + 1 for i in range(size)]
        self.tls_ca = tls_ca  # the nodes serve HTTPS (--tls-*): the harness verifies them against this CA
        self.extra_args = list(extra_args)
        self.node_args = {}  # port -> flags for that node only (e.g. its --zone)
        self.root = data_root or tempfile.mkdtemp(prefix="minidynamo-test-")
        self.procs = {}

    @property
    def nodes_flag(self):
        return ",".join(f"{HOST}:{p}" for p in self.ports)

    def data_dir(self, port):
        return os.path.join(self.root, f"node_{port}")

    def start(self, port=None):
        for p in [port] if port else self.ports:
            self.spawn(p, ["--nodes", self.nodes_flag])
        for p in [port] if port else self.ports:
            self.wait_healthy(p)
        return self

    def join(self, port, via):
        """Starts a new node on `port` that joins the cluster through the node on port `via`."""
        self.ports.append(port)
        self.spawn(port, ["--join", f"{HOST}:{via}"])
        self.wait_healthy(port)

    def spawn(self, port, membership_args):
        with open(os.path.join(self.root, f"node_{port}.log"), "ab") as log:  # the child keeps its own copy
            self.procs[port] = subprocess.Popen(
                [BINARY, "node", "--port", str(port), "--peer-port-offset", str(PEER_OFFSET),
                 "--data-dir", self.data_dir(port)] + client_port_flags(port) + membership_args + self.extra_args +
                self.node_args.get(port, []),
                stdout=log, stderr=subprocess.STDOUT)

    def wait_healthy(self, port):
        def healthy():
            if self.procs[port].poll() is not None:
                raise AssertionError(f"node {port} exited with {self.procs[port].returncode}:\n{self.log(port)}")
            try:
                return request(port, "GET", "/health", timeout=1, tls_ca=self.tls_ca).status == 200
            except OSError:
                return False
        wait_until(healthy, what=f"node {port} to answer /health")

    def wait_connected(self):
        """Every node sees every other as reachable (its peer connections are up)."""
        def connected():
            running = {f"{HOST}:{p}" for p in self.procs}
            for p in self.procs:
                nodes = request(p, "GET", "/cluster", tls_ca=self.tls_ca).json["nodes"]
                if not all(n["reachable"] for n in nodes if n["address"] in running):
                    return False
            return True
        wait_until(connected, what="peer connections")

    def kill9(self, port):
        proc = self.procs.pop(port)
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def stop(self, port):
        stop_process(self.procs.pop(port))

    def log(self, port):
        return log_tail(os.path.join(self.root, f"node_{port}.log"))

    def close(self):
        for port in list(self.procs):
            self.stop(port)
        shutil.rmtree(self.root, ignore_errors=True)


def assert_start_refused(test, port, cases):
    """Each (flags, message) of `cases`: a first start of a node on `port` with those flags fails,
    saying `message`, and leaves no node id behind in its data dir."""
    data = test.enterContext(tempfile.TemporaryDirectory(prefix="minidynamo-refused-"))
    base = [BINARY, "node", "--port", str(port), "--nodes", f"{HOST}:{port}", "--data-dir", os.path.join(data, "d")]
    for flags, says in cases:
        r = subprocess.run(base + flags, capture_output=True, text=True, timeout=30)
        test.assertNotEqual(r.returncode, 0, flags)
        test.assertIn(says, r.stdout + r.stderr, flags)
        test.assertFalse(os.path.exists(os.path.join(data, "d", "NODE_ID")), flags)


class ClusterTest(unittest.TestCase):
    """Gives each test a cluster that is stopped and removed whatever happens."""

    def start_cluster(self, base_port, size=3, extra_args=()):
        cluster = Cluster(base_port, size, extra_args)
        self.addCleanup(cluster.close)
        cluster.start()
        cluster.wait_connected()
        return cluster

    def run_cli(self, *args, check_code=None):
        r = subprocess.run([BINARY] + list(args), capture_output=True, text=True, timeout=30)
        if check_code is not None:
            self.assertEqual(r.returncode, check_code, f"{args}: {r.stdout}{r.stderr}")
        return r

