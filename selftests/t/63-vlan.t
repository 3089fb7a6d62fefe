#!/bin/bash
# VLAN sub-interfaces: SYNs tagged 802.1Q on the watched interface reach the
# stack on the VLAN device stacked on it.  synacct watches only the lower
# interface (--iface), counts the tagged SYNs at XDP and TC there, and
# follows them into the stack on the VLAN device, with nothing unexplained.
# Needs 802.1Q (8021q), which the cloud kernels of selftests/vm have; skips,
# saying why, where there is none.  Each scenario runs in a lab of its own:
#   selftests/t/63-vlan.t [--list] [SCENARIO...]
. "$(dirname "$0")/../lib/lab.sh"

LAB_SCENARIOS=(names_vlan funnel)
LAB_REQUIRE_HOOK=$LISTENER_HOOKS

VID=100
SRV_VLAN=$SRV_IF.$VID
CLI_VLAN=$CLI_IF.$VID
VLAN_SRV_IP4=198.18.1.1
VLAN_CLI_IP4=198.18.1.2
VLAN_SRV_IP6=2001:db8:100::1
VLAN_CLI_IP6=2001:db8:100::2

# vlan_init: a VLAN device on each end of the lab's veth pair, with
# addresses and permanent neighbours; skips the file without 802.1Q.
vlan_init() {
	local err smac cmac
	if ! err=$(ip -n "$SRV" link add link "$SRV_IF" name "$SRV_VLAN" type vlan id $VID 2>&1); then
		t_skip_all "kernel: no 802.1Q VLAN devices (8021q): $err"
	fi
	ip -n "$CLI" link add link "$CLI_IF" name "$CLI_VLAN" type vlan id $VID &&
	ip -n "$SRV" addr add $VLAN_SRV_IP4/24 dev "$SRV_VLAN" &&
	ip -n "$CLI" addr add $VLAN_CLI_IP4/24 dev "$CLI_VLAN" &&
	ip -n "$SRV" addr add $VLAN_SRV_IP6/64 dev "$SRV_VLAN" nodad &&
	ip -n "$CLI" addr add $VLAN_CLI_IP6/64 dev "$CLI_VLAN" nodad &&
	ip -n "$SRV" link set "$SRV_VLAN" up && ip -n "$CLI" link set "$CLI_VLAN" up ||
		{ echo "Bail out! cannot build the VLAN devices"; exit 1; }
	smac=$(ip -n "$SRV" -j link show dev "$SRV_VLAN" | jq -r '.[0].address')
	cmac=$(ip -n "$CLI" -j link show dev "$CLI_VLAN" | jq -r '.[0].address')
	ip -n "$SRV" neigh replace $VLAN_CLI_IP4 lladdr "$cmac" dev "$SRV_VLAN" nud permanent &&
	ip -n "$SRV" neigh replace $VLAN_CLI_IP6 lladdr "$cmac" dev "$SRV_VLAN" nud permanent &&
	ip -n "$CLI" neigh replace $VLAN_SRV_IP4 lladdr "$smac" dev "$CLI_VLAN" nud permanent &&
	ip -n "$CLI" neigh replace $VLAN_SRV_IP6 lladdr "$smac" dev "$CLI_VLAN" nud permanent ||
		{ echo "Bail out! cannot set the VLAN neighbours"; exit 1; }
}

# -v names the VLAN device the stack stage follows.
sc_names_vlan() {
	vlan_init
	synacct_start -v
	t_like "$(cat "$SA_ERR")" "stack stage also watches VLAN $VID device $SRV_VLAN \(on $SRV_IF\)" \
		"-v: the stack stage follows $SRV_VLAN"
	synacct_stop
}

sc_funnel() {
	local fam name port addr srv cnt out accepted sent
	vlan_init
	for fam in 4 6; do
		name="VLAN $VID IPv$fam"
		port=$((8600 + fam))
		addr=$VLAN_SRV_IP4; [ $fam = 6 ] && addr=$VLAN_SRV_IP6
		lab_server $port --accept all
		srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
		scenario_begin --ports $port
		out=$(lab_client --to $addr --port $port --count 20 --parallel 5)
		sleep 0.2
		scenario_end
		lab_server_stop $srv $cnt; accepted=$LAB_ACCEPTED
		sent=$(cli_sent)
		check_funnel "$name" $port
		t_is "$out" "connected=20 failed=0" "$name: 20 clients connected"
		t_is "$(summary nic_syn $port),$(summary tc_syn $port)" "$sent,$sent" \
			"$name: nic_syn, tc_syn == SYNs sent (tagged, on $SRV_IF)"
		t_is "$(summary listener_syn $port)" "$sent" "$name: listener_syn == SYNs sent (on $SRV_VLAN)"
		t_is "$(summary syn_queued $port),$(summary established $port)" "20,20" \
			"$name: syn_queued, established == connections made"
		t_is "$(summary accepted $port)" "$accepted" "$name: accepted == the server's count"
		t_is "$(srv_delta TcpPassiveOpens)" 20 "$name: TcpPassiveOpens == 20"
	done
}

lab_main "$@"
