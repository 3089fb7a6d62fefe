#!/bin/bash
# Forwarded SYNs are an outcome, not a loss: synacct on the host's
# interface counts the SYNs the host routes on to a container namespace
# (with and without DNAT, with and without conntrack, behind a bridge, a
# Kubernetes NodePort with masquerade), the SYN-ACKs that
# come back, and names the kernel's reason for drops on the forward path
# (a FORWARD-chain rule, no route).  Every figure == the clients' SYNs,
# the container's nstat and the host's; nothing unexplained.  The
# container's floods and overflow are also checked against ss in the
# container, the veths' rx packets, and nft counters of the SYN-ACKs the
# client namespace got back (lab.sh, "outside oracles").  Each
# scenario runs in a lab of its own, with its own container namespace:
#   selftests/t/65-forward.t [--list] [SCENARIO...]
. "$(dirname "$0")/../lib/lab.sh"

# page_matches_summary NAME: every number of synacct's summary ($SA_OUT;
# the container's and NAT's included) has its series on the page
# ($LAB_DIR/page), with its value (60-metrics.t), and the page is clean
# under promtool.
page_matches_summary() {
	local out
	jq -c 'select(.type == "summary")' "$SA_OUT" >"$LAB_DIR/summary.json"
	out=$(json_metrics_check "$LAB_DIR/summary.json" "$LAB_DIR/page")
	t_is "$(grep -v '^checked ' <<<"$out")" "" \
		"$1: /metrics: every number of the summary has its series, same value ($(sed -n 's/^checked //p' <<<"$out") numbers)"
	if command -v promtool >/dev/null; then
		t_is "$(promtool check metrics <"$LAB_DIR/page" 2>&1; echo "rc=$?")" "rc=0" \
			"$1: /metrics: clean under promtool check metrics"
	fi
}

LAB_SCENARIOS=(routed dnat forward_drop no_route bridge nodeport
	container_accept_overflow container_syn_flood_no_cookies
	container_syn_flood_cookies no_follow unnamed_container table
	hostile_name pods)
LAB_REQUIRE_HOOK=("$LISTENER_HOOKS" netfilter/forward)
LAB_REQUIRE=require_nft

require_nft() {
	command -v nft >/dev/null || t_skip_all "tool: nft is not installed"
}
CURL=$(command -v curl)

addr_of() { [ "$1" = 4 ] && echo $SRV_IP4 || echo $SRV_IP6; }
ctr_of() { [ "$1" = 4 ] && echo $CTR_IP4 || echo $CTR_IP6; }
nft_srv() { ip netns exec "$SRV" nft "$@"; }
dnat_to() {	# dnat_to FAMILY PORT ADDR TOPORT: the host DNATs PORT to ADDR:TOPORT
	if [ "$1" = 4 ]; then
		nft_srv add rule inet sa_nat pre tcp dport "$2" dnat ip to "$3:$4"
	else
		nft_srv add rule inet sa_nat pre tcp dport "$2" dnat ip6 to "[$3]:$4"
	fi
}
# nat_table: the host's nat table, with its prerouting chain.
nat_table() {
	nft_srv add table inet sa_nat &&
	nft_srv add chain inet sa_nat pre '{ type nat hook prerouting priority dstnat; }' ||
		{ echo "Bail out! cannot create the nat table"; exit 1; }
}
# pid_nstat NETNS-FILE: every MIB counter of a namespace no name knows.
pid_nstat() { nsenter --net="$1" nstat -saz 2>/dev/null | awk 'NR > 1 && NF >= 2 { print $1, $2 }'; }
ctr_delta() { nstat_delta "$LAB_DIR/ctr.0" "$LAB_DIR/ctr.1" "$1"; }

# routed_container NS N WHAT: a second container, namespace NS behind the
# veth pair sa-hN (the host's end) / sa-cN, at 198.18.(N+1).2/24, routed
# through the host, with fixed neighbours and no chatter of its own.
routed_container() {
	local ns=$1 n=$2 what=$3 net=198.18.$(($2 + 1)) hmac cmac
	lab_netns_add "$ns" &&
	ip link add sa-h$n netns "$SRV" type veth peer name sa-c$n netns "$ns" &&
	ip -n "$SRV" addr add $net.1/24 dev sa-h$n &&
	ip -n "$ns" addr add $net.2/24 dev sa-c$n &&
	ip -n "$SRV" link set sa-h$n up && ip -n "$ns" link set sa-c$n up &&
	ip -n "$ns" link set lo up &&
	ip -n "$ns" route add 198.18.0.0/24 via $net.1 ||
		{ echo "Bail out! cannot build $what"; exit 1; }
	hmac=$(ip -n "$SRV" -j link show dev sa-h$n | jq -r '.[0].address')
	cmac=$(ip -n "$ns" -j link show dev sa-c$n | jq -r '.[0].address')
	ip -n "$SRV" neigh replace $net.2 lladdr "$cmac" dev sa-h$n nud permanent &&
	ip -n "$ns" neigh replace $net.1 lladdr "$hmac" dev sa-c$n nud permanent ||
		{ echo "Bail out! cannot set $what's neighbours"; exit 1; }
	lab_quiet "$SRV" sa-h$n "$ns" sa-c$n
}

# fwd_begin/fwd_end: scenario_begin/end plus the container's nstat.
fwd_begin() { lab_nstat "$CTR" >"$LAB_DIR/ctr.0"; scenario_begin "$@"; }
fwd_end() { scenario_end; lab_nstat "$CTR" >"$LAB_DIR/ctr.1"; }

# ct_checks NAME PORT: the container's figures, as the host's synacct
# follows the forwarded SYNs there, == its own nstat; nothing unexplained
# on the way.
ct_checks() {
	local name=$1 port=$2
	t_is "$(summary '.unexplained | [.to_container, .at_container_listener] | join(",")' $port)" \
		"0,0" "$name: nothing unexplained on the way to the container, or at its listener"
	t_is "$(summary container.netns $port)" "$CTR" "$name: container.netns names the namespace"
	t_is "$(summary container.established $port)" "$(ctr_delta TcpPassiveOpens)" \
		"$name: container.established == the container's TcpPassiveOpens"
	t_is "$(summary '.container | .listen_drops.accept_queue_full + .ack_dropped_accept_full' $port)" \
		"$(ctr_delta TcpExtListenOverflows)" \
		"$name: container accept_queue_full + ack_dropped_accept_full == its ListenOverflows"
	t_is "$(summary '.container | .listen_drops.accept_queue_full + .listen_drops.syn_queue_full + .listen_drops.other + .ack_dropped_accept_full' $port)" \
		"$(ctr_delta TcpExtListenDrops)" "$name: container listen drops == its ListenDrops"
	t_is "$(summary container.listen_drops.syn_queue_full $port)" "$(ctr_delta TcpExtTCPReqQFullDrop)" \
		"$name: container.listen_drops.syn_queue_full == its TCPReqQFullDrop"
	t_is "$(summary container.syncookies_sent $port)" "$(ctr_delta TcpExtSyncookiesSent)" \
		"$name: container.syncookies_sent == its SyncookiesSent"
}

# fwd_checks NAME PORT CONNECTED [TO_PORT]: SYNs forwarded, SYN-ACKs back,
# and followed into the container: all queued there, all accepted.
fwd_checks() {
	local name=$1 port=$2 sent
	sent=$(cli_sent)
	check_funnel "$name" $port
	t_is "$(summary '[.nic_syn, .tc_syn, .forwarded] | join(",")' $port)" "$sent,$sent,$sent" \
		"$name: nic_syn, tc_syn, forwarded == SYNs the clients sent"
	t_is "$(summary listener_syn $port)" 0 "$name: no listener on the host took them"
	t_is "$(summary forwarded_via $port)" "$CTR_HOST_IF" "$name: forwarded_via the interface toward the container"
	t_is "$(ctr_delta TcpPassiveOpens)" "$3" "$name: the container's TcpPassiveOpens == connections made"
	# Every SYN-ACK the container sent came back out of the watched
	# interface: its first ones plus its retransmissions.
	t_is "$(summary synack_forwarded $port)" \
		"$(( $(ctr_delta TcpPassiveOpens) + $(ctr_delta TcpExtTCPSynRetrans) ))" \
		"$name: synack_forwarded == the container's SYN-ACKs"
	t_is "$(summary synack_sent $port)" "$(summary synack_forwarded $port)" \
		"$name: synack_sent == synack_forwarded"
	t_like "$(summary verdict.text $port)" "^no loss; $sent SYNs forwarded to namespace $CTR \(port ${4:-$port}\)" \
		"$name: verdict"
	ct_checks "$name" $port
	t_is "$(summary '.container | [.port, .listener_syn, .syn_queued, .established, .accepted, .stack_drops] | join(",")' $port)" \
		"${4:-$port},$sent,$sent,$3,$3,0" \
		"$name: container port, listener_syn, syn_queued == SYNs sent; established, accepted == connections"
}

# fwd_clients NAME PORT ADDR SERVER_PORT [TO_PORT]: a server on
# SERVER_PORT in $CTR, 20 clients to ADDR:PORT while synacct watches
# PORT, then fwd_checks.
fwd_clients() {
	local name=$1 port=$2 addr=$3 srv cnt out
	ctr_server $4 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	fwd_begin --ports $port
	out=$(lab_client --to "$addr" --port $port --count 20)
	sleep 0.2
	fwd_end
	lab_server_stop $srv $cnt
	t_is "$out" "connected=20 failed=0" "$name: 20 clients connected"
	fwd_checks "$name" $port 20 ${5:-}
}

# 1. Plain routing, no NAT table: no conntrack in the host.
sc_routed() {
	local fam name port
	lab_container
	for fam in 4 6; do
		name="routed to the container, no NAT, no conntrack, IPv$fam"
		port=$((8000 + fam))
		if [ $fam = 4 ]; then
			ip -n "$CLI" route add 198.18.2.0/24 via $SRV_IP4
		else
			ip -n "$CLI" -6 route add 2001:db8:2::/64 via $SRV_IP6
		fi
		fwd_clients "$name" $port "$(ctr_of $fam)" $port
		t_is "$(summary .nat $port)" null "$name: no NAT"
	done
}

# 2. Docker-style published port: DNAT on the host, forwarded.
sc_dnat() {
	local fam name port srv cnt mport out
	lab_container
	nat_table
	for fam in 4 6; do
		name="DNAT :$((8080 + fam)) -> container :80, IPv$fam"
		port=$((8080 + fam))
		dnat_to $fam $port "$(ctr_of $fam)" 80
		ctr_server 80 --accept all
		srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
		mport=$(lab_free_port) || exit 1
		fwd_begin --ports $port,80 --interval 0.2 ${CURL:+--metrics 127.0.0.1:$mport}
		out=$(lab_client --to "$(addr_of $fam)" --port $port --count 20)
		synacct_wait_record "$(lab_now)"	# an interval read after the last SYN: the page has it
		[ -z "$CURL" ] || $CURL -sf "http://127.0.0.1:$mport/metrics" >"$LAB_DIR/page"
		fwd_end
		lab_server_stop $srv $cnt
		t_is "$out" "connected=20 failed=0" "$name: 20 clients connected"
		fwd_checks "$name" $port 20 80
		t_is "$(summary '.nat | "\(.to_addr) \(.to_port)"' $port)" "$(ctr_of $fam) 80" \
			"$name: nat: the container's address and port"
		if [ -n "$CURL" ]; then
			t_is "$(grep -E '^synacct_(nat|forwarded_via)_info' "$LAB_DIR/page")" \
				"synacct_nat_info{port=\"$port\",to_addr=\"$(ctr_of $fam)\",to_port=\"80\"} 1
synacct_forwarded_via_info{port=\"$port\",iface=\"$CTR_HOST_IF\"} 1" \
				"$name: /metrics: the mapping and the interface, as in JSON"
			t_is "$(grep -c "^synacct_nic_syn_total{port=\"$port\"} $(cli_sent)\$" "$LAB_DIR/page")" 1 \
				"$name: /metrics: nic_syn of the published port == SYNs sent"
			t_is "$(grep -E "^synacct_((listener_syn|syn_queued|established)_total\{port=\"$port\",netns=|container_info\{port=\"$port\")" "$LAB_DIR/page")" \
				"synacct_listener_syn_total{port=\"$port\",netns=\"$CTR\"} $(cli_sent)
synacct_syn_queued_total{port=\"$port\",netns=\"$CTR\"} $(cli_sent)
synacct_established_total{port=\"$port\",netns=\"$CTR\"} 20
synacct_container_info{port=\"$port\",netns=\"$CTR\",to_port=\"80\"} 1" \
				"$name: /metrics: the container's figures and its name, as in JSON"
			page_matches_summary "$name"
		else
			t_skip "$name: /metrics" "tool: curl is not installed"
		fi
		t_like "$(summary '[.tc_syn, .forwarded, .listener_syn] | join(",")' 80)" "^(0,0,0)?$" \
			"$name: nothing counted under the target port (no row, or zeros)"
	done
}

# 3. A FORWARD-chain drop after DNAT: NETFILTER_DROP under the published
# port, == the rule's own counter.
rule_packets() {
	nft_srv -j list chain inet sa_filter fw | jq '[.nftables[].rule? | select(.) | .expr[] | .counter? | select(.) | .packets] | add'
}
sc_forward_drop() {
	local fam name port before after out sent
	lab_container
	nat_table
	nft_srv add table inet sa_filter &&
	nft_srv add chain inet sa_filter fw '{ type filter hook forward priority filter; }' &&
	nft_srv add rule inet sa_filter fw tcp dport 81 counter drop ||
		{ echo "Bail out! cannot create the forward filter"; exit 1; }
	for fam in 4 6; do
		name="DNAT :$((8180 + fam)) -> container :81, dropped in FORWARD, IPv$fam"
		port=$((8180 + fam))
		dnat_to $fam $port "$(ctr_of $fam)" 81
		before=$(rule_packets)
		fwd_begin --ports $port,81
		out=$(lab_client --to "$(addr_of $fam)" --port $port --count 5 --timeout-ms 1500)
		fwd_end
		after=$(rule_packets)
		sent=$(cli_sent)
		check_funnel "$name" $port
		t_is "$out" "connected=0 failed=5" "$name: every client timed out"
		t_is "$(summary '[.nic_syn, .tc_syn, .stack_drops.NETFILTER_DROP] | join(",")' $port)" \
			"$sent,$sent,$sent" "$name: nic_syn, tc_syn, stack_drops.NETFILTER_DROP == SYNs sent"
		t_is "$(summary stack_drops.NETFILTER_DROP $port)" "$((after - before))" \
			"$name: NETFILTER_DROP == the FORWARD rule's counter"
		t_is "$(summary forwarded $port)" 0 "$name: nothing forwarded"
		t_like "$(summary verdict.text $port)" "NETFILTER_DROP" "$name: the verdict names the reason"
	done
}

# 4. DNAT to an address the host has no route to: IP_INNOROUTES.
sc_no_route() {
	local fam name port mib out sent
	lab_container
	nat_table
	for fam in 4 6; do
		name="DNAT :$((8280 + fam)) to an unroutable address, IPv$fam"
		port=$((8280 + fam))
		if [ $fam = 4 ]; then
			nft_srv add rule inet sa_nat pre tcp dport $port dnat ip to 198.18.9.9:80
			mib=IpExtInNoRoutes
		else
			nft_srv add rule inet sa_nat pre tcp dport $port dnat ip6 to "[2001:db8:9::9]:80"
			mib=Ip6InNoRoutes
		fi
		fwd_begin --ports $port
		out=$(lab_client --to "$(addr_of $fam)" --port $port --count 5 --timeout-ms 1500)
		fwd_end
		sent=$(cli_sent)
		check_funnel "$name" $port
		t_is "$(summary '[.nic_syn, .tc_syn, .stack_drops.IP_INNOROUTES] | join(",")' $port)" \
			"$sent,$sent,$sent" "$name: nic_syn, tc_syn, stack_drops.IP_INNOROUTES == SYNs sent"
		t_is "$(summary stack_drops.IP_INNOROUTES $port)" "$(srv_delta $mib)" \
			"$name: IP_INNOROUTES == the host's $mib"
		t_is "$(summary forwarded $port)" 0 "$name: nothing forwarded"
	done
}

# 5. docker0-style: the container behind a bridge on the host; DNAT to
# it, forwarded via the bridge.
BR_IP4=198.18.3.1; BRC_IP4=198.18.3.2
BR_IP6=2001:db8:3::1; BRC_IP6=2001:db8:3::2
sc_bridge() {
	local CTR2 brmac c1mac fam name port dest
	lab_container
	nat_table
	CTR2=sa-$$-ctr2
	lab_netns_add "$CTR2" &&
	ip -n "$SRV" link add sa-br0 type bridge &&
	ip link add sa-h1 netns "$SRV" type veth peer name sa-c1 netns "$CTR2" &&
	ip -n "$SRV" link set sa-h1 master sa-br0 &&
	ip -n "$SRV" addr add $BR_IP4/24 dev sa-br0 &&
	ip -n "$SRV" addr add $BR_IP6/64 dev sa-br0 nodad &&
	ip -n "$CTR2" addr add $BRC_IP4/24 dev sa-c1 &&
	ip -n "$CTR2" addr add $BRC_IP6/64 dev sa-c1 nodad &&
	ip -n "$SRV" link set sa-br0 up && ip -n "$SRV" link set sa-h1 up &&
	ip -n "$CTR2" link set sa-c1 up && ip -n "$CTR2" link set lo up &&
	ip -n "$CTR2" route add 198.18.0.0/24 via $BR_IP4 &&
	ip -n "$CTR2" -6 route add 2001:db8::/64 via $BR_IP6 ||
		{ echo "Bail out! cannot build the bridged container"; exit 1; }
	brmac=$(ip -n "$SRV" -j link show dev sa-br0 | jq -r '.[0].address')
	c1mac=$(ip -n "$CTR2" -j link show dev sa-c1 | jq -r '.[0].address')
	ip -n "$SRV" neigh replace $BRC_IP4 lladdr "$c1mac" dev sa-br0 nud permanent &&
	ip -n "$SRV" neigh replace $BRC_IP6 lladdr "$c1mac" dev sa-br0 nud permanent &&
	ip -n "$CTR2" neigh replace $BR_IP4 lladdr "$brmac" dev sa-c1 nud permanent &&
	ip -n "$CTR2" neigh replace $BR_IP6 lladdr "$brmac" dev sa-c1 nud permanent ||
		{ echo "Bail out! cannot set the bridged container's neighbours"; exit 1; }
	for fam in 4 6; do
		name="bridge: DNAT :$((8380 + fam)) -> bridged container :80, IPv$fam"
		port=$((8380 + fam))
		dest=$([ $fam = 4 ] && echo $BRC_IP4 || echo $BRC_IP6)
		dnat_to $fam $port $dest 80
		CTR=$CTR2 CTR_HOST_IF=sa-br0 fwd_clients "$name" $port "$(addr_of $fam)" 80 80
		t_is "$(summary '.nat | "\(.to_addr) \(.to_port)"' $port)" "$dest 80" \
			"$name: nat: the bridged container's address and port"
	done
}

# 6. Kubernetes NodePort: DNAT from a node port to the pod's address, and
# masquerade toward the pod (kube-proxy's externalTrafficPolicy=Cluster):
# the pod sees the host as the client, and its SYN-ACKs come back to the
# host, which undoes both translations.
sc_nodeport() {
	local fam name port
	lab_container
	nat_table
	nft_srv add chain inet sa_nat post '{ type nat hook postrouting priority srcnat; }' ||
		{ echo "Bail out! cannot create the postrouting chain"; exit 1; }
	for fam in 4 6; do
		name="NodePort :$((30080 + fam)) -> pod :80, masquerade, IPv$fam"
		port=$((30080 + fam))
		dnat_to $fam $port "$(ctr_of $fam)" 80
		if [ $fam = 4 ]; then
			nft_srv add rule inet sa_nat post ip daddr $CTR_IP4 tcp dport 80 counter masquerade
		else
			nft_srv add rule inet sa_nat post ip6 daddr $CTR_IP6 tcp dport 80 counter masquerade
		fi
		fwd_clients "$name" $port "$(addr_of $fam)" 80 80
		t_is "$(summary '.nat | "\(.to_addr) \(.to_port)"' $port)" "$(ctr_of $fam) 80" \
			"$name: nat: the pod's address and port"
		# NAT rules see a connection's first packet only: one per client.
		t_is "$(nft_srv -j list chain inet sa_nat post |
			jq '[.nftables[].rule? | select(.) | .expr[] | .counter? | select(.) | .packets] | last')" 20 \
			"$name: masquerade applied to each of the 20 connections (the rule's counter)"
	done
}

# 7. Inside the container, seen from the host: its accept queue and its
# SYN queue overflow; the host's synacct names the namespace and the
# cause, each figure == the container's nstat.
sc_container_accept_overflow() {
	local fam name port srv cnt out connected sent listen
	lab_container
	nat_table
	for fam in 4 6; do
		name="DNAT :$((8480 + fam)) -> container :83, accept queue overflow there, IPv$fam"
		port=$((8480 + fam))
		dnat_to $fam $port "$(ctr_of $fam)" 83
		ctr_server 83 --backlog 4 --accept none
		srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
		fwd_begin --ports $port
		# As in 30-funnel.t: five one at a time fill the queue, 25 find it full.
		out=$(lab_client --to "$(addr_of $fam)" --port $port --count 5 --parallel 1)
		connected=${out#connected=}; connected=${connected%% *}
		out=$(lab_client --to "$(addr_of $fam)" --port $port --count 25 --timeout-ms 2500)
		fwd_end
		listen=$(lab_ss_listen "$CTR" 83)
		lab_server_stop $srv $cnt
		out=${out#connected=}; connected=$((connected + ${out%% *}))
		sent=$(cli_sent)
		check_funnel "$name" $port
		ct_checks "$name" $port
		t_is "$(summary '.container | "\(.accept_queue_len) \(.accept_backlog)"' $port)" \
			"$listen" \
			"$name: the container's accept queue and backlog == its listener's Recv-Q, Send-Q (ss -lnt there)"
		t_is "$connected" 5 "$name: backlog 4 holds 5 connections"
		t_is "$(summary '[.nic_syn, .forwarded, .container.listener_syn] | join(",")' $port)" \
			"$sent,$sent,$sent" "$name: nic_syn, forwarded, container.listener_syn == SYNs sent"
		t_is "$(summary container.listen_drops.accept_queue_full $port)" "$((sent - connected))" \
			"$name: container.listen_drops.accept_queue_full == SYNs sent - connections made"
		t_is "$(summary '.container | [.syn_queued, .established, .accepted, .accept_queue_len, .accept_backlog] | join(",")' $port)" \
			"$connected,$connected,0,5,4" \
			"$name: container syn_queued, established == 5, accepted 0, accept queue 5/4"
		t_like "$(summary verdict.text $port)" "^accept queue full in namespace $CTR \(port 83, backlog 4\)" \
			"$name: verdict names the container's namespace"
	done
}

# A SYN flood inside the container, with and without SYN cookies there.
# The flood's spoofed sources are routed back through the host (a SYN
# whose SYN-ACK has no route is dropped at the listener).  Outside
# oracles: the host's and the container's veth rx packets, ss in the
# container (SYN-RECV sockets, the listener's queue), and in the client
# namespace, where the SYN-ACKs come back and die, an nft counter of them
# and a set of the flows they answered.  Synacct stops between the
# container's first SYN-ACK retransmissions and its second (as in
# 30-funnel.t): no SYN-ACK passes between its last reading and theirs.
spoof_of() { [ "$1" = 4 ] && echo $SPOOF_NET4 || echo $SPOOF_NET6; }
container_syn_flood() {	# container_syn_flood TCP_SYNCOOKIES
	local cookies=$1 fam name port srv cnt out queued rx0 crx0 rx crx rtx synrecv listen synacks answered
	lab_container
	nat_table
	ip -n "$CTR" route add $SPOOF_NET4 via $CTR_GW4 &&
	ip -n "$CTR" -6 route add $SPOOF_NET6 via $CTR_GW6 ||
		{ echo "Bail out! cannot route the spoofed sources in the container"; exit 1; }
	lab_sysctl "$CTR" net.ipv4.tcp_syncookies=$cookies
	for fam in 4 6; do
		name="DNAT :$((8580 + 10 * cookies + fam)) -> container :84, SYN flood there, tcp_syncookies=$cookies, IPv$fam"
		port=$((8580 + 10 * cookies + fam))
		dnat_to $fam $port "$(ctr_of $fam)" 84
		ctr_server 84 --backlog 16 --accept all
		srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
		lab_oracle "$CLI"
		lab_oracle_count "$CLI" synacks in "tcp sport $port $LAB_SYNACK"
		lab_oracle_flows "$CLI" answered in $fam "tcp sport $port $LAB_SYNACK"
		rx0=$(lab_link_stat "$SRV" "$SRV_IF" rx packets)
		crx0=$(lab_link_stat "$CTR" "$CTR_IF" rx packets)
		fwd_begin --ports $port
		out=$(lab_flood --to "$(addr_of $fam)" --port $port --count 200 --src-net "$(spoof_of $fam)")
		lab_wait_synack_retrans "$CTR" 84 "$LAB_DIR/ctr.0"; rtx=$?
		fwd_end
		synrecv=$(lab_ss_count "$CTR" syn-recv 84)
		listen=$(lab_ss_listen "$CTR" 84)
		rx=$(( $(lab_link_stat "$SRV" "$SRV_IF" rx packets) - rx0 ))
		crx=$(( $(lab_link_stat "$CTR" "$CTR_IF" rx packets) - crx0 ))
		synacks=$(lab_oracle_synacks "$CLI" synacks "$CTR" "$LAB_DIR/ctr.1")
		answered=$(lab_oracle_get "$CLI" answered)
		lab_oracle_del "$CLI"
		lab_server_stop $srv $cnt
		check_funnel "$name" $port
		ct_checks "$name" $port
		t_is "$out" "sent=200" "$name: the flood sent 200 SYNs"
		t_is "$(summary '[.nic_syn, .forwarded, .container.listener_syn] | join(",")' $port)" \
			"200,200,200" "$name: nic_syn, forwarded, container.listener_syn == 200"
		t_is "$(summary '[.nic_syn, .forwarded] | join(",")' $port)" "$rx,$crx" \
			"$name: nic_syn == the host veth's rx packets, forwarded == the container veth's (ip -s link)"
		queued=$(summary container.syn_queued $port)
		t_is "$queued" "$(summary container.syn_queue_len $port)" \
			"$name: container.syn_queued == its SYN queue length (iterator there)"
		t_is "$queued" "$synrecv" "$name: container.syn_queued == the SYN-RECV sockets ss lists in the container"
		t_is "$(summary '.container | "\(.accept_queue_len) \(.accept_backlog)"' $port)" "$listen" \
			"$name: the container's accept queue and backlog == its listener's Recv-Q, Send-Q (ss -lnt there)"
		t_is "$(( queued + $(summary container.syncookies_sent $port) ))" "$answered" \
			"$name: container syn_queued + syncookies_sent == flows the client namespace got a SYN-ACK for (nft set)"
		if [ $cookies = 0 ]; then
			t_is "$(summary container.listen_drops.syn_queue_full $port)" "$((200 - queued))" \
				"$name: container.listen_drops.syn_queue_full == 200 - syn_queued"
			t_like "$(summary verdict.text $port)" "^SYN queue full without SYN cookies in namespace $CTR \(port 84\)" \
				"$name: verdict names the container's namespace"
		else
			t_is "$(summary container.syncookies_sent $port)" "$((200 - queued))" \
				"$name: container.syncookies_sent == 200 - syn_queued"
			t_like "$(summary verdict.text $port)" "^no loss; 200 SYNs forwarded to namespace $CTR \(port 84\), $queued of them queued there, $((200 - queued)) answered with cookies" \
				"$name: verdict"
		fi
		t_is "$rtx" 0 "$name: every request sock's first SYN-ACK retransmission went out while synacct ran"
		t_is "$(summary synack_forwarded $port)" \
			"$(( queued + $(summary container.syncookies_sent $port) + $(ctr_delta TcpExtTCPSynRetrans) ))" \
			"$name: synack_forwarded == the container's SYN-ACKs (queued + cookies + its TCPSynRetrans)"
		t_is "$(summary synack_sent $port),$(summary synack_forwarded $port)" "$synacks,$synacks" \
			"$name: synack_sent, synack_forwarded == SYN-ACKs the client namespace received while synacct ran (nft counter, less the container's TCPSynRetrans since)"
	done
}
sc_container_syn_flood_no_cookies() { container_syn_flood 0; }
sc_container_syn_flood_cookies() { container_syn_flood 1; }

# 8. --no-follow: the host alone, as before following.
sc_no_follow() {
	local srv cnt name out
	lab_container
	nat_table
	dnat_to 4 8084 "$CTR_IP4" 80
	ctr_server 80 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	name="DNAT :8084 -> container :80, --no-follow"
	fwd_begin --ports 8084 --no-follow
	out=$(lab_client --to "$SRV_IP4" --port 8084 --count 5)
	sleep 0.2
	fwd_end
	lab_server_stop $srv $cnt
	t_is "$(summary forwarded 8084),$(summary container 8084)" "$(cli_sent),null" \
		"$name: forwarded == SYNs sent; container null"
	t_like "$(summary verdict.text 8084)" "^no loss here; $(cli_sent) SYNs forwarded \(this namespace does not" \
		"$name: verdict"
}

# 9. A container no `ip netns` name knows (Docker's, Podman's): found by
# its process and named pid:PID; let go when it is gone, so that synacct
# never keeps a dead container's namespace (and its veth) alive.
sc_unnamed_container() {
	local CTR3 srv cnt ctr3_ns name out i veth_gone
	lab_container
	nat_table
	CTR3=sa-$$-ctr3
	routed_container "$CTR3" 3 "the unnamed container"
	dnat_to 4 8684 198.18.4.2 80
	CTR=$CTR3 ctr_server 80 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	ctr3_ns=/proc/$srv/ns/net
	ip netns del "$CTR3"	# only the server holds it now
	name="DNAT :8684 -> a container known only by its process"
	pid_nstat "$ctr3_ns" >"$LAB_DIR/ctr3.0"
	scenario_begin --ports 8684 --interval 0.2
	out=$(lab_client --to "$SRV_IP4" --port 8684 --count 20)
	sleep 0.2
	lab_settle "$SRV"
	pid_nstat "$ctr3_ns" >"$LAB_DIR/ctr3.1"
	lab_server_stop $srv $cnt
	# Its last process is gone: synacct lets the namespace go, and with it
	# the veth pair (the host's end disappears).
	for ((i = 0; i < 30; i++)); do
		ip -n "$SRV" link show sa-h3 >/dev/null 2>&1 || break
		sleep 0.1
	done
	veth_gone=$(ip -n "$SRV" link show sa-h3 >/dev/null 2>&1 && echo still there || echo gone)
	synacct_stop
	lab_nstat "$SRV" >"$LAB_DIR/srv.1"
	lab_nstat "$CLI" >"$LAB_DIR/cli.1"
	t_is "$out" "connected=20 failed=0" "$name: 20 clients connected"
	check_funnel "$name" 8684
	t_like "$(summary container.netns 8684)" "^pid:$srv( |\$)" "$name: container.netns is pid:PID of its process"
	t_is "$(summary '.container | [.listener_syn, .syn_queued, .established] | join(",")' 8684)" \
		"$(cli_sent),$(cli_sent),20" "$name: container listener_syn, syn_queued == SYNs sent; established 20"
	t_is "$(summary container.established 8684)" \
		"$(nstat_delta "$LAB_DIR/ctr3.0" "$LAB_DIR/ctr3.1" TcpPassiveOpens)" \
		"$name: container.established == its TcpPassiveOpens"
	t_is "$(summary '.unexplained | [.to_container, .at_container_listener] | join(",")' 8684)" \
		"0,0" "$name: nothing unexplained on the way or there"
	t_is "$veth_gone" gone "$name: when its last process exits, the namespace and its veth go (synacct let go)"
}

# 10. The table says where the published port goes.
sc_table() {
	local srv cnt
	lab_container
	nat_table
	dnat_to 4 8084 "$CTR_IP4" 80
	ctr_server 80 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	lab_table_run 8084
	lab_server_stop $srv $cnt
	t_like "$TABLE" "mapped to $CTR_IP4:80  forwarded 2 via $CTR_HOST_IF" \
		"table: 'mapped to $CTR_IP4:80  forwarded 2 via $CTR_HOST_IF'"
	t_like "$TABLE" "synack_forwarded 2" "table: synack_forwarded 2"
	t_like "$TABLE" "in netns $CTR port 80:  listener_syn 2  syn_queued 2  established 2" \
		"table: 'in netns $CTR port 80:  listener_syn 2  syn_queued 2  established 2'"
}

# A followed namespace with a hostile name: whoever creates a
# namespace names it, and ip accepts any byte but '/' and NUL.  Terminal
# sequences (clear screen, a window title), a BEL, shell syntax, quotes,
# a byte that is not UTF-8, a backslash, a C1 control (U+009B, CSI) and a
# newline: escaped where the name enters (follow.c), so the table shows
# it visibly, the JSON stays valid UTF-8, the verdict and /metrics carry
# the same escaped name.
sc_hostile_name() {
	local srv cnt out name label mport
	lab_container	# the host forwards
	nat_table
	CTR4=sa-$$$'-\e[2J\e]0;x\a$(id);\'"\xff\\\xc2\x9b\n-'
	SHOWN="sa-$$-\\x1b[2J\\x1b]0;x\\x07\$(id);'\"\\xff\\\\\\xc2\\x9b\\x0a-"
	routed_container "$CTR4" 4 "the hostile-named container"
	dnat_to 4 8784 198.18.5.2 80
	name="DNAT :8784 -> a namespace with a hostile name"
	CTR=$CTR4 ctr_server 80 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	mport=$(lab_free_port) || exit 1
	CTR=$CTR4 fwd_begin --ports 8784 --interval 0.2 ${CURL:+--metrics 127.0.0.1:$mport}
	out=$(lab_client --to "$SRV_IP4" --port 8784 --count 20)
	synacct_wait_record "$(lab_now)"	# an interval read after the last SYN: the page has it
	[ -z "$CURL" ] || $CURL -sf "http://127.0.0.1:$mport/metrics" >"$LAB_DIR/page4"
	CTR=$CTR4 fwd_end
	lab_server_stop $srv $cnt
	t_is "$out" "connected=20 failed=0" "$name: 20 clients connected"
	# (Python's lines start at the margin: it refuses an indented block.)
	if command -v python3 >/dev/null; then
		t_is "$(python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8", errors="strict"):
    json.loads(line)
    n += 1
print("valid", n > 0)' "$SA_OUT" 2>&1)" "valid True" "$name: every JSON record is valid UTF-8 and parses (strict)"
	else
		t_skip "$name: strict UTF-8 JSON" "tool: python3 is not installed (the strict reader is Python)"
	fi
	t_is "$(summary container.netns 8784)" "$SHOWN" "$name: container.netns is the name escaped (\\xNN, a backslash doubled)"
	t_is "$(summary container.established 8784)" 20 "$name: followed there: container.established == 20 connections"
	t_is "$(summary verdict.text 8784)" \
		"no loss; $(cli_sent) SYNs forwarded to namespace $SHOWN (port 80), $(cli_sent) of them queued there, 0 answered with cookies" \
		"$name: the verdict names it escaped"
	t_is "$(LC_ALL=C grep -c $'\e\\|\a\\|\xff\\|\xc2\x9b' "$SA_OUT")" 0 "$name: no ESC, BEL, invalid byte or C1 control in the JSON"
	if [ -n "$CURL" ]; then
		label=${SHOWN//\\/\\\\}; label=${label//\"/\\\"}
		t_is "$(grep -F -c "synacct_container_info{port=\"8784\",netns=\"$label\",to_port=\"80\"} 1" "$LAB_DIR/page4")" 1 \
			"$name: /metrics: the same escaped name (label-escaped)"
		t_is "$(LC_ALL=C grep -c $'\e\\|\a\\|\xff\\|\xc2\x9b' "$LAB_DIR/page4")" 0 "$name: /metrics: no ESC, BEL, invalid byte or C1 control"
		if command -v promtool >/dev/null; then
			t_is "$(promtool check metrics <"$LAB_DIR/page4" 2>&1; echo "rc=$?")" "rc=0" \
				"$name: /metrics: clean under promtool check metrics"
		fi
	else
		t_skip "$name: /metrics" "tool: curl is not installed"
	fi
	CTR=$CTR4 ctr_server 80 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	lab_table_run 8784
	lab_server_stop $srv $cnt
	t_is "$(LC_ALL=C grep -c $'\e\\|\a\\|\xff\\|\xc2\x9b' <<<"$TABLE")" 0 "$name: table: no ESC, BEL, invalid byte or C1 control"
	# The summary's (a slow machine's live intervals may show it too).
	t_is "$(sed -n '/^synacct summary/,$p' <<<"$TABLE" | grep -F -c "in netns $SHOWN port 80:")" 1 \
		"$name: table summary: 'in netns <escaped name> port 80:'"
}

# 12. Pods by name: the container's processes in a cgroup laid out as the
# kubelet lays it out (systemd driver, containerd; then the cgroupfs
# driver), and the kubelet's pod log directory <namespace>_<name>_<uid>
# in a directory of the test's (--pods-log-dir): the followed namespace
# is named by that pod in JSON, /metrics and the table, with the same
# exact figures as every forward scenario.
POD_CG_DIRS=()
pods_cgroup2() { awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts; }
# pod_cgroup PATH PID...: cgroup PATH (every level the test makes is
# remembered), with PIDs moved into it.
pod_cgroup() {
	local d lvl lvls path=$1
	shift
	d=$(pods_cgroup2)
	IFS=/ read -ra lvls <<<"${path#/}"
	for lvl in "${lvls[@]}"; do
		d=$d/$lvl
		[ -d "$d" ] && continue
		mkdir "$d" || return 1
		POD_CG_DIRS=("$d" "${POD_CG_DIRS[@]}")	# deepest first
	done
	for lvl; do echo "$lvl" >"$d/cgroup.procs" || return 1; done
}
# LAB_TEARDOWN: processes back to the root cgroup, levels removed.
pods_teardown() {
	local d pid root
	root=$(pods_cgroup2)
	for d in "${POD_CG_DIRS[@]}"; do
		for pid in $(cat "$d/cgroup.procs" 2>/dev/null); do
			echo "$pid" >"$root/cgroup.procs" 2>/dev/null
		done
		rmdir "$d" || echo "# pods: cannot remove cgroup $d"
	done
	POD_CG_DIRS=()
	LAB_TEARDOWN=
}
# pod_run NAME PORT: 20 clients to the published PORT while synacct (JSON
# and /metrics, --pods-log-dir) watches it; the forward checks.
pod_run() {
	local name=$1 port=$2 srv cnt out mport
	dnat_to 4 $port "$CTR_IP4" 80
	mport=$(lab_free_port) || exit 1
	fwd_begin --ports $port --interval 0.2 --pods-log-dir "$LAB_DIR/pods" \
		${CURL:+--metrics 127.0.0.1:$mport}
	out=$(lab_client --to "$SRV_IP4" --port $port --count 20)
	synacct_wait_record "$(lab_now)"	# an interval read after the last SYN: the page has it
	[ -z "$CURL" ] || $CURL -sf "http://127.0.0.1:$mport/metrics" >"$LAB_DIR/page"
	fwd_end
	t_is "$out" "connected=20 failed=0" "$name: 20 clients connected"
	fwd_checks "$name" $port 20 80
}
# pod_metrics NAME PORT LABELS: the container's series carry the pod's labels.
pod_metrics() {
	local name=$1 port=$2 labels=$3
	if [ -z "$CURL" ]; then
		t_skip "$name: /metrics" "tool: curl is not installed"
		return
	fi
	t_is "$(grep -E "^synacct_((listener_syn|syn_queued|established)_total\{port=\"$port\",netns=|container_info\{port=\"$port\")" "$LAB_DIR/page")" \
		"synacct_listener_syn_total{port=\"$port\",netns=\"$CTR\",$labels} $(cli_sent)
synacct_syn_queued_total{port=\"$port\",netns=\"$CTR\",$labels} $(cli_sent)
synacct_established_total{port=\"$port\",netns=\"$CTR\",$labels} 20
synacct_container_info{port=\"$port\",netns=\"$CTR\",to_port=\"80\",$labels,container_id=\"$CID\"} 1" \
		"$name: /metrics: the container's figures with its pod's labels"
	page_matches_summary "$name"
}
sc_pods() {
	local uid cid srv cnt name pids
	[ -n "$(pods_cgroup2)" ] || { t_skip "pods" "kernel: no cgroup2 hierarchy mounted"; return; }
	lab_container
	nat_table
	uid=$(cat /proc/sys/kernel/random/uuid)
	CID=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	mkdir -p "$LAB_DIR/pods/shop_web-0_$uid" "$LAB_DIR/pods/shop_web-1_11111111-2222-3333-4444-555555555555"
	ctr_server 80 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	pids=$(ip netns pids "$CTR")
	LAB_TEARDOWN=pods_teardown
	pod_cgroup "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${uid//-/_}.slice/cri-containerd-$CID.scope" $pids ||
		{ echo "Bail out! cannot make the pod's cgroup"; exit 1; }
	name="a pod (systemd driver, containerd), DNAT :8085 -> :80"
	pod_run "$name" 8085
	t_is "$(summary '.container | [.pod_uid, .pod_namespace, .pod, .container_id] | join(",")' 8085)" \
		"$uid,shop,web-0,$CID" "$name: container.pod_uid, pod_namespace, pod, container_id: the pod's"
	pod_metrics "$name" 8085 "pod_uid=\"$uid\",pod_namespace=\"shop\",pod=\"web-0\""

	pod_cgroup "/kubepods/burstable/pod$uid/$CID" $pids ||
		{ echo "Bail out! cannot make the pod's cgroup"; exit 1; }
	name="a pod (cgroupfs driver), DNAT :8086 -> :80"
	pod_run "$name" 8086
	t_is "$(summary '.container | [.pod_uid, .pod_namespace, .pod, .container_id] | join(",")' 8086)" \
		"$uid,shop,web-0,$CID" "$name: container.pod_uid, pod_namespace, pod, container_id: the pod's"
	pod_metrics "$name" 8086 "pod_uid=\"$uid\",pod_namespace=\"shop\",pod=\"web-0\""

	# Without the log directories (the table's synacct has the default,
	# which holds no directory of this uid): the uid and the container
	# id, no name.
	[ ! -d "/var/log/pods" ] || [ -z "$(ls -d /var/log/pods/*_"$uid" 2>/dev/null)" ] ||
		{ echo "Bail out! /var/log/pods has this test's uid"; exit 1; }
	dnat_to 4 8084 "$CTR_IP4" 80
	lab_table_run 8084
	lab_server_stop $srv $cnt
	t_like "$TABLE" "in netns $CTR port 80:  pod_uid $uid  container_id ${CID:0:12}  listener_syn 2  syn_queued 2  established 2" \
		"table, no log directory: 'in netns $CTR port 80:  pod_uid UID  container_id ID  listener_syn 2 ...'"
	t_is "$(grep -c "pod shop/" <<<"$TABLE")" 0 "table, no log directory: no pod name"
	pod_queries
}
# docs/metrics.md's per-pod queries, evaluated by promtool on series
# scraped with and without honorLabels, are the doc's word for word.
pod_queries() {
	local tests=$SA_ROOT/selftests/prometheus/synacct-pods.test.yml q doc n=0 missing=
	if ! command -v promtool >/dev/null; then
		t_skip "pods: docs/metrics.md's queries" "tool: promtool is not installed"
		return
	fi
	t_is "$(promtool test rules "$tests" >"$LAB_DIR/promtool.out" 2>&1; echo "rc=$?")" "rc=0" \
		"pods: the kube_pod_info join and the per-pod sum give each pod's rate (promtool test rules)"
	doc=$(tr -s ' \n' '  ' <"$SA_ROOT/docs/metrics.md")
	while read -r q; do
		n=$((n + 1))
		grep -qF -- "$q" <<<"$doc" || missing+=" $n"
	done < <(awk '
		/^ *- expr: \|/ { match($0, /^ */); base = RLENGTH; inq = 1; q = ""; next }
		/^ *- expr: / { sub(/^ *- expr: /, ""); print; next }
		inq { match($0, /^ */); if (NF && RLENGTH > base + 2) { q = q " " $0; next }
		      print q; inq = 0 }' "$tests" | tr -s ' ' | sed 's/^ //')
	t_is "$n,${missing:-none}" "2,none" "pods: each query of the test is in docs/metrics.md (missing:${missing:- none})"
}

lab_main "$@"
