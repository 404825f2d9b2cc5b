"""A node under a service manager: it says READY=1 over $NOTIFY_SOCKET once it serves (and not
before), and on SIGTERM says STOPPING=1, stops being ready (/health 503, /health/live 200),
refuses new requests, answers those in flight, and exits 0 having stopped cleanly; its peers see
it down at once rather than after the failure detector. Ports 21520-21549 (peers +1000)."""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cluster"))
from harness import (BINARY, HOST, PEER_OFFSET, Cluster, ClusterTest, client_port_flags, request, stop_process,  # noqa: E402
                     wait_until)


class NotifySocket:
    """The service manager's end of sd_notify: a Unix datagram socket (a path or an abstract name)."""

    def __init__(self, address):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address if not address.startswith("@") else "\0" + address[1:])
        self.address = address

    def receive(self, timeout_s=20):
        self.sock.settimeout(timeout_s)
        return dict(line.split("=", 1) for line in self.sock.recv(4096).decode().splitlines())

    def close(self):
        self.sock.close()


class LifecycleTest(ClusterTest):
    def start_notified_node(self, cluster, port, notify):
        env = dict(os.environ, NOTIFY_SOCKET=notify.address)
        log = open(os.path.join(cluster.root, f"node_{port}.log"), "ab")
        self.addCleanup(log.close)
        proc = subprocess.Popen([BINARY, "node", "--port", str(port), "--peer-port-offset", str(PEER_OFFSET),
                                 "--data-dir", cluster.data_dir(port), "--nodes", f"{HOST}:{port}",
                                 "--n", "1", "--r", "1", "--w", "1", "--sync", "none"] + client_port_flags(port),
                                stdout=log, stderr=subprocess.STDOUT, env=env)
        self.addCleanup(lambda: proc.poll() is not None or stop_process(proc))
        return proc

    def check_notify_cycle(self, notify_address, port):
        """notify_address: an abstract name (@...), or None for a path in the test's directory."""
        cluster = Cluster(port - 1, size=1)
        self.addCleanup(cluster.close)
        notify = NotifySocket(notify_address or os.path.join(cluster.root, "notify"))
        self.addCleanup(notify.close)
        proc = self.start_notified_node(cluster, port, notify)
        ready = notify.receive()
        self.assertEqual(ready.get("READY"), "1", ready)
        # READY comes once the node serves: /health answers at once, no polling needed.
        self.assertEqual(request(port, "GET", "/health", timeout=5).status, 200)
        self.assertEqual(request(port, "PUT", "/kv/a", {"value": 1}).status, 200)
        proc.send_signal(signal.SIGTERM)
        stopping = notify.receive()
        self.assertEqual(stopping.get("STOPPING"), "1", stopping)
        self.assertEqual(proc.wait(timeout=20), 0, cluster.log(port))
        self.assertIn("stopped serving", cluster.log(port))
        # A clean stop: the next start keeps its actor id (with --sync none a crash would renew it).
        proc = self.start_notified_node(cluster, port, notify)
        self.assertEqual(notify.receive().get("READY"), "1")
        cluster_page = request(port, "GET", "/cluster").json
        self.assertEqual(cluster_page["actor"], cluster_page["node_id"], cluster.log(port))
        self.assertEqual(request(port, "GET", "/kv/a").json["value"], 1)
        stop_process(proc)

    def test_ready_and_stopping_over_a_socket_path(self):
        self.check_notify_cycle(None, 21521)

    def test_ready_and_stopping_over_an_abstract_socket(self):
        self.check_notify_cycle(f"@minidynamo-test-{os.getpid()}", 21523)

    @staticmethod
    def get(connection, path):
        connection.request("GET", path)
        r = connection.getresponse()
        return r.status, json.loads(r.read())

    def test_sigterm_answers_requests_in_flight_and_refuses_new_ones(self):
        c = self.start_cluster(21530, extra_args=["--timeout-ms", "8000"])
        a, b, hung = c.ports
        self.assertEqual(request(a, "PUT", "/kv/k", {"value": "v", "W": 3}).status, 200)
        c.procs[hung].send_signal(signal.SIGSTOP)
        self.addCleanup(lambda: hung in c.procs and c.procs[hung].send_signal(signal.SIGCONT))
        answer = {}
        reader = threading.Thread(target=lambda: answer.setdefault("r", request(a, "GET", "/kv/k?R=3", timeout=30)))
        reader.start()
        wait_until(lambda: request(a, "GET", "/cluster").json["counters"]["client_requests"] >= 2,
                   what="the R=3 read to be in flight")  # the PUT and the read
        kept = http.client.HTTPConnection(HOST, a, timeout=10)  # a keep-alive connection opened before the stop
        self.addCleanup(kept.close)
        self.assertEqual(self.get(kept, "/health")[0], 200)
        c.procs[a].send_signal(signal.SIGTERM)
        # Draining: no new connections; on open ones still live, no longer ready, new requests refused.
        wait_until(lambda: self.get(kept, "/health")[0] == 503, what="/health to say not ready")
        status, health = self.get(kept, "/health")
        self.assertEqual((health["status"], health["ready"]), ("stopping", False))
        status, live = self.get(kept, "/health/live")
        self.assertEqual((status, live["ready"]), (200, False))
        status, refused = self.get(kept, "/kv/k")
        self.assertEqual(status, 503)
        self.assertIn("stopping", refused["error"])
        with self.assertRaises(ConnectionRefusedError):
            request(a, "GET", "/health")
        self.assertIsNone(c.procs[a].poll(), "the node exited with a request in flight")
        # The hung replica comes back: the read in flight is answered with all three replies.
        c.procs[hung].send_signal(signal.SIGCONT)
        reader.join(timeout=30)
        self.assertEqual(answer["r"].status, 200, answer["r"])
        self.assertEqual(answer["r"].json["value"], "v")
        self.assertEqual(c.procs[a].wait(timeout=20), 0, c.log(a))
        c.procs.pop(a)

    def test_peers_see_a_stopped_node_down_at_once(self):
        # A failure detector this patient would take many seconds to suspect a silent node.
        c = self.start_cluster(21540, extra_args=["--heartbeat-ms", "1000", "--phi-threshold", "16"])
        a, _, leaving = c.ports
        c.stop(leaving)  # SIGTERM, waits for the exit
        stopped = time.monotonic()

        def seen_down():
            nodes = request(a, "GET", "/cluster").json["nodes"]
            return next(n for n in nodes if n["address"] == f"{HOST}:{leaving}")["status"] == "down"
        wait_until(seen_down, what="the stopped node to be down")
        self.assertLess(time.monotonic() - stopped, 1.0)


if __name__ == "__main__":
    unittest.main()
