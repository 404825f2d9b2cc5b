"""TLS on the peer and RESP ports (--tls-*), with real processes and certificates made by
scripts/make-certs.sh: peers replicate over mutual TLS; clear text, no certificate or one from
another CA on the peer port are refused, counted and logged without flooding while the node goes on
serving; a node whose certificate another CA signed can neither gossip into the cluster nor join it
(403, counted); redis-cli speaks TLS to the RESP port and clear text is refused; SIGHUP renews the
certificate the peer and RESP ports present. HTTP ports 20390-20399 (peers 21390-21399)."""
import os
import signal
import socket
import ssl
import tempfile
import unittest

from grpc_client import KeyValue
from harness import GRPC_BELOW, HOST, PEER_OFFSET, metric, raw_exchange, request, wait_until
from test_resp import cli, exchange, resp_port
from test_tls import TlsClusterTest, make_certs, served_serial, tls_flags

BASE = 20390
TLS_REFUSED = r'minidynamo_peer_tls_refused_total\{direction="%s"\}'


def refused_in_tls(port, context):
    """Whether the node closes a TLS connection made with `context` at or right after the handshake,
    before answering anything (TLS 1.3 refuses a client's certificate after the client's side ended)."""
    with socket.create_connection((HOST, port), timeout=10) as raw:
        try:
            with context.wrap_socket(raw, server_hostname=HOST) as tls:
                tls.sendall(b"MDPEER" + bytes(16))
                return tls.recv(1024) == b""
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
            return True


class PeerTlsTest(TlsClusterTest):
    def setUp(self):
        super().setUp()
        self.other = self.enterContext(tempfile.TemporaryDirectory(prefix="minidynamo-other-ca-"))
        make_certs(self.other, "stranger", "stranger2")
        # Trusts both CAs: what a node with the other CA's certificate needs to start and to reach
        # the cluster's nodes at all, so that it is the cluster that refuses it.
        self.both = os.path.join(self.other, "both.pem")
        with open(self.both, "w") as out:
            for ca in (self.ca, os.path.join(self.other, "ca.pem")):
                with open(ca) as f:
                    out.write(f.read())

    def stranger_flags(self, name):
        return tls_flags(self.other, name)[:4] + ["--tls-ca", self.both]

    def context(self, certs_dir=None, name=None):
        """A TLS client context that trusts the cluster's CA and presents certs_dir/name's certificate."""
        context = ssl.create_default_context(cafile=self.ca)
        if name:
            context.load_cert_chain(f"{certs_dir}/{name}.pem", f"{certs_dir}/{name}.key")
        return context

    def test_peers_replicate_over_mutual_tls_and_strangers_on_the_peer_port_are_refused_and_counted(self):
        c = self.start_tls_cluster(BASE)
        a, b, d = c.ports
        r = request(a, "PUT", "/kv/k?W=3", {"value": "everywhere"}, tls_ca=self.ca)
        self.assertEqual(r.status, 200, r)  # every replica acknowledged over its peer connection
        for port in c.ports:
            self.assertEqual(request(port, "GET", "/kv/k?R=3", tls_ca=self.ca).json["value"], "everywhere")
        # The peer port speaks TLS with the node's certificate, to a client the CA certified.
        self.assertEqual(served_serial(a + PEER_OFFSET, self.ca, (f"{self.certs}/node4.pem", f"{self.certs}/node4.key")),
                         served_serial(a, self.ca))
        self.assertEqual(metric(a, TLS_REFUSED % "incoming", self.ca), 0)

        # Clear text (five times), TLS without a certificate, TLS with another CA's: each closed.
        for _ in range(5):
            _, closed = raw_exchange(a + PEER_OFFSET, b"MDPEER" + bytes(16))
            self.assertTrue(closed)
        self.assertTrue(refused_in_tls(a + PEER_OFFSET, self.context()))
        self.assertTrue(refused_in_tls(a + PEER_OFFSET, self.context(self.other, "stranger")))
        # A client that stops halfway through its handshake is closed after the handshake timeout (2 s).
        _, closed = raw_exchange(a + PEER_OFFSET, b"\x16\x03\x01\x02\x00", timeout=10)
        self.assertTrue(closed)
        wait_until(lambda: metric(a, TLS_REFUSED % "incoming", self.ca) == 8, what="eight refusals counted")
        logged = c.log(a).count("refused an incoming connection")
        self.assertGreaterEqual(logged, 1)
        self.assertLess(logged, 8)  # rate-limited: one message per 10 s
        # The node goes on serving, its peers still connected.
        self.assertIsNone(c.procs[a].poll())
        self.assertEqual(request(a, "PUT", "/kv/k2?W=3", {"value": 2}, tls_ca=self.ca).status, 200)
        self.assertEqual(request(d, "GET", "/kv/k2?R=3", tls_ca=self.ca).json["value"], 2)

        # RESP in TLS with redis-cli; clear text refused and counted.
        self.assertEqual(cli(b, "SET", "r", "v", tls_ca=self.ca)[0], "OK")
        self.assertEqual(cli(d, "GET", "r", tls_ca=self.ca)[0], '"v"')
        self.assertNotIn("PONG", cli(b, "PING")[0])
        got, closed = exchange(b, b"*1\r\n$4\r\nPING\r\n")
        self.assertTrue(closed)
        self.assertNotIn(b"PONG", got)
        self.assertEqual(metric(b, "minidynamo_resp_tls_handshakes_failed_total", self.ca), 2)
        self.assertEqual(cli(b, "PING", tls_ca=self.ca)[0], "PONG")

    def test_a_node_certified_by_another_ca_can_neither_gossip_into_the_cluster_nor_join_it(self):
        a, b, impostor, joiner = BASE + 4, BASE + 5, BASE + 6, BASE + 7
        # A founding member by its flags, but its certificate is another CA's.
        c = self.start_tls_cluster(BASE + 3, wait_connected=False, node_args={impostor: self.stranger_flags("stranger")},
                                   tls_ca=self.both)

        def cut_off():
            for port, other in ((a, b), (b, a)):
                nodes = {n["address"]: n for n in request(port, "GET", "/cluster", tls_ca=self.ca).json["nodes"]}
                if not nodes[f"{HOST}:{other}"]["reachable"] or nodes[f"{HOST}:{impostor}"]["reachable"]:
                    return False
                # Its connections to us refused, ours to it not trusted.
                if metric(port, TLS_REFUSED % "incoming", self.ca) < 1 or metric(port, TLS_REFUSED % "outgoing", self.ca) < 1:
                    return False
            return True
        wait_until(cut_off, what="a and b connected to each other, refusing the impostor both ways")
        self.assertEqual(request(a, "PUT", "/kv/k?W=2", {"value": 1}, tls_ca=self.ca).status, 200)

        # A joiner with another CA's certificate is refused (403) and gives up.
        c.node_args[joiner] = self.stranger_flags("stranger2")
        c.spawn(joiner, ["--join", f"{HOST}:{a}"])
        wait_until(lambda: c.procs[joiner].poll() is not None, what="the refused joiner to exit")
        self.assertNotEqual(c.procs[joiner].returncode, 0)
        self.assertIn("refused us", c.log(joiner))
        self.assertIn("client certificate signed by this cluster's CA", c.log(joiner))
        self.assertEqual(metric(a, "minidynamo_joins_refused_total", self.ca), 1)
        # So is a join without a client certificate (curl's), with a clear JSON error.
        r = request(a, "POST", "/cluster/join", {"address": f"{HOST}:{joiner}", "node_id": "node_x"}, tls_ca=self.ca)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json["status"], "error")
        self.assertIn("client certificate signed by this cluster's CA", r.json["error"])
        self.assertEqual(metric(a, "minidynamo_joins_refused_total", self.ca), 2)
        cluster = request(a, "GET", "/cluster", tls_ca=self.ca).json
        self.assertEqual(len(cluster["nodes"]), 3)
        self.assertEqual(cluster["joining"], [])

    def test_sighup_renews_the_certificate_the_peer_resp_and_grpc_ports_present(self):
        c = self.start_tls_cluster(BASE + 7, size=2)
        a = c.ports[0]  # node1's certificate
        as_peer = (f"{self.certs}/node4.pem", f"{self.certs}/node4.key")

        def served():
            return {served_serial(a + PEER_OFFSET, self.ca, as_peer), served_serial(resp_port(a), self.ca),
                    served_serial(a - GRPC_BELOW, self.ca)}
        before = served()
        self.assertEqual(len(before), 1)  # the same certificate on every port
        make_certs(self.certs, "node1")  # renewed: a new serial
        c.procs[a].send_signal(signal.SIGHUP)
        wait_until(lambda: not served() & before, what="the renewed certificate on every port")
        renewed = served()
        self.assertEqual(len(renewed), 1)
        (renewed,) = renewed
        c.wait_connected()
        self.assertEqual(request(a, "PUT", "/kv/after?W=2", {"value": 1}, tls_ca=self.ca).status, 200)
        self.assertEqual(cli(a, "GET", "after", tls_ca=self.ca)[0], '"1"')
        # A broken renewal (a key that is not the certificate's) keeps the loaded files on every port.
        with open(os.path.join(self.certs, "node2.key")) as other, open(os.path.join(self.certs, "node1.key"), "w") as f:
            f.write(other.read())
        c.procs[a].send_signal(signal.SIGHUP)
        wait_until(lambda: "the TLS files did not load" in c.log(a), what="the failed reload to be logged")
        self.assertEqual(served(), {renewed})
        kv = KeyValue(a - GRPC_BELOW, tls_ca=self.ca)  # and gRPC still answers over it
        self.addCleanup(kv.close)
        self.assertTrue(kv.health().ready)


if __name__ == "__main__":
    unittest.main()
