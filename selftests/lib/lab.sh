#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lab.sh - a small lab for synacct's tests and demo: a server namespace and
# a client namespace joined by a veth pair, real listeners and clients, and
# TAP helpers.  Source it, call lab_init, and everything is torn down by a
# trap on EXIT, even when a test fails.  A test file made of scenarios
# defines each as a function and ends with lab_main (see "scenarios"
# below): each scenario then runs in a lab of its own, alone or with the
# others.
#
# Addresses come from the ranges reserved for testing (RFC 2544, RFC 3849):
#   server 198.18.0.1/24 2001:db8::1/64     client 198.18.0.2/24 2001:db8::2/64
#   spoofed flood sources 198.19.0.0/16 and 2001:db8:ff::/64, routed from
#   the server back into the client namespace, where replies die.
# No namespace has a default route.

SA_ROOT=${SA_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SYNACCT=${SYNACCT:-$SA_ROOT/synacct}
SA_BIN=${SA_BIN:-$SA_ROOT/selftests/bin}

SRV_IP4=198.18.0.1
CLI_IP4=198.18.0.2
SRV_IP6=2001:db8::1
CLI_IP6=2001:db8::2
SPOOF_NET4=198.19.0.0/16
SPOOF_NET6=2001:db8:ff::/64
SRV_IF=sa-srv0
CLI_IF=sa-cli0

LAB_PIDS=()
LAB_NS=()
LAB_DIR=
declare -A LAB_HOST_SYSCTL=()	# key -> the value to put back (lab_host_sysctl)
T_NUM=0
T_FAILED=0
T_SKIPPED=0

# ---- TAP ----

t_ok() {	# t_ok COND-STATUS DESCRIPTION
	T_NUM=$((T_NUM + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $T_NUM - $2"
	else
		echo "not ok $T_NUM - $2"
		T_FAILED=$((T_FAILED + 1))
	fi
}

t_is() {	# t_is GOT WANT DESCRIPTION: exact equality
	local got=$1 want=$2
	T_NUM=$((T_NUM + 1))
	if [ "$got" == "$want" ]; then
		echo "ok $T_NUM - $3 ($got)"
	else
		echo "not ok $T_NUM - $3"
		echo "#   got:  '$got'"
		echo "#   want: '$want'"
		T_FAILED=$((T_FAILED + 1))
	fi
}

t_like() {	# t_like STRING REGEX DESCRIPTION
	T_NUM=$((T_NUM + 1))
	if [[ $1 =~ $2 ]]; then
		echo "ok $T_NUM - $3"
	else
		echo "not ok $T_NUM - $3"
		echo "#   got:  '$1'"
		echo "#   want: /$2/"
		T_FAILED=$((T_FAILED + 1))
	fi
}

# A skip's reason starts with its cause, so that a runner can sum skips
# up by cause: "kernel: <the fact read from the kernel>", "tool: <a
# user-space tool this machine lacks>" or "root: <why>".  A skip is never
# decided on synacct's output.
T_SKIP_CAUSES='^(kernel|tool|root): '

t_skip_cause() {	# t_skip_cause REASON: bail out on a reason with no cause
	[[ $1 =~ $T_SKIP_CAUSES ]] ||
		{ echo "Bail out! skip reason without a cause (kernel:, tool:, root:): '$1'"; exit 1; }
}

t_skip() {	# t_skip DESCRIPTION REASON: one check that cannot be made here
	t_skip_cause "$2"
	T_NUM=$((T_NUM + 1))
	T_SKIPPED=$((T_SKIPPED + 1))
	echo "ok $T_NUM - $1 # SKIP $2"
}

# kernel_hz_known: the kernel's config, where synacct reads CONFIG_HZ for
# the accept queue's age, is there (kprobe/listeners/listeners.c).
kernel_hz_known() {
	[ -r "/boot/config-$(uname -r)" ] || [ -r /proc/config.gz ]
}
KERNEL_HZ_UNKNOWN="kernel: no /boot/config-$(uname -r) or /proc/config.gz (CONFIG_HZ unknown)"

t_skip_all() {	# t_skip_all REASON: the whole file
	t_skip_cause "$*"
	echo "1..0 # SKIP $*"
	exit 0
}

t_done() {
	echo "1..$T_NUM"
	[ "$T_FAILED" -eq 0 ]
	exit $?
}

t_diag() {
	sed 's/^/# /' "$@"
}

# ---- lab ----

lab_require() {
	[ "$(id -u)" -eq 0 ] || t_skip_all "root: the lab needs root (run: sudo make test)"
	[ -x "$SYNACCT" ] || { echo "Bail out! $SYNACCT not built"; exit 1; }
	[ -r /sys/kernel/btf/vmlinux ] || t_skip_all "kernel: no /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF off)"
	command -v bpftool >/dev/null || t_skip_all "tool: bpftool is not installed (the lab reads the kernel's BTF with it)"
}

lab_teardown() {
	local pid ns key
	for pid in "${LAB_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${LAB_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	LAB_PIDS=()
	[ -z "$LAB_DIR" ] || [ -z "${LAB_TEARDOWN:-}" ] || "$LAB_TEARDOWN"
	for ns in "${LAB_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	LAB_NS=()
	lab_host_sysctl_restore
	[ -n "$LAB_DIR" ] && rm -rf "$LAB_DIR"
	LAB_DIR=
}

# lab_netns_add NS: a namespace whose interfaces stay quiet, so that the
# only frames on the lab's wires are the tests' own (a burst that fills a
# ring must drop SYN-ACKs, nothing else).  IPv6 would otherwise send, on
# each new link: router solicitations for as long as it runs (4 s, then
# doubling), duplicate address detection for a link-local address, and
# multicast listener reports spread over seconds.  Here: no solicitations,
# no link-local address (the lab's routes and neighbours use the global
# ones), and the reports for the global addresses within a millisecond of
# the link coming up.
lab_netns_add() {
	ip netns add "$1" && LAB_NS+=("$1") &&
	lab_sysctl "$1" net.ipv6.conf.default.router_solicitations=0 &&
	lab_sysctl "$1" net.ipv6.conf.default.addr_gen_mode=1 &&
	lab_sysctl "$1" net.ipv6.conf.default.mldv2_unsolicited_report_interval=1 &&
	lab_sysctl "$1" net.ipv6.conf.default.mldv1_unsolicited_report_interval=1
}

# lab_init: two namespaces, one veth pair, addresses, routes back for the
# spoofed ranges.  Names carry the PID so parallel runs cannot collide.
lab_init() {
	lab_require
	SRV=sa-$$-srv
	CLI=sa-$$-cli
	LAB_DIR=$(mktemp -d /tmp/synacct-lab.XXXXXX)
	trap lab_teardown EXIT
	trap 'exit 130' INT TERM
	lab_netns_add "$SRV" && lab_netns_add "$CLI" &&
	ip link add "$SRV_IF" netns "$SRV" type veth peer name "$CLI_IF" netns "$CLI" &&
	ip -n "$SRV" addr add $SRV_IP4/24 dev "$SRV_IF" &&
	ip -n "$CLI" addr add $CLI_IP4/24 dev "$CLI_IF" &&
	ip -n "$SRV" addr add $SRV_IP6/64 dev "$SRV_IF" nodad &&
	ip -n "$CLI" addr add $CLI_IP6/64 dev "$CLI_IF" nodad &&
	ip -n "$SRV" link set lo up && ip -n "$CLI" link set lo up &&
	ip -n "$SRV" link set "$SRV_IF" up && ip -n "$CLI" link set "$CLI_IF" up &&
	ip -n "$SRV" route add $SPOOF_NET4 via $CLI_IP4 &&
	ip -n "$SRV" -6 route add $SPOOF_NET6 via $CLI_IP6 &&
	# Replies to spoofed sources die in the client namespace without a
	# word: with no route there, IPv6 would answer each SYN-ACK with an
	# ICMPv6 "no route" (rate limited: 12 for 200 SYN-ACKs), frames on
	# the server's wire the tests did not send.
	ip -n "$CLI" route add blackhole $SPOOF_NET4 &&
	ip -n "$CLI" -6 route add blackhole $SPOOF_NET6 ||
		{ echo "Bail out! cannot build the lab"; exit 1; }
	# Permanent neighbours: no ARP or ND in the lab, so no SYN ever
	# waits behind address resolution.
	local smac cmac
	smac=$(ip -n "$SRV" -j link show dev "$SRV_IF" | jq -r '.[0].address')
	cmac=$(ip -n "$CLI" -j link show dev "$CLI_IF" | jq -r '.[0].address')
	ip -n "$SRV" neigh replace $CLI_IP4 lladdr "$cmac" dev "$SRV_IF" nud permanent &&
	ip -n "$SRV" neigh replace $CLI_IP6 lladdr "$cmac" dev "$SRV_IF" nud permanent &&
	ip -n "$CLI" neigh replace $SRV_IP4 lladdr "$smac" dev "$CLI_IF" nud permanent &&
	ip -n "$CLI" neigh replace $SRV_IP6 lladdr "$smac" dev "$CLI_IF" nud permanent ||
		{ echo "Bail out! cannot set the lab's neighbours"; exit 1; }
	lab_quiet "$SRV" "$SRV_IF" "$CLI" "$CLI_IF"
}

# lab_quiet NS IFACE...: wait until the links' own start-up frames (the
# multicast listener reports lab_netns_add leaves) are out: no frame sent
# on any of them for 60 ms.  Tests compare device counters with what they
# sent.
lab_quiet() {
	local i same=0 now last=
	for ((i = 0; i < 100 && same < 3; i++)); do
		now=$(while [ $# -gt 0 ]; do ip -n "$1" -s -j link show dev "$2"; shift 2; done |
			jq -r '.[0].stats64.tx.packets' | paste -sd,)
		[ "$now" = "$last" ] && same=$((same + 1)) || same=0
		last=$now
		sleep 0.02
	done
}

lab_sysctl() {	# lab_sysctl NS KEY=VALUE
	ip netns exec "$1" sysctl -qw "$2" >/dev/null
}

# lab_host_sysctl KEY=VALUE: a setting the kernel keeps host-wide, with no
# copy per namespace (net.core.netdev_max_backlog), for this lab only.
# Other test runs on the machine share it, so the first call takes an
# exclusive lock (LAB_HOST_LOCK, flock) that is held until lab_teardown
# has put the value found first back, on every exit path; the values to
# put back are also in a file (LAB_HOST_SAVED), so that when this file is
# killed with SIGKILL the next holder of the lock, or the suite's runner
# (selftests/lib/run-file.sh), puts them back.
lab_host_sysctl() {
	local key=${1%%=*}
	lab_host_lock || { echo "Bail out! lab_host_sysctl $1: no lock on $LAB_HOST_LOCK in ${LAB_HOST_LOCK_WAIT}s"; exit 1; }
	if [ -z "${LAB_HOST_SYSCTL[$key]+set}" ]; then
		LAB_HOST_SYSCTL[$key]=$(sysctl -n "$key") || exit 1
		printf '%s %s %s\n' "$$" "$key" "${LAB_HOST_SYSCTL[$key]}" >>"$LAB_HOST_SAVED"
	fi
	sysctl -qw "$1" >/dev/null
}

# lab_bg NS CMD...: run in the background in NS, remember the PID.
lab_bg() {
	local ns=$1; shift
	ip netns exec "$ns" "$@" &
	LAB_PIDS+=($!)
	LAB_LAST_PID=$!
}

lab_wait_file() {	# lab_wait_file FILE [TENTHS]
	local i
	for ((i = 0; i < ${2:-50}; i++)); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# lab_server PORT [lab_server options...]: a listener in the server
# namespace; LAB_SERVER_PID, LAB_SERVER_COUNT (file with its accept count).
lab_server() {
	local port=$1; shift
	local ready=$LAB_DIR/ready.$port
	LAB_SERVER_COUNT=$LAB_DIR/accepted.$port
	rm -f "$ready" "$LAB_SERVER_COUNT"
	lab_bg "$SRV" "$SA_BIN/lab_server" --port "$port" --ready-file "$ready" \
		--count-file "$LAB_SERVER_COUNT" "$@"
	LAB_SERVER_PID=$LAB_LAST_PID
	lab_wait_file "$ready" || { echo "Bail out! lab_server did not start"; exit 1; }
}

# lab_server_stop PID COUNTFILE: stop it; LAB_ACCEPTED is how many it
# accepted.  Not for $(...): wait only works in the shell that started it.
lab_server_stop() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	LAB_ACCEPTED=$(cat "$2" 2>/dev/null || echo "?")
}

lab_client() {	# lab_client lab_client-options...
	ip netns exec "$CLI" "$SA_BIN/lab_client" "$@"
}

lab_flood() {	# lab_flood lab_synflood-options...
	ip netns exec "$CLI" "$SA_BIN/lab_synflood" "$@"
}

# ---- a real NIC: the guest of make test-kernels with VM_NIC=virtio ----
#
# vm_host CMD: run CMD (a shell line) in the host's lab namespace on the
# other side of the guest's virtio-net NIC (selftests/vm/kernels.sh runs
# it from the source tree: selftests/bin/lab_synflood ...); prints its
# stdout and returns its exit status (255: no answer).  One request at a
# time, over the guest's ttyS2.
VM_HOST_TTY=${VM_HOST_TTY:-/dev/ttyS2}
vm_host() {
	local fd line rc=255
	exec {fd}<>"$VM_HOST_TTY" || return 255
	flock "$fd"
	printf 'run %s\n' "$(printf '%s' "$1" | base64 -w0)" >&"$fd"
	# Anything else on the line (a reply to a request given up on) is
	# not ours: only a line starting "rc " answers.
	while IFS= read -r -t 900 line <&"$fd"; do
		line=${line%$'\r'}
		case $line in "rc "*) ;; *) continue ;; esac
		line=${line#rc }
		rc=${line%% *}
		line=${line#"$rc"}; line=${line# }
		[ -n "$line" ] && base64 -d <<<"$line"
		break
	done
	exec {fd}>&-
	return "$rc"
}

NIC_CONF=${NIC_CONF:-/synacct/vm-nic}

# lab_nic_init: lab_init for a real NIC (a guest of make
# test-kernels-nic, /synacct/vm-nic): the guest's NIC in a server
# namespace of its own (quiet links, lab_netns_add), the host's addresses
# as permanent neighbours, the flood's spoofed sources routed back to the
# host, where they are blackholed.  CLI is empty: the client side is the
# host's namespace, reached with vm_host.  Elsewhere the file skips whole.
lab_nic_init() {
	lab_require
	[ -r "$NIC_CONF" ] ||
		t_skip_all "kernel: no real NIC to test (a virtio-net NIC fed from the host: a guest of make test-kernels-nic, VM_NIC=virtio)"
	. "$NIC_CONF"
	SRV=sa-$$-srv
	CLI=
	SRV_IF=$NIC_IF
	SRV_IP4=$NIC_GUEST_IP4
	SRV_IP6=$NIC_GUEST_IP6
	LAB_DIR=$(mktemp -d /tmp/synacct-lab.XXXXXX)
	LAB_TEARDOWN=lab_nic_teardown
	trap lab_teardown EXIT
	trap 'exit 130' INT TERM
	lab_netns_add "$SRV" &&
	ip link set "$NIC_IF" netns "$SRV" &&
	ip -n "$SRV" link set lo up &&
	ip -n "$SRV" addr add $SRV_IP4/24 dev "$SRV_IF" &&
	ip -n "$SRV" addr add $SRV_IP6/64 dev "$SRV_IF" nodad &&
	ip -n "$SRV" link set "$SRV_IF" up &&
	ip -n "$SRV" neigh replace $NIC_HOST_IP4 lladdr $NIC_HOST_MAC dev "$SRV_IF" nud permanent &&
	ip -n "$SRV" neigh replace $NIC_HOST_IP6 lladdr $NIC_HOST_MAC dev "$SRV_IF" nud permanent &&
	ip -n "$SRV" route add $NIC_SPOOF_NET4 via $NIC_HOST_IP4 &&
	ip -n "$SRV" -6 route add $NIC_SPOOF_NET6 via $NIC_HOST_IP6 ||
		{ echo "Bail out! cannot build the NIC lab"; exit 1; }
	# The host answers (its tap is up once QEMU runs).
	[ "$(vm_host "ip -j link show dev $NIC_HOST_IF" | jq -r '.[0].flags | index("UP") != null')" = true ] ||
		{ echo "Bail out! the host side of the NIC ($NIC_HOST_IF) does not answer or is not up"; exit 1; }
	lab_quiet "$SRV" "$SRV_IF"
}

# The NIC goes back to the guest's first namespace (lab_teardown then
# deletes the server namespace).
lab_nic_teardown() {
	ip -n "$SRV" link set "$NIC_IF" netns 1 2>/dev/null
}

# ---- what the kernel offers ----
#
# A file skips only on a fact read from the kernel, never on what synacct
# printed: a synacct that cannot start would otherwise read as "this
# kernel lacks the hook".  lab_kernel_has decides from BTF, kallsyms,
# the kprobe PMU and a trial load; lab_require_hook then holds synacct to
# what the kernel offers.

# lab_btf_raw: the kernel's BTF as `bpftool btf dump ... format raw`,
# dumped once per lab (LAB_DIR).
lab_btf_raw() {
	local f=$LAB_DIR/btf.raw
	[ -s "$f" ] || bpftool btf dump file /sys/kernel/btf/vmlinux format raw >"$f" 2>/dev/null ||
		{ echo "Bail out! bpftool cannot dump /sys/kernel/btf/vmlinux"; exit 1; }
	echo "$f"
}

# lab_btf_id KIND NAME: the id of NAME of KIND (FUNC, STRUCT, TYPEDEF) in
# the kernel's BTF; nothing when it has none.
lab_btf_id() {
	awk -v k="$1" -v n="'$2'" '$2 == k && $3 == n { gsub(/[][]/, "", $1); print $1; exit }' "$(lab_btf_raw)"
}

# lab_tp_nargs TRACEPOINT: the arguments of a BTF tracepoint (the typedef
# btf_trace_TP is a pointer to a prototype whose first argument is the
# tracepoint's data); -1 when the kernel has no such tracepoint.
lab_tp_nargs() {
	awk -v n="'btf_trace_$1'" '
	$2 == "TYPEDEF" && $3 == n { split($4, a, "="); want = "[" a[2] "]"; next }
	want != "" && $1 == want && $2 == "PTR" { split($4, a, "="); want = "[" a[2] "]"; next }
	want != "" && $1 == want && $2 == "FUNC_PROTO" { sub(/vlen=/, "", $5); print $5 - 1; found = 1; exit }
	END { if (!found) print -1 }' "$(lab_btf_raw)"
}

lab_kallsyms_has() {	# lab_kallsyms_has SYMBOL: listed, with an address
	awk -v s="$1" '$3 == s && $1 !~ /^0+$/ { f = 1; exit } END { exit !f }' /proc/kallsyms
}

# lab_kernel_has HOOK: 0 when this kernel offers HOOK (a name as in
# synacct's start record "hooks"), 1 when it does not, 2 for a hook it
# knows nothing about.  Prints the fact it decided on, one line, starting
# "kernel: ".  Call with a lab (LAB_DIR).
lab_kernel_has() {
	local n id out rc
	case $1 in
	tp_btf/consume_skb)
		n=$(lab_tp_nargs consume_skb)
		if [ "$n" -lt 2 ]; then
			[ "$n" -lt 0 ] && echo "kernel: BTF has no btf_trace_consume_skb" ||
				echo "kernel: BTF has no btf_trace_consume_skb with a location argument (Linux < 6.3)"
			return 1
		fi
		lab_kallsyms_has tcp_rcv_state_process ||
			{ echo "kernel: tcp_rcv_state_process has no address in /proc/kallsyms"; return 1; }
		echo "kernel: BTF btf_trace_consume_skb has a location argument (Linux 6.3+)"
		;;
	fexit/tcp_conn_request)
		id=$(lab_btf_id FUNC tcp_conn_request)
		[ -n "$id" ] || { echo "kernel: BTF has no function tcp_conn_request"; return 1; }
		out=$("$SA_BIN/lab_probe" fexit "$id")
		rc=$?
		out=${out#refused: }
		case $rc in
		0) echo "kernel: loads an fexit program on tcp_conn_request" ;;
		1) echo "kernel: refuses an fexit program on tcp_conn_request ($out; lockdown: $(lab_lockdown))"
		   return 1 ;;
		*) echo "Bail out! $SA_BIN/lab_probe failed ($out)"; exit 1 ;;
		esac
		;;
	kprobe/tcp_conn_request)
		[ -e /sys/bus/event_source/devices/kprobe/type ] ||
			{ echo "kernel: no kprobe PMU (/sys/bus/event_source/devices/kprobe: CONFIG_KPROBES off)"; return 1; }
		lab_kallsyms_has tcp_conn_request ||
			{ echo "kernel: tcp_conn_request has no address in /proc/kallsyms"; return 1; }
		echo "kernel: has kprobes and tcp_conn_request in /proc/kallsyms"
		;;
	netfilter/local_in | netfilter/forward)
		[ -n "$(lab_btf_id STRUCT bpf_nf_ctx)" ] ||
			{ echo "kernel: BTF has no struct bpf_nf_ctx (no netfilter BPF programs, Linux < 6.4)"; return 1; }
		[ -n "$(lab_btf_id STRUCT nf_conn)" ] || [ -r /sys/kernel/btf/nf_conntrack ] ||
			{ modprobe -q nf_conntrack 2>/dev/null && [ -r /sys/kernel/btf/nf_conntrack ]; } ||
			{ echo "kernel: no conntrack BTF (nf_conn not in vmlinux, no nf_conntrack module BTF)"; return 1; }
		echo "kernel: BTF has struct bpf_nf_ctx and conntrack's types"
		;;
	*)
		echo "kernel: lab_kernel_has knows no hook '$1'"
		return 2 ;;
	esac
	return 0
}

# lab_lockdown: the kernel's lockdown mode, from securityfs (mounted in a
# mount namespace of its own when the host has not mounted it).
lab_lockdown() {
	local f=/sys/kernel/security/lockdown m
	if [ -r $f ]; then
		m=$(cat $f)
	else
		m=$(unshare -m sh -c "mount -t securityfs securityfs /sys/kernel/security && cat $f" 2>/dev/null)
	fi
	m=$(sed -n 's/.*\[\(.*\)\].*/\1/p' <<<"$m")
	echo "${m:-unknown}"
}

# lab_require_hook HOOK...: the first of the HOOKs this kernel offers
# (lab_kernel_has) is LAB_HOOK, and synacct must attach it: a synacct
# that does not start, prints no start record or lacks the hook is a
# "Bail out!".  When the kernel offers none, the whole file skips, naming
# the facts.  SA_LISTENER_HOOK (auto, consume_skb, fexit, kprobe) narrows
# the listener hooks to the one asked for.  Call after lab_init.
lab_require_hook() {
	local h fact facts=() want= hooks out rc
	local -a try=()
	for h; do
		if [ -n "${SA_LISTENER_HOOK:-}" ] && [ "$SA_LISTENER_HOOK" != auto ] &&
		   [[ " $LISTENER_HOOKS " == *" $h "* ]] && [[ $h != */$SA_LISTENER_HOOK && $h != $SA_LISTENER_HOOK/* ]]; then
			continue
		fi
		try+=("$h")
	done
	[ ${#try[@]} -gt 0 ] || { echo "Bail out! --listener-hook $SA_LISTENER_HOOK is none of $*"; exit 1; }
	# The dump first, its failure ending the file (in lab_kernel_has's
	# $(...) it would read as a missing hook).
	fact=$(lab_btf_raw) || { echo "$fact"; exit 1; }
	for h in "${try[@]}"; do
		fact=$(lab_kernel_has "$h")
		rc=$?
		[ $rc -eq 2 ] || [[ $fact == *"Bail out!"* ]] && { echo "Bail out! ${fact#*Bail out! }"; exit 1; }
		if [ $rc -eq 0 ]; then
			want=$h
			echo "# $h: ${fact#kernel: }"
			break
		fi
		facts+=("${fact#kernel: }")
	done
	if [ -z "$want" ]; then
		fact=$(printf '%s; ' "${facts[@]}")
		t_skip_all "kernel: ${fact%; }"
	fi
	out=$("$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --no-xdp --json --duration 0.1 \
		${SA_LISTENER_HOOK:+--listener-hook "$SA_LISTENER_HOOK"} 2>"$LAB_DIR/hook.err")
	rc=$?
	hooks=$(jq -r 'select(.type == "start") | .hooks[]' <<<"$out" 2>/dev/null)
	if [ $rc -ne 0 ] || ! grep -q '"type":"start"' <<<"$out"; then
		echo "Bail out! synacct did not start (exit $rc, $(grep -c '"type":"start"' <<<"$out") start records): $(head -n 1 "$LAB_DIR/hook.err")"
		exit 1
	fi
	grep -qxF "$want" <<<"$hooks" || {
		echo "Bail out! the kernel offers $want but synacct did not attach it (hooks: $(echo $hooks))"
		exit 1
	}
	LAB_HOOK=$want
}

# Hooks that give listener verdicts (kprobe/stack/stack_probe.c, stack_find_listener_hook).
LISTENER_HOOKS="tp_btf/consume_skb fexit/tcp_conn_request kprobe/tcp_conn_request"

# ---- host-wide state, synchronisation, ports ----
#
# What lab_host_sysctl and the suite's runner (selftests/lib/run-file.sh)
# share: the lock on host-wide settings and the file of values to put back,
# one line per setting: "PID KEY VALUE" (PID: the test file's shell).
LAB_HOST_DIR=${LAB_HOST_DIR:-/run/synacct-test}
LAB_HOST_LOCK=$LAB_HOST_DIR/host-sysctl.lock
LAB_HOST_SAVED=$LAB_HOST_DIR/host-sysctl.saved
LAB_HOST_LOCK_WAIT=${LAB_HOST_LOCK_WAIT:-300}
LAB_HOST_LOCK_FD=

# lab_host_lock: take the lock (once per lab; waits at most
# LAB_HOST_LOCK_WAIT seconds).  Values another holder saved and did not
# put back (it was killed) are put back first: they are the host's own.
lab_host_lock() {
	[ -n "$LAB_HOST_LOCK_FD" ] && return 0
	mkdir -p "$LAB_HOST_DIR" || return 1
	exec {LAB_HOST_LOCK_FD}>>"$LAB_HOST_LOCK" || return 1
	flock -w "$LAB_HOST_LOCK_WAIT" "$LAB_HOST_LOCK_FD" || {
		exec {LAB_HOST_LOCK_FD}>&-
		LAB_HOST_LOCK_FD=
		return 1
	}
	lab_host_saved_restore
}

# lab_host_saved_restore: put back every value of LAB_HOST_SAVED, the
# first saved for each key winning, and remove the file.  Call with the
# lock held.
lab_host_saved_restore() {
	local pid key val
	[ -s "$LAB_HOST_SAVED" ] || { rm -f "$LAB_HOST_SAVED"; return 0; }
	declare -A seen=()
	while read -r pid key val; do
		[ -n "$key" ] && [ -z "${seen[$key]+set}" ] || continue
		seen[$key]=1
		echo "# putting $key back to $val (saved by PID $pid, which did not)" >&2
		sysctl -qw "$key=$val" >/dev/null
	done <"$LAB_HOST_SAVED"
	rm -f "$LAB_HOST_SAVED"
}

# lab_host_sysctl_restore: lab_teardown's part: the values found first
# back, the saved file gone, then the lock released.
lab_host_sysctl_restore() {
	local key
	for key in "${!LAB_HOST_SYSCTL[@]}"; do
		sysctl -qw "$key=${LAB_HOST_SYSCTL[$key]}" >/dev/null
	done
	LAB_HOST_SYSCTL=()
	[ -n "$LAB_HOST_LOCK_FD" ] || return 0
	rm -f "$LAB_HOST_SAVED"
	exec {LAB_HOST_LOCK_FD}>&-
	LAB_HOST_LOCK_FD=
}

# lab_free_port [NS]: a TCP port nothing has bound in NS (default: the
# host's namespace, where synacct's --metrics listens even with --netns),
# below the ephemeral range so no connection's local port takes it
# meanwhile; the kernel decides (a bind on the wildcard addresses, IPv4
# and IPv6), not a list of listeners.  Each call gives another port.
LAB_PORTS_GIVEN=" "
lab_free_port() {
	local lo p i
	lo=$(sysctl -n net.ipv4.ip_local_port_range | awk '{ print $1 }')
	[ "${lo:-0}" -gt 20100 ] || lo=32768
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + RANDOM % (lo - 20000)))
		[[ $LAB_PORTS_GIVEN == *" $p "* ]] && continue
		if ${1:+ip netns exec "$1"} "$SA_BIN/lab_probe" bind "$p" >/dev/null 2>&1; then
			LAB_PORTS_GIVEN+="$p "
			echo "$p"
			return 0
		fi
	done
	echo "Bail out! lab_free_port: no free port found in 200 tries" >&2
	return 1
}

# lab_now: the time now as synacct's records print it (UTC, ms).
lab_now() {
	date -u +%Y-%m-%dT%H:%M:%S.%3NZ
}

# synacct_wait_record AFTER [SECONDS]: wait until $SA_OUT holds an
# interval record read after AFTER (a lab_now taken after the last SYN
# of the check, once the lab has settled).  A record's time is taken
# after its counters are read, so it is the second record stamped after
# AFTER that is sure to have been read after it.  Fails, saying so, after
# SECONDS (default 10) or when synacct has exited.
synacct_wait_record() {
	local after=$1 limit=$((${2:-10} * 10)) i n
	for ((i = 0; i < limit; i++)); do
		# Not jq: a port scan's records are megabytes, read ten times
		# a second.  Each record is a line that starts with its type
		# and time (agent/output/report.c, json_header).
		n=$(grep -o '^{"type":"interval","time":"[^"]*"' "$SA_OUT" 2>/dev/null |
			cut -d'"' -f8 | awk -v t="$after" '$0 > t' | wc -l)
		[ "$n" -ge 2 ] && return 0
		kill -0 "$SA_PID" 2>/dev/null || break
		sleep 0.1
	done
	t_ok 1 "synacct wrote an interval record read after $after within ${2:-10} s"
	echo "#   $n stamped after it; synacct $(kill -0 "$SA_PID" 2>/dev/null && echo running || echo exited)"
	return 1
}

# metrics_wait_read URL AFTER [SECONDS]: wait until the /metrics page at
# URL shows a reading begun after AFTER (a `date +%s.%N` taken after the
# last SYN of the check): synacct_last_read_timestamp_seconds is when its
# reading began (rounded down to the ms), so what happened before AFTER is
# in it.  For a --quiet synacct, which writes no records.
metrics_wait_read() {
	local url=$1 after=$2 limit=$((${3:-10} * 10)) i t
	for ((i = 0; i < limit; i++)); do
		t=$(curl -sf "$url" | awk '$1 == "synacct_last_read_timestamp_seconds" { print $2 }')
		[ -n "$t" ] && awk -v t="$t" -v a="$after" 'BEGIN { exit !(t > a) }' && return 0
		sleep 0.1
	done
	t_ok 1 "$url shows a reading begun after $after within ${3:-10} s"
	echo "#   last reading: ${t:-none}"
	return 1
}

# synacct_wait_quiet: once the lab has settled (lab_settle), wait for an
# interval record read after that: the interval records then hold every
# event the summary will (and a /metrics page served beside them too).
synacct_wait_quiet() {
	lab_settle "$SRV"
	synacct_wait_record "$(lab_now)"
}

# ---- scenarios ----
#
# A test file defines each scenario as a function sc_NAME, lists the names
# in the order they run, and hands its arguments to lab_main:
#
#	LAB_SCENARIOS=(accept_overflow closed_port ...)
#	lab_main "$@"
#
# Every scenario gets a fresh lab (lab_init before it, lab_teardown after
# it), so none depends on what another left behind and any one runs alone:
#
#	selftests/t/30-funnel.t accept_overflow closed_port
#
# No argument runs them all in order; --list names them; an unknown name
# is a usage error (exit 2) that lists the valid ones.  What a file needs
# is checked once, in the first scenario's lab, before any test:
#
#	LAB_REQUIRE_HOOK	skips the whole file (naming the kernel fact)
#				when this kernel offers none of the hooks it
#				lists, and bails out when synacct does not
#				start or does not attach the first the kernel
#				offers; an array of such lists needs one hook
#				of each, e.g. ("$LISTENER_HOOKS" netfilter/forward)
#	LAB_REQUIRE		a function that may skip the whole file
#				(t_skip_all), e.g. when a tool is missing
#
# LAB_TEARDOWN names a function every teardown runs (after the lab's
# processes are stopped, before its namespaces and LAB_DIR go), for what
# a file's scenarios start that lab_teardown does not know (a tmux
# server, a bpffs mount); it runs on every path, a failed scenario's too.

lab_main() {
	local prog name fn hooks checked= run=()

	prog=$(basename "$0")
	# Every scenario function is listed, and every listed name has one:
	# a scenario cannot drop out of the run unnoticed.
	for fn in $(declare -F | awk '$3 ~ /^sc_/ { print substr($3, 4) }'); do
		[[ " ${LAB_SCENARIOS[*]} " == *" $fn "* ]] ||
			{ echo "Bail out! $prog: sc_$fn is not in LAB_SCENARIOS"; exit 1; }
	done
	for name in "${LAB_SCENARIOS[@]}"; do
		declare -F "sc_$name" >/dev/null ||
			{ echo "Bail out! $prog: scenario $name has no function sc_$name"; exit 1; }
	done
	case ${1:-} in
	-l | --list)
		printf '%s\n' "${LAB_SCENARIOS[@]}"
		exit 0 ;;
	-h | --help)
		echo "usage: $prog [--list] [SCENARIO...]  (no SCENARIO: all, in order)"
		exit 0 ;;
	esac
	for name in "$@"; do
		[[ " ${LAB_SCENARIOS[*]} " == *" $name "* ]] || {
			echo "$prog: unknown scenario '$name'; valid: ${LAB_SCENARIOS[*]}" >&2
			exit 2
		}
	done
	if [ $# -gt 0 ]; then
		run=("$@")
	else
		run=("${LAB_SCENARIOS[@]}")
	fi
	lab_require
	for name in "${run[@]}"; do
		echo "# scenario $name"
		lab_init
		if [ -z "$checked" ]; then
			for hooks in "${LAB_REQUIRE_HOOK[@]}"; do
				lab_require_hook $hooks
			done
			[ -z "${LAB_REQUIRE:-}" ] || "$LAB_REQUIRE"
			checked=1
		fi
		"sc_$name"
		lab_teardown
	done
	t_done
}

# ---- the table ----
#
# lab_table_run PORT: synacct's table, not JSON, around two clients: started,
# then the clients once it has attached (its first table), then SIGINT;
# TABLE holds what it printed.  No fixed sleeps: a slow machine (a VM
# under TCG) takes seconds to attach.
lab_table_run() {
	local tpid i
	NO_COLOR=1 "$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --ports "$1" --interval 0.5 \
		>"$LAB_DIR/table.out" 2>&1 &
	tpid=$!
	for ((i = 0; i < 300; i++)); do
		grep -q '^synacct live' "$LAB_DIR/table.out" 2>/dev/null && break
		kill -0 $tpid 2>/dev/null || break
		sleep 0.1
	done
	lab_client --to $SRV_IP4 --port "$1" --count 2 >/dev/null
	lab_settle "$SRV"
	kill -INT $tpid 2>/dev/null
	wait $tpid
	TABLE=$(cat "$LAB_DIR/table.out")
}

#
# table_cell FILE PORT NAME: a port's figure from the last table in FILE
# (the summary, once synacct has exited), found by name: in the column
# under the header NAME, or, when the column did not fit and was folded
# under the row, as a "NAME VALUE" pair in the port's block.  Prints
# nothing and fails when the port or the figure is not there.
table_cell() {
	awk -v port="$2" -v name="$3" '
	/^synacct (live|summary) / { n = 0; next }	# a new table starts
	{ line[++n] = $0 }
	END {
		for (i = 1; i <= n; i++) {
			split(line[i], f)
			if (f[1] == "port") { hdr = i; break }
		}
		if (!hdr)
			exit 1
		ncol = split(line[hdr], h)
		col = 0
		for (c = 1; c <= ncol; c++)
			if (h[c] == name)
				col = c
		for (i = hdr + 1; i <= n; i++) {
			split(line[i], f)
			if (f[1] == port) { row = i; break }
		}
		if (!row)
			exit 1
		if (col) {
			if (split(line[row], f) != ncol) {
				printf "table_cell: port %s: %d cells under %d headers\n",
					port, split(line[row], f), ncol > "/dev/stderr"
				exit 1
			}
			print f[col]
			exit 0
		}
		# Folded: the lines under the row, up to its verdict (last
		# in the block, maybe over several lines), the next row or
		# the first line that is not indented.
		for (i = row + 1; i <= n; i++) {
			if (line[i] !~ /^[ \t]/)
				break
			m = split(line[i], f)
			if (f[1] ~ /^[0-9]+$/ || f[1] == "=>")
				break
			for (c = 1; c < m; c++)
				if (f[c] == name) {
					print f[c + 1]
					exit 0
				}
		}
		exit 1
	}' "$1"
}

# table_ports FILE: the ports with a row in the last table in FILE.
table_ports() {
	awk '/^synacct (live|summary) / { n = 0; hdr = 0; delete p; next }
	     $1 == "port" { hdr = 1; next }
	     hdr && $1 ~ /^[0-9]+$/ { p[++n] = $1 }
	     END { for (i = 1; i <= n; i++) print p[i] }' "$1"
}

# lab_drop_synacks_out PORT: an nftables output rule in the server
# namespace that counts and drops every SYN-ACK from PORT (table inet
# synacct_test, which the caller deletes).
lab_drop_synacks_out() {
	ip netns exec "$SRV" nft -f - <<NFT
table inet synacct_test {
	chain output {
		type filter hook output priority 0; policy accept;
		tcp sport $1 tcp flags & (syn | ack) == syn | ack counter drop
	}
}
NFT
}

# ---- kernel counters ----

# lab_nstat NS: every MIB counter of NS as "Name value" lines (absolute).
lab_nstat() {
	ip netns exec "$1" nstat -saz 2>/dev/null | awk 'NR > 1 && NF >= 2 { print $1, $2 }'
}

# nstat_get FILE NAME: a counter from a lab_nstat dump (0 if absent).
nstat_get() {
	awk -v n="$2" '$1 == n { v = $2 } END { print v + 0 }' "$1"
}

# nstat_delta BEFORE AFTER NAME
nstat_delta() {
	echo $(( $(nstat_get "$2" "$3") - $(nstat_get "$1" "$3") ))
}

# SYNs the client namespace sent: every connect() and every retransmit.
cli_syns_sent() {	# BEFORE AFTER
	echo $(( $(nstat_delta "$1" "$2" TcpActiveOpens) + $(nstat_delta "$1" "$2" TcpExtTCPSynRetrans) ))
}

# ---- synacct ----

# synacct_start [synacct options...]: run it on the server side of the lab
# with --json; returns once its programs are attached ("start" record).
# A synacct that exits or prints no start record within 10 s is "Bail
# out!": its scenario's checks must not just drop out of the run.
# SA_WRAP, if set, is a command to run it under (e.g. "taskset -c 0");
# SA_LISTENER_HOOK, if set, its --listener-hook (selftests/vm runs the
# funnel once more with kprobe where the kernel has kprobes).
synacct_start() {
	SA_OUT=$LAB_DIR/synacct.json
	SA_ERR=$LAB_DIR/synacct.err
	# The background job truncates the file only when it gets to run:
	# remove the last run's output first, or its "start" record would
	# end the wait below before this synacct has attached anything.
	rm -f "$SA_OUT" "$SA_ERR"
	$SA_WRAP "$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --json \
		${SA_LISTENER_HOOK:+--listener-hook "$SA_LISTENER_HOOK"} "$@" >"$SA_OUT" 2>"$SA_ERR" &
	SA_PID=$!
	LAB_PIDS+=($SA_PID)
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q '"type":"start"' "$SA_OUT" 2>/dev/null && return 0
		kill -0 $SA_PID 2>/dev/null || break
		sleep 0.1
	done
	echo "# synacct did not start:"; t_diag "$SA_ERR"
	echo "Bail out! synacct did not start ($SYNACCT --netns $SRV --iface $SRV_IF --json $*)"
	exit 1
}

# synacct_stop: SIGINT, wait; SA_RC holds its exit status.
synacct_stop() {
	kill -INT $SA_PID 2>/dev/null
	wait $SA_PID
	SA_RC=$?
}

# summary FIELD PORT: a port's field (or a jq expression starting with '.'
# or '[') from the summary record.
summary() {
	local f=$1
	case $f in .* | \[*) ;; *) f=".$f" ;; esac
	jq -r --argjson p "$2" 'select(.type == "summary") | .ports[] |
		select(.port == $p) | '"$f" "$SA_OUT"
}

# interval_sum FIELD PORT: the field summed over all interval records.
interval_sum() {
	jq -s --argjson p "$2" '[.[] | select(.type == "interval") | .ports[] |
		select(.port == $p) | .'"$1"'] | add // 0' "$SA_OUT"
}

# ---- funnel scenarios ----

# scenario_begin [synacct options...]: kernel counters, then synacct.
scenario_begin() {
	lab_nstat "$SRV" >"$LAB_DIR/srv.0"
	lab_nstat "$CLI" >"$LAB_DIR/cli.0"
	synacct_start "$@"
}

# lab_settle NS: wait (at most 5 s) until NS's listener counters stop
# moving.  Packets a client sent as it exited (a FIN to a full accept
# queue) may still be on their way through the stack when the client is
# gone; on a slow machine (QEMU TCG) long enough to fall between synacct's
# last reading and the test's.
lab_settle() {
	local prev cur i
	prev=$(lab_nstat "$1" | grep -E "$LAB_SETTLE_RE")
	for ((i = 0; i < 25; i++)); do
		sleep 0.2
		cur=$(lab_nstat "$1" | grep -E "$LAB_SETTLE_RE")
		[ "$cur" == "$prev" ] && return 0
		prev=$cur
	done
}
LAB_SETTLE_RE='^(TcpExtListenOverflows|TcpExtListenDrops|TcpExtSyncookies[A-Za-z]*|TcpExtTCPReqQFullDrop|TcpExtTCPSynRetrans|TcpPassiveOpens) '

# scenario_end: let the lab settle, stop synacct, then read the kernel
# counters again.  The lab is quiet outside the scenario, so both windows
# see the same events.
scenario_end() {
	lab_settle "$SRV"
	synacct_stop
	lab_nstat "$SRV" >"$LAB_DIR/srv.1"
	lab_nstat "$CLI" >"$LAB_DIR/cli.1"
}

srv_delta() { nstat_delta "$LAB_DIR/srv.0" "$LAB_DIR/srv.1" "$1"; }
cli_sent() { cli_syns_sent "$LAB_DIR/cli.0" "$LAB_DIR/cli.1"; }
cli_delta() { nstat_delta "$LAB_DIR/cli.0" "$LAB_DIR/cli.1" "$1"; }

# check_retries NAME PORT PREVIOUS FIRST: the clients' SYN retries on PORT
# (the client namespace's TcpExtTCPSynRetrans: the scenario's only
# clients were PORT's) are synacct's syn_retries, every one after an
# attempt whose fate was PREVIOUS (a key of syn_retries_after), FIRST of
# them first retries (the connections that retried).
check_retries() {
	local name=$1 port=$2 previous=$3 first=$4 retries
	retries=$(summary syn_retries "$port")
	t_is "$retries" "$(cli_delta TcpExtTCPSynRetrans)" \
		"$name: syn_retries == the client namespace's TCPSynRetrans"
	t_ok $(( retries > 0 ? 0 : 1 )) "$name: the clients retried ($retries)"
	t_is "$(summary "[.syn_retries_after[]] | add // 0" "$port"),$(summary ".syn_retries_after.$previous // 0" "$port")" \
		"$retries,$retries" "$name: every retry followed an attempt that ended as $previous"
	t_is "$(summary '[.syn_retry_attempt[]] | add // 0' "$port"),$(summary '.syn_retry_attempt."1" // 0' "$port")" \
		"$retries,$first" "$name: $first first retries, the rest later ones"
	t_is "$(summary syn_retries_untracked "$port")" 0 "$name: no attempt lost to the retry table"
}

# check_retry_wait NAME PORT: syn_retry_wait_millis against the client
# kernel's schedule for PORT's first and second retries: 1 s each while
# tcp_syn_linear_timeouts (where the kernel has it, 6.18: 4 by default) lasts, else 1 s then
# 2 s.  A range, not ==: each gap is the client's timer (late by up to
# one slot of the timer wheel, 64 ms at 1 s) as TC ingress's coarse clock
# (one jiffy) saw it.
check_retry_wait() {
	local name=$1 port=$2 one two n linear want wait
	one=$(summary '.syn_retry_attempt."1" // 0' "$port")
	two=$(summary '.syn_retry_attempt."2" // 0' "$port")
	n=$(( one + two ))
	linear=$(ip netns exec "$CLI" sysctl -n net.ipv4.tcp_syn_linear_timeouts 2>/dev/null || echo 0)
	want=$(( 1000 * one + (linear >= 2 ? 1000 : 2000) * two ))
	wait=$(summary syn_retry_wait_millis "$port")
	t_is "$(summary '.syn_retry_attempt."3+" // 0' "$port")" 0 "$name: no third retry"
	t_ok $(( wait >= want - 5 * n && wait <= want + 80 * n ? 0 : 1 )) \
		"$name: syn_retry_wait_millis $wait is the clients' schedule, $want ms (-5, +80 ms a retry)"
}

# Sum of a field over every port of the summary (for MIB comparisons).
summary_sum() {
	jq -r '[select(.type == "summary") | .ports[] | .'"$1"'] | add // 0' "$SA_OUT"
}

# lab_gaps: the gaps' keys, one a line, as synacct's gap table has them
# (the unexplained.KEY rows of `synacct counters`).
lab_gaps() {
	"$SYNACCT" counters | sed -n 's/^| `unexplained\.\([a-z_]*\)` |.*/\1/p'
}

# check_funnel NAME PORT: what must hold for every port in every
# scenario: the stages reconcile with no unexplained SYN (every gap of the
# table, 0; the followed namespace's are 0 without one), synack_sent adds
# up, and the namespace MIBs agree with the per-port sums.
check_funnel() {
	local name=$1 port=$2
	t_is "$SA_RC" 0 "$name: synacct exits 0"
	local gaps want
	# Every key of the port's unexplained object with its value, against
	# the table's gaps at 0: a gap missing on either side fails too.
	gaps=$(summary '.unexplained | to_entries | map("\(.key)=\(.value)") | join(",")' "$port")
	want=$(lab_gaps | sed 's/$/=0/' | paste -sd,)
	t_is "$gaps" "${want:-no gap in synacct counters}" "$name: nothing unexplained ($(lab_gaps | paste -sd' '))"
	# What a gap is made of, for whoever reads a failed run's log.
	[ "$gaps" = "$want" ] || {
		echo "# $name: port $port in the summary, and synacct's stderr:"
		jq -c --argjson p "$port" 'select(.type == "summary") | (.ports[] | select(.port == $p)),
			{missed_runs, update_failed}' "$SA_OUT" | t_diag
		echo "# each interval: time, then the port's synack_sent, synack_retrans, synack_retrans_failed, unexplained"
		jq -c --argjson p "$port" 'select(.type == "interval") | [.time] + (.ports[] | select(.port == $p) |
			[.synack_sent, .synack_retrans, .synack_retrans_failed, .unexplained])' "$SA_OUT" | t_diag
		t_diag "$SA_ERR"
	}
	t_is "$(jq -r 'select(.type == "summary") | .consistent' "$SA_OUT")" true \
		"$name: per-port sums agree with the namespace MIBs"
	t_is "$(jq -r 'select(.type == "summary") | .update_failed.stack' "$SA_OUT")" \
		0 "$name: no count lost to a full map (update_failed.stack)"
	# A tracing program's run skipped because it fired again on a CPU
	# where it was running is usually another skb's; one that mattered
	# fails the exact figures checked here and by the caller.
	local missed
	missed=$(jq -r 'select(.type == "summary") | .missed_runs' "$SA_OUT")
	[ "$missed" = 0 ] ||
		echo "# $name: the kernel skipped $missed runs of the stack's programs (nested on a busy CPU); the figures must still be exact"
	t_is "$(jq -r 'select(.type == "summary") | [.mib.TcpExtListenOverflows, .mib.TcpExtListenDrops, .mib.TcpExtSyncookiesSent, .mib.TcpExtTCPReqQFullDrop, .mib.TcpPassiveOpens] | join(",")' "$SA_OUT")" \
		"$(srv_delta TcpExtListenOverflows),$(srv_delta TcpExtListenDrops),$(srv_delta TcpExtSyncookiesSent),$(srv_delta TcpExtTCPReqQFullDrop),$(srv_delta TcpPassiveOpens)" \
		"$name: summary mib == nstat deltas in the server namespace"
}

# ---- synacct check ----

# synacct_check [check options...]: one `synacct check --netns $SRV`;
# CK_OUT (stdout), CK_ERR (stderr), CK_RC (exit status).
synacct_check() {
	CK_OUT=$("$SYNACCT" check --netns "$SRV" "$@" 2>"$LAB_DIR/check.err")
	CK_RC=$?
	CK_ERR=$(cat "$LAB_DIR/check.err")
}

# ck JQ-EXPR: a value from the last `synacct check --json`.
ck() {
	jq -r "$1" <<<"$CK_OUT"
}

# ck_listener PORT [FAMILY]: one listener of the last check as
# "addr port family pid comm accept_backlog syn_queue_len accept_queue_len
# listener_sk_drops".
ck_listener() {
	ck "[.listeners[] | select(.port == $1 and (\"${2:-}\" == \"\" or .family == \"${2:-}\"))
		| [.addr, .port, .family, .pid, .comm, .accept_backlog, .syn_queue_len,
		   .accept_queue_len, .listener_sk_drops] | map(tostring) | join(\" \")] | join(\"; \")"
}

# ck_findings: "severity:id[:port]" of every finding, in order, space separated.
ck_findings() {
	ck '[.findings[] | [.severity, .id, (.port // empty | tostring)] | join(":")] | join(" ")'
}

# lab_ss_count NS STATE PORT: sockets of NS in STATE on local port PORT.
lab_ss_count() {
	ip netns exec "$1" ss -Htn state "$2" "( sport = :$3 )" | wc -l
}

# ---- a container behind the server namespace ----

CTR_IP4=198.18.2.2
CTR_GW4=198.18.2.1
CTR_IP6=2001:db8:2::2
CTR_GW6=2001:db8:2::1
CTR_HOST_IF=sa-h0
CTR_IF=sa-c0

# lab_container: a third namespace, CTR, routed from the server namespace
# (which becomes the container host: forwarding on) through a veth pair,
# Calico-style (no bridge).  CTR routes only the lab's client range back
# through the host; no default route anywhere.
lab_container() {
	CTR=sa-$$-ctr
	lab_netns_add "$CTR" &&
	ip link add "$CTR_HOST_IF" netns "$SRV" type veth peer name "$CTR_IF" netns "$CTR" &&
	ip -n "$SRV" addr add $CTR_GW4/24 dev "$CTR_HOST_IF" &&
	ip -n "$CTR" addr add $CTR_IP4/24 dev "$CTR_IF" &&
	ip -n "$SRV" addr add $CTR_GW6/64 dev "$CTR_HOST_IF" nodad &&
	ip -n "$CTR" addr add $CTR_IP6/64 dev "$CTR_IF" nodad &&
	ip -n "$SRV" link set "$CTR_HOST_IF" up && ip -n "$CTR" link set "$CTR_IF" up &&
	ip -n "$CTR" link set lo up &&
	ip -n "$CTR" route add 198.18.0.0/24 via $CTR_GW4 &&
	ip -n "$CTR" -6 route add 2001:db8::/64 via $CTR_GW6 &&
	lab_sysctl "$SRV" net.ipv4.ip_forward=1 &&
	lab_sysctl "$SRV" net.ipv6.conf.all.forwarding=1 ||
		{ echo "Bail out! cannot build the container namespace"; exit 1; }
	local hmac cmac
	hmac=$(ip -n "$SRV" -j link show dev "$CTR_HOST_IF" | jq -r '.[0].address')
	cmac=$(ip -n "$CTR" -j link show dev "$CTR_IF" | jq -r '.[0].address')
	ip -n "$SRV" neigh replace $CTR_IP4 lladdr "$cmac" dev "$CTR_HOST_IF" nud permanent &&
	ip -n "$SRV" neigh replace $CTR_IP6 lladdr "$cmac" dev "$CTR_HOST_IF" nud permanent &&
	ip -n "$CTR" neigh replace $CTR_GW4 lladdr "$hmac" dev "$CTR_IF" nud permanent &&
	ip -n "$CTR" neigh replace $CTR_GW6 lladdr "$hmac" dev "$CTR_IF" nud permanent ||
		{ echo "Bail out! cannot set the container's neighbours"; exit 1; }
	lab_quiet "$SRV" "$CTR_HOST_IF" "$CTR" "$CTR_IF"
}

# ctr_server PORT [lab_server options...]: lab_server in the container.
ctr_server() {
	SRV=$CTR lab_server "$@"
}

# ---- JSON and /metrics ----

# json_metrics_check RECORD PAGE: every number of a JSON record (a file
# holding one record, e.g. the summary) against the series of a /metrics
# page of the same run, by the naming rules of docs/metrics.md, whose
# exclusions are the only numbers allowed no series.  Prints a line per
# number without its series or with another value, then "checked N"
# (selftests/lib/json-metrics.awk); and a line when there was nothing to
# check (an empty or missing record or page, a record with no number) or
# jq or awk failed: callers want nothing but "checked N".
json_metrics_check() {
	local f
	for f in "$1" "$2"; do
		[ -s "$f" ] || echo "json_metrics_check: $f is empty or missing"
	done
	[ -s "$1" ] && [ -s "$2" ] || return 1
	(
		set -o pipefail
		jq -r 'paths(numbers) as $p |
			[($p | map(if type == "number" then "[]" else "." + . end) | join("")),
			 (getpath($p) | tostring),
			 (if $p[0] == "ports" then getpath(["ports", $p[1], "port"]) | tostring else "" end)] |
			@tsv' "$1" |
			awk -f "$SA_ROOT/selftests/lib/json-metrics.awk" "$SA_ROOT/docs/metrics.md" "$2" -
	) || echo "json_metrics_check: jq or awk failed (exit $?)"
}

# ---- outside oracles ----
#
# Figures synacct did not compute, for its own to be checked against: the
# devices' counters, nftables counters in the client's (or any lab)
# namespace, ss.  The lab is quiet (lab_quiet, permanent neighbours): a
# device counter moves only with the test's own frames.

# nft matches for lab_oracle_count and lab_oracle_flows.
LAB_SYN='tcp flags & (syn | ack) == syn'
LAB_SYNACK='tcp flags & (syn | ack) == syn | ack'
LAB_RST='tcp flags & rst == rst'

# lab_link_stat NS IFACE rx|tx FIELD: a device counter (ip -s link:
# packets, bytes, dropped, ...).
lab_link_stat() {
	ip -n "$1" -s -j link show dev "$2" | jq -r ".[0].stats64.$3.$4"
}

# lab_oracle NS: an nftables table of the lab's own in NS (inet
# synacct_oracle), whose chains only count: "in" on prerouting (every
# frame NS receives, for its own addresses or not: SYN-ACKs to a flood's
# spoofed sources too), "out" on output (every packet NS sends, raw
# sockets' included).  Before conntrack, accepting everything.
lab_oracle() {
	ip netns exec "$1" nft -f - <<NFT || { echo "Bail out! cannot create the oracle table in $1"; exit 1; }
table inet synacct_oracle {
	chain in { type filter hook prerouting priority -350; policy accept; }
	chain out { type filter hook output priority -350; policy accept; }
}
NFT
}

# lab_oracle_count NS NAME in|out MATCH...: a named counter, NAME, of the
# packets MATCH (an nft match, e.g. "tcp sport 80 tcp flags & (syn | ack)
# == syn | ack") selects on that chain.
lab_oracle_count() {
	local ns=$1 name=$2 chain=$3; shift 3
	ip netns exec "$ns" nft add counter inet synacct_oracle "$name" &&
	ip netns exec "$ns" nft add rule inet synacct_oracle "$chain" "$@" counter name "$name" ||
		{ echo "Bail out! cannot add the oracle counter $name in $ns"; exit 1; }
}

# lab_oracle_flows NS NAME in|out 4|6 MATCH...: a set, NAME, of the
# distinct (destination address, destination port) of the packets MATCH
# selects: e.g. how many flows got a SYN-ACK, however often each got one.
lab_oracle_flows() {
	local ns=$1 name=$2 chain=$3 fam=$4 ip=ip; shift 4
	[ "$fam" = 6 ] && ip=ip6
	ip netns exec "$ns" nft add set inet synacct_oracle "$name" \
		"{ typeof $ip daddr . tcp dport; flags dynamic; size 262144; }" &&
	ip netns exec "$ns" nft add rule inet synacct_oracle "$chain" meta nfproto ipv$fam "$@" \
		add @"$name" "{ $ip daddr . tcp dport }" ||
		{ echo "Bail out! cannot add the oracle set $name in $ns"; exit 1; }
}

# lab_oracle_get NS NAME: a counter's packets, or a set's element count.
lab_oracle_get() {
	ip netns exec "$1" nft -j list ruleset |
		jq --arg n "$2" '[.nftables[] | (.counter? // empty | select(.name == $n) | .packets),
			(.set? // empty | select(.name == $n) | .elem // [] | length)] | first // "none"'
}

# lab_oracle_synacks NS NAME SENDER NSTAT: the SYN-ACKs counter NAME of
# NS holds, less those SENDER (the namespace whose listener answers)
# retransmitted after its nstat dump NSTAT was taken (scenario_end takes
# it once synacct has stopped): the SYN-ACKs sent while synacct watched.
# A request sock retransmits 1 s and 3 s after its SYN; on a slow machine
# (QEMU TCG) the second can fall between synacct's stop and this read.
# The counter is read between two equal readings of SENDER's
# TcpExtTCPSynRetrans, 0.1 s after the first, so that no retransmission
# is counted on one side and not the other.
lab_oracle_synacks() {
	local i a b got
	for ((i = 0; i < 30; i++)); do
		a=$(lab_nstat "$3" | awk '$1 == "TcpExtTCPSynRetrans" { v = $2 } END { print v + 0 }')
		sleep 0.1
		got=$(lab_oracle_get "$1" "$2")
		b=$(lab_nstat "$3" | awk '$1 == "TcpExtTCPSynRetrans" { v = $2 } END { print v + 0 }')
		[ "$a" = "$b" ] && { echo $(( got - (a - $(nstat_get "$4" TcpExtTCPSynRetrans)) )); return 0; }
	done
	echo "unsteady"
}

# lab_oracle_del NS: the table goes (lab_teardown takes the namespace
# anyway; for a scenario that goes on without it).
lab_oracle_del() {
	ip netns exec "$1" nft delete table inet synacct_oracle
}

# lab_ss_listen NS PORT: "Recv-Q Send-Q" of NS's listeners on PORT, one
# line each: for a listener, the accept queue's length and its backlog.
lab_ss_listen() {
	ip netns exec "$1" ss -Hlnt "( sport = :$2 )" | awk '{ print $2, $3 }'
}

# lab_wait_synack_retrans NS PORT BEFORE: wait until every request sock
# on NS's PORT has had its first SYN-ACK retransmitted: TCPSynRetrans
# since the nstat dump BEFORE >= the SYN-RECV sockets ss lists.  Those go
# 1 s after their SYNs, the next ones 2 s later: until then no SYN-ACK
# leaves, and what a counter read after synacct stops saw is what synacct
# saw.  Call right after the flood.  Fails if they did not come within
# 2.5 s, or if there is no request sock to wait for.
lab_wait_synack_retrans() {
	local n r end=$(( $(date +%s%N) + 2500000000 ))
	while [ "$(date +%s%N)" -lt $end ]; do
		n=$(lab_ss_count "$1" syn-recv "$2")
		lab_nstat "$1" >"$LAB_DIR/rtx.nstat"
		r=$(nstat_delta "$3" "$LAB_DIR/rtx.nstat" TcpExtTCPSynRetrans)
		[ "$n" -gt 0 ] && [ "$r" -ge "$n" ] && return 0
		sleep 0.05
	done
	return 1
}
