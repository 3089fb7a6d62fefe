#!/bin/bash
# synacct knows its own hooks (#21 item 1): what it attached is taken away
# or replaced under it, and from then on it says so once (a "stage" record,
# a line on stderr), leaves that stage's figures out of reconciliation (no
# gap is a loss, and no verdict "no loss", that involves it), and never
# removes what another tool put there.  The oracle is the kernel and the
# lab: nstat, `ip link`, `tc filter show`, `bpftool prog show`.  Each
# scenario runs in a lab of its own:
#   selftests/t/77-hooks.t [--list] [SCENARIO...]
. "$(dirname "$0")/../lib/lab.sh"

LAB_SCENARIOS=(tc_qdisc_deleted tc_filter_replaced table_title xdp_replaced nf_link_detached
	iface_deleted iface_moved netns_deleted)

# flood PORT N: N SYNs from spoofed sources to a closed port (each one
# dropped by the stack as NO_SOCKET, no SYN-ACK, no retransmission).
flood() {
	t_is "$(lab_flood --to $SRV_IP4 --port "$1" --count "$2" --src-net $SPOOF_NET4)" \
		"sent=$2" "$2 SYNs sent to port $1"
}

# stage_records: the "stage" records, one compact line each.
stage_records() { jq -c 'select(.type == "stage")' "$SA_OUT"; }

# wait_stage_record: until synacct wrote a stage record (5 s at most).
wait_stage_record() {
	local i
	for ((i = 0; i < 50; i++)); do
		grep -q '"type":"stage"' "$SA_OUT" && return 0
		sleep 0.1
	done
	return 1
}

# lab_hook_progs NS: ids of the programs on $SRV_IF's XDP and TC hooks in
# NS, as the kernel lists them (`ip link`, `tc filter show`).
lab_hook_progs() {
	{ ip -n "$1" -j link show dev "$SRV_IF" | jq -r '.[0].xdp.prog.id // empty'
	  tc -n "$1" -j filter show dev "$SRV_IF" ingress | jq -r '.[].options.prog.id // empty'
	  tc -n "$1" -j filter show dev "$SRV_IF" egress | jq -r '.[].options.prog.id // empty'
	} | sort -n | paste -sd' '
}

# progs_alive IDS...: those of the programs IDS the kernel still holds.
progs_alive() {
	local id
	for id in "$@"; do
		bpftool prog show id "$id" >/dev/null 2>&1 && echo "$id"
	done | paste -sd' '
}

# (a) clsact deleted by hand while synacct counts: tc is lost; the figures
# before are exact, and no gap involving TC is reported after.
sc_tc_qdisc_deleted() {
	local port=8101 mp
	mp=$(lab_free_port) || exit 1
	synacct_start --interval 0.3 --metrics 127.0.0.1:$mp
	t_is "$(curl -sf http://127.0.0.1:$mp/metrics | grep '^synacct_stage_up' | sort | paste -sd' ')" \
		"synacct_stage_up{stage=\"stack\",iface=\"\"} 1 synacct_stage_up{stage=\"tc\",iface=\"$SRV_IF\"} 1 synacct_stage_up{stage=\"xdp\",iface=\"$SRV_IF\"} 1" \
		"/metrics: synacct_stage_up 1 for the stack, tc and xdp"
	lab_nstat "$SRV" >"$LAB_DIR/srv.0"
	flood $port 20
	synacct_wait_record "$(lab_now)"
	lab_nstat "$SRV" >"$LAB_DIR/srv.1"
	tc -n "$SRV" qdisc del dev "$SRV_IF" clsact
	t_ok $? "tc qdisc del dev $SRV_IF clsact"
	wait_stage_record
	t_ok $? "a stage record follows the deletion"
	flood $port 20
	synacct_wait_record "$(lab_now)"
	t_is "$(curl -sf http://127.0.0.1:$mp/metrics | grep '^synacct_stage_up' | sort | paste -sd' ')" \
		"synacct_stage_up{stage=\"stack\",iface=\"\"} 1 synacct_stage_up{stage=\"tc\",iface=\"$SRV_IF\"} 0 synacct_stage_up{stage=\"xdp\",iface=\"$SRV_IF\"} 1" \
		"/metrics: synacct_stage_up 0 for tc, 1 for the stack and xdp"
	synacct_stop
	t_is "$SA_RC" 0 "synacct exits 0 on SIGINT"

	local rec
	rec=$(stage_records)
	t_is "$(jq -r '[.stage, .iface, .state, .hooks, .reason, (.replaced_by | tostring)] | join("|")' <<<"$rec")" \
		"tc|$SRV_IF|lost|tc_ingress, tc_egress|clsact qdisc deleted|null" \
		"one stage record: tc lost on $SRV_IF, both hooks, clsact qdisc deleted, nothing replaced it"
	t_is "$(grep -c "tc_ingress, tc_egress on $SRV_IF lost: clsact qdisc deleted" "$SA_ERR")" 1 \
		"one line on stderr says so"
	# Before the loss: every interval's figures exact against nstat (the
	# 20 SYNs the stack dropped with no socket).
	local stamp
	stamp=$(jq -r 'select(.type == "stage") | .time' "$SA_OUT")
	local rsts
	rsts=$(nstat_delta "$LAB_DIR/srv.0" "$LAB_DIR/srv.1" TcpOutRsts)
	t_is "$rsts" 20 "before the loss: the server answered 20 RSTs (nstat TcpOutRsts)"
	t_is "$(jq -rs --arg t "$stamp" --argjson p $port '[.[] | select(.type == "interval" and .time < $t) | .ports[] | select(.port == $p) | [.nic_syn, .tc_syn, .stack_drops.NO_SOCKET, .unexplained.nic_to_tc, .unexplained.tc_to_listener]] | transpose | map(add) | join(",")' "$SA_OUT")" \
		"$rsts,$rsts,$rsts,0,0" "before the loss: interval nic_syn, tc_syn, NO_SOCKET drops == TcpOutRsts; nothing unexplained"
	# After: tc's gaps and figures are null, never a loss.
	t_is "$(jq -rs --arg t "$stamp" '[.[] | select(.type == "interval" and .time > $t) | .ports[] | [.unexplained.nic_to_tc, .unexplained.tc_to_listener, .unexplained.synack_sent, .tc_syn] | map(tostring) | join(",")] | unique | join(" ")' "$SA_OUT")" \
		"null,null,null,null" "after the loss: nic_to_tc, tc_to_listener, synack_sent and tc_syn null in every interval record"
	t_is "$(summary '[.unexplained.nic_to_tc, .unexplained.tc_to_listener] | map(tostring) | join(",")' $port)" \
		"null,null" "summary: nic_to_tc and tc_to_listener null"
	t_is "$(summary nic_syn $port)" 40 "summary: nic_syn 40 (XDP still counts)"
	t_is "$(grep -c 'unexplained between XDP and TC' "$SA_OUT")" 0 "no \"unexplained between XDP and TC\" anywhere"
	t_like "$(summary verdict.text $port)" "^tc_ingress, tc_egress on $SRV_IF lost at [0-9T:.-]+Z \\(clsact qdisc deleted\\); since then" \
		"the summary's verdict says which hooks went, and when"
	t_is "$(jq -r 'select(.type == "summary") | .hooks | map(select(startswith("tc_"))) | length' "$SA_OUT")" 0 \
		"summary: hooks no longer lists tc_*"
	t_is "$(ip -n "$SRV" -j link show dev "$SRV_IF" | jq '.[0].xdp // "none"')" '"none"' \
		"after exit: synacct's XDP program detached"
}

# Another tool's filter takes synacct's place on TC ingress (priority 1,
# handle 0x5a): tc_ingress lost, named; on exit synacct removes its egress
# filter and leaves the other tool's, with the qdisc it sits on.
sc_tc_filter_replaced() {
	local other
	synacct_start --interval 0.3
	# In one step: no check can see the place empty in between.
	tc -n "$SRV" filter replace dev "$SRV_IF" ingress protocol all pref 1 handle 0x5a bpf \
		bytecode '1,6 0 0 0,'
	t_ok $? "another tool's (classic BPF) filter at priority 1, handle 0x5a on ingress"
	other=$(tc -n "$SRV" filter show dev "$SRV_IF" ingress)
	wait_stage_record
	t_ok $? "a stage record follows the replacement"
	synacct_wait_record "$(lab_now)"
	synacct_stop
	t_is "$SA_RC" 0 "synacct exits 0 on SIGINT"
	t_is "$(stage_records | jq -r '[.stage, .hooks, .reason, (.replaced_by | tostring)] | join("|")')" \
		"tc|tc_ingress|TC filter replaced by another tool's bpf filter|null" \
		"stage record: tc_ingress lost, replaced by another tool's filter"
	t_is "$(grep -c "tc_ingress on $SRV_IF lost: TC filter replaced" "$SA_ERR")" 1 "one line on stderr"
	t_is "$(tc -n "$SRV" filter show dev "$SRV_IF" ingress)" "$other" \
		"after exit: the other tool's ingress filter is still there"
	t_is "$(tc -n "$SRV" filter show dev "$SRV_IF" egress)" "" "after exit: synacct's egress filter removed"
	t_is "$(tc -n "$SRV" qdisc show dev "$SRV_IF" | grep -c clsact)" 1 \
		"after exit: the clsact qdisc the other filter sits on stays"
	tc -n "$SRV" qdisc del dev "$SRV_IF" clsact
}

# The table's title says which hooks went.
sc_table_title() {
	local pid i out=$LAB_DIR/table.out
	NO_COLOR=1 "$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --interval 0.3 >"$out" 2>"$LAB_DIR/table.err" &
	pid=$!
	LAB_PIDS+=($pid)
	for ((i = 0; i < 100; i++)); do grep -q '^synacct live' "$out" && break; sleep 0.1; done
	tc -n "$SRV" qdisc del dev "$SRV_IF" clsact
	for ((i = 0; i < 50; i++)); do grep -q 'LOST' "$out" && break; sleep 0.1; done
	kill -INT $pid; wait $pid
	t_is "$?" 0 "table: synacct exits 0 on SIGINT"
	t_like "$(grep '^synacct summary' -A2 "$out" | tr '\n' ' ')" \
		"LOST: tc_ingress, tc_egress on $SRV_IF lost at [0-9T:.-]+Z \\(clsact qdisc deleted\\)" \
		"table: the summary's title says which hooks went, and when"
}

# (b) another tool replaces synacct's XDP program: nic lost, named; no
# verdict "no loss" about it; the other program stays after exit.
sc_xdp_replaced() {
	local port=8102 other
	lab_server $port --accept all
	synacct_start --interval 0.3
	t_is "$(lab_client --to $SRV_IP4 --port $port --count 10 --parallel 2)" "connected=10 failed=0" \
		"10 clients connected before"
	synacct_wait_record "$(lab_now)"
	# In one step (-force replaces): no check can see the hook empty.
	ip -force -n "$SRV" link set dev "$SRV_IF" xdpgeneric obj "$SA_BIN/xdp_pass.bpf.o" sec xdp
	t_ok $? "another tool's XDP program attached in synacct's place"
	other=$(ip -n "$SRV" -j link show dev "$SRV_IF" | jq -r '.[0].xdp.prog.id')
	wait_stage_record
	t_ok $? "a stage record follows the replacement"
	t_is "$(lab_client --to $SRV_IP4 --port $port --count 10 --parallel 2)" "connected=10 failed=0" \
		"10 clients connected after"
	synacct_wait_record "$(lab_now)"
	synacct_stop
	t_is "$SA_RC" 0 "synacct exits 0 on SIGINT"
	t_is "$(stage_records | jq -r '[.stage, .hooks, .state, .replaced_by.id, .replaced_by.name] | join("|")')" \
		"xdp|xdp|lost|$other|other_tool_xdp" "stage record: xdp lost, replaced by program $other (other_tool_xdp)"
	t_is "$(cat "$SA_ERR")" \
		"synacct: xdp on $SRV_IF lost: XDP program replaced by program id $other (other_tool_xdp); synacct leaves it as it is, and its figures out of reconciliation from now on" \
		"one line on stderr names the program that replaced it, and nothing else (no detach error on exit)"
	t_is "$(summary '.nic_syn, .unexplained.nic_to_tc | tostring' $port | paste -sd,)" "null,null" \
		"summary: nic_syn and nic_to_tc null"
	local stamp
	stamp=$(stage_records | jq -r .time)
	t_is "$(jq -r --arg t "$stamp" --argjson p $port 'select(.type == "summary" or (.type == "interval" and .time > $t)) |
		.ports[] | select(.port == $p) | .verdict.text | select(startswith("no loss"))' "$SA_OUT" | wc -l)" 0 \
		"after the loss, no interval record's verdict nor the summary's starts \"no loss\""
	t_ok "$(jq -r --arg t "$stamp" --argjson p $port 'select(.type == "interval" and .time < $t) |
		.ports[] | select(.port == $p) | .verdict.text' "$SA_OUT" | grep -qx 'no loss'; echo $?)" \
		"before the loss, the verdict was \"no loss\""
	t_like "$(summary verdict.text $port)" "^xdp on $SRV_IF lost at .*replaced by program id $other \\(other_tool_xdp\\)\\); since then, where synacct still counts: no loss" \
		"the summary's verdict names the hook, when, and what replaced it"
	t_is "$(ip -n "$SRV" -j link show dev "$SRV_IF" | jq -r '.[0].xdp.prog.id')" "$other" \
		"after exit: the other tool's XDP program is still attached"
	t_is "$(tc -n "$SRV" filter show dev "$SRV_IF" ingress)" "" "after exit: synacct's TC filters removed"
	ip -n "$SRV" link set dev "$SRV_IF" xdpgeneric off
}

# (b') another tool detaches one of the stack's netfilter links
# (`bpftool link detach`; the kernel refuses it for the tracepoint and
# iterator links: EOPNOTSUPP): the stack is lost, named; XDP and TC still
# count, == nstat; no gap past TC is reported, neither loss nor "no loss".
sc_nf_link_detached() {
	local port=8103 mp link stamp rsts
	mp=$(lab_free_port) || exit 1
	synacct_start --interval 0.3 --metrics 127.0.0.1:$mp
	t_is "$(curl -sf http://127.0.0.1:$mp/metrics | grep '^synacct_stage_up{stage="stack"')" \
		'synacct_stage_up{stage="stack",iface=""} 1' "/metrics: synacct_stage_up 1 for the stack"
	# synacct's IPv4 LOCAL_IN link, as the kernel shows its descriptors.
	link=$(awk '/^link_type:/ { nf = $2 == "netfilter" } /^link_id:/ { id = $2 }
		nf && /^pf:/ && $2 == 2 && $4 == 1 { print id }' /proc/$SA_PID/fdinfo/* 2>/dev/null | head -1)
	t_like "$link" '^[0-9]+$' "synacct holds a netfilter link at IPv4 LOCAL_IN (id $link)"
	lab_nstat "$SRV" >"$LAB_DIR/srv.0"
	flood $port 20
	synacct_wait_record "$(lab_now)"
	bpftool link detach id "$link"
	t_ok $? "bpftool link detach id $link"
	wait_stage_record
	t_ok $? "a stage record follows the detach"
	flood $port 20
	synacct_wait_record "$(lab_now)"
	lab_nstat "$SRV" >"$LAB_DIR/srv.1"
	t_is "$(curl -sf http://127.0.0.1:$mp/metrics | grep '^synacct_stage_up' | sort | paste -sd' ')" \
		"synacct_stage_up{stage=\"stack\",iface=\"\"} 0 synacct_stage_up{stage=\"tc\",iface=\"$SRV_IF\"} 1 synacct_stage_up{stage=\"xdp\",iface=\"$SRV_IF\"} 1" \
		"/metrics: synacct_stage_up 0 for the stack, 1 for tc and xdp"
	synacct_stop
	t_is "$SA_RC" 0 "synacct exits 0 on SIGINT"
	t_is "$(stage_records | jq -r '[.stage, (.iface | tostring), .state, .hooks, .reason, (.replaced_by | tostring)] | join("|")')" \
		"stack|null|lost|netfilter/local_in|netfilter link (IPv4) detached by another tool|null" \
		"one stage record: the stack's netfilter/local_in lost, detached, on no interface"
	t_is "$(cat "$SA_ERR")" \
		"synacct: netfilter/local_in lost: netfilter link (IPv4) detached by another tool; synacct leaves it as it is, and its figures out of reconciliation from now on" \
		"one line on stderr names the hook, and nothing else"
	rsts=$(nstat_delta "$LAB_DIR/srv.0" "$LAB_DIR/srv.1" TcpOutRsts)
	t_is "$rsts" 40 "the server answered 40 RSTs (nstat TcpOutRsts)"
	stamp=$(stage_records | jq -r .time)
	t_is "$(jq -rs --arg t "$stamp" --argjson p $port '[.[] | select(.type == "interval" and .time < $t) | .ports[] | select(.port == $p) | [.nic_syn, .tc_syn, .stack_drops.NO_SOCKET, .unexplained.nic_to_tc, .unexplained.tc_to_listener]] | transpose | map(add) | join(",")' "$SA_OUT")" \
		"20,20,20,0,0" "before the loss: interval nic_syn, tc_syn, NO_SOCKET drops 20 each; nothing unexplained"
	t_is "$(jq -rs --arg t "$stamp" --argjson p $port '[.[] | select(.type == "interval" and .time > $t) | .ports[] | select(.port == $p) | [.nic_syn, .tc_syn]] | transpose | map(add) | join(",")' "$SA_OUT")" \
		"20,20" "after the loss: interval nic_syn and tc_syn still count the 20 SYNs"
	# As with --no-stack: the rows keep XDP's and TC's figures and have
	# no gap, no stack drop, no listener figure.
	t_is "$(jq -rs --arg t "$stamp" '[.[] | select(.type == "interval" and .time > $t) | .ports[] | [has("unexplained"), has("stack_drops"), .listener_syn] | map(tostring) | join(",")] | unique | join(" ")' "$SA_OUT")" \
		"false,false,null" "after the loss: no unexplained nor stack_drops, listener_syn null, in every interval record's row"
	t_is "$(summary '[.nic_syn, .tc_syn, has("unexplained"), has("stack_drops")] | map(tostring) | join(",")' $port)" \
		"$rsts,$rsts,false,false" "summary: nic_syn == tc_syn == TcpOutRsts; no gap, no stack drop"
	t_is "$(jq -r --arg t "$stamp" 'select(.type == "summary" or (.type == "interval" and .time > $t)) |
		.ports[] | .verdict.text | select(test("no loss|unexplained"))' "$SA_OUT" | wc -l)" 0 \
		"after the loss, no verdict says \"no loss\" nor \"unexplained\""
	t_like "$(summary verdict.text $port)" "^netfilter/local_in lost at [0-9T:.-]+Z \\(netfilter link \\(IPv4\\) detached by another tool\\); since then" \
		"the summary's verdict says which hook went, and when"
	t_is "$(jq -r 'select(.type == "summary") | .hooks | map(select(. == "netfilter/local_in")) | length' "$SA_OUT")" 0 \
		"summary: hooks no longer lists netfilter/local_in"
}

# (c) the interface is deleted while synacct runs: one message, exit 1
# (docs/synacct.8), nothing of synacct's left in the kernel.
sc_iface_deleted() {
	local i progs
	synacct_start --interval 0.3
	progs=$(lab_hook_progs "$SRV")
	t_like "$progs" '^[0-9]+ [0-9]+ [0-9]+$' "synacct's XDP program and two TC filters on $SRV_IF ($progs)"
	ip -n "$SRV" link del "$SRV_IF"
	for ((i = 0; i < 50; i++)); do kill -0 $SA_PID 2>/dev/null || break; sleep 0.1; done
	wait $SA_PID; SA_RC=$?
	t_is "$SA_RC" 1 "interface deleted: exit 1"
	t_is "$(cat "$SA_ERR")" "synacct: interface $SRV_IF disappeared: deleted; stopping" \
		"interface deleted: exactly one message on stderr"
	t_is "$(jq -s '[.[] | select(.type == "summary")] | length' "$SA_OUT")" 1 "the summary still comes"
	t_is "$(stage_records | jq -r '[.stage, .hooks, .reason] | join("|")' | paste -sd';')" \
		"xdp|xdp|interface deleted;tc|tc_ingress, tc_egress|interface deleted" \
		"a stage record for xdp and one for tc: interface deleted"
	# shellcheck disable=SC2086
	t_is "$(progs_alive $progs)" "" "bpftool prog show: none of those programs is left"
}

# (d) the interface moves to another namespace: one message, and
# synacct's programs are not left attached there.
sc_iface_moved() {
	local i progs other=sa-$$-other
	lab_netns_add "$other" || { echo "Bail out! cannot add namespace $other"; exit 1; }
	synacct_start --interval 0.3
	progs=$(lab_hook_progs "$SRV")
	t_like "$progs" '^[0-9]+ [0-9]+ [0-9]+$' "synacct's XDP program and two TC filters on $SRV_IF ($progs)"
	ip -n "$SRV" link set dev "$SRV_IF" netns "$other"
	t_ok $? "$SRV_IF moved to namespace $other"
	for ((i = 0; i < 50; i++)); do kill -0 $SA_PID 2>/dev/null || break; sleep 0.1; done
	wait $SA_PID; SA_RC=$?
	t_is "$SA_RC" 1 "interface moved: exit 1"
	t_is "$(cat "$SA_ERR")" \
		"synacct: interface $SRV_IF disappeared: moved to another network namespace, where synacct removed its hooks; stopping" \
		"interface moved: exactly one message on stderr"
	t_is "$(ip -n "$other" -j link show dev "$SRV_IF" | jq '.[0].xdp // "none"')" '"none"' \
		"no XDP program left on $SRV_IF in $other"
	t_is "$(tc -n "$other" filter show dev "$SRV_IF" ingress; tc -n "$other" filter show dev "$SRV_IF" egress)" "" \
		"no TC filter left on $SRV_IF in $other"
	# shellcheck disable=SC2086
	t_is "$(progs_alive $progs)" "" "bpftool prog show: none of those programs is left"
}

# (e) the watched namespace is deleted (`ip netns del`: its name goes,
# and synacct, in it, would be all that keeps it alive): one message, the
# summary with what was counted, exit 1; then the kernel frees the
# namespace, and the veth pair with it.
sc_netns_deleted() {
	local i progs
	synacct_start --interval 0.3
	progs=$(lab_hook_progs "$SRV")
	t_like "$progs" '^[0-9]+ [0-9]+ [0-9]+$' "synacct's XDP program and two TC filters on $SRV_IF ($progs)"
	flood 9 20
	synacct_wait_record "$(lab_now)"
	ip netns del "$SRV"
	t_ok $? "ip netns del $SRV"
	for ((i = 0; i < 100; i++)); do kill -0 $SA_PID 2>/dev/null || break; sleep 0.1; done
	kill -INT $SA_PID 2>/dev/null	# still running 10 s on: stopped, and exits 0
	wait $SA_PID; SA_RC=$?
	t_is "$SA_RC" 1 "namespace deleted: exit 1"
	t_is "$(cat "$SA_ERR")" \
		"synacct: network namespace $SRV deleted (/run/netns/$SRV is gone); stopping, so as not to keep it alive" \
		"namespace deleted: exactly one message on stderr"
	t_is "$(jq -r 'select(.type == "summary") | .ports[] | select(.port == 9) | "\(.nic_syn),\(.tc_syn),\(.stack_drops.NO_SOCKET)"' "$SA_OUT")" \
		"20,20,20" "the summary still comes, with the 20 SYNs"
	# Freed once synacct is out: the kernel takes the veth pair with it.
	for ((i = 0; i < 100; i++)); do ip -n "$CLI" link show dev "$CLI_IF" >/dev/null 2>&1 || break; sleep 0.1; done
	t_is "$(ip -n "$CLI" -j link show 2>/dev/null | jq -r '[.[].ifname] | join(" ")')" "lo" \
		"the namespace is freed: its veth peer $CLI_IF is gone from $CLI"
	# shellcheck disable=SC2086
	t_is "$(progs_alive $progs)" "" "bpftool prog show: none of those programs is left"
}

lab_main "$@"
