#!/usr/bin/env python3
"""The podman run options that give a container what the DaemonSet's pod
gets (configs/kubernetes/daemonset.yaml): its namespaces, capabilities,
security settings, host paths and arguments, for make test-image.

  podman-args.py DAEMONSET --netns PATH [--env NAME=VALUE]... [--host-path HOST=LAB]...
  podman-args.py DAEMONSET --probe      # the readiness probe: "PORT PATH"
  podman-args.py DAEMONSET --caps       # the capabilities it adds, one a line

Prints one option or argument a line: the options, "--", then the
container's arguments.  The pod's "host" network namespace is --netns
(a lab namespace); --env gives the value of each variable the pod reads
from the downward API or a ConfigMap; --host-path puts a host path
elsewhere for the lab.  A field this script does not know how to give
podman, or a value it cannot honour (privileged, no hostNetwork), fails
(exit 1, naming it): the manifest cannot ask for what the test does not
run."""
import re
import sys
import yaml

# What podman cannot or need not reproduce, and why it does not change
# what synacct can do: the rest is mapped below, or refused.
POD_IGNORED = {
    "tolerations", "terminationGracePeriodSeconds", "dnsPolicy",
    "automountServiceAccountToken", "containers", "volumes",
    "hostNetwork", "hostPID", "priorityClassName", "serviceAccountName",
}
CONTAINER_IGNORED = {
    "name", "image", "imagePullPolicy", "ports", "readinessProbe",
    "resources",
    "args", "env", "volumeMounts", "securityContext",
}


def fail(msg):
    sys.exit(f"podman-args.py: {msg}")


def main(argv):
    path, rest = argv[0], argv[1:]
    env, remap, netns, mode = {}, {}, None, "run"
    while rest:
        opt = rest.pop(0)
        if opt == "--netns":
            netns = rest.pop(0)
        elif opt == "--env":
            k, v = rest.pop(0).split("=", 1)
            env[k] = v
        elif opt == "--host-path":
            k, v = rest.pop(0).split("=", 1)
            remap[k] = v
        elif opt in ("--probe", "--caps"):
            mode = opt[2:]
        else:
            fail(f"unknown option {opt}")
    with open(path) as f:
        ds = yaml.safe_load(f)
    if ds.get("kind") != "DaemonSet":
        fail(f"{path} is not a DaemonSet")
    pod = ds["spec"]["template"]["spec"]
    for k in pod:
        if k not in POD_IGNORED:
            fail(f"spec.template.spec.{k}: not mapped to podman")
    if len(pod["containers"]) != 1:
        fail("one container expected")
    c = pod["containers"][0]
    for k in c:
        if k not in CONTAINER_IGNORED:
            fail(f"containers[0].{k}: not mapped to podman")
    sc = c.get("securityContext", {})
    caps = sc.get("capabilities", {})

    if mode == "caps":
        print("\n".join(caps.get("add", [])))
        return
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    if mode == "probe":
        get = c["readinessProbe"]["httpGet"]
        print(ports.get(get["port"], get["port"]), get["path"])
        return

    out = []
    if pod.get("hostNetwork") is not True:
        fail("hostNetwork must be true (synacct watches the node's interfaces)")
    if not netns:
        fail("--netns: the lab namespace that stands for the node's")
    out.append(f"--network=ns:{netns}")
    if pod.get("hostPID") is True:
        out.append("--pid=host")
    for k, v in sc.items():
        if k == "privileged":
            if v:
                fail("securityContext.privileged: the test runs without --privileged")
        elif k == "readOnlyRootFilesystem":
            if v:
                out.append("--read-only")
        elif k == "runAsUser":
            out.append(f"--user={v}")
        elif k == "seccompProfile":
            if v.get("type") == "Unconfined":
                out.append("--security-opt=seccomp=unconfined")
            elif v.get("type") != "RuntimeDefault":
                fail(f"seccompProfile {v}: not mapped")
        elif k == "capabilities":
            for cap in caps.get("drop", []):
                out.append(f"--cap-drop={cap.lower()}")
            for cap in caps.get("add", []):
                out.append(f"--cap-add=CAP_{cap}")
            if set(caps) - {"add", "drop"}:
                fail(f"capabilities {caps}: not mapped")
        else:
            fail(f"securityContext.{k}: not mapped to podman")
    if "ALL" not in caps.get("drop", []):
        fail("capabilities.drop must hold ALL: the test runs with exactly those added")

    # Limits: the container's cgroup (requests only place the pod).
    res = c.get("resources", {})
    if set(res) - {"requests", "limits"} or set(res.get("limits", {})) - {"cpu", "memory"}:
        fail(f"resources {res}: only cpu and memory limits are mapped")
    lim = res.get("limits", {})
    if "memory" in lim:
        m = re.fullmatch(r"(\d+)(Ki|Mi|Gi)", str(lim["memory"]))
        if not m:
            fail(f"memory limit {lim['memory']}: Ki, Mi or Gi expected")
        out.append(f"--memory={m.group(1)}{m.group(2)[0].lower()}")
    if "cpu" in lim:
        m = re.fullmatch(r"(\d+)(m?)", str(lim["cpu"]))
        if not m:
            fail(f"cpu limit {lim['cpu']}: N or Nm expected")
        out.append(f"--cpus={int(m.group(1)) / (1000 if m.group(2) else 1)}")

    vols = {v["name"]: v for v in pod.get("volumes", [])}
    for m in c.get("volumeMounts", []):
        v = vols[m["name"]]
        if set(v) != {"name", "hostPath"}:
            fail(f"volume {m['name']}: only hostPath volumes are mapped")
        if set(m) - {"name", "mountPath", "readOnly"}:
            fail(f"volumeMount {m['name']}: {set(m)} not mapped")
        host = remap.get(v["hostPath"]["path"], v["hostPath"]["path"])
        out.append(f"--volume={host}:{m['mountPath']}" + (":ro" if m.get("readOnly") else ""))
    if len(c.get("volumeMounts", [])) != len(vols):
        fail("a volume no container mounts")

    values = {}
    for e in c.get("env", []):
        if "value" in e:
            values[e["name"]] = e["value"]
        elif e["name"] in env:
            values[e["name"]] = env[e["name"]]
        else:
            fail(f"env {e['name']} comes from {e.get('valueFrom')}: give its value with --env")
        out.append(f"--env={e['name']}={values[e['name']]}")

    def expand(arg):
        # Kubernetes expands $(VAR) in args from the container's env.
        def one(m):
            if m.group(1) not in values:
                fail(f"args: $({m.group(1)}) is not in env")
            return values[m.group(1)]
        return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", one, arg)

    out.append("--")
    out.extend(expand(a) for a in c.get("args", []))
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1:])
