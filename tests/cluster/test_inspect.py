"""The key inspector's route with real processes: GET /inspect/{key} shows every replica's own
copy and what a read at R would answer, repairs nothing, and refuses what it does not take.
Ports 20990-20993 (peers 21990-21993)."""
import unittest

from harness import HOST, ClusterTest, request

BASE = 20990


class InspectTest(ClusterTest):
    def test_two_concurrent_writes_show_as_two_siblings_on_every_replica_and_in_the_read(self):
        c = self.start_cluster(BASE, extra_args=["--aae-interval-ms", "0"])
        a, b, third = c.ports
        # Two blind writes through two coordinators: concurrent, so both are kept.
        self.assertEqual(request(a, "PUT", "/kv/cart", {"value": ["milk"], "W": 3}).status, 200)
        self.assertEqual(request(b, "PUT", "/kv/cart", {"value": ["eggs"], "W": 3}).status, 200)
        r = request(third, "GET", "/inspect/cart?R=2")
        self.assertEqual(r.status, 200, r.json)
        self.assertEqual((r.json["N"], r.json["R"], r.json["key"]), (3, 2, "cart"))
        self.assertEqual({rep["address"] for rep in r.json["replicas"]}, {f"{HOST}:{p}" for p in c.ports})
        for rep in r.json["replicas"]:
            self.assertEqual(rep["status"], "ok", rep)
            self.assertEqual(sorted(s["value"][0] for s in rep["siblings"]), ["eggs", "milk"], rep)
            self.assertEqual(len(rep["version_vector"]), 2, rep)  # one entry per coordinator
        read = r.json["read"]
        self.assertEqual((read["status"], read["replies"]), ("conflict", 2), read)
        self.assertEqual(len(read["siblings"]), 2, read)
        self.assertTrue(read["context"])

        # Resolved with the context: one value everywhere.
        self.assertEqual(request(a, "PUT", "/kv/cart", {"value": ["milk", "eggs"], "context": read["context"],
                                                        "W": 3}).status, 200)
        r = request(b, "GET", "/inspect/cart")
        self.assertEqual(r.json["read"]["status"], "ok", r.json)
        self.assertTrue(all(len(rep["siblings"]) == 1 for rep in r.json["replicas"]), r.json)

    def test_a_replica_that_is_down_shows_unreachable_and_bad_requests_are_refused(self):
        c = self.start_cluster(BASE)
        a, b, down = c.ports
        self.assertEqual(request(a, "PUT", "/kv/k", {"value": 1, "W": 3}).status, 200)
        c.kill9(down)
        r = request(a, "GET", "/inspect/k?R=3")
        self.assertEqual(r.status, 200, r.json)
        states = {rep["address"]: rep["status"] for rep in r.json["replicas"]}
        self.assertEqual(states, {f"{HOST}:{a}": "ok", f"{HOST}:{b}": "ok", f"{HOST}:{down}": "unreachable"})
        self.assertEqual(r.json["read"], {"status": "unavailable", "replies": 2})
        self.assertEqual(request(a, "GET", "/inspect/absent").json["read"]["status"], "not_found")
        self.assertEqual(request(a, "GET", "/inspect/k?W=2").status, 400)
        self.assertEqual(request(a, "GET", "/inspect/k?R=4").status, 400)
        self.assertEqual(request(a, "PUT", "/inspect/k", {"value": 1}).status, 405)


if __name__ == "__main__":
    unittest.main()
