"""--security on with real processes: users, passwords, tokens and prefix grants over HTTP, RESP (over
TLS), gRPC and the CLI; 401, 403 and 429 with clear errors; a joiner and a restarted node know the
users; a revocation in force on every node within the
documented bound; failed attempts limited per client address and counted; no secret in logs,
/cluster or /metrics; the seed README's tour through TLS with credentials; a node that refuses to
start without TLS or with an unreadable admin password file. Ports 20220-20269 (peers 21220-21269)."""
import base64
import os
import subprocess
import tempfile
import time
import unittest

import grpc
from grpc_client import KeyValue
from harness import BINARY, GRPC_BELOW, HOST, assert_start_refused, request, wait_until
from test_resp import cli as redis_cli
from test_seed_examples import SeedTour
from test_tls import TlsClusterTest, tls_flags

BASE = 20220
ADMIN_PASSWORD = "correct horse battery staple"
ALICE_PASSWORD = "alice's s3cret"
POLLER = "127.0.0.7"  # the source address of polls that expect refusals (the failure limiter counts per address)


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


class SecurityTest(TlsClusterTest):
    def setUp(self):
        super().setUp()
        self.dir = self.certs
        self.admin_file = os.path.join(self.dir, "admin-password")
        with open(self.admin_file, "w") as f:
            f.write(ADMIN_PASSWORD + "\n")

    def start_secure_cluster(self, base, size=3, admin_on_first_only=True):
        """TLS and --security on; the first node (or every node) creates the admin."""
        ports = [base + i + 1 for i in range(size)]
        return self.start_tls_cluster(base, size, node_args={
            port: tls_flags(self.dir, f"node{i + 1}") + ["--security", "on"] +
            (["--admin-password-file", self.admin_file] if i == 0 or not admin_on_first_only else [])
            for i, port in enumerate(ports)})

    def http(self, port, method, path, body=None, headers=None, **kwargs):
        return request(port, method, path, body, headers=headers, tls_ca=self.ca, **kwargs)

    def cli(self, *args, env=None, check_code=0):
        r = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=30,
                           env={**os.environ, **(env or {})})
        if check_code is not None:
            self.assertEqual(r.returncode, check_code, f"{args}: {r.stdout}{r.stderr}")
        return r

    def test_users_prefix_grants_tokens_and_revocation_on_every_node(self):
        c = self.start_secure_cluster(BASE)
        a, b, third = c.ports
        admin = basic("admin", ADMIN_PASSWORD)
        # The admin made from --admin-password-file on the first node reaches the others by gossip.
        wait_until(lambda: self.http(third, "GET", "/kv/none", headers=admin).status == 404,
                   what="the admin user to reach every node")

        # No credentials, a wrong password, an unknown user: 401 with a clear error, and a
        # WWW-Authenticate so that a browser asks.
        r = self.http(a, "PUT", "/kv/app/x", {"value": 1})
        self.assertEqual(r.status, 401, r)
        self.assertIn("requires credentials", r.json["error"])
        self.assertIn("Basic", r.headers.get("www-authenticate", ""))
        for headers in (basic("admin", "wrong"), basic("nobody", ADMIN_PASSWORD), {"Authorization": "Basic !!"},
                        bearer("mdt_0123456789abcdef_" + "0" * 64)):
            r = self.http(a, "GET", "/kv/app/x", headers=headers)
            self.assertEqual(r.status, 401, (headers, r))

        # The admin adds alice through the CLI on one node and grants her app/ on another.
        secret_file = os.path.join(self.dir, "alice-password")
        with open(secret_file, "w") as f:
            f.write(ALICE_PASSWORD)
        as_admin = ["--tls-ca", self.ca, "--user", "admin"]
        admin_env = {"MINIDYNAMO_PASSWORD": ADMIN_PASSWORD}
        self.cli("user", "add", "alice", "--new-password-file", secret_file, "--node", f"{HOST}:{a}", *as_admin,
                 env=admin_env)
        self.cli("user", "grant", "alice", "--prefix", "app/", "--permissions", "read,write,list",
                 "--node", f"{HOST}:{a}", *as_admin, env=admin_env)
        listed = self.cli("user", "list", "--node", f"{HOST}:{a}", *as_admin, env=admin_env).stdout
        self.assertIn("alice", listed)
        self.assertIn('"app/": read,write,list', listed)
        self.assertNotIn("scrypt", listed)

        alice = basic("alice", ALICE_PASSWORD)
        wait_until(lambda: all(self.http(p, "PUT", f"/kv/app/{p}", {"value": p}, headers=alice).status == 200
                               for p in c.ports), what="alice's grant to reach every node")
        self.assertEqual(self.http(a, "PUT", "/kv/app/x", {"value": "x"}, headers=alice).status, 200)
        self.assertEqual(self.http(b, "GET", "/kv/app/x", headers=alice).status, 200)
        self.assertEqual(self.http(b, "GET", "/kv?prefix=app/", headers=alice).status, 200)
        for method, path, body in (("PUT", "/kv/other/x", {"value": 1}), ("GET", "/kv/other/x", None),
                                   ("DELETE", "/kv/app/x", None),  # delete is not granted
                                   ("GET", "/kv?prefix=", None),  # a listing beyond app/
                                   ("GET", "/inspect/app/x", None),  # the key inspector is admin's
                                   ("GET", "/admin/users", None)):
            r = self.http(b, method, path, body, headers=alice)
            self.assertEqual(r.status, 403, (method, path, r))
            self.assertIn("user alice may not", r.json["error"])
        self.assertEqual(self.http(b, "GET", "/inspect/app/x", headers=admin).status, 200)

        # RESP over TLS, with redis-cli as users run it: --user/--pass (AUTH alice PASSWORD), -3 (HELLO 3
        # AUTH), -a TOKEN later; without AUTH, NOAUTH; a wrong password, WRONGPASS; no grant, NOPERM.
        as_alice_resp = ["--user", "alice", "--pass", ALICE_PASSWORD]
        self.assertEqual(redis_cli(a, *as_alice_resp, "GET", "app/x", tls_ca=self.ca)[0], '"x"')
        self.assertEqual(redis_cli(b, *as_alice_resp, "GET", "app/x", resp3=True, tls_ca=self.ca)[0], '"x"')
        self.assertIn("NOAUTH", redis_cli(a, "GET", "app/x", tls_ca=self.ca)[0])
        self.assertIn("WRONGPASS", "".join(redis_cli(a, "--user", "alice", "--pass", "wrong", "GET", "app/x",
                                                     tls_ca=self.ca)))
        self.assertIn("NOPERM user alice may not write key 'other/r'",
                      redis_cli(a, *as_alice_resp, "SET", "other/r", "v", tls_ca=self.ca)[0])

        # The CLI and gRPC, with the same credentials.
        got = self.cli("get", "app/x", "--node", f"{HOST}:{third}", "--tls-ca", self.ca, "--user", "alice",
                       env={"MINIDYNAMO_PASSWORD": ALICE_PASSWORD})
        self.assertIn("vector_clock", got.stdout)
        self.cli("get", "app/x", "--node", f"{HOST}:{third}", "--tls-ca", self.ca, check_code=1)
        as_alice = KeyValue(a - GRPC_BELOW, tls_ca=self.ca, authorization=alice["Authorization"])
        self.addCleanup(as_alice.close)
        self.assertGreaterEqual(as_alice.put(b"app/g", b"v").replicas_written, 2)
        with self.assertRaises(grpc.RpcError) as refused:
            as_alice.put(b"other/g", b"v")
        self.assertEqual(refused.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        self.assertIn("user alice may not write key 'other/g'", refused.exception.details())
        anonymous = KeyValue(a - GRPC_BELOW, tls_ca=self.ca)
        self.addCleanup(anonymous.close)
        with self.assertRaises(grpc.RpcError) as unauthenticated:
            anonymous.get(b"app/x")
        self.assertEqual(unauthenticated.exception.code(), grpc.StatusCode.UNAUTHENTICATED)

        # A token for alice works on every node; revoked, it is refused on every node.
        made = self.cli("user", "token", "alice", "--node", f"{HOST}:{b}", *as_admin, env=admin_env)
        token = made.stdout.strip()
        self.assertTrue(token.startswith("mdt_"), made)
        wait_until(lambda: all(self.http(p, "GET", "/kv/app/x", headers=bearer(token)).status == 200 for p in c.ports),
                   what="the token to reach every node")
        self.assertEqual(redis_cli(third, "-a", token, "GET", "app/x", tls_ca=self.ca)[0], '"x"')  # AUTH token
        token_id = token.split("_")[1]
        self.cli("user", "token", "alice", "--revoke", token_id, "--node", f"{HOST}:{a}", *as_admin, env=admin_env)
        # The polls that expect refusals come from an address of their own (POLLER): their failures
        # must not spend 127.0.0.1's allowance, which the admin's commands below need.
        wait_until(lambda: all(self.http(p, "GET", "/kv/app/x", headers=bearer(token), source=POLLER).status in (401, 429)
                               for p in c.ports), timeout_s=10, what="the revoked token to be refused everywhere")

        # A revoked grant is in force on all three nodes within the documented bound (10 s).
        started = time.monotonic()
        self.cli("user", "revoke", "alice", "--prefix", "app/", "--permissions", "write", "--node", f"{HOST}:{third}",
                 *as_admin, env=admin_env)
        wait_until(lambda: all(self.http(p, "PUT", "/kv/app/y", {"value": 1}, headers=alice).status == 403
                               for p in c.ports), timeout_s=10, what="the revocation to reach every node")
        print(f"revocation in force on 3 nodes after {time.monotonic() - started:.2f} s")
        self.assertEqual(self.http(a, "GET", "/kv/app/x", headers=alice).status, 200)  # read stays

        # A new password: the old one is refused, the new one accepted.
        with open(secret_file, "w") as f:
            f.write("alice's new s3cret")
        self.cli("user", "passwd", "alice", "--new-password-file", secret_file, "--node", f"{HOST}:{a}", *as_admin,
                 env=admin_env)
        wait_until(lambda: all(self.http(p, "GET", "/kv/app/x", headers=alice, source=POLLER).status in (401, 429)
                               for p in c.ports), timeout_s=10, what="the old password to be refused everywhere")
        self.assertEqual(self.http(b, "GET", "/kv/app/x", headers=basic("alice", "alice's new s3cret"),
                                   source="127.0.0.4").status, 200)

        # Removed, alice is refused everywhere; her record keeps no secret.
        self.cli("user", "remove", "alice", "--node", f"{HOST}:{b}", *as_admin, env=admin_env)
        wait_until(lambda: all(self.http(p, "GET", "/kv/app/x", headers=alice, source=POLLER).status in (401, 429)
                               for p in c.ports), timeout_s=10, what="the removal to reach every node")
        wait_until(lambda: all('"alice"' not in self.http(p, "GET", "/admin/users", headers=admin, source="127.0.0.6").raw
                               for p in c.ports), timeout_s=10, what="the removal to be listed on every node")

        # No secret anywhere a node shows or logs.
        for port in c.ports:
            shown = self.http(port, "GET", "/cluster").raw + self.http(port, "GET", "/metrics").raw
            with open(os.path.join(c.root, f"node_{port}.log")) as log:
                shown += log.read()
            for secret in (ADMIN_PASSWORD, ALICE_PASSWORD, token, token.split("_")[2], "scrypt$"):
                self.assertNotIn(secret, shown, port)
        metrics = self.http(a, "GET", "/metrics").raw
        self.assertRegex(metrics, r'minidynamo_auth_refused_total\{protocol="http",reason="forbidden"\} [1-9][0-9]*\n')
        self.assertRegex(metrics, r'minidynamo_auth_refused_total\{protocol="grpc",reason="no_credentials"\} [1-9][0-9]*\n')
        self.assertRegex(metrics, r'minidynamo_auth_refused_total\{protocol="resp",reason="wrong_credentials"\} [1-9][0-9]*\n')

        # A node that joins the secure cluster (with a certificate of its CA) knows every user at once.
        joiner = BASE + 4
        c.node_args[joiner] = tls_flags(self.dir, "node4") + ["--security", "on"]
        c.join(joiner, a)
        # Every node serves by the ring with the joiner before any stops (a restart checks --nodes
        # against the members it kept).
        wait_until(lambda: all(len(self.http(p, "GET", "/cluster").json["nodes"]) == 4 for p in c.ports),
                   what="every node to know the joiner")
        self.assertEqual(self.http(joiner, "GET", "/admin/users", headers=admin, source="127.0.0.5").status, 200)
        self.assertEqual(self.http(joiner, "GET", "/kv/app/x", source="127.0.0.5").status, 401)

        # The users are kept durably: a node restarted alone, with no peer to gossip with and no
        # --admin-password-file of its own, still knows the admin.
        for port in (a, b, joiner, third):
            c.stop(port)
        c.start(third)
        # (An admin route: it needs no replica, which a key might not have here with the others down.)
        r = self.http(third, "GET", "/admin/users", headers=admin, source="127.0.0.5")
        self.assertEqual(r.status, 200, r)
        self.assertIn('"name":"admin"', r.raw)
        self.assertEqual(self.http(third, "GET", "/admin/users", headers=basic("admin", "wrong"),
                                   source="127.0.0.5").status, 401)

    def test_failed_attempts_are_limited_per_client_address(self):
        c = self.start_secure_cluster(BASE + 10, size=1)
        (a,) = c.ports
        admin = basic("admin", ADMIN_PASSWORD)
        # A burst of 10 wrong guesses is checked; then one a second, the rest answered 429 unchecked.
        refused = 0  # answered 401: wrong credentials, checked or malformed

        def attempt(headers):
            nonlocal refused
            r = self.http(a, "GET", "/kv/k", headers=headers, source="127.0.0.2")
            refused += r.status == 401
            return r

        for i in range(10):
            self.assertEqual(attempt(basic("admin", f"guess{i}")).status, 401)

        def attempt_while_limited(headers):
            # Each checked guess waits for scrypt, which a loaded host can make slower than the
            # second that repays an attempt: the allowance may be back. Malformed credentials are
            # refused without scrypt; they spend it again before the next try.
            r = attempt(headers)
            for burst in (1, 10, 10):
                if r.status == 429:
                    break
                for _ in range(burst):
                    self.assertEqual(attempt({"Authorization": "Basic !!"}).status, 401)
                r = attempt(headers)
            return r

        self.assertEqual(attempt_while_limited(basic("admin", "guess10")).status, 429)
        # The right password too, unchecked, while the allowance is spent.
        r = attempt_while_limited(admin)
        self.assertEqual(r.status, 429, r)
        self.assertEqual(r.headers.get("retry-after"), "1")
        self.assertIn("too many failed attempts from 127.0.0.2", r.json["error"])
        # Another address is not held back; the limited one may try again a second later.
        self.assertEqual(self.http(a, "GET", "/kv/k", headers=admin, source="127.0.0.3").status, 404)
        wait_until(lambda: self.http(a, "GET", "/kv/k", headers=admin, source="127.0.0.2").status == 404,
                   timeout_s=30, what="the limited address to be let through again")
        metrics = self.http(a, "GET", "/metrics").raw
        self.assertIn(f'minidynamo_auth_refused_total{{protocol="http",reason="wrong_credentials"}} {refused}\n', metrics)
        self.assertIn(f'minidynamo_request_duration_seconds_count{{protocol="http",op="get",outcome="unauthenticated"}} '
                      f'{refused}\n', metrics)
        self.assertRegex(metrics, r'minidynamo_auth_refused_total\{protocol="http",reason="rate_limited"\} ([2-9]|[1-9][0-9]+)\n')

    def test_the_seed_tour_through_tls_with_credentials(self):
        c = self.start_secure_cluster(BASE + 20, admin_on_first_only=False)
        SeedTour.run_tour(self, c, "https", ["--cacert", self.ca, "-u", f"admin:{ADMIN_PASSWORD}"],
                          tls_ca=self.ca, headers=basic("admin", ADMIN_PASSWORD))

    def test_with_security_off_users_cannot_be_made(self):
        c = self.start_cluster(BASE + 40, size=1)
        r = request(c.ports[0], "PUT", "/admin/users/mallory", {"password": "x"})
        self.assertEqual(r.status, 409, r)
        self.assertIn("security is off", r.json["error"])

    def test_security_on_needs_tls_and_a_readable_admin_password_file(self):
        assert_start_refused(self, BASE + 31, (
            (["--security", "on"], "--security on: needs --tls-cert"),
            (["--security", "on", *tls_flags(self.dir, "node1"), "--admin-password-file", "/nonexistent"],
             "--admin-password-file /nonexistent cannot be read"),
            (["--admin-password-file", self.admin_file], "is read with --security on only")))


if __name__ == "__main__":
    unittest.main()
