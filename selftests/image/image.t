#!/bin/bash
# The OCI image (make image) run by podman exactly as the DaemonSet
# (configs/kubernetes/daemonset.yaml) runs it: the namespaces, the
# capabilities, the security settings, the host paths and the arguments
# come from the manifest (podman-args.py, which fails on a field it
# cannot map), the lab's server namespace standing for the node's
# network namespace and its address for status.hostIP:
#   image      ENTRYPOINT, --version, the image's packages (synacct and
#              the libraries apt resolved for it), its size
#   flood      /ready answers 503 until synacct's hooks are attached,
#              then 200; a spoofed SYN flood is counted exactly (nic_syn,
#              tc_syn, listener_syn == SYNs sent == the namespace's
#              TcpInSegs); a 20 000-port scan read within the manifest's
#              memory and CPU limits; podman stop ends it cleanly, hooks gone
#   follow     SYNs the node forwards to a container namespace are
#              followed there through /proc/PID/ns/net (hostPID), and
#              without CAP_SYS_PTRACE they are not
#   privileges without each other capability the manifest adds, synacct
#              refuses to start, naming it
# Not part of make test: .ci/run runs it once (make test-image).
#   selftests/image/image.t [--list] [SCENARIO...]
. "$(dirname "$0")/../lib/lab.sh"

LAB_SCENARIOS=(image flood follow privileges)
LAB_REQUIRE=require_image
LAB_TEARDOWN=image_teardown
DS=$SA_ROOT/configs/kubernetes/daemonset.yaml
ARGS=$SA_ROOT/selftests/image/podman-args.py
CTRS=()

require_image() {
	command -v podman >/dev/null || t_skip_all "tool: podman is not installed (make test-image installs it)"
	command -v runc >/dev/null || t_skip_all "tool: runc is not installed (make test-image installs it)"
	VERSION=$(dpkg-parsechangelog -l "$SA_ROOT/configs/debian/changelog" -SVersion)
	IMAGE=localhost/synacct:$VERSION
	podman image exists "$IMAGE" || { echo "Bail out! $IMAGE not built (make image)"; exit 1; }
}

# podman with this machine's limits: runc (crun refuses a hybrid cgroup
# hierarchy) and the shell's own rlimits (podman's defaults are above
# them, and raising them needs CAP_SYS_RESOURCE).  Neither is a
# privilege of synacct's.
pm() {
	podman --runtime runc "$@"
}
PM_LIMITS=(--ulimit "nofile=$(ulimit -Sn):$(ulimit -Sn)" --ulimit "nproc=4096:4096")

image_teardown() {
	local c
	for c in "${CTRS[@]}"; do
		pm rm -f -t 0 "$c" >/dev/null 2>&1
	done
	CTRS=()
}

# ds_run NAME [--drop CAP]: synacct's container as the DaemonSet's pod on
# the lab's node (detached); without CAP when given.  POD_OPTS, POD_ARGS.
ds_run() {
	local name=sa-$$-$1 drop=${3:-} a opts=() args=() in_args=
	mkdir -p "$LAB_DIR/pods" /run/synacct
	while IFS= read -r a; do
		if [ -n "$in_args" ]; then args+=("$a")
		elif [ "$a" = -- ]; then in_args=1
		elif [ -z "$drop" ] || [ "$a" != "--cap-add=CAP_$drop" ]; then opts+=("$a")
		fi
	done < <(python3 "$ARGS" "$DS" --netns "/run/netns/$SRV" --env "HOST_IP=$SRV_IP4" \
		--env "SYNACCT_IFACE=$SRV_IF" --host-path "/var/log/pods=$LAB_DIR/pods" || echo FAILED)
	[ "${opts[*]}" != "${opts[*]/FAILED/}" ] || [ "${args[*]}" != "${args[*]/FAILED/}" ] &&
		{ echo "Bail out! podman-args.py failed on $DS"; exit 1; }
	POD_OPTS=("${opts[@]}"); POD_ARGS=("${args[@]}")
	CTRS+=("$name")
	pm run -d --name "$name" "${PM_LIMITS[@]}" "${opts[@]}" "$IMAGE" "${args[@]}" >/dev/null ||
		{ echo "Bail out! podman run ${opts[*]} $IMAGE ${args[*]} failed"; exit 1; }
}

# probe_url: the readiness probe's URL on the lab's node.
probe_url() {
	local port path
	read -r port path < <(python3 "$ARGS" "$DS" --probe)
	echo "http://$SRV_IP4:$port$path"
}

srv_curl() { ip netns exec "$SRV" curl -s "$@"; }

# wait_ready URL: the /ready codes seen (uniq) until 200, at most 30 s.
wait_ready() {
	local i c
	for ((i = 0; i < 1500; i++)); do
		c=$(srv_curl -o /dev/null -w '%{http_code}' "$1")
		echo "$c"; [ "$c" = 200 ] && break; sleep 0.02
	done | uniq | paste -sd' '
}

# nic_syn_sum PAGE: nic_syn summed over every series (the top ports and
# port="other").
nic_syn_sum() {
	awk 'index($1, "synacct_nic_syn_total{") == 1 { s += $2 } END { print s + 0 }' "$1"
}

# metric PAGE NAME LABELS
metric() {
	awk -v s="$2{$3} " 'index($0, s) == 1 { print $NF; f = 1 } END { if (!f) print "none" }' "$1"
}

# page_after FILE AFTER: the node's /metrics page into FILE once it shows
# a reading begun after AFTER (10 s at most).
page_after() {
	local i t
	for ((i = 0; i < 100; i++)); do
		srv_curl "http://$SRV_IP4:19464/metrics" >"$1"
		t=$(awk '$1 == "synacct_last_read_timestamp_seconds" { print $2 }' "$1")
		[ -n "$t" ] && awk -v t="$t" -v a="$2" 'BEGIN { exit !(t > a) }' && return 0
		sleep 0.1
	done
	t_ok 1 "the node's /metrics shows a reading begun after $2 within 10 s"
}

sc_image() {
	local out size pkgs want
	t_is "$(podman image inspect -f '{{json .Config.Entrypoint}}' "$IMAGE")" '["/usr/sbin/synacct"]' \
		"ENTRYPOINT is synacct"
	t_is "$(pm run --rm "${PM_LIMITS[@]}" "$IMAGE" --version 2>&1 | head -n 1)" "synacct $VERSION (commit unknown)" \
		"synacct --version in the image"
	# Its packages: synacct and what the package depends on, the
	# libraries (dpkg-query on the image's status database).
	pkgs=$(podman image mount "$IMAGE" 2>/dev/null)
	if [ -n "$pkgs" ]; then
		out=$(dpkg-query --admindir="$pkgs/var/lib/dpkg" -W -f='${Package}\n' | sort)
		t_is "$(echo "$out" | grep -v '^lib' | paste -sd' ')" \
			"$(echo "$out" | grep -v '^lib' | grep -x -e synacct -e zlib1g -e gcc-12-base | paste -sd' ')" \
			"the image's packages are synacct and libraries ($(echo "$out" | wc -l) packages)"
		t_is "$(find "$pkgs" -type f -perm -u+x -path '*bin/*' | sed "s#^$pkgs##")" "/usr/sbin/synacct" \
			"its one program is synacct (no shell, no package manager)"
		podman image unmount "$IMAGE" >/dev/null
	fi
	size=$(podman image inspect -f '{{.Size}}' "$IMAGE")
	echo "# image size: $size bytes ($((size / 1048576)) MiB)"
}

sc_flood() {
	local url codes page sent n
	lab_server 8080 --accept all
	url=$(probe_url)
	ds_run flood
	codes=$(wait_ready "$url")
	t_like "$codes" '503 200$' "/ready (the DaemonSet's readiness probe): 503 while attaching, then 200 ($codes)"
	t_like "$(ip netns exec "$SRV" bpftool net show dev "$SRV_IF" 2>&1 | tr '\n' ' ')" \
		'xdp:.*tc:.*sa-srv0\(.*ingress.*egress|egress.*ingress' \
		"... and once 200, XDP and TC ingress and egress programs are on $SRV_IF"
	srv_curl "http://$SRV_IP4:19464/metrics" >"$LAB_DIR/page.0"
	t_is "$(awk '/^synacct_stage_up\{/ { split($1, l, "\""); s = s l[2] "=" $2 " " } END { print s }' "$LAB_DIR/page.0")" \
		"xdp=1 tc=1 stack=1 " "... and /metrics says every stage up (xdp, tc, stack)"
	t_is "$(pm logs "sa-$$-flood" 2>&1 | grep -c "HZ is unknown")" 0 \
		"... and the kernel's HZ is known in the container (/boot or /proc/config.gz): the accept queue's age is measured"

	lab_nstat "$SRV" >"$LAB_DIR/srv.0"
	sent=$(lab_flood --to $SRV_IP4 --port 8080 --count 300 --src-net $SPOOF_NET4)
	t_is "$sent" sent=300 "a flood of 300 spoofed SYNs to 8080"
	lab_settle "$SRV"
	lab_nstat "$SRV" >"$LAB_DIR/srv.1"
	page_after "$LAB_DIR/page" "$(date +%s.%N)"
	n=$(nstat_delta "$LAB_DIR/srv.0" "$LAB_DIR/srv.1" TcpInSegs)
	t_is "$(metric "$LAB_DIR/page" synacct_nic_syn_total 'port="8080"'),$(metric "$LAB_DIR/page" synacct_tc_syn_total 'port="8080"'),$(metric "$LAB_DIR/page" synacct_listener_syn_total 'port="8080"')" \
		"300,300,300" "nic_syn, tc_syn, listener_syn == 300, the SYNs sent"
	t_is "$n" 300 "... == the node namespace's TcpInSegs (nstat)"
	# Within the manifest's limits (podman-args.py maps them to the
	# container's cgroup): a scan of 20 000 ports, whose reading is the
	# heaviest a node sees, is read, and synacct is not OOM-killed.
	t_is "$(lab_flood --to $SRV_IP4 --port 20000 --port-span 20000 --count 20000 --rate 10000 --src-net $SPOOF_NET4)" \
		sent=20000 "a scan of 20 000 ports"
	page_after "$LAB_DIR/page.scan" "$(date +%s.%N)"
	t_is "$(nic_syn_sum "$LAB_DIR/page.scan")" 20300 "... each SYN counted (nic_syn over every series == 300 + 20 000)"
	t_is "$(pm inspect -f '{{.State.Status}} {{.State.OOMKilled}}' "sa-$$-flood")" "running false" \
		"synacct's container still runs, within the DaemonSet's memory and CPU limits (${POD_OPTS[*]//--volume*/})"
	echo "# its memory (cgroup, BPF maps included): $(pm stats --no-stream --format '{{.MemUsage}}' "sa-$$-flood" 2>&1)"
	pm stop -t 10 "sa-$$-flood" >/dev/null
	t_is "$(pm inspect -f '{{.State.ExitCode}}' "sa-$$-flood")" 0 "podman stop: synacct exits 0"
	t_is "$(ip netns exec "$SRV" bpftool net show dev "$SRV_IF" 2>&1 | grep -c 'id ')" 0 \
		"... and its hooks are gone from $SRV_IF"
}

# What forwarded SYNs reach: the node (the lab's server namespace)
# routes port 8080 on to a container namespace (lab_container) whose
# listener runs as root with every capability, as a pod's processes have
# capabilities synacct lacks.  synacct follows them through
# /proc/PID/ns/net (the container has the node's PIDs, not /run/netns):
# the kernel lets it open that link only with CAP_SYS_PTRACE.
sc_follow() {
	local drop page out
	lab_container
	ip -n "$CLI" route add 198.18.2.0/24 via $SRV_IP4 || { echo "Bail out! no route to the container"; exit 1; }
	ctr_server 8080 --accept all
	for drop in "" SYS_PTRACE; do
		ds_run "follow$drop" --drop "$drop"
		t_like "$(wait_ready "$(probe_url)")" '200$' "${drop:+without CAP_$drop: }ready"
		out=$(lab_client --to $CTR_IP4 --port 8080 --count 20)
		t_is "$out" "connected=20 failed=0" "${drop:+without CAP_$drop: }20 connections through the node to the container"
		lab_settle "$SRV"
		page_after "$LAB_DIR/page" "$(date +%s.%N)"
		t_is "$(metric "$LAB_DIR/page" synacct_forwarded_total 'port="8080"')" 20 \
			"${drop:+without CAP_$drop: }forwarded == 20, the SYNs sent"
		out=$(grep '^synacct_container_info{port="8080"' "$LAB_DIR/page")
		if [ -z "$drop" ]; then
			t_like "$out" "netns=\"pid:$LAB_SERVER_PID[ \"].*,to_port=\"8080\"} 1$" \
				"followed into the container's namespace, found by the pid of its listener ($LAB_SERVER_PID)"
		else
			# One reading more than it took with the capability.
			page_after "$LAB_DIR/page" "$(date +%s.%N)"
			t_is "$out$(grep '^synacct_container_info{port="8080"' "$LAB_DIR/page")" "" \
				"without CAP_$drop: not followed (no synacct_container_info, two readings on)"
			t_like "$(pm logs "sa-$$-follow$drop" 2>&1)" "permission denied.*grant CAP_SYS_PTRACE" \
				"without CAP_$drop: says it cannot see the namespace, naming the capability"
		fi
		pm rm -f -t 10 "sa-$$-follow$drop" >/dev/null
	done
}

# Without each other capability the DaemonSet adds, synacct refuses to
# start, naming it: none is there for nothing.
sc_privileges() {
	local cap rc err
	for cap in $(python3 "$ARGS" "$DS" --caps); do
		[ "$cap" = SYS_PTRACE ] && continue	# sc_follow's
		ds_run "priv$cap" --drop "$cap"
		rc=$(timeout 30 podman wait "sa-$$-priv$cap")
		err=$(pm logs "sa-$$-priv$cap" 2>&1 | head -n 3)
		t_is "$rc" 1 "without CAP_$cap: synacct exits 1"
		t_like "$err" "CAP_$cap" "... naming CAP_$cap ($err)"
	done
}

lab_main "$@"
