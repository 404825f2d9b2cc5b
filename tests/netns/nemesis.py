"""The multi-host harness's nemesis: one random fault at a time among the hosts (hosts.py), and a
control socket through which `minidynamo check --faults hook` asks for them (nemesis_hook.py).

Faults (FAULTS): a full partition of the hosts into two sides; a one-way partition (a host's packets
to some others dropped, theirs to it delivered); a host isolated from some peers but not others; a
flapping link between two hosts (cut and healed every 0.1-0.5 s); kill -9 of a node (restarted at
the heal, its data dir kept); SIGSTOP of a node (SIGCONT at the heal). heal() undoes whatever is in
force, so that check can measure convergence once the faults stop.
"""
import os
import random
import socket
import threading

FAULTS = ["partition", "one-way", "isolate-some", "flap", "kill", "pause"]


class Nemesis:
    def __init__(self, hosts, seed, faults=FAULTS):
        self.hosts = hosts
        self.rng = random.Random(seed)
        self.faults = list(faults)
        self.injected = []  # what start() said, in order
        self._killed, self._paused = [], []
        self._flapping = None  # (thread, stop event) of a flapping link

    def names(self, hosts):
        return ", ".join(self.hosts.address(h) for h in sorted(hosts))

    def start(self):
        fault = self.rng.choice(self.faults)
        everyone = list(range(self.hosts.count))
        host = self.rng.choice(everyone)
        others = [h for h in everyone if h != host]
        some = self.rng.sample(others, self.rng.randint(1, len(others) - 1))
        if fault == "partition":
            side = self.rng.sample(everyone, self.rng.randint(1, len(everyone) // 2))
            for h in side:
                self.hosts.net.cut(h, [o for o in everyone if o not in side])
            what = f"partition: {{{self.names(side)}}} | the rest"
        elif fault == "one-way":
            for h in some:
                self.hosts.net.block(host, h)
            what = f"one-way: {self.names([host])} cannot send to {{{self.names(some)}}} (it still hears them)"
        elif fault == "isolate-some":
            self.hosts.net.cut(host, some)
            what = f"isolate {self.names([host])} from {{{self.names(some)}}}, not from the others"
        elif fault == "flap":
            peer = self.rng.choice(others)
            stop = threading.Event()
            thread = threading.Thread(target=self._flap, args=(host, peer, stop, self.rng.random()), daemon=True)
            thread.start()
            self._flapping = (thread, stop)
            what = f"flapping link {self.names([host])} <-> {self.names([peer])}"
        elif fault == "kill":
            self.hosts.kill9(host)
            self._killed.append(host)
            what = f"kill -9 {self.names([host])} (restarted at the heal)"
        else:
            self.hosts.pause(host)
            self._paused.append(host)
            what = f"SIGSTOP {self.names([host])} (SIGCONT at the heal)"
        self.injected.append(what)
        return what

    def _flap(self, a, b, stop, phase):
        rng = random.Random(phase)
        cut = False
        while not stop.wait(rng.uniform(0.1, 0.5)):
            if cut:
                self.hosts.net.heal(a)
            else:
                self.hosts.net.cut(a, [b])
            cut = not cut

    def heal(self):
        if self._flapping:
            thread, stop = self._flapping
            stop.set()
            thread.join()
            self._flapping = None
        self.hosts.net.heal_all()
        for h in self._paused:
            self.hosts.resume(h)
        for h in self._killed:
            self.hosts.start(h)
        done = f"healed: network, SIGCONT {self._paused}, restarted {self._killed}"
        self._killed, self._paused = [], []
        return done


class ControlSocket:
    """A UNIX socket that takes one line, `start` or `stop`, per connection and answers with what the
    nemesis did. One request at a time: check calls its hook in sequence."""

    def __init__(self, test, nemesis, path):
        self.nemesis = nemesis
        self.path = path
        self.errors = []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen()
        test.addCleanup(self.close)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return  # closed
            with conn:
                verb = conn.makefile().readline().strip()
                try:
                    answer = self.nemesis.start() if verb == "start" else self.nemesis.heal()
                except Exception as e:  # told to check (the hook fails) and to the test
                    self.errors.append(f"{verb}: {e!r}")
                    answer = f"error: {e!r}"
                conn.sendall((answer + "\n").encode())

    def close(self):
        try:
            self.server.shutdown(socket.SHUT_RDWR)  # wakes the accept()
        except OSError:
            pass
        self.server.close()
        self.thread.join()
        if os.path.exists(self.path):
            os.unlink(self.path)
