"""The flags of `minidynamo node`, as its --help lists them (shared by the deploy tests)."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cluster"))
from harness import BINARY  # noqa: E402

# Flags about where flags come from, not settings of the node: a config file cannot hold them.
SOURCE_FLAGS = {"help", "config", "print-config"}


def node_flags(binary=BINARY):
    """Every --name in `node --help`, without the dashes."""
    text = subprocess.run([binary, "node", "--help"], capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"^\s+(?:-\w,\s*)?--([a-z0-9-]+)", text, re.MULTILINE))


def env_name(flag):
    return "MINIDYNAMO_" + flag.upper().replace("-", "_")
