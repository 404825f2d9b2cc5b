"""A throwaway multi-host network on this machine, made of Linux network namespaces.

Network(test, hosts=3) makes one bridge in the root namespace and one namespace per host, each
joined to the bridge by a veth pair, with loopback up. Every run picks its own names (from the
pid) and its own private /24 (one no interface or route on the machine uses yet), so parallel
ctest runs and the leftovers of a killed run cannot collide. The bridge has the .1 address, so
the test process in the root namespace reaches every host; host i has .(i + 2).

Faults are nftables rules inside the hosts' namespaces that drop packets between hosts, and only
theirs: the root namespace still reaches every host. block(a, b) drops what host a sends to host b
(a one-way partition: b's packets still reach a); cut(i) drops everything between host i and the
other hosts, both ways; heal(i) lifts every rule that involves host i and heal_all() every rule.
Everything is removed by the test's cleanups, whether it passes or fails. Without root, iproute2,
nftables or the kernel's namespaces, the test is skipped and says why.
"""
import ipaddress
import itertools
import json
import os
import shutil
import subprocess
import threading
import unittest

CUT_TABLE = "minidynamo_cut"  # each host's rules, rewritten whole at every change
_networks = itertools.count()  # a test process may build several networks, one after the other


def _run(args, stdin=None):
    r = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def _free_subnet():
    """A 10.x.y.0/24 that overlaps no route of the root namespace, starting from one the pid picks."""
    taken = [ipaddress.ip_network(r["dst"], strict=False)
             for r in json.loads(_run(["ip", "-j", "-4", "route", "show", "table", "all"]))
             if r.get("dst", "default") != "default"]
    for n in range(os.getpid(), os.getpid() + 0x10000):
        subnet = ipaddress.ip_network(f"10.{(n >> 8) & 0xff}.{n & 0xff}.0/24")
        if not any(subnet.overlaps(t) for t in taken):
            return subnet
    raise RuntimeError("no free 10.x.y.0/24 for a test network")


class Network:
    def __init__(self, test, hosts):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root to create network namespaces, a bridge and nftables rules")
        for tool, package in (("ip", "iproute2"), ("nft", "nftables")):
            if shutil.which(tool) is None:
                raise unittest.SkipTest(f"`{tool}` is not installed (package {package}; scripts/setup.sh installs it)")
        tag = f"{os.getpid()}_{next(_networks)}"
        subnet = _free_subnet()
        self.bridge = f"mdb{tag}"
        self.bridge_address = str(subnet[1])
        self.namespaces = [f"md{tag}h{i}" for i in range(hosts)]
        self.addresses = [str(subnet[i + 2]) for i in range(hosts)]

        self._can("create a bridge", ["ip", "link", "add", self.bridge, "type", "bridge"])
        test.addCleanup(subprocess.run, ["ip", "link", "del", self.bridge], capture_output=True)
        _run(["ip", "addr", "add", f"{self.bridge_address}/24", "dev", self.bridge])
        _run(["ip", "link", "set", self.bridge, "up"])
        for i, (ns, address) in enumerate(zip(self.namespaces, self.addresses)):
            self._can("create a network namespace", ["ip", "netns", "add", ns])
            # The namespace, and its cut rules, go once nothing uses it; sockets a stopped node left
            # behind can keep it a while after `ip netns del`, so its veth pair is deleted first.
            test.addCleanup(subprocess.run, ["ip", "netns", "del", ns], capture_output=True)
            veth = f"mdv{tag}h{i}"
            _run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns])
            test.addCleanup(subprocess.run, ["ip", "link", "del", veth], capture_output=True)
            _run(["ip", "link", "set", veth, "master", self.bridge, "up"])
            _run(["ip", "-n", ns, "addr", "add", f"{address}/24", "dev", "eth0"])
            _run(["ip", "-n", ns, "link", "set", "eth0", "up"])
            _run(["ip", "-n", ns, "link", "set", "lo", "up"])
        self._can("use nftables in a namespace", self.exec_args(0, ["nft", "list", "tables"]))
        self._blocked = set()  # (from host, to host): the packets dropped
        self._lock = threading.Lock()  # faults may change from several threads (a flapping link)

    @staticmethod
    def _can(what, args):
        """Runs one of the steps a machine may not allow: a failure skips the test, with the reason."""
        try:
            _run(args)
        except RuntimeError as e:
            raise unittest.SkipTest(f"cannot {what} here: {e}") from None

    def exec_args(self, host, args):
        """The command line that runs `args` inside host `host`'s namespace (for subprocess)."""
        return ["ip", "netns", "exec", self.namespaces[host]] + list(args)

    def block(self, src, dst):
        """Drops what host src sends to host dst; dst's packets still reach src."""
        self._change(add={(src, dst)})

    def unblock(self, src, dst):
        self._change(remove={(src, dst)})

    def cut(self, host, peers=None):
        """Drops everything between host and peers (default: every other host), both ways."""
        peers = [p for p in (range(len(self.addresses)) if peers is None else peers) if p != host]
        self._change(add={pair for p in peers for pair in ((host, p), (p, host))})

    def heal(self, host):
        self._change(remove={pair for pair in self._blocked if host in pair})

    def heal_all(self):
        self._change(remove=set(self._blocked))

    def blocked(self):
        return set(self._blocked)

    def _change(self, add=(), remove=()):
        with self._lock:
            touched = {h for pair in set(add) | set(remove) for h in pair}
            self._blocked = (self._blocked - set(remove)) | set(add)
            for host in touched:
                self._install(host)

    def _install(self, host):
        """Rewrites host's rule table in one nft transaction: what it may not send, and not take."""
        to = ", ".join(self.addresses[d] for s, d in sorted(self._blocked) if s == host)
        frm = ", ".join(self.addresses[s] for s, d in sorted(self._blocked) if d == host)
        rules = f"""
table inet {CUT_TABLE} {{ }}
delete table inet {CUT_TABLE}
"""
        if to or frm:
            rules += f"""table inet {CUT_TABLE} {{
  chain input {{ type filter hook input priority 0; {f"ip saddr {{ {frm} }} drop;" if frm else ""} }}
  chain output {{ type filter hook output priority 0; {f"ip daddr {{ {to} }} drop;" if to else ""} }}
}}"""
        _run(self.exec_args(host, ["nft", "-f", "-"]), stdin=rules)
