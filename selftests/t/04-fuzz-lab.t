#!/bin/bash
# Fuzzed frames the kernel judges: valid SYNs and mutated frames
# (selftests/test_fuzz.c --send) go from the client namespace over the
# lab's veth on an AF_PACKET socket to the server namespace, where a
# listener takes SYNs with cookies always on (tcp_syncookies=2): every SYN
# the kernel's TCP accepts bumps TcpExtSyncookiesSent once.  synacct's
# nic_syn and tc_syn (the shared parser), listener_syn and syncookies_sent
# (the stack side's own header walker, include/bpf/skb.h skb_tcp) must
# each equal that count, and the walker must count no SYN drop anywhere:
# every frame that is not a SYN to the kernel is not one to synacct.
# jumbo: frames of 4-9 KB, which AF_PACKET sends as skbs whose linear part
# is the Ethernet header alone; with --no-xdp, TC ingress sees them so and
# must pull the headers in (bpf_skb_pull_data).  refused: SYNs the parser
# counts and the kernel refuses, for a bad checksum, an IP length longer
# than the frame, or FIN or RST beside SYN; the walker must count each as a
# SYN drop with the reason whose MIB counter the kernel moved (TCP_CSUM:
# TcpInCsumErrors, IP_CSUM: IpExtInCsumErrors, PKT_TOO_SMALL:
# IpExtInTruncatedPkts and Ip6InTruncatedPkts; TCP_FLAGS and TCP_RESET,
# with no counter: as many as sent).  limits: SYNs at and beyond the
# parser's limits that the kernel takes whole (test_fuzz --limits): IPv6
# behind up to 6 extension headers, an atomic fragment header among them
# for some, IPv4 SYNs in two fragments, and IPv4 SYNs behind three VLAN
# tags (which the kernel, with no VLAN device, takes none of); the
# kernel's count must be nic_syn + the SYNs behind more extension headers
# than the parser walks (counted unparsed, with the three-tag ones:
# never silently), listener_syn, and the reconciliation must explain the
# SYNs beyond the parser (syn_beyond_parser), no gap unexplained.
# Seeds: a pinned one and random ones, printed;
# FUZZ_SEED=N reruns with N.
#   selftests/t/04-fuzz-lab.t [--list] [SCENARIO...]
. "$(dirname "$0")/../lib/lab.sh"

LAB_SCENARIOS=(pinned_seed random_seed jumbo refused limits)
PORT=8080
FRAMES=${FUZZ_LAB_FRAMES:-3000}

dev_stat() {	# dev_stat NS IFACE rx|tx FIELD
	ip -n "$1" -s -j link show dev "$2" | jq -r ".[0].stats64.$3.$4"
}

out_get() {	# out_get NAME: a count from test_fuzz --send's line
	sed -E "s/(^|.* )$1=([0-9]+).*/\\2/" <<<"$out"
}

random_seed() {
	echo "${FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
}

# fuzz_lab SEED [--jumbo|--refuse] -- [synacct options]
fuzz_lab() {
	local seed=$1 mode=$2; shift 3
	local smac out sent syn bad k rx0 rx1 txd0 txd1 what=${mode:+${mode#--} }seed=$seed

	echo "# seed $seed (rerun: FUZZ_SEED=$seed $0 ${FUNCNAME[1]#sc_})"
	lab_sysctl "$SRV" net.ipv4.tcp_syncookies=2
	if [ "$mode" = --jumbo ]; then
		ip -n "$SRV" link set "$SRV_IF" mtu 9000 && ip -n "$CLI" link set "$CLI_IF" mtu 9000 ||
			{ echo "Bail out! cannot set the lab's MTU"; exit 1; }
	fi
	lab_server $PORT --backlog 4096
	local srv=$LAB_SERVER_PID cnt=$LAB_SERVER_COUNT
	synacct_start "$@" || { echo "Bail out! synacct did not start"; exit 1; }
	smac=$(ip -n "$SRV" -j link show dev "$SRV_IF" | jq -r '.[0].address')
	lab_nstat "$SRV" >"$LAB_DIR/srv.0"
	rx0=$(dev_stat "$SRV" "$SRV_IF" rx packets)
	txd0=$(dev_stat "$CLI" "$CLI_IF" tx dropped)
	out=$(ip netns exec "$CLI" "$SA_BIN/test_fuzz" --send "$CLI_IF" --dst-mac "$smac" \
		--port $PORT --frames "$FRAMES" --seed "$seed" $mode 2>/dev/null) ||
		{ echo "Bail out! test_fuzz --send failed"; exit 1; }
	echo "# $out"
	LAB_SETTLE_RE='^(TcpExtSyncookiesSent|TcpInSegs|TcpInErrs|IpInReceives|IpInHdrErrors|Ip6InReceives|TcpExtListenDrops) '
	lab_settle "$SRV"
	synacct_stop
	lab_nstat "$SRV" >"$LAB_DIR/srv.1"
	rx1=$(dev_stat "$SRV" "$SRV_IF" rx packets)
	txd1=$(dev_stat "$CLI" "$CLI_IF" tx dropped)
	lab_server_stop "$srv" "$cnt"

	sent=$(out_get sent) syn=$(out_get syn) bad=$(out_get bad)
	k=$(nstat_delta "$LAB_DIR/srv.0" "$LAB_DIR/srv.1" TcpExtSyncookiesSent)
	t_is "$SA_RC" 0 "$what: synacct exits 0 on SIGINT"
	# At least: the client's own stack may send a frame or two.
	t_ok "$([ $((txd1 - txd0)) -eq 0 ] && [ $((rx1 - rx0)) -ge "$sent" ]; echo $?)" \
		"$what: the server's veth received all $sent frames ($((rx1 - rx0)) in all), none dropped on the way"
	if [ "$mode" = --refuse ]; then
		refused_checks
		return
	fi
	if [ "$mode" = --limits ]; then
		limits_checks
		return
	fi
	t_ok "$([ "$k" -gt $((sent / 4)) ] && [ $((sent - k)) -gt $((sent / 4)) ]; echo $?)" \
		"$what: the kernel accepted $k of $sent frames as SYNs (a quarter at least, and refused a quarter at least)"
	t_is "$(nstat_delta "$LAB_DIR/srv.0" "$LAB_DIR/srv.1" TcpExtListenDrops)" 0 \
		"$what: the listener dropped none (ListenDrops)"
	t_is "$k" "$syn" "$what: the kernel's SYNs (SyncookiesSent) == the reference parser's"
	if [ "$mode" != --jumbo ]; then
		t_is "$(summary nic_syn $PORT)" "$k" "$what: nic_syn == SYNs the kernel accepted"
		t_is "$(jq -r 'select(.type == "summary") | .nic_unparsed' "$SA_OUT")" "$bad" \
			"$what: nic_unparsed == frames the reference parser calls malformed"
	fi
	t_is "$(summary tc_syn $PORT)" "$k" "$what: tc_syn == SYNs the kernel accepted"
	t_is "$(jq -r 'select(.type == "summary") | .tc_unparsed' "$SA_OUT")" "$bad" \
		"$what: tc_unparsed == frames the reference parser calls malformed"
	t_is "$(summary listener_syn $PORT)" "$k" "$what: listener_syn == SYNs the kernel accepted"
	t_is "$(summary syncookies_sent $PORT)" "$k" "$what: syncookies_sent == SyncookiesSent"
	# The stack walker read every frame the kernel freed: none is a SYN
	# to it, at any port, and no other port has a count.
	t_is "$(jq -r --argjson p $PORT 'select(.type == "summary") | [.ports[] |
		((.stack_drops // {}) | to_entries[] | .value), (select(.port != $p) |
		(.nic_syn // 0) + (.tc_syn // 0) + (.listener_syn // 0))] | add // 0' "$SA_OUT")" 0 \
		"$what: no SYN drop counted at any port, no SYN at any other port"
}

# SYNs the kernel refused: every one a SYN drop, by the reason whose MIB
# counter the kernel moved.
refused_checks() {
	local d="$LAB_DIR/srv.0 $LAB_DIR/srv.1" n_tcp n_ip n_len drops
	n_tcp=$(nstat_delta $d TcpInCsumErrors)
	n_ip=$(nstat_delta $d IpExtInCsumErrors)
	n_len=$(( $(nstat_delta $d IpExtInTruncatedPkts) + $(nstat_delta $d Ip6InTruncatedPkts) ))
	t_is "$syn" "$sent" "$what: every frame a SYN to the reference parser"
	t_is "$k" 0 "$what: the kernel accepted none (SyncookiesSent)"
	t_is "$n_tcp $n_ip $n_len" \
		"$(out_get tcp_csum) $(out_get ip_csum) $(( $(out_get ip_len) + $(out_get ip6_len) ))" \
		"$what: the kernel counted each fault sent (TcpInCsumErrors, IpExtInCsumErrors, In(6)TruncatedPkts)"
	t_is "$(summary nic_syn $PORT) $(summary tc_syn $PORT)" "$sent $sent" \
		"$what: nic_syn, tc_syn == frames sent"
	t_is "$(summary listener_syn $PORT)" 0 "$what: listener_syn 0"
	drops=$(jq -r --argjson p $PORT 'select(.type == "summary") | .ports[] | select(.port == $p) |
		(.stack_drops // {}) | [.TCP_CSUM // 0, .IP_CSUM // 0, .PKT_TOO_SMALL // 0,
		(.TCP_FLAGS // 0) + (.TCP_RESET // 0), ([to_entries[] | .value] | add // 0)] |
		map(tostring) | join(" ")' "$SA_OUT")
	t_is "$drops" "$n_tcp $n_ip $n_len $(out_get syn_fin_rst) $sent" \
		"$what: stack_drops TCP_CSUM, IP_CSUM, PKT_TOO_SMALL == the kernel's counters, TCP_FLAGS + TCP_RESET == SYN+FIN and SYN+RST sent, all $sent in stack_drops"
	t_is "$(jq -r --argjson p $PORT 'select(.type == "summary") | [.ports[] | select(.port != $p) |
		(.nic_syn // 0) + (.tc_syn // 0) + (.listener_syn // 0) +
		([(.stack_drops // {}) | to_entries[] | .value] | add // 0)] | add // 0' "$SA_OUT")" 0 \
		"$what: nothing counted at any other port"
}

# SYNs at and beyond the parser's limits, all of which the kernel takes.
limits_checks() {
	local beyond u_nic u_tc
	beyond=$(out_get beyond)
	t_ok "$([ "$beyond" -gt 0 ] && [ "$(out_get atomic)" -gt 0 ] && [ "$(out_get frag4)" -gt 0 ] &&
		[ "$(out_get vlan3)" -gt 0 ]; echo $?)" \
		"$what: sent $beyond SYNs beyond the extension header limit, $(out_get atomic) behind an atomic fragment, $(out_get frag4) IPv4 SYNs in two fragments, $(out_get vlan3) behind three VLAN tags"
	t_is "$k" "$((syn + beyond))" \
		"$what: the kernel accepted every SYN (SyncookiesSent == $syn within the limits + $beyond beyond)"
	t_is "$bad" "$((beyond + $(out_get vlan3)))" \
		"$what: the only frames the reference calls unparsable are the SYNs beyond the limits"
	t_is "$(summary nic_syn $PORT) $(summary tc_syn $PORT)" "$syn $syn" \
		"$what: nic_syn, tc_syn == SYNs within the limits (atomic fragments and first IPv4 fragments counted)"
	u_nic=$(jq -r 'select(.type == "summary") | .nic_unparsed' "$SA_OUT")
	u_tc=$(jq -r 'select(.type == "summary") | .tc_unparsed' "$SA_OUT")
	t_is "$u_nic $u_tc" "$bad $bad" \
		"$what: nic_unparsed, tc_unparsed == SYNs beyond the limits (three tags, more than four extension headers)"
	t_is "$(summary listener_syn $PORT)" "$k" "$what: listener_syn == SYNs the kernel accepted"
	t_is "$(summary syncookies_sent $PORT)" "$k" "$what: syncookies_sent == SyncookiesSent"
	t_is "$(summary syn_beyond_parser $PORT)" "$beyond" \
		"$what: syn_beyond_parser == SYNs sent beyond the limits"
	t_is "$(jq -r --argjson p $PORT 'select(.type == "summary") | .ports[] | select(.port == $p) |
		"\(.unexplained | length) \([.unexplained[] | select(. != 0)] | length)"' "$SA_OUT")" "6 0" \
		"$what: no gap unexplained (the six gaps all 0)"
	t_is "$(summary '.verdict.text | capture("(?<n>[0-9]+) SYNs beyond the XDP/TC parser.s limits").n // "none"' $PORT)" \
		"$beyond" "$what: the verdict says $beyond SYNs were beyond the parser's limits"
	t_diag <<<"verdict: $(summary verdict.text $PORT)"
	t_is "$(jq -r --argjson p $PORT 'select(.type == "summary") | [.ports[] |
		((.stack_drops // {}) | to_entries[] | .value), (select(.port != $p) |
		(.nic_syn // 0) + (.tc_syn // 0) + (.listener_syn // 0))] | add // 0' "$SA_OUT")" 0 \
		"$what: no SYN drop counted at any port, no SYN at any other port"
}

sc_pinned_seed() {
	fuzz_lab "${FUZZ_SEED:-1919}" "" --
}

sc_random_seed() {
	fuzz_lab "$(random_seed)" "" --
}

sc_jumbo() {
	fuzz_lab "$(random_seed)" --jumbo -- --no-xdp
}

sc_refused() {
	fuzz_lab "$(random_seed)" --refuse --
}

sc_limits() {
	fuzz_lab "$(random_seed)" --limits --
}

lab_main "$@"
