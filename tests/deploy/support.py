"""What the deploy tests share: the flags of `minidynamo node` as its --help lists them, an
environment without MINIDYNAMO_* variables, and one node started from a command line."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cluster"))
from harness import BINARY, client_port_flags, request, stop_process, wait_until  # noqa: E402,F401

# Flags about where flags come from, not settings of the node: a config file cannot hold them.
SOURCE_FLAGS = {"help", "config", "print-config"}


def node_flags(binary=BINARY):
    """Every --name in `node --help`, without the dashes."""
    text = subprocess.run([binary, "node", "--help"], capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"^\s+(?:-\w,\s*)?--([a-z0-9-]+)", text, re.MULTILINE))


def env_name(flag):
    return "MINIDYNAMO_" + flag.upper().replace("-", "_")


def clean_env(**variables):
    """This process's environment without MINIDYNAMO_* variables (ctest sets MINIDYNAMO_BIN), plus `variables`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIDYNAMO_")}
    env.update(variables)
    return env


def start_node(test, argv, port, log_path, env=None):
    """Starts `argv` (a node serving HTTP on `port`, its other client ports given by client_port_flags),
    stopped when `test` ends, and waits until it serves."""
    log = open(log_path, "ab")
    test.addCleanup(log.close)
    argv = list(argv) + client_port_flags(port)
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env or clean_env())
    test.addCleanup(lambda: proc.poll() is not None or stop_process(proc))

    def serving():
        test.assertIsNone(proc.poll(), f"{argv[0]} exited")
        try:
            return request(port, "GET", "/health", timeout=1).status == 200
        except OSError:
            return False
    wait_until(serving, what=f"{argv[0]} to serve on {port}")
    return proc
