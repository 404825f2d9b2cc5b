"""The seed's failure drills across five hosts (network namespaces, hosts.py): with one host killed,
W=2 writes and R=2 reads succeed; a strict W=3 write whose preference list holds the dead host
answers 503 with required 3 and acknowledged 2, while a sloppy W=3 write succeeds through a stand-in
(five hosts: there is one outside every preference list); the hints kept for the dead host are
delivered when it returns, so its own copy has the writes without any read; reads after recovery see
every write, the 503 ones included (indeterminate, not undone). Needs root; skipped otherwise."""
import unittest

from harness import wait_until
from hosts import Hosts

KEYS = 40  # with 3 of 5 hosts per preference list, some key has the dead host on it (P = 1 - 0.4^40)
DEAD = 4


class Drills(unittest.TestCase):
    def setUp(self):
        self.hosts = Hosts(self)
        self.hosts.start()
        self.hosts.wait_connected()

    def pending_hints_for(self, host):
        address = self.hosts.address(host)
        return sum(n["pending_hints"] for h in self.hosts.procs
                   for n in self.hosts.request(h, "GET", "/cluster").json["nodes"] if n["address"] == address)

    def hints_delivered(self):
        return sum(self.hosts.request(h, "GET", "/cluster").json["counters"]["hints_delivered"] for h in self.hosts.procs)

    def test_one_host_down_then_back(self):
        h = self.hosts
        h.kill9(DEAD)
        put = h.request(0, "PUT", "/kv/drill", {"value": "data", "N": 3, "W": 2})
        self.assertEqual(put.status, 200, put)
        got = h.request(1, "GET", "/kv/drill", {"R": 2})
        self.assertEqual((got.status, got.json.get("value")), (200, "data"), got)

        strict, refused = {}, []
        for i in range(KEYS):
            key = f"strict-{i}"
            answer = h.request(i % DEAD, "PUT", f"/kv/{key}", {"value": key, "W": 3, "sloppy": False})
            strict[key] = answer
            if answer.status == 503:
                refused.append(key)
                self.assertEqual((answer.json["required"], answer.json["acknowledged"]), (3, 2), answer)
            else:
                self.assertEqual(answer.status, 200, f"{key}: {answer}")
        self.assertTrue(refused, f"no strict W=3 write met the dead host: {strict}")
        for i in range(KEYS):
            answer = h.request(i % DEAD, "PUT", f"/kv/sloppy-{i}", {"value": i, "W": 3})
            self.assertEqual(answer.status, 200, f"sloppy-{i}: a stand-in should count toward W: {answer}")
        self.assertGreater(self.pending_hints_for(DEAD), 0, "no host keeps a hint for the dead one")

        delivered_before = self.hints_delivered()
        h.start(DEAD)
        wait_until(lambda: self.pending_hints_for(DEAD) == 0, timeout_s=30, what="the hints to be handed off")
        self.assertGreater(self.hints_delivered(), delivered_before)

        # Its own copy, read with every other host cut off (R=1 can then only be answered by it): the
        # writes it missed arrived by handoff, not by a read's repair.
        h.net.cut(DEAD)
        for key in refused:
            got = h.request(DEAD, "GET", f"/kv/{key}?R=1")
            self.assertEqual((got.status, got.json.get("value")), (200, key), f"{key} on the returned host: {got}")
        h.net.heal(DEAD)

        for key in ["drill"] + list(strict):
            got = h.request(DEAD, "GET", f"/kv/{key}?R=3")
            self.assertEqual(got.status, 200, f"{key} after recovery: {got}")
            self.assertEqual(got.json.get("value"), "data" if key == "drill" else key, got)
        for i in range(KEYS):
            got = h.request(DEAD, "GET", f"/kv/sloppy-{i}?R=3")
            self.assertEqual((got.status, got.json.get("value")), (200, i), got)


if __name__ == "__main__":
    unittest.main()
