#!/bin/bash
# The Kubernetes manifests (configs/kubernetes/) validated offline against
# the Kubernetes API's schemas, and each check shown to fail on a broken
# copy:
#   render     kustomization.yaml's resources, put in its namespace with
#              its image tag (render.py), and the Service and
#              ServiceMonitor beside them
#   schemas    every object valid for its kind (kubernetes-models and
#              @kubernetes-models/prometheus-operator, from npm; no field
#              the API does not know: @kubernetes/client-node's models)
#   broken     copies with a misspelt field, a wrong type, a bad quantity,
#              a PodMonitor port by number, a resource file missing, and a
#              DaemonSet asking for privileged: each fails, saying why
# No root, no lab; npm installs the pinned schema packages
# (selftests/image/package-lock.json) into build/k8s-validate once.
#   selftests/image/manifests.t
. "$(dirname "$0")/../lib/lab.sh"
K8S=$SA_ROOT/configs/kubernetes
HERE=$SA_ROOT/selftests/image
V=$SA_ROOT/build/k8s-validate

command -v node >/dev/null || t_skip_all "tool: node is not installed (make test-image installs nodejs)"
command -v npm >/dev/null || t_skip_all "tool: npm is not installed (make test-image installs it)"
python3 -c 'import yaml' 2>/dev/null || t_skip_all "tool: python3-yaml is not installed (make test-image installs it)"
mkdir -p "$V" && cp "$HERE/package.json" "$HERE/package-lock.json" "$HERE/validate.mjs" "$V/" || exit 1
if ! cmp -s "$HERE/package-lock.json" "$V/node_modules/.package-lock.json.synacct" 2>/dev/null; then
	(cd "$V" && npm ci --no-audit --no-fund --silent) >"$V/npm.log" 2>&1 ||
		{ t_diag "$V/npm.log"; echo "Bail out! npm ci failed (build/k8s-validate/npm.log)"; exit 1; }
	cp "$HERE/package-lock.json" "$V/node_modules/.package-lock.json.synacct"
fi
TMP=$(mktemp -d /tmp/synacct-manifests.XXXXXX) && trap 'rm -rf "$TMP"' EXIT

# check DIR: render DIR and validate what it gives; the lines validate
# prints, then "rc=N".
check() {
	python3 "$HERE/render.py" "$1" "$1/service.yaml" "$1/servicemonitor.yaml" >"$TMP/docs.json" 2>"$TMP/render.err" ||
		{ cat "$TMP/render.err"; echo "rc=render"; return; }
	node "$V/validate.mjs" <"$TMP/docs.json" 2>&1; echo "rc=$?"
}

# ---- the manifests as they are ----
out=$(check "$K8S")
t_is "$(echo "$out" | paste -sd' ')" \
	"ok Namespace/synacct ok ConfigMap/synacct ok DaemonSet/synacct ok PodMonitor/synacct ok Service/synacct ok ServiceMonitor/synacct rc=0" \
	"every object of configs/kubernetes is valid for its kind"
t_is "$(jq -r '[.[] | select(.kind != "Namespace") | .metadata.namespace] | unique | join(",")' "$TMP/docs.json")" synacct \
	"kustomize puts every namespaced object in the namespace synacct"
t_is "$(ls "$K8S"/*.yaml | xargs -n1 basename | grep -vx -e kustomization.yaml -e service.yaml -e servicemonitor.yaml | sort | paste -sd' ')" \
	"$(python3 -c 'import yaml,sys; print(" ".join(sorted(yaml.safe_load(open(sys.argv[1]))["resources"])))' "$K8S/kustomization.yaml")" \
	"kustomization.yaml lists every manifest (but the ServiceMonitor's pair, the PodMonitor's alternative)"
t_is "$(python3 "$HERE/podman-args.py" "$K8S/daemonset.yaml" --netns /run/netns/x --env HOST_IP=198.18.0.1 --env SYNACCT_IFACE=eth0 >/dev/null; echo $?)" 0 \
	"podman-args.py maps every field of the DaemonSet (make test-image runs it so)"

# ---- broken copies: each check can fail ----
# broken FILE SED WANT DESCRIPTION: a copy with FILE edited by SED; its
# check must fail with a line matching WANT.
broken() {
	rm -rf "$TMP/k" && cp -r "$K8S" "$TMP/k" && sed -i "$2" "$TMP/k/$1"
	cmp -s "$K8S/$1" "$TMP/k/$1" && { t_ok 1 "$4: the sed changed nothing"; return; }
	out=$(check "$TMP/k")
	t_like "$out" "$3" "$4"
	t_like "$out" 'rc=(1|render)$' "... and the check fails"
}
broken daemonset.yaml 's/hostNetwork:/hostNetwrk:/' 'invalid DaemonSet/synacct: fields the API does not know: .spec.template.spec.hostNetwrk' \
	"a misspelt field (hostNetwrk) is refused"
broken daemonset.yaml 's/containerPort: 19464/containerPort: "19464"/' 'invalid DaemonSet/synacct: .*containerPort must be integer' \
	"a port as a string is refused"
broken daemonset.yaml 's/memory: 128Mi/memory: lots/' 'invalid DaemonSet/synacct: .*memory must match format "quantity"' \
	"a memory limit that is no quantity is refused"
broken podmonitor.yaml 's/port: metrics/port: 19464/' 'invalid PodMonitor/synacct: .*port must be string' \
	"a PodMonitor port by number (not the port's name) is refused"
broken kustomization.yaml 's/- podmonitor.yaml/- podmonitors.yaml/' 'render.py: .*podmonitors.yaml' \
	"a resource kustomization.yaml lists that does not exist is refused"
sed 's/privileged: false/privileged: true/' "$K8S/daemonset.yaml" >"$TMP/ds.yaml"
t_like "$(python3 "$HERE/podman-args.py" "$TMP/ds.yaml" --netns /run/netns/x --env HOST_IP=x --env SYNACCT_IFACE=y 2>&1; echo "rc=$?")" \
	'privileged: the test runs without --privileged.*rc=1$' "podman-args.py refuses a privileged DaemonSet"
sed 's/      hostPID: true/      hostPID: true\n      hostIPC: true/' "$K8S/daemonset.yaml" >"$TMP/ds.yaml"
t_like "$(python3 "$HERE/podman-args.py" "$TMP/ds.yaml" --netns /run/netns/x --env HOST_IP=x --env SYNACCT_IFACE=y 2>&1; echo "rc=$?")" \
	'spec.template.spec.hostIPC: not mapped to podman.*rc=1$' "... and a field it does not map (hostIPC), so the image test cannot drift from the manifest"
t_done
