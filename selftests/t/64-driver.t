#!/bin/bash
# Stage 0 (xdp/driver/): frames lost before XDP and TC, where no port can
# be told, against the kernel's own counters.  On a veth without XDP in
# native mode the receiving side queues every frame to the CPU's backlog
# (veth_xmit -> __netif_rx -> enqueue_to_backlog; NAPI only with native
# XDP or GRO on the peer), which holds net.core.netdev_max_backlog + 1
# frames: a burst beyond that is dropped there, counted by the kernel
# twice, in /proc/net/softnet_stat (dropped) and in the veth's rx_dropped.
# The burst: each SYN of the flood goes out 16 times from the client's TC
# egress (selftests/bpf/tc_burst.bpf.c), with bottom halves off, so
# nothing drains the backlog in between.  Each scenario runs in a lab of
# its own:
#   selftests/t/64-driver.t [--list] [SCENARIO...]
. "$(dirname "$0")/../lib/lab.sh"

LAB_SCENARIOS=(backlog)

BURST=16	# tc_burst.bpf.c: BURST_COPIES + 1
BACKLOG=4	# net.core.netdev_max_backlog during the flood

softnet_dropped() {	# the kernel's: every CPU's dropped column, summed
	perl -ne '$s += hex((split)[1]); END { print $s + 0 }' /proc/net/softnet_stat
}

link_rx_dropped() {
	ip -n "$SRV" -s -j link show dev "$SRV_IF" | jq '.[0].stats64.rx.dropped'
}

sc_backlog() {
	local name="CPU backlog overflow" port=9 n=100 out err sn0 sn1 rx0 rx1 saved
	local dropped tc_syn mp page sn_page rx_page
	ip netns exec "$CLI" tc qdisc add dev "$CLI_IF" clsact || { echo "Bail out! no clsact qdisc"; exit 1; }
	if ! err=$(ip netns exec "$CLI" tc filter add dev "$CLI_IF" egress bpf da \
		obj "$SA_BIN/tc_burst.bpf.o" sec tc 2>&1); then
		t_skip "$name" "tool: tc cannot attach a BPF object: $err"
		return
	fi
	lab_quiet "$CLI" "$CLI_IF"
	# Generic XDP passes a redirected skb unseen (skb->redirected stays
	# set across the veth): TC ingress is the first hook here.
	mp=$(lab_free_port)
	scenario_begin --ports $port --interval 0.5 --no-xdp --metrics "127.0.0.1:$mp"
	sn0=$(softnet_dropped)
	rx0=$(link_rx_dropped)
	# Host-wide: the window is the flood's, put back at once (and by
	# the lab's teardown on every path).
	lab_host_sysctl net.core.netdev_max_backlog=$BACKLOG
	saved=${LAB_HOST_SYSCTL[net.core.netdev_max_backlog]}
	out=$(lab_flood --to $SRV_IP4 --port $port --count $n --src-net $SPOOF_NET4)
	sysctl -qw net.core.netdev_max_backlog="$saved"
	synacct_wait_record "$(lab_now)"
	# The page has the kernel's counters themselves, read at synacct's
	# last reading: the quiet lab's veth, and (host-wide) the CPUs'.
	metrics_wait_read "http://127.0.0.1:$mp/metrics" "$(date +%s.%N)"
	page=$(curl -sf "http://127.0.0.1:$mp/metrics")
	sn_page=$(softnet_dropped)
	rx_page=$(link_rx_dropped)
	scenario_end
	sn1=$(softnet_dropped)
	rx1=$(link_rx_dropped)

	t_is "$SA_RC" 0 "$name: synacct exits 0"
	t_is "$out" "sent=$n" "$name: the flood sent $n SYNs"
	dropped=$(jq -r 'select(.type == "summary") | .driver.softnet.dropped' "$SA_OUT")
	tc_syn=$(summary tc_syn $port)
	t_ok $(( dropped > 0 ? 0 : 1 )) "$name: the backlog overflowed ($dropped dropped)"
	t_is "$dropped" "$((sn1 - sn0))" \
		"$name: driver.softnet.dropped == /proc/net/softnet_stat's dropped delta"
	t_is "$(jq -r 'select(.type == "summary") | [.driver.softnet.cpus[].dropped] | add // 0' "$SA_OUT")" \
		"$dropped" "$name: the CPUs' dropped add up to driver.softnet.dropped"
	t_is "$(jq -r 'select(.type == "summary") | .driver.ifaces[] |
		select(.iface == "'"$SRV_IF"'") | .rx_dropped' "$SA_OUT")" "$((rx1 - rx0))" \
		"$name: driver.ifaces[$SRV_IF].rx_dropped == ip -s link's rx dropped delta"
	t_is "$((rx1 - rx0))" "$dropped" \
		"$name: the kernel counted each backlog drop in the veth's rx_dropped too"
	# Every copy that reached the veth was dropped at the backlog or
	# counted by TC ingress: nothing in between.
	t_is "$((dropped + tc_syn))" "$((BURST * n))" \
		"$name: driver.softnet.dropped + tc_syn == the SYNs that reached the veth ($BURST x $n)"
	t_is "$(summary '.unexplained.tc_to_listener' $port),$(summary '.stack_drops.NO_SOCKET' $port)" \
		"0,$tc_syn" "$name: past TC the funnel reconciles (no listener: NO_SOCKET == tc_syn)"
	# The stack stage sees the same drops, with their port: the backlog
	# drops what it receives before skb_iif is set (drops.bpf.c).
	t_is "$(summary '.stack_drops.CPU_BACKLOG' $port)" "$dropped" \
		"$name: stack_drops.CPU_BACKLOG of port $port == driver.softnet.dropped"
	t_is "$(awk '/^synacct_driver_rx_dropped_total\{iface="'"$SRV_IF"'"\}/ { print $2 }' <<<"$page")" \
		"$rx_page" "$name: /metrics: synacct_driver_rx_dropped_total{iface=$SRV_IF} == ip -s link's rx dropped"
	t_is "$(awk '/^synacct_softnet_dropped_total\{/ { n += $2 } END { print n + 0 }' <<<"$page")" \
		"$sn_page" "$name: /metrics: synacct_softnet_dropped_total summed over the CPUs == softnet_stat's dropped"
	t_is "$(jq -s '[.[] | select(.type == "interval") | .driver.softnet.dropped] | add' "$SA_OUT")" \
		"$dropped" "$name: the intervals' driver.softnet.dropped add up to the summary's"
	t_is "$(jq -r 'select(.type == "summary") | .driver.verdict.id' "$SA_OUT")" driver_drops \
		"$name: verdict driver_drops"
	t_like "$(jq -r 'select(.type == "summary") | .driver.verdict.text' "$SA_OUT")" \
		"^lost before XDP and TC, not attributable to a port: CPU backlog full, $dropped dropped " \
		"$name: the verdict says how many"
	# A burst into an empty backlog keeps netdev_max_backlog + 1 frames;
	# a softirq held off by a busy machine leaves some behind.
	[ "$tc_syn" = $((n * (BACKLOG + 1))) ] ||
		echo "# $name: tc_syn $tc_syn, not $((n * (BACKLOG + 1))): the backlog was not always empty when a burst came"
}

lab_main "$@"
