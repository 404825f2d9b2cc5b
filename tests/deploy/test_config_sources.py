"""`minidynamo node` takes every flag from a config file (--config) and from MINIDYNAMO_*
variables as well as from the command line, which wins over the environment, which wins over the
file; a bad file or variable stops the node with exit code 2 and says which key. No node is
started: --print-config shows what a node would run with."""
import os
import shutil
import subprocess
import tempfile
import tomllib
import unittest

from support import BINARY, SOURCE_FLAGS, clean_env, env_name, node_flags, request, start_node

# A value other than the default for every flag of `node --help`, as the command line takes it,
# and as a config file holds it. A new flag must be added here: test_every_flag_is_covered fails
# until it is, so the round trip covers every flag.
VALUES = {
    "port": ("21590", 21590),
    "host": ("10.1.2.3", "10.1.2.3"),
    "listen": ("0.0.0.0", "0.0.0.0"),
    "advertise": ("db1.example:21590", "db1.example:21590"),
    "nodes": ("db1.example:21590,db2.example:21590", ["db1.example:21590", "db2.example:21590"]),
    "join": ("db3.example:5001", "db3.example:5001"),
    "zone": ("eu-west-1b", "eu-west-1b"),
    "gossip-ms": ("700", 700),
    "peer-port-offset": ("900", 900),
    "resp-port": ("16379", 16379),
    "grpc-port": ("17001", 17001),
    "data-dir": ("/srv/mini dynamo", "/srv/mini dynamo"),
    "node-id": ("node_custom", "node_custom"),
    "partitions": ("512", 512),
    "engine": ("memory", "memory"),
    "sync": ("interval", "interval"),
    "sync-interval-ms": ("250", 250),
    "commit-window-us": ("3000", 3000),
    "threads": ("4", 4),
    "n": ("5", 5),
    "r": ("3", 3),
    "w": ("4", 4),
    "timeout-ms": ("3000", 3000),
    "read-repair-window-ms": ("1500", 1500),
    "heartbeat-ms": ("300", 300),
    "phi-threshold": ("9.5", 9.5),
    "aae-interval-ms": ("0", 0),
    "tombstone-grace-ms": ("7200000", 7200000),
    "max-siblings": ("50", 50),
    "max-hints": ("1000", 1000),
    "max-key-bytes": ("512", 512),
    "max-value-bytes": ("2048", 2048),
    "compression": ("off", "off"),
    "compression-min-bytes": ("2048", 2048),
    "tls-cert": ("/etc/minidynamo/node.pem", "/etc/minidynamo/node.pem"),
    "tls-key": ("/etc/minidynamo/node.key", "/etc/minidynamo/node.key"),
    "tls-ca": ("/etc/minidynamo/ca.pem", "/etc/minidynamo/ca.pem"),
    "security": ("on", "on"),
    "admin-password-file": ("/etc/minidynamo/admin-password", "/etc/minidynamo/admin-password"),
    "log-level": ("debug", "debug"),
}


class ConfigSourcesTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="minidynamo-config-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def node(self, *args, env=None):
        return subprocess.run([BINARY, "node", *args], capture_output=True, text=True, timeout=30,
                              env=env or clean_env())

    def print_config(self, *args, env=None):
        r = self.node(*args, "--print-config", env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def write(self, text, name="node.conf"):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def refused(self, *args, env=None, says=()):
        r = self.node(*args, "--print-config", env=env)
        self.assertEqual(r.returncode, 2, f"{args}: {r.stdout}{r.stderr}")
        for words in says:
            self.assertIn(words, r.stderr)
        return r

    def test_every_flag_is_covered(self):
        self.assertEqual(node_flags() - SOURCE_FLAGS, set(VALUES))

    def test_every_flag_round_trips_through_a_config_file(self):
        args = [a for flag, (text, _) in VALUES.items() for a in (f"--{flag}", text)]
        written = self.print_config(*args)
        parsed = tomllib.loads(written)
        self.assertEqual(parsed, {flag: value for flag, (_, value) in VALUES.items()})
        # Read back, the file gives the same settings, and printed again the same file.
        self.assertEqual(self.print_config("--config", self.write(written)), written)

    def test_flags_not_given_are_written_commented_out(self):
        """A default written as a setting would count as given (a kept data dir checks --nodes)."""
        written = self.print_config("--port", "21596")
        self.assertEqual(tomllib.loads(written), {"port": 21596})
        for flag in VALUES:
            if flag != "port":
                self.assertRegex(written, rf"(?m)^# {flag}=", flag)

    def test_every_flag_comes_from_its_environment_variable(self):
        env = clean_env(**{env_name(flag): text for flag, (text, _) in VALUES.items()})
        parsed = tomllib.loads(self.print_config(env=env))
        self.assertEqual(parsed, {flag: value for flag, (_, value) in VALUES.items()})

    def test_command_line_beats_environment_beats_file(self):
        path = self.write('# a comment\nport = 21591\nhost = "10.0.0.1"\nsync = "none"\n')
        env = clean_env(MINIDYNAMO_PORT="21592", MINIDYNAMO_HOST="10.0.0.2")
        parsed = tomllib.loads(self.print_config("--config", path, "--port", "21593", env=env))
        self.assertEqual((parsed["port"], parsed["host"], parsed["sync"]), (21593, "10.0.0.2", "none"))

    def test_config_file_from_the_environment(self):
        path = self.write("port = 21594\n")
        parsed = tomllib.loads(self.print_config(env=clean_env(MINIDYNAMO_CONFIG=path)))
        self.assertEqual(parsed["port"], 21594)

    def test_nodes_from_a_file_as_a_list_or_a_comma_separated_string(self):
        for line in ('nodes = ["a:1", "b:2"]\n', 'nodes = "a:1,b:2"\n'):
            parsed = tomllib.loads(self.print_config("--config", self.write(line)))
            self.assertEqual(parsed["nodes"], ["a:1", "b:2"], line)

    def test_bad_files_and_variables_are_refused_naming_the_key(self):
        cases = [
            ("prot = 5001\n", ["'prot' is not a flag"]),
            ('port = "abc"\n', ["'port'", "abc"]),
            ("max-hints = -5\n", ["'max-hints'", "must not be negative"]),
            ('engine = "leveldb"\n', ["'engine'", "leveldb"]),
            ("[node]\nport = 5001\n", ["sections are not used"]),
            ("config = \"/etc/other.conf\"\n", ["'config' is not a flag"]),
        ]
        for text, says in cases:
            with self.subTest(text=text):
                path = self.write(text)
                self.refused("--config", path, says=[path] + says)
        # A rule across flags names the flags, wherever they came from: R and W default to 2.
        self.refused("--config", self.write("n = 1\n"), says=["--n/--r/--w", "R <= N"])
        self.refused("--config", os.path.join(self.dir, "missing.conf"), says=["missing.conf"])
        self.refused(env=clean_env(MINIDYNAMO_PORT="abc"), says=["--port", "abc"])
        self.refused(env=clean_env(MINIDYNAMO_SYNC="sometimes"), says=["--sync", "sometimes"])

    def test_a_node_runs_with_its_config_file(self):
        """The file's settings are the ones a node serves with, not only the ones it prints."""
        data = os.path.join(self.dir, "data")
        path = self.write(f'port = 21595\nnodes = "127.0.0.1:21595"\nn = 1\nr = 1\nw = 1\n'
                          f'data-dir = "{data}"\nengine = "memory"\n')
        log = os.path.join(self.dir, "node.log")
        start_node(self, [BINARY, "node", "--config", path], 21595, log, env=clean_env(MINIDYNAMO_PROT="21597"))
        self.assertEqual(request(21595, "PUT", "/kv/k", {"value": "v"}).status, 200)  # W=1 of N=1
        self.assertTrue(os.path.exists(os.path.join(data, "NODE_ID")))
        with open(log) as f:  # a misspelled variable is not silently ignored
            self.assertIn("MINIDYNAMO_PROT is set but names no flag", f.read())


if __name__ == "__main__":
    unittest.main()
