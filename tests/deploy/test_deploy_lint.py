"""The container recipe, the Kubernetes manifests and the systemd unit, checked without Docker or
a cluster (hadolint and kubeval are not in Debian): the manifests parse as YAML and hold together
(selectors, the headless service, probes, the disruption budget), and every flag and every
MINIDYNAMO_* variable they give the node exists in `minidynamo node --help`."""
import glob
import os
import re
import unittest

import yaml

from support import env_name, node_flags

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEPLOY = os.path.join(REPO, "deploy")
DOCKERFILE = os.path.join(DEPLOY, "docker", "Dockerfile")
UNIT = os.path.join(DEPLOY, "systemd", "minidynamo.service")
KUSTOMIZATION = os.path.join(DEPLOY, "k8s", "kustomization.yaml")
MANIFESTS = sorted(set(glob.glob(os.path.join(DEPLOY, "k8s", "*.yaml"))) - {KUSTOMIZATION})


def read(path):
    with open(path) as f:
        return f.read()


def node_invocations(text):
    """The flags after each `minidynamo node` in `text` (to the end of its line)."""
    return [flag for line in re.findall(r"minidynamo\"?,?\s*\"?node\b(.*)", text)
            for flag in re.findall(r"(?<![\w-])--([a-z][a-z0-9-]*)", line)]


def dockerfile_instructions(text):
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    return [(m.group(1).upper(), m.group(2).strip()) for m in re.finditer(r"^\s*(\w+)\s+(.*)$", joined, re.MULTILINE)]


class DeployLintTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.flags = node_flags()
        cls.docs = [doc for path in MANIFESTS for doc in yaml.safe_load_all(read(path)) if doc]
        cls.by_kind = {}
        for doc in cls.docs:
            cls.by_kind.setdefault(doc["kind"], []).append(doc)

    def test_every_flag_and_variable_given_to_the_node_exists(self):
        texts = {path: read(path) for path in MANIFESTS + [DOCKERFILE, UNIT]}
        given = 0
        for path, text in texts.items():
            for flag in node_invocations(text):
                given += 1
                self.assertIn(flag, self.flags, f"{path} passes --{flag}, which `node --help` does not list")
            for variable in re.findall(r"\bMINIDYNAMO_[A-Z0-9_]+", text):
                given += 1
                known = {env_name(f) for f in self.flags}
                self.assertIn(variable, known, f"{path} sets {variable}, which names no flag of `node`")
        self.assertGreater(given, 5)  # the check looked at something

    def test_the_flag_scan_finds_a_flag_that_does_not_exist(self):
        self.assertEqual(node_invocations('exec /usr/bin/minidynamo node --zone "a" --join x:1'), ["zone", "join"])
        self.assertEqual(node_invocations('ENTRYPOINT ["/usr/bin/minidynamo", "node", "--port", "1"]'), ["port"])

    def test_manifests_hold_together(self):
        self.assertEqual(sorted(self.by_kind), ["ClusterRole", "ClusterRoleBinding", "PodDisruptionBudget", "Service",
                                                "ServiceAccount", "StatefulSet"])
        sts = self.by_kind["StatefulSet"][0]
        labels = sts["spec"]["template"]["metadata"]["labels"]
        self.assertEqual(sts["spec"]["selector"]["matchLabels"], labels)
        services = {s["metadata"]["name"]: s for s in self.by_kind["Service"]}
        headless = services[sts["spec"]["serviceName"]]
        self.assertEqual(headless["spec"]["clusterIP"], "None")
        self.assertTrue(headless["spec"]["publishNotReadyAddresses"])  # members find each other while starting
        for service in services.values():
            self.assertEqual(service["spec"]["selector"], labels)
        pdb = self.by_kind["PodDisruptionBudget"][0]
        self.assertEqual(pdb["spec"]["maxUnavailable"], 1)
        self.assertEqual(pdb["spec"]["selector"]["matchLabels"], labels)

        pod = sts["spec"]["template"]["spec"]
        self.assertFalse(pod.get("enableServiceLinks", True))  # no injected MINIDYNAMO_* service variables
        self.assertTrue(pod["securityContext"]["runAsNonRoot"])
        container = pod["containers"][0]
        self.assertEqual(container["readinessProbe"]["httpGet"]["path"], "/health")
        self.assertEqual(container["livenessProbe"]["httpGet"]["path"], "/health/live")
        self.assertEqual(container["startupProbe"]["httpGet"]["path"], "/health/live")
        claim = sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"]
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        self.assertEqual(mounts[claim], "/var/lib/minidynamo")
        env = {e["name"]: e.get("value") for e in container["env"]}
        self.assertEqual(env["MINIDYNAMO_DATA_DIR"], "/var/lib/minidynamo")
        script = "\n".join(container["args"])
        self.assertIn(f"minidynamo-0.{headless['metadata']['name']}.", script)  # joins through pod 0's name
        self.assertIn("podAntiAffinity", pod["affinity"])
        # Every port the node serves on by default, from HTTP 5001: the container and both services
        # name them (clients reach RESP and gRPC through minidynamo-client; members, the peer port).
        defaults = {"http": 5001, "peer": 5001 + 1000, "resp": 5001 + 1379, "grpc": 5001 + 2000}
        self.assertEqual({p["name"]: p["containerPort"] for p in container["ports"]}, defaults)
        self.assertEqual({p["name"]: p["port"] for p in headless["spec"]["ports"]}, defaults)
        client = next(s for name, s in services.items() if name != headless["metadata"]["name"])
        self.assertEqual({p["name"]: p["port"] for p in client["spec"]["ports"]},
                         {k: v for k, v in defaults.items() if k != "peer"})
        self.assertEqual(pod["topologySpreadConstraints"][0]["topologyKey"], "topology.kubernetes.io/zone")

    def test_each_node_is_given_its_kubernetes_nodes_zone(self):
        pod = self.by_kind["StatefulSet"][0]["spec"]["template"]["spec"]
        init = pod["initContainers"][0]
        reads = "\n".join(init["args"])
        self.assertIn("topology\\.kubernetes\\.io/zone", reads)  # the label, escaped for jsonpath
        written = re.search(r">\s*(\S+)", reads).group(1)
        mount_of = lambda c, name: next(m["mountPath"] for m in c["volumeMounts"] if m["name"] == name)
        zone_volume = next(v["name"] for v in pod["volumes"] if "emptyDir" in v)
        main = pod["containers"][0]
        self.assertEqual(os.path.dirname(written), mount_of(init, zone_volume))
        script = "\n".join(main["args"])
        read_back = os.path.join(mount_of(main, zone_volume), os.path.basename(written))
        self.assertIn(f'cat {read_back}', script)
        self.assertIn("MINIDYNAMO_ZONE", script)
        self.assertIn("zone", self.flags)
        # Only the init container holds an API token, and its account may get nodes, nothing more.
        self.assertFalse(pod["automountServiceAccountToken"])
        self.assertNotIn("api-token", [m["name"] for m in main["volumeMounts"]])
        self.assertEqual(mount_of(init, "api-token"), "/var/run/secrets/kubernetes.io/serviceaccount")
        account = self.by_kind["ServiceAccount"][0]["metadata"]["name"]
        self.assertEqual(pod["serviceAccountName"], account)
        binding = self.by_kind["ClusterRoleBinding"][0]
        self.assertEqual([s["name"] for s in binding["subjects"]], [account])
        role = next(r for r in self.by_kind["ClusterRole"] if r["metadata"]["name"] == binding["roleRef"]["name"])
        self.assertEqual(role["rules"], [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}])

    def test_kustomization_lists_every_manifest(self):
        kustomization = yaml.safe_load(read(KUSTOMIZATION))
        self.assertEqual(sorted(kustomization["resources"]), sorted(os.path.basename(p) for p in MANIFESTS))

    def test_dockerfile(self):
        instructions = dockerfile_instructions(read(DOCKERFILE))
        stages = [args for name, args in instructions if name == "FROM"]
        self.assertEqual(len(stages), 2, stages)  # multi-stage: build, then the image
        self.assertTrue(all(s.startswith("debian:bookworm-slim") for s in stages), stages)
        final = instructions[max(i for i, (name, _) in enumerate(instructions) if name == "FROM"):]
        values = {name: args for name, args in final}
        self.assertRegex(values["USER"], r"^[1-9][0-9]*(:[1-9][0-9]*)?$")  # numeric and not root
        self.assertEqual(values["VOLUME"], "/var/lib/minidynamo")
        self.assertIn("/health", values["HEALTHCHECK"])
        self.assertEqual(values["ENTRYPOINT"], '["/usr/bin/minidynamo", "node"]')
        self.assertIn("MINIDYNAMO_DATA_DIR=/var/lib/minidynamo", values["ENV"])
        self.assertEqual(sorted(int(p) for p in values["EXPOSE"].split()), [5001, 6001, 6380, 7001])
        self.assertTrue(any(name == "COPY" and "--from=build" in args for name, args in final))


if __name__ == "__main__":
    unittest.main()
