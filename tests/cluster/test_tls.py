"""TLS on the HTTP and gRPC ports with real processes and certificates made by scripts/make-certs.sh:
HTTPS and gRPC over TLS with the cluster's CA, a join over it, clear text and untrusted clients refused while the node
goes on serving, a certificate renewed on disk taken on SIGHUP, and a node that refuses to start
on missing or mismatched files. Ports 20180-20189 (peers 21180-21189)."""
import os
import signal
import socket
import ssl
import subprocess
import tempfile
import unittest

import grpc
from grpc_client import KeyValue
from harness import GRPC_BELOW, HOST, Cluster, ClusterTest, assert_start_refused, request, wait_until

BASE = 20180
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def make_certs(directory, *names):
    subprocess.run([os.path.join(ROOT, "scripts", "make-certs.sh"), directory, *names], check=True,
                   capture_output=True)


def tls_flags(directory, name):
    return ["--tls-cert", f"{directory}/{name}.pem", "--tls-key", f"{directory}/{name}.key",
            "--tls-ca", f"{directory}/ca.pem"]


def served_serial(port, ca, client_cert=None):
    """The certificate (PEM) the node on `port` presents now; client_cert (certificate, key) is presented
    to ports that ask for one."""
    context = ssl.create_default_context(cafile=ca)
    context.set_alpn_protocols(["h2", "http/1.1"])  # gRPC's port speaks HTTP/2 only
    if client_cert:
        context.load_cert_chain(*client_cert)
    with socket.create_connection((HOST, port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=HOST) as tls:
            return ssl.DER_cert_to_PEM_cert(tls.getpeercert(binary_form=True))


class TlsClusterTest(ClusterTest):
    """Certificates for node1..node4 under one CA (self.ca), and clusters whose nodes use them."""

    def setUp(self):
        self.certs = self.enterContext(tempfile.TemporaryDirectory(prefix="minidynamo-certs-"))
        make_certs(self.certs, "node1", "node2", "node3", "node4")
        self.ca = os.path.join(self.certs, "ca.pem")

    def start_tls_cluster(self, base, size=3, wait_connected=True, node_args=None, tls_ca=None):
        """Node i runs with node{i+1}'s certificate unless node_args (port -> flags) says otherwise; the
        harness trusts tls_ca (default: the CA)."""
        c = Cluster(base, size, tls_ca=tls_ca or self.ca)
        self.addCleanup(c.close)
        for i, port in enumerate(c.ports):
            c.node_args[port] = (node_args or {}).get(port) or tls_flags(self.certs, f"node{i + 1}")
        c.start()
        if wait_connected:
            c.wait_connected()
        return c


class TlsTest(TlsClusterTest):

    def test_https_with_the_cluster_ca_a_join_over_it_and_clear_or_untrusted_clients_refused(self):
        c = self.start_tls_cluster(BASE)
        a, b, _ = c.ports
        r = request(a, "PUT", "/kv/k", {"value": "secret"}, tls_ca=self.ca)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(request(b, "GET", "/kv/k", tls_ca=self.ca).json["value"], "secret")
        # curl, a client we did not write, by name and by address.
        for host in ("localhost", HOST):
            out = subprocess.run(["curl", "-sS", "--cacert", self.ca, f"https://{host}:{a}/kv/k"], capture_output=True,
                                 text=True, timeout=10)
            self.assertIn('"value":"secret"', out.stdout, out.stderr)
        # Clear text, an unknown CA, TLS 1.1: refused; the node goes on serving.
        with self.assertRaises((OSError, ConnectionError)):
            request(a, "GET", "/health", timeout=3)
        self.assertNotEqual(subprocess.run(["curl", "-sS", f"https://{HOST}:{a}/health"], capture_output=True,
                                           timeout=10).returncode, 0)
        self.assertNotEqual(subprocess.run(["curl", "-sS", "--cacert", self.ca, "--tls-max", "1.1",
                                            f"https://{HOST}:{a}/health"], capture_output=True, timeout=10).returncode, 0)
        self.assertEqual(request(a, "GET", "/health", tls_ca=self.ca).status, 200)
        # gRPC serves TLS too, with the same certificate: a client that trusts the CA is answered,
        # a clear-text one is not.
        secure = KeyValue(a - GRPC_BELOW, tls_ca=self.ca)
        self.addCleanup(secure.close)
        self.assertTrue(secure.health().ready)
        self.assertEqual(secure.get(b"k").siblings[0].value, b"secret")
        clear = KeyValue(a - GRPC_BELOW)
        self.addCleanup(clear.close)
        with self.assertRaises(grpc.RpcError) as refused:
            clear.health(timeout=3)
        self.assertEqual(refused.exception.code(), grpc.StatusCode.UNAVAILABLE)
        # The command-line client, with the CA.
        r = self.run_cli("get", "k", "--node", f"{HOST}:{b}", "--tls-ca", self.ca, check_code=0)
        self.assertIn('"secret"', r.stdout)
        self.run_cli("get", "k", "--node", f"{HOST}:{b}", check_code=1)  # clear text to a TLS port
        # A fourth node joins through HTTPS.
        c.node_args[BASE + 4] = tls_flags(self.certs, "node4")
        c.join(BASE + 4, a)
        wait_until(lambda: len(request(BASE + 4, "GET", "/cluster", tls_ca=self.ca).json["nodes"]) == 4,
                   what="the joiner to see four nodes")

    def test_sighup_takes_a_renewed_certificate_without_dropping_the_node(self):
        c = self.start_tls_cluster(BASE + 5)
        a = c.ports[0]
        before = served_serial(a, self.ca)
        make_certs(self.certs, "node1")  # renewed: a new serial
        c.procs[a].send_signal(signal.SIGHUP)
        wait_until(lambda: served_serial(a, self.ca) != before, what="the renewed certificate to be served")
        self.assertIsNone(c.procs[a].poll())
        self.assertEqual(request(a, "PUT", "/kv/after", {"value": 1}, tls_ca=self.ca).status, 200)
        # A renewal that is broken (a key that does not match) keeps the loaded one, and says so.
        with open(os.path.join(self.certs, "node2.key")) as other, open(os.path.join(self.certs, "node1.key"), "w") as f:
            f.write(other.read())
        c.procs[a].send_signal(signal.SIGHUP)
        wait_until(lambda: "the TLS files did not load" in c.log(a), what="the failed reload to be logged")
        self.assertEqual(request(a, "GET", "/kv/after", tls_ca=self.ca).status, 200)

    def test_a_node_refuses_to_start_without_usable_tls_files(self):
        other = self.enterContext(tempfile.TemporaryDirectory(prefix="minidynamo-other-ca-"))
        make_certs(other, "stranger")
        cert, key, ca = (f"{self.certs}/node1.pem", f"{self.certs}/node1.key", self.ca)
        assert_start_refused(self, BASE + 9, (
            (["--tls-cert", cert], "give all three"),
            (["--tls-cert", cert, "--tls-key", key, "--tls-ca", "/nonexistent.pem"],
             "cannot read the CA certificate file /nonexistent.pem"),
            (["--tls-cert", cert, "--tls-key", f"{self.certs}/node2.key", "--tls-ca", ca],
             "is not the PEM private key of the certificate"),
            (["--tls-cert", f"{other}/stranger.pem", "--tls-key", f"{other}/stranger.key", "--tls-ca", ca],
             "does not verify against the CA")))


if __name__ == "__main__":
    unittest.main()
