#!/bin/bash
# synacct-vm: nic
# The NIC stage on a real driver: virtio_net, in a guest of
# `make test-kernels-nic` (selftests/vm/kernels.sh with VM_NIC=virtio).
# The guest's eth0 is moved into the lab's server namespace; its host side
# is a tap in a lab namespace on the host, where the SYNs come from
# (vm_host): a flood of AF_PACKET frames written to the tap and real
# clients, through QEMU's virtio-net device and the guest's driver, its
# NAPI poll and GRO, to XDP in generic or native mode.  Every figure ==
# the SYNs the host sent (lab_synflood's count, the tap's tx packets, the
# host namespace's nstat) == the guest's nstat and eth0's rx packets.
# Elsewhere (no such NIC) the file skips whole.
#   selftests/t/68-nic.t [--list] [SCENARIO...]
. "$(dirname "$0")/../lib/lab.sh"

LAB_SCENARIOS=(flood_generic flood_native)
# Each scenario's lab: the guest's NIC in a server namespace (lab.sh).
lab_init() {
	lab_nic_init
}

cli_delta() { nstat_delta "$LAB_DIR/cli.0" "$LAB_DIR/cli.1" "$1"; }

# host_link FIELD...: the host tap's stats64 fields, space separated
# (tx.packets tx.dropped ...).
host_link() {
	local q=
	for f; do q+="${q:+, }.stats64.$f"; done
	vm_host "ip -s -j link show dev $NIC_HOST_IF" | jq -r ".[0] | [$q] | join(\" \")"
}

# nic_flood MODE: synacct with --xdp-mode MODE; a paced flood of N IPv4
# SYNs (tcp_syncookies=2: each is answered with a cookie) and 10 IPv6
# clients from the host, each on its own port.
nic_flood() {
	local mode=$1 kern=$2 attach=$3 n=2000 fport=8101 cport=8080 name
	local fsrv fcnt csrv ccnt tx0 drop0 rx0 tx1 drop1 sent
	name="$NIC_DRIVER, --xdp-mode $mode"
	lab_sysctl "$SRV" net.ipv4.tcp_syncookies=2
	lab_server $fport --backlog 16 --accept none
	fsrv=$LAB_SERVER_PID; fcnt=$LAB_SERVER_COUNT
	lab_server $cport --accept all
	csrv=$LAB_SERVER_PID; ccnt=$LAB_SERVER_COUNT
	lab_nstat "$SRV" >"$LAB_DIR/srv.0"
	vm_host "nstat -saz" | awk 'NR > 1 && NF >= 2 { print $1, $2 }' >"$LAB_DIR/cli.0"
	read -r tx0 drop0 <<<"$(host_link tx.packets tx.dropped)"
	rx0=$(lab_link_stat "$SRV" "$SRV_IF" rx packets)
	synacct_start --ports $fport,$cport --interval 0.5 --xdp-mode "$mode"
	t_is "$(jq -r 'select(.type == "start") | .xdp[0] | [.iface, .mode] | join(",")' "$SA_OUT")" \
		"$SRV_IF,$kern" "$name: start record: XDP on $SRV_IF in $kern mode"
	t_is "$(ip -n "$SRV" -j link show dev "$SRV_IF" | jq -r '.[0].xdp.mode')" "$attach" \
		"$name: the kernel has it attached $kern (ip link: mode $attach)"
	sent=$(vm_host "selftests/bin/lab_synflood --to $SRV_IP4 --port $fport --count $n --rate 2000 \
		--src-net $NIC_SPOOF_NET4 --reuse-sources --packet $NIC_HOST_IF --dst-mac $NIC_GUEST_MAC")
	t_is "$sent" "sent=$n" "$name: the host sent $n SYNs on its tap (lab_synflood)"
	t_is "$(vm_host "selftests/bin/lab_client --to $SRV_IP6 --port $cport --count 10 --parallel 2")" \
		"connected=10 failed=0" "$name: 10 IPv6 clients from the host connected"
	scenario_end
	read -r tx1 drop1 <<<"$(host_link tx.packets tx.dropped)"
	vm_host "nstat -saz" | awk 'NR > 1 && NF >= 2 { print $1, $2 }' >"$LAB_DIR/cli.1"
	local rx=$(( $(lab_link_stat "$SRV" "$SRV_IF" rx packets) - rx0 ))
	lab_server_stop $fsrv $fcnt
	lab_server_stop $csrv $ccnt
	local cli passive
	cli=$(cli_sent)
	passive=$(srv_delta TcpPassiveOpens)
	t_is "$((drop1 - drop0))" 0 "$name: the tap dropped no frame on its way to the guest"
	check_funnel "$name, flood" $fport
	check_funnel "$name, clients" $cport
	t_is "$(summary '[.nic_syn, .tc_syn, .listener_syn, .syncookies_sent, .synack_sent] | join(",")' $fport)" \
		"$n,$n,$n,$n,$n" "$name, flood: nic_syn, tc_syn, listener_syn, syncookies_sent, synack_sent == SYNs sent"
	# tcp_syncookies=2: the clients' SYNs got cookies too.
	t_is "$(srv_delta TcpExtSyncookiesSent)" $((n + cli)) "$name: == SyncookiesSent, the flood's and the clients' SYNs (the guest's nstat)"
	t_is "$cli" 10 "$name, clients: the host namespace sent 10 SYNs (its nstat)"
	t_is "$(summary '[.nic_syn, .tc_syn, .listener_syn] | join(",")' $cport),$passive" \
		"$cli,$cli,$cli,$cli" "$name, clients: nic_syn, tc_syn, listener_syn == the host's SYNs == PassiveOpens (the guest's nstat)"
	# Every frame the host sent the guest reached eth0: the flood's and
	# the host stack's TCP segments (its nstat), each a TCP segment the
	# guest's stack took in (its nstat, both families).  The tap also
	# carries the host's multicast listener reports, which the guest's
	# multicast filter (in QEMU) drops: with native XDP, the queue pairs
	# virtio_net adds for XDP_TX make QEMU re-attach the tap's queues,
	# and the host repeats its reports at attach and at detach.
	local out mld
	out=$(( n + $(cli_delta TcpOutSegs) ))
	mld=$(cli_delta Icmp6OutMLDv2Reports)
	t_is "$rx" "$out" "$name: eth0's rx packets == the SYNs flooded + the host's TcpOutSegs (its nstat)"
	t_is "$rx" "$(srv_delta TcpInSegs)" "$name: eth0's rx packets == TcpInSegs (the guest's nstat)"
	t_is "$((tx1 - tx0))" "$((out + mld))" "$name: the tap's tx packets == those + the host's MLDv2 reports ($mld)"
}

# auto: generic XDP everywhere (it never reconfigures the device).
sc_flood_generic() {
	nic_flood auto skb 2
}

# native: virtio_net's own XDP (XDP_ATTACHED_DRV).
sc_flood_native() {
	nic_flood native native 1
}

lab_main "$@"
