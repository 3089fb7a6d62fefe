#!/bin/bash
# Counts synacct itself could lose, and SYN-ACKs lost after TC egress:
# every figure equals what the lab did and what the kernel counted, with
# nothing left to read as "unexplained".
#   selftests/t/62-losses.t [--list] [SCENARIO...]
. "$(dirname "$0")/../lib/lab.sh"

LAB_SCENARIOS=(map_full synack_backlog_ipv4 synack_backlog_ipv6
	synack_backlog_pfifo synack_peer_ring synack_qdisc_drop
	synack_output_drop_cookies retries)
LAB_REQUIRE_HOOK=$LISTENER_HOOKS

# A counter map that fills up.  The stack stage is loaded with room for 64
# entries (SYNACCT_TEST_STACK_MAP_ENTRIES, for tests only) and a scan sends
# 3 SYNs to each of 200 closed ports: stack_drops keeps 64 ports, and the
# other 136 x 3 drops are counted as lost, each under its port
# (counts_lost), not as unexplained: in JSON and in /metrics.
sc_map_full() {
	local name="counter map full" entries=64 ports=200 per_port=3 out lost mport page
	local sel='select(.port >= 30000 and .port < 30000 + '$ports')'
	lost=$(( (ports - entries) * per_port ))
	mport=$(lab_free_port) || exit 1
	SA_WRAP="env SYNACCT_TEST_STACK_MAP_ENTRIES=$entries" scenario_begin --interval 0.5 \
		--metrics 127.0.0.1:$mport
	out=$(lab_flood --to $SRV_IP4 --port 30000 --port-span $ports --count $((ports * per_port)) \
		--rate 5000 --src-net $SPOOF_NET4)
	synacct_wait_record "$(lab_now)"	# an interval read after the last SYN: the page has it
	page=$(curl -sf "http://127.0.0.1:$mport/metrics")
	scenario_end
	t_is "$SA_RC" 0 "$name: synacct exits 0"
	t_is "$out" "sent=$((ports * per_port))" "$name: $((ports * per_port)) SYNs sent"
	t_is "$(srv_delta TcpOutRsts)" $((ports * per_port)) "$name: the kernel reset every one (TcpOutRsts)"
	t_is "$(jq -r 'select(.type == "summary") | .update_failed | [.nic, .tc, .stack] | join(",")' "$SA_OUT")" \
		"0,0,$lost" "$name: update_failed.stack == (ports scanned - entries) x SYNs per port"
	t_is "$(jq -s '[.[] | select(.type == "interval") | .update_failed.stack] | add' "$SA_OUT")" \
		"$lost" "$name: interval records add up to the same"
	t_is "$(jq -r 'select(.type == "summary") | [.ports[] | '"$sel"'] |
		[length, (map(.nic_syn) | add), (map(.tc_syn) | add), (map(.stack_drops.NO_SOCKET // 0) | add),
		 (map(select(.stack_drops.NO_SOCKET == '$per_port')) | length)] | join(",")' "$SA_OUT")" \
		"$ports,$((ports * per_port)),$((ports * per_port)),$((entries * per_port)),$entries" \
		"$name: every SYN at the NIC and TC; $entries ports with their NO_SOCKET drops"
	t_is "$(jq -r 'select(.type == "summary") | [.ports[] | '"$sel"' | .counts_lost] |
		[add, (map(select(. == '$per_port')) | length), (map(select(. == 0)) | length)] | join(",")' "$SA_OUT")" \
		"$lost,$((ports - entries)),$entries" \
		"$name: counts_lost: $lost in all == update_failed.stack; $per_port on each of the $((ports - entries)) ports without their drops, 0 on the others"
	t_is "$(jq -s '[.[] | select(.type == "interval") | .ports[] | '"$sel"' | .counts_lost] | add' "$SA_OUT")" \
		"$lost" "$name: interval records' counts_lost add up to the same"
	t_is "$(jq -s '[.[] | select(.type == "summary" or .type == "interval") | .ports[] |
		.unexplained[] | select(. != 0 and . != null)] | length' "$SA_OUT")" \
		0 "$name: every unexplained figure of every record is 0"
	t_is "$(jq -r 'select(.type == "summary") | [.ports[] | '"$sel"' |
		select(.verdict.text == "counter map full: '$per_port' counts of this port lost (a map entry could not be created); its figures are incomplete by as much")] | length' "$SA_OUT")" \
		"$((ports - entries))" "$name: the $((ports - entries)) ports without their drops say so"
	t_is "$(jq -s '[.[] | select(.type == "summary" or .type == "interval") | .ports[] | .verdict.text |
		select(test("unexplained"))] | length' "$SA_OUT")" \
		0 "$name: no verdict of any record says unexplained"
	t_is "$(awk '/^synacct_counts_lost_total\{/ { n += $NF } END { print n + 0 }' <<<"$page")" \
		"$lost" "$name: /metrics: synacct_counts_lost_total adds up to $lost"
	t_is "$(awk '/^synacct_unexplained\{/ && $NF != 0 { n++ } END { print n + 0 }' <<<"$page"),$(grep -c '^synacct_unexplained{port="30000",' <<<"$page")" \
		"0,6" "$name: /metrics: every synacct_unexplained series is 0 (6 gaps of port 30000 among them)"
}

# SYN-ACKs dropped after TC egress, into the peer's backlog.  A SYN flood
# queues N request socks at once; a second later their timers fire
# together and retransmit N SYN-ACKs in one burst.  Over a veth without a
# qdisc each goes straight into the client CPU's backlog, which holds
# net.core.netdev_max_backlog (host-wide; at most the kernel's default of
# 1000 here, lowered for a retry, put back by the lab's teardown): the
# rest are dropped there (CPU_BACKLOG, the skb already in the client's
# namespace), the server veth counts them as tx_dropped and the client veth
# as rx_dropped, and each retransmission dropped so fails (no
# TCPSynRetrans).  Behind a qdisc on the server veth the same drops happen
# after the qdisc said "sent": the stack counts them as retransmitted.
# With an XDP program on the client veth, veth hands skbs to the client
# through its NAPI ring (256 entries) instead: a full ring makes veth free
# the SYN-ACK itself (NOT_SPECIFIED), counted only as the server veth's
# tx_dropped.

link_stat() {	# link_stat NS IFACE tx|rx FIELD
	ip -n "$1" -s -j link show dev "$2" | jq ".[0].stats64.$3.$4"
}

burst_scenario() {	# burst_scenario NAME PORT FAMILY QDISC REASON [peer_xdp]
	local name=$1 port=$2 fam=$3 qdisc=$4 reason=$5 peer=${6:-} to=$SRV_IP4 src=$SPOOF_NET4
	local max_backlog n srv cnt tx0 txp0 rx0 tx1 txp1 rx1 out queued drops try dev_dropped
	# A larger backlog needs a larger flood, which an unpaced sender
	# cannot push through in one timer slot: the default (1000) here.
	max_backlog=$(sysctl -n net.core.netdev_max_backlog)
	if [ "$max_backlog" -gt 1000 ]; then
		max_backlog=1000
		lab_host_sysctl net.core.netdev_max_backlog=$max_backlog
	fi
	[ "$fam" = 6 ] && to=$SRV_IP6 src=$SPOOF_NET6
	lab_sysctl "$SRV" net.core.somaxconn=65535
	lab_sysctl "$SRV" net.ipv4.tcp_max_syn_backlog=65535
	lab_sysctl "$SRV" net.ipv4.tcp_syncookies=1
	[ "$qdisc" = noqueue ] || ip netns exec "$SRV" tc qdisc add dev "$SRV_IF" root $qdisc
	[ -z "$peer" ] || ip -n "$CLI" link set dev "$CLI_IF" xdp obj "$SA_BIN/xdp_pass.bpf.o" sec xdp
	# The request socks whose timers share a timer-wheel slot (32 ms at
	# HZ=250) retransmit together: the burst overflows the backlog only
	# if the flood got more than netdev_max_backlog SYNs through in one
	# slot, which a loaded machine may not.  Up to three floods, each on
	# a port of its own and with half the backlog of the last; the
	# figures are those of the one that overflowed it.  Whether it did is
	# the server veth's word (tx_dropped), never synacct's: a synacct
	# that stopped counting SYN-ACK drops must fail here, not skip.
	for try in 1 2 3; do
		n=$((max_backlog * 6))
		lab_server $port --backlog 65535 --accept all
		srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
		scenario_begin --ports $port --interval 0.5
		# Attaching XDP makes the server veth repeat its multicast
		# listener reports (docs/design.md): out before the flood.
		lab_quiet "$SRV" "$SRV_IF"
		tx0=$(link_stat "$SRV" "$SRV_IF" tx dropped)
		txp0=$(link_stat "$SRV" "$SRV_IF" tx packets)
		rx0=$(link_stat "$CLI" "$CLI_IF" rx dropped)
		out=$(lab_flood --to $to --port $port --count $n --src-net $src)
		sleep 1.8	# every request sock's first retransmission (1 s), not its second (3 s)
		lab_server_stop $srv $cnt
		sleep 0.2
		tx1=$(link_stat "$SRV" "$SRV_IF" tx dropped)
		txp1=$(link_stat "$SRV" "$SRV_IF" tx packets)
		rx1=$(link_stat "$CLI" "$CLI_IF" rx dropped)
		scenario_end
		dev_dropped=$((tx1 - tx0))
		[ "$dev_dropped" -gt 0 ] && break
		[ $try -lt 3 ] || break
		port=$((port + 100))
		max_backlog=$((max_backlog / 2))
		echo "# flood $try: the server veth dropped no SYN-ACK (the machine was slow?), again on port $port" \
			"with net.core.netdev_max_backlog=$max_backlog"
		lab_host_sysctl net.core.netdev_max_backlog=$max_backlog
	done
	check_funnel "$name" $port
	t_is "$out" "sent=$n" "$name: the flood sent $n SYNs"
	# A machine too slow to burst (a VM under TCG) never overflows the
	# path: the funnel above still held; what needs the overflow is
	# skipped, on the kernel's device counters, rather than asserted on
	# nothing.
	if [ "$dev_dropped" -eq 0 ]; then
		t_is "$(summary '[.synack_drops[]] | add // 0' $port)" 0 \
			"$name: the server veth dropped no SYN-ACK, and neither did synacct count one"
		t_skip "$name: SYN-ACKs dropped on the way into the client" \
			"kernel: the server veth dropped no SYN-ACK (tx_dropped +0, client rx_dropped +$((rx1 - rx0))) in 3 floods, the last with net.core.netdev_max_backlog=$max_backlog"
		return
	fi
	# An unpaced flood may lose SYNs in the server veth's ring, before
	# any hook: what arrived is the reference from here on.
	queued=$(summary syn_queued $port)
	t_is "$(summary nic_syn $port),$(summary listener_syn $port)" "$queued,$queued" \
		"$name: every SYN that arrived made a request sock ($queued)"
	drops=$(summary ".synack_drops.$reason // 0" $port)
	t_ok $(( drops > 0 ? 0 : 1 )) "$name: synacct saw the overflow the server veth counted ($drops $reason of $dev_dropped tx_dropped)"
	t_is "$(summary '[.synack_drops[]] | add // 0' $port)" "$drops" "$name: every SYN-ACK dropped was $reason"
	t_is "$drops" "$((tx1 - tx0))" "$name: $reason == the server veth's tx_dropped"
	t_is "$((txp1 - txp0 + tx1 - tx0))" "$(summary synack_sent $port)" \
		"$name: the server veth sent nothing but SYN-ACKs (tx packets + dropped == synack_sent)"
	if [ -z "$peer" ]; then
		t_is "$drops" "$((rx1 - rx0))" \
			"$name: $reason == the client veth's rx_dropped"
	fi
	t_is "$(summary synack_retrans $port)" "$(srv_delta TcpExtTCPSynRetrans)" \
		"$name: synack_retrans == TCPSynRetrans"
	# On a mismatch: had the kernel counted them by synacct's last
	# reading (its own MIB reading, taken with its counters), or later?
	[ "$(summary synack_retrans $port)" == "$(srv_delta TcpExtTCPSynRetrans)" ] ||
		echo "# $name: TCPSynRetrans in synacct's summary (read with its counters):" \
			"$(jq -r 'select(.type == "summary") | .mib.TcpExtTCPSynRetrans' "$SA_OUT")"
	t_is "$(( $(summary synack_retrans $port) + $(summary synack_retrans_failed $port) ))" "$queued" \
		"$name: each request sock retransmitted once: synack_retrans + synack_retrans_failed == syn_queued"
	if [ "$qdisc" = noqueue ]; then
		t_is "$(summary synack_retrans_failed $port)" "$drops" \
			"$name: every SYN-ACK dropped was a retransmission that failed"
	else
		t_is "$(summary synack_retrans_failed $port)" 0 \
			"$name: behind a qdisc no retransmission failed (the qdisc said sent)"
	fi
	t_like "$(summary verdict.text $port)" "^SYN-ACKs dropped after TC egress: $drops \($reason $drops\)" \
		"$name: verdict"
}

sc_synack_backlog_ipv4() {
	burst_scenario "SYN-ACK burst into the peer's backlog, IPv4" 8701 4 noqueue CPU_BACKLOG
}
sc_synack_backlog_ipv6() {
	burst_scenario "SYN-ACK burst into the peer's backlog, IPv6" 8702 6 noqueue CPU_BACKLOG
}
sc_synack_backlog_pfifo() {
	burst_scenario "SYN-ACK burst behind a pfifo qdisc, IPv4" 8703 4 "pfifo limit 100000" CPU_BACKLOG
}
sc_synack_peer_ring() {
	burst_scenario "SYN-ACK burst into the peer's NAPI ring, IPv4" 8705 4 noqueue NOT_SPECIFIED peer_xdp
}

# A qdisc that drops: tbf at 1 Mbit/s with a 3000-byte queue on the server
# veth, under a paced flood.  Only SYN-ACKs leave the server (IPv6 is off
# on its veth: no ND or MLD packets in the queue), so the qdisc's own
# counters are the ground truth: its drops are synacct's QDISC_DROP, its
# drops + packets are synack_sent.
sc_synack_qdisc_drop() {
	local name="tbf qdisc drops SYN-ACKs" port=8704 srv cnt out tbf drops
	lab_sysctl "$SRV" net.ipv6.conf.$SRV_IF.disable_ipv6=1
	ip netns exec "$SRV" tc qdisc add dev "$SRV_IF" root tbf rate 1mbit burst 2000 limit 3000
	lab_server $port --backlog 128 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	scenario_begin --ports $port --interval 0.5
	out=$(lab_flood --to $SRV_IP4 --port $port --count 3000 --rate 5000 --src-net $SPOOF_NET4)
	sleep 2.5	# first retransmissions at 1 s, second at 3 s: some of each dropped
	lab_server_stop $srv $cnt
	sleep 0.3	# the queue drains (3000 bytes at 1 Mbit/s: 24 ms)
	scenario_end
	tbf=$(ip netns exec "$SRV" tc -s -j qdisc show dev "$SRV_IF" |
		jq -r '.[] | select(.kind == "tbf") | "\(.drops) \(.packets)"')
	check_funnel "$name" $port
	t_is "$out" "sent=3000" "$name: the flood sent 3000 SYNs"
	drops=$(summary '.synack_drops.QDISC_DROP // 0' $port)
	t_ok $(( drops > 0 ? 0 : 1 )) "$name: the qdisc overflowed ($drops SYN-ACKs)"
	t_is "$drops" "${tbf% *}" "$name: QDISC_DROP == the tbf qdisc's drops"
	t_is "$(summary '[.synack_drops[]] | add // 0' $port)" "$drops" "$name: every SYN-ACK dropped was QDISC_DROP"
	t_is "$(summary synack_sent $port)" "$(( ${tbf% *} + ${tbf#* } ))" \
		"$name: synack_sent == the qdisc's packets + drops"
	t_is "$(summary synack_retrans $port)" "$(srv_delta TcpExtTCPSynRetrans)" \
		"$name: synack_retrans == TCPSynRetrans"
	t_like "$(summary verdict.text $port)" "^SYN-ACKs dropped after TC egress: $drops \(QDISC_DROP $drops\)" \
		"$name: verdict"
}

# SYN-ACKs dropped before TC egress, by an output rule, while every SYN is
# answered with a cookie (tcp_syncookies=2).  The kernel counts the cookie
# (SyncookiesSent) before it sends the SYN-ACK, and the rule frees the
# SYN-ACK while the SYN is still being processed: that free must not take
# the SYN's MIB delta, or the cookie reads as queued.
sc_synack_output_drop_cookies() {
	local name="SYN-ACKs dropped on output, cookies" port=8971 srv cnt out dropped
	lab_sysctl "$SRV" net.ipv4.tcp_syncookies=2
	lab_server $port --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	lab_drop_synacks_out $port
	scenario_begin --ports $port
	out=$(lab_flood --to $SRV_IP4 --port $port --count 50 --rate 2000 --src-net $SPOOF_NET4)
	sleep 0.3
	scenario_end
	lab_server_stop $srv $cnt
	dropped=$(ip netns exec "$SRV" nft -j list ruleset |
		jq '[.nftables[] | .rule? // empty | .expr[] | .counter? // empty | .packets] | add')
	t_is "$out" "sent=50" "$name: the flood sent 50 SYNs"
	t_is "$(summary nic_syn $port),$(summary listener_syn $port)" "50,50" "$name: 50 SYNs at the NIC and the listener"
	t_is "$(summary syncookies_sent $port),$(summary syn_queued $port)" "50,0" \
		"$name: every SYN answered with a cookie, none read as queued"
	t_is "$(summary syncookies_sent $port)" "$(srv_delta TcpExtSyncookiesSent)" \
		"$name: syncookies_sent == SyncookiesSent"
	t_is "$(jq -r 'select(.type == "summary") | .consistent' "$SA_OUT")" true \
		"$name: per-port sums agree with the namespace MIBs"
	t_is "$dropped" 50 "$name: the rule dropped 50 SYN-ACKs"
	t_is "$(summary synack_sent $port),$(summary unexplained.synack_sent $port)" "0,-$dropped" \
		"$name: none reached TC egress: unexplained.synack_sent == -(the rule's counter)"
	t_like "$(summary verdict.text $port)" "^SYN-ACKs lost on the way out: $dropped " "$name: verdict"
}

# Client retries (tc/retries/), each case its own synacct run, so that the
# client namespace's TCPSynRetrans is that port's: 5 clients that give up
# after 1.5 s retry once each (at 1 s), after an attempt that
#   - had its SYN-ACK dropped after TC egress (a filter behind synacct's),
#   - had its SYN-ACK leave and die in the client namespace (nft there),
#   - was dropped by a SYN queue that a spoofed flood filled, without
#     cookies (before synacct starts: the window holds the clients only).
retry_case() {	# retry_case NAME PORT PREVIOUS
	local name=$1 port=$2 previous=$3 out
	scenario_begin --ports $port
	out=$(lab_client --to $SRV_IP4 --port $port --count 5 --timeout-ms 1500)
	scenario_end
	check_funnel "$name" $port
	t_is "$out" "connected=0 failed=5" "$name: no client got through"
	check_retries "$name" $port $previous 5
}
sc_retries() {
	local srv cnt
	lab_server 8721 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	ip netns exec "$SRV" tc qdisc add dev "$SRV_IF" clsact
	ip netns exec "$SRV" tc filter add dev "$SRV_IF" egress pref 10 bpf da \
		obj "$SA_BIN/tc_drop_synack.bpf.o" sec tc
	retry_case "retries after SYN-ACKs dropped after TC" 8721 synack_dropped
	t_is "$(summary '[.synack_drops[]] | add // 0' 8721)" "$(summary '.synack_drops.TC_EGRESS // 0' 8721)" \
		"retries after SYN-ACKs dropped after TC: every SYN-ACK dropped was TC_EGRESS"
	ip netns exec "$SRV" tc qdisc del dev "$SRV_IF" clsact
	lab_server_stop $srv $cnt

	lab_server 8722 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	ip netns exec "$CLI" nft -f - <<NFT
table inet synacct_retries {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp sport 8722 tcp flags & (syn | ack) == syn | ack drop
	}
}
NFT
	retry_case "retries after SYN-ACKs lost on the path" 8722 synack_left
	ip netns exec "$CLI" nft delete table inet synacct_retries
	lab_server_stop $srv $cnt

	lab_sysctl "$SRV" net.ipv4.tcp_syncookies=0
	lab_server 8720 --backlog 4 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	lab_flood --to $SRV_IP4 --port 8720 --count 8 --src-net $SPOOF_NET4 >/dev/null
	retry_case "retries after a full SYN queue without cookies" 8720 syn_queue_full
	t_is "$(summary listen_drops.syn_queue_full 8720)" "$(srv_delta TcpExtTCPReqQFullDrop)" \
		"retries after a full SYN queue without cookies: syn_queue_full == TCPReqQFullDrop"
	lab_server_stop $srv $cnt
}

lab_main "$@"
