"""The Debian package: scripts/package.sh builds it; its contents, control fields and config file
are checked; installed into a scratch root with `dpkg --root` (its maintainer scripts make the
minidynamo user and /var/lib/minidynamo there), its unit passes `systemd-analyze verify`, the
installed binary serves with the installed config file, and a purge removes it. Installing needs
root (chown to the new user); skipped otherwise. Ports 21550-21559 (peers +1000)."""
import glob
import os
import shutil
import subprocess
import tempfile
import tomllib
import unittest

from support import BINARY, SOURCE_FLAGS, node_flags, request, start_node, stop_process

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
UNIT = "lib/systemd/system/minidynamo.service"


def run(*args, **kwargs):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=120, **kwargs)
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    return r


class PackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="minidynamo-package-")
        out = run(os.path.join(REPO, "scripts", "package.sh"), "--binary", BINARY, "--out", cls.dir).stdout
        cls.deb = out.strip().splitlines()[-1]
        cls.contents = os.path.join(cls.dir, "contents")
        run("dpkg-deb", "-R", cls.deb, cls.contents)  # the files and the DEBIAN control dir

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def field(self, name):
        return run("dpkg-deb", "-f", self.deb, name).stdout.strip()

    def test_control_fields_and_files(self):
        self.assertEqual(self.field("Package"), "minidynamo")
        self.assertIn("librocksdb", self.field("Depends"))  # from dpkg-shlibdeps
        self.assertIn("libgrpc++", self.field("Depends"))  # the gRPC front end (src/net/grpc_server.h)
        for path in ["usr/bin/minidynamo", "etc/minidynamo/node.conf", UNIT, "usr/lib/sysusers.d/minidynamo.conf",
                     "usr/lib/tmpfiles.d/minidynamo.conf", "usr/share/doc/minidynamo/operations.md"]:
            self.assertTrue(os.path.isfile(os.path.join(self.contents, path)), path)
        with open(os.path.join(self.contents, "DEBIAN", "conffiles")) as f:
            self.assertEqual(f.read().split(), ["/etc/minidynamo/node.conf"])

    def test_config_file_names_every_flag_and_sets_only_the_data_dir(self):
        with open(os.path.join(self.contents, "etc", "minidynamo", "node.conf")) as f:
            text = f.read()
        self.assertEqual(tomllib.loads(text), {"data-dir": "/var/lib/minidynamo"})
        for flag in node_flags() - SOURCE_FLAGS - {"data-dir"}:
            self.assertRegex(text, rf"(?m)^# {flag}=", f"{flag} is not in node.conf")

    def test_unit_passes_systemd_analyze_verify(self):
        root = tempfile.mkdtemp(prefix="minidynamo-unit-")
        self.addCleanup(shutil.rmtree, root, ignore_errors=True)
        # The unit, its binary, and the targets and slices it is ordered against.
        units = os.path.join(root, "lib", "systemd", "system")
        os.makedirs(units)
        for path in glob.glob("/lib/systemd/system/*.target") + glob.glob("/lib/systemd/system/*.slice"):
            shutil.copy(path, units)
        shutil.copy(os.path.join(self.contents, UNIT), units)
        os.makedirs(os.path.join(root, "usr", "bin"))
        shutil.copy(os.path.join(self.contents, "usr", "bin", "minidynamo"), os.path.join(root, "usr", "bin"))
        r = subprocess.run(["systemd-analyze", "verify", f"--root={root}", "minidynamo.service"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))  # a warning (an unknown key) fails too

    @unittest.skipUnless(os.geteuid() == 0, "installing into a scratch root chowns to its user: needs root")
    def test_install_run_and_purge_in_a_scratch_root(self):
        root = tempfile.mkdtemp(prefix="minidynamo-root-")
        self.addCleanup(shutil.rmtree, root, ignore_errors=True)
        admin = os.path.join(root, "var", "lib", "dpkg")
        for sub in ["info", "updates", "triggers"]:
            os.makedirs(os.path.join(admin, sub))
        open(os.path.join(admin, "status"), "w").close()
        os.makedirs(os.path.join(root, "etc"))
        # Its dependencies are on this machine, not in the scratch root's (empty) dpkg database.
        run("dpkg", f"--root={root}", "--force-depends", "--force-script-chrootless", "-i", self.deb)
        self.assertIn("ii  minidynamo", run("dpkg", f"--root={root}", "-l", "minidynamo").stdout)

        # postinst made the user (in the root's /etc/passwd, not this machine's) and its data dir.
        with open(os.path.join(root, "etc", "passwd")) as f:
            users = {line.split(":")[0]: line.split(":") for line in f}
        self.assertIn("minidynamo", users)
        self.assertEqual(users["minidynamo"][5], "/var/lib/minidynamo")
        uid = int(users["minidynamo"][2])
        self.assertLess(uid, 1000)  # a system user
        data = os.stat(os.path.join(root, "var", "lib", "minidynamo"))
        self.assertEqual((data.st_uid, oct(data.st_mode & 0o777)), (uid, "0o750"))

        # The installed binary, with the installed config file and two flags over it.
        installed = os.path.join(root, "usr", "bin", "minidynamo")
        data_dir = os.path.join(root, "var", "lib", "minidynamo", "test")
        proc = start_node(self, [installed, "node", "--config", os.path.join(root, "etc", "minidynamo", "node.conf"),
                                 "--port", "21551", "--nodes", "127.0.0.1:21551", "--n", "1", "--r", "1", "--w", "1",
                                 "--data-dir", data_dir], 21551, os.path.join(root, "node.log"))
        self.assertEqual(request(21551, "PUT", "/kv/pkg", {"value": "ok"}).status, 200)
        self.assertEqual(request(21551, "GET", "/kv/pkg").json["value"], "ok")
        stop_process(proc)
        self.assertEqual(proc.returncode, 0)

        run("dpkg", f"--root={root}", "--force-script-chrootless", "--purge", "minidynamo")
        for path in ["usr/bin/minidynamo", "etc/minidynamo/node.conf", UNIT]:
            self.assertFalse(os.path.exists(os.path.join(root, path)), f"{path} left after purge")
        self.assertTrue(os.path.exists(os.path.join(data_dir, "NODE_ID")), "a purge must not remove data")


if __name__ == "__main__":
    unittest.main()
