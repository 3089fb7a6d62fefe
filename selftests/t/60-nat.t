#!/bin/bash
# NAT in the watched namespace (REDIRECT, DNAT to another local address and
# port): every SYN is counted under the port the client asked for, at
# every stage, with the mapping beside it; the target port sees nothing;
# the figures equal the lab's ground truth and the namespace's nstat.
# Each scenario runs in a lab of its own:
#   selftests/t/60-nat.t [--list] [SCENARIO...]
. "$(dirname "$0")/../lib/lab.sh"

LAB_SCENARIOS=(redirect dnat_overflow input_drop table)
LAB_REQUIRE_HOOK=("$LISTENER_HOOKS" netfilter/local_in)
LAB_REQUIRE=require_nft

require_nft() {
	command -v nft >/dev/null || t_skip_all "tool: nft is not installed"
}

NAT4=198.18.1.1
NAT6=2001:db8:1::1
nft_srv() { ip netns exec "$SRV" nft "$@"; }

# nat_init: the DNAT target addresses, and a nat table with a prerouting
# chain in the server namespace.
nat_init() {
	ip -n "$SRV" addr add $NAT4/32 dev lo &&
	ip -n "$SRV" addr add $NAT6/128 dev lo nodad ||
		{ echo "Bail out! cannot add the DNAT target addresses"; exit 1; }
	nft_srv add table inet sa_nat &&
	nft_srv add chain inet sa_nat pre '{ type nat hook prerouting priority dstnat; }' ||
		{ echo "Bail out! cannot create the nat table"; exit 1; }
}

addr_of() { [ "$1" = 4 ] && echo $SRV_IP4 || echo $SRV_IP6; }
nat_of() { [ "$1" = 4 ] && echo $NAT4 || echo $NAT6; }

# nat_checks NAME PUBLISHED TARGET TO_ADDR: the target port saw nothing,
# the published port carries the mapping.
nat_checks() {
	t_is "$(summary '.nat | "\(.to_addr) \(.to_port)"' $2)" "$4 $3" \
		"$1: nat.to_addr, nat.to_port of port $2"
	t_is "$(summary '[.nic_syn, .tc_syn, .listener_syn, .synack_sent, .established] | join(",")' $3)" \
		"0,0,0,0,0" "$1: nothing counted under the target port $3"
	t_is "$(summary .nat $3)" null "$1: the target port has no mapping"
}

# 1. REDIRECT to a local port, 30 clients, everything accepted.
sc_redirect() {
	local fam name pub srv cnt out accepted sent
	nat_init
	for fam in 4 6; do
		name="REDIRECT :$((8500 + fam)) -> :80 IPv$fam"
		pub=$((8500 + fam))
		nft_srv add rule inet sa_nat pre tcp dport $pub redirect to :80
		lab_server 80 --accept all
		srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
		scenario_begin --ports $pub,80
		out=$(lab_client --to "$(addr_of $fam)" --port $pub --count 30)
		sleep 0.2
		scenario_end
		lab_server_stop $srv $cnt; accepted=$LAB_ACCEPTED
		sent=$(cli_sent)
		check_funnel "$name" $pub
		t_is "$out" "connected=30 failed=0" "$name: 30 clients connected"
		t_is "$(summary '[.nic_syn, .tc_syn, .listener_syn, .syn_queued] | join(",")' $pub)" \
			"$sent,$sent,$sent,$sent" "$name: nic_syn, tc_syn, listener_syn, syn_queued == SYNs sent"
		t_is "$(summary synack_sent $pub)" "$sent" "$name: synack_sent == SYNs sent (un-NATed at TC egress)"
		t_is "$(summary established $pub)" "$(srv_delta TcpPassiveOpens)" "$name: established == TcpPassiveOpens"
		t_is "$(summary established $pub)" 30 "$name: established == 30"
		t_is "$(summary accepted $pub)" "$accepted" "$name: accepted == what the server accepted"
		t_is "$(summary listeners $pub)" 1 "$name: the target's listener shown under the published port"
		t_is "$(summary verdict.text $pub)" "no loss" "$name: verdict"
		nat_checks "$name" $pub 80 "$(addr_of $fam)"
	done
}

# 2. DNAT to another local address and a higher port, accept queue
# overflow: listener drops, request socks and retransmitted SYNs of a
# NATed flow are all counted under the published port.
sc_dnat_overflow() {
	local fam name pub tgt srv cnt out accepted connected sent
	nat_init
	for fam in 4 6; do
		name="DNAT :$((80 + fam)) -> $(nat_of $fam):$((9000 + fam)), accept queue overflow, IPv$fam"
		pub=$((80 + fam)); tgt=$((9000 + fam))
		if [ $fam = 4 ]; then
			nft_srv add rule inet sa_nat pre tcp dport $pub dnat ip to $NAT4:$tgt
		else
			nft_srv add rule inet sa_nat pre tcp dport $pub dnat ip6 to "[$NAT6]:$tgt"
		fi
		lab_server $tgt --backlog 4 --accept none
		srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
		scenario_begin --ports $pub,$tgt
		out=$(lab_client --to "$(addr_of $fam)" --port $pub --count 30 --timeout-ms 2500)
		scenario_end
		lab_server_stop $srv $cnt; accepted=$LAB_ACCEPTED
		connected=${out#connected=}; connected=${connected%% *}
		sent=$(cli_sent)
		check_funnel "$name" $pub
		t_is "$(summary '[.nic_syn, .tc_syn, .listener_syn] | join(",")' $pub)" \
			"$sent,$sent,$sent" "$name: nic_syn, tc_syn, listener_syn == SYNs sent"
		t_is "$(summary listen_drops.accept_queue_full $pub)" "$(srv_delta TcpExtListenOverflows)" \
			"$name: accept_queue_full == ListenOverflows"
		t_is "$(summary listen_drops.accept_queue_full $pub)" "$((sent - connected))" \
			"$name: accept_queue_full == SYNs sent - connections made"
		t_is "$(summary syn_queued $pub),$(summary established $pub)" "$connected,$connected" \
			"$name: syn_queued, established == connections made"
		t_is "$(summary synack_retrans $pub)" "$(srv_delta TcpExtTCPSynRetrans)" \
			"$name: synack_retrans == TCPSynRetrans"
		t_is "$(summary accepted $pub)" "$accepted" "$name: accepted == what the server accepted (0)"
		t_is "$(summary '[.accept_queue_len, .accept_backlog] | join("/")' $pub)" "5/4" \
			"$name: the target listener's accept queue, 5/4, under the published port"
		t_like "$(summary verdict.text $pub)" "^accept queue full \(backlog 4\)" "$name: verdict"
		nat_checks "$name" $pub $tgt "$(nat_of $fam)"
	done
}

# 3. A filter INPUT drop after DNAT: the drop reason under the published
# port (the skb still holds its conntrack entry).
sc_input_drop() {
	local fam name pub srv cnt out before after sent
	nat_init
	nft_srv add table inet sa_filter &&
	nft_srv add chain inet sa_filter in '{ type filter hook input priority filter; }' &&
	nft_srv add rule inet sa_filter in tcp dport 9100 counter drop ||
		{ echo "Bail out! cannot create the filter table"; exit 1; }
	for fam in 4 6; do
		name="DNAT :$((8600 + fam)) -> :9100, dropped at INPUT, IPv$fam"
		pub=$((8600 + fam))
		nft_srv add rule inet sa_nat pre tcp dport $pub redirect to :9100
		lab_server 9100 --accept all
		srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
		before=$(nft_srv -j list ruleset | jq '[.nftables[].rule? | select(.chain == "in") | .expr[] | .counter? | select(.) | .packets] | add')
		scenario_begin --ports $pub,9100
		out=$(lab_client --to "$(addr_of $fam)" --port $pub --count 5 --timeout-ms 1500)
		scenario_end
		lab_server_stop $srv $cnt
		after=$(nft_srv -j list ruleset | jq '[.nftables[].rule? | select(.chain == "in") | .expr[] | .counter? | select(.) | .packets] | add')
		sent=$(cli_sent)
		check_funnel "$name" $pub
		t_is "$out" "connected=0 failed=5" "$name: every client timed out"
		t_is "$(summary '[.nic_syn, .tc_syn, .stack_drops.NETFILTER_DROP] | join(",")' $pub)" \
			"$sent,$sent,$sent" "$name: nic_syn, tc_syn, stack_drops.NETFILTER_DROP == SYNs sent"
		t_is "$(summary stack_drops.NETFILTER_DROP $pub)" "$((after - before))" \
			"$name: NETFILTER_DROP == the rule's own counter"
		t_is "$(summary listener_syn $pub)" 0 "$name: no SYN reached the listener"
		t_like "$(summary verdict.text $pub)" "NETFILTER_DROP" "$name: verdict names the reason"
	done
}

# 4. The table: the published port's row says where it is mapped.
sc_table() {
	local srv cnt
	nat_init
	nft_srv add rule inet sa_nat pre tcp dport 8700 redirect to :80
	lab_server 80 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	lab_table_run 8700
	lab_server_stop $srv $cnt
	t_like "$TABLE" "mapped to $SRV_IP4:80" "table: the published port is shown 'mapped to $SRV_IP4:80'"
}

lab_main "$@"
