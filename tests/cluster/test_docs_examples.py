"""The documentation runs: every command of README.md's tour and of docs/api.md's examples is run,
in order, against a real cluster, and each documented answer is compared with the real one.

Commands come from the ```bash blocks of the markdown, so a changed or added example is checked
without touching this file. Addresses on ports 5001-5004 are moved to this test's ports. What a
command is documented to answer is read from the markdown too: a `# {...}` line right after it
(README), or a ```json block right after its block (docs/api.md); `# "field": value` fragments in
a trailing comment; `exit code N` in a trailing comment of a minidynamo command (else 0); for a
redis-cli command (on RESP ports 6380-6383, moved as their HTTP ports are), what it prints as in
a terminal, in its trailing comment, with "..." for what may differ. The
comparison is by fields, not bytes: the status code follows from "status", placeholders ("...")
match anything, vector clocks are compared without their node ids, and a context the docs show
as a placeholder ("T", "<token from get>") stands for the real one in later commands. A comment
line saying "kill -9" kills the node it names (or the last one).
"""
import json
import os
import re
import shlex
import subprocess
import unittest

from harness import BINARY, HOST, RESP_BELOW, ClusterTest, request, wait_until

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DOC_PORT = re.compile(r"(?:localhost|127\.0\.0\.1):(500\d)\b")


def bash_blocks(path, section=None):
    """(commands, expected json block or None) per ```bash block, in order; a command is (line, comment).
    With `section`, only the blocks under that "## " heading."""
    with open(os.path.join(ROOT, path)) as f:
        text = f.read()
    if section:
        text = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(\w*)\n(.*?)```", text, re.S)
    result = []
    for i, (lang, body) in enumerate(blocks):
        if lang != "bash":
            continue
        expected = blocks[i + 1][1].strip() if i + 1 < len(blocks) and blocks[i + 1][0] == "json" else None
        gap = text.split(f"```{lang}\n{body}```", 1)[1].split("```", 1)[0].strip()
        result.append((commands(body), expected if expected and not gap else None))
    return result


def commands(body):
    """[(command, trailing comment, documented answer line or None)] and comment lines as (None, text, None)."""
    out = []
    for line in body.replace("\\\n", " ").splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            text = line[1:].strip()
            if text.startswith("{") and out and out[-1][0]:
                out[-1] = (out[-1][0], out[-1][1], text)
            else:
                out.append((None, text, None))
            continue
        command, comment = split_comment(line)
        out.append((command, comment, None))
    return out


def split_comment(line):
    quote = None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] == " "):
            return line[:i].strip(), line[i + 1:].strip()
    return line, ""


def lenient_json(text):
    """The documented JSON, with its "..." elisions: `,...` inside objects and arrays is dropped."""
    text = re.sub(r",\s*\.\.\.(?=\s*[}\]])", "", text)
    return json.loads(text)


class DocsExamples(ClusterTest):
    def setUp(self):
        self.context_for = {}  # a context the docs show -> the real one
        self.last_context = None

    def port(self, doc_port):
        return self.base + int(doc_port) - 5000

    def localize(self, text):
        text = DOC_PORT.sub(lambda m: f"{HOST}:{self.port(m.group(1))}", text)
        text = re.sub(r"<[^>]*(?:token|context)[^>]*>", lambda m: self.last_context or m.group(0), text)
        for shown, real in self.context_for.items():
            text = text.replace(f'"{shown}"', f'"{real}"')
        return text

    def run_docs(self, base, blocks):
        self.base = base
        self.cluster = self.start_cluster(base)
        ran = 0
        for cmds, json_block in blocks:
            for command, comment, answer_line in cmds:
                if command is None:
                    if "kill -9" in comment:
                        named = DOC_PORT.search(comment) or re.search(r"\b(500\d)\b", comment)
                        self.cluster.kill9(self.port(named.group(1)) if named else self.cluster.ports[-1])
                    continue
                with self.subTest(command=command):
                    expected = answer_line or (json_block if command.startswith("curl") else None)
                    self.run_command(command, comment, expected)
                    ran += 1
        return ran

    def run_command(self, command, comment, expected):
        args = shlex.split(self.localize(command))
        if args[-1] == "&":
            args.pop()
        if args[0] == "curl":
            return self.run_curl(args, comment, expected)
        if args[0] == "redis-cli":
            return self.run_redis_cli(args, comment)
        self.assertTrue(args[0].endswith("minidynamo"), f"a command this check does not know: {command}")
        if args[1] == "node":
            port, via = args[args.index("--port") + 1], args[args.index("--join") + 1]
            return self.cluster.join(self.port(port), int(via.rsplit(":", 1)[1]))
        if not any(a == "--node" for a in args):
            args += ["--node", f"{HOST}:{self.port('5001')}"]
        r = subprocess.run([BINARY] + args[1:], capture_output=True, text=True, timeout=30)
        code = re.search(r"exit code (\d+)", comment)
        self.assertEqual(r.returncode, int(code.group(1)) if code else 0, f"{command}\n{r.stdout}{r.stderr}")
        found = re.search(r"^context: (\S+)$", r.stdout, re.M)
        if found:
            self.last_context = found.group(1)

    def run_curl(self, args, comment, expected):
        out = subprocess.run(["curl", "-s", "-S", "--max-time", "10", "-w", "\n%{http_code}"] + args[1:],
                             capture_output=True, text=True, check=True).stdout
        body, status = out.rsplit("\n", 1)
        actual = json.loads(body)
        if actual.get("context"):
            self.last_context = actual["context"]
        fragments = dict(re.findall(r'"(\w+)":\s*(\d+|"[^"]*"|true|false)', comment))
        if fragments:  # e.g. `# "ring_version": 2`: the state the comment describes may take gossip to arrive
            url = args[-1]
            wait_until(lambda: all(json.dumps(self.get(url).get(k)) == v for k, v in fragments.items()),
                       what=f"{url} to show {fragments}")
        if expected is None:
            self.assertLess(int(status), 400, body)
            return
        doc = lenient_json(expected)
        want_status = {"success": 200, "conflict": 200, "not_found": 404, "ok": 200}.get(doc["status"])
        if want_status is None:
            want_status = 503 if "required" in doc else int(status) if int(status) >= 400 else 400
        self.assertEqual(int(status), want_status, body)
        self.compare(doc, actual, "")

    def run_redis_cli(self, args, comment):
        port = int(args[args.index("-p") + 1])
        http_port = self.port(str(port - 1379))
        args[args.index("-p") + 1] = str(http_port - RESP_BELOW)
        r = subprocess.run([args[0], "--no-raw"] + args[1:], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.stderr, "", args)
        found = re.search(r'^\d+\) "context"\n\d+\) "([^"]+)"', r.stdout, re.M)  # DGET's
        if found:
            self.last_context = found.group(1)
        if "..." in comment:
            self.compare(comment, r.stdout.strip(), " ".join(args))
        elif comment:
            self.assertEqual(r.stdout.strip(), comment, " ".join(args))

    def get(self, url):
        port, path = re.match(r"https?://[^:]+:(\d+)(/.*)", url).groups()
        return request(int(port), "GET", path).json

    def compare(self, doc, actual, where):
        if isinstance(doc, str) and "..." in doc:  # elided text: its pieces, in order
            self.assertIsInstance(actual, str, where)
            at = 0
            for piece in (p.strip() for p in doc.split("...")):
                at = actual.find(piece, at)
                self.assertGreaterEqual(at, 0, f"{where}: {piece!r} not in {actual!r}")
            return
        if isinstance(doc, dict):
            self.assertIsInstance(actual, dict, where)
            for key, value in doc.items():
                self.assertIn(key, actual, f"{where}: documented field {key} missing from {actual}")
                if key == "context":  # a token: present; what the docs show stands for it from now on
                    self.assertTrue(actual[key], where)
                    if "..." not in value:
                        self.context_for[value] = actual[key]
                elif key == "vector_clock":  # node ids differ from the docs' ports
                    self.assertEqual(sorted(value.values()), sorted(actual[key].values()), f"{where}.{key}")
                else:
                    self.compare(value, actual[key], f"{where}.{key}")
            return
        if isinstance(doc, list):
            self.assertEqual(len(doc), len(actual), f"{where}: {actual}")
            key = lambda v: json.dumps(v.get("value") if isinstance(v, dict) else v)
            for d, a in zip(sorted(doc, key=key), sorted(actual, key=key)):
                self.compare(d, a, f"{where}[]")
            return
        self.assertEqual(doc, actual, where)

    def test_readme_tour(self):
        blocks = bash_blocks("README.md", section="A tour")
        self.assertGreaterEqual(self.run_docs(20900, blocks), 10)

    def test_api_examples(self):
        blocks = bash_blocks("docs/api.md")
        self.assertGreaterEqual(self.run_docs(20950, blocks), 8)


if __name__ == "__main__":
    unittest.main(verbosity=2)
