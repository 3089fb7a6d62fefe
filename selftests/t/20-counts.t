#!/bin/bash
# Stage 1 and 2 counts are exact: nic_syn, tc_syn and synack_sent equal the
# SYNs the client namespace sent (its TcpActiveOpens + TCPSynRetrans), for
# IPv4 and IPv6; interval records add up to the summary; the table carries
# the JSON's figures; nothing stays attached after synacct exits, whichever
# way it exits.  Each scenario runs in a lab of its own:
#   selftests/t/20-counts.t [--list] [SCENARIO...]
. "$(dirname "$0")/../lib/lab.sh"

LAB_SCENARIOS=(count_ipv4 count_ipv6 xdp_loader quiet_with_bpffs two_ifaces table_summary
	table_scan ports_duration netns_path sigterm sighup other_tc_filter
	foreign_filter_during_run sigkill_restart iface_deleted)

# count_run FAMILY ADDR PORT N
count_run() {
	local fam=$1 addr=$2 port=$3 n=$4 out
	lab_server "$port" --accept all
	local srv=$LAB_SERVER_PID cnt=$LAB_SERVER_COUNT

	synacct_start --interval 0.5
	lab_nstat "$CLI" >"$LAB_DIR/cli.0"
	lab_nstat "$SRV" >"$LAB_DIR/srv.0"
	out=$(lab_client --to "$addr" --port "$port" --count "$n" --parallel 8)
	lab_nstat "$CLI" >"$LAB_DIR/cli.1"
	lab_nstat "$SRV" >"$LAB_DIR/srv.1"
	synacct_wait_record "$(lab_now)"	# interval records read after the last SYN, so they are checked too
	synacct_stop
	local accepted
	lab_server_stop "$srv" "$cnt"; accepted=$LAB_ACCEPTED

	local sent passive
	sent=$(cli_syns_sent "$LAB_DIR/cli.0" "$LAB_DIR/cli.1")
	passive=$(nstat_delta "$LAB_DIR/srv.0" "$LAB_DIR/srv.1" TcpPassiveOpens)
	t_is "$SA_RC" 0 "$fam: synacct exits 0 on SIGINT"
	t_is "$out" "connected=$n failed=0" "$fam: all $n clients connected"
	t_is "$accepted" "$n" "$fam: server accepted $n"
	t_is "$sent" "$n" "$fam: client sent $n SYNs (nstat)"
	t_is "$passive" "$n" "$fam: server TcpPassiveOpens (nstat)"
	t_is "$(summary nic_syn "$port")" "$sent" "$fam: nic_syn == SYNs sent"
	t_is "$(summary tc_syn "$port")" "$sent" "$fam: tc_syn == SYNs sent"
	t_is "$(summary synack_sent "$port")" "$passive" "$fam: synack_sent == SYN-ACKs (one per passive open)"
	t_is "$(interval_sum nic_syn "$port")" "$sent" "$fam: interval nic_syn add up to the summary"
	t_is "$(interval_sum synack_sent "$port")" "$passive" "$fam: interval synack_sent add up to the summary"
	t_is "$(jq -s '[.[] | select(.type == "summary")] | length' "$SA_OUT")" 1 \
		"$fam: exactly one summary record"
	t_is "$(jq -r 'select(.type == "summary") | [.nic_unparsed, .tc_unparsed] | join(",")' "$SA_OUT")" \
		"0,0" "$fam: no unparsed frames"
}

nothing_attached() {	# nothing_attached WHAT
	t_is "$(ip -n "$SRV" -j link show dev "$SRV_IF" | jq '.[0].xdp // "none"')" '"none"' \
		"$1: no XDP program on $SRV_IF"
	t_is "$(tc -n "$SRV" filter show dev "$SRV_IF" ingress; tc -n "$SRV" filter show dev "$SRV_IF" egress)" "" \
		"$1: no TC filter on $SRV_IF"
	t_is "$(tc -n "$SRV" qdisc show dev "$SRV_IF" | grep -c clsact)" 0 \
		"$1: the clsact qdisc synacct created is gone"
}

sc_count_ipv4() {
	count_run IPv4 $SRV_IP4 8080 40
	nothing_attached "after SIGINT"
}

sc_count_ipv6() {
	count_run IPv6 $SRV_IP6 8443 40
}

# libxdp attached it, so xdp-loader sees it.
sc_xdp_loader() {
	synacct_start
	t_like "$(ip netns exec "$SRV" xdp-loader status "$SRV_IF" 2>&1)" "synacct_xdp" \
		"xdp-loader status shows synacct_xdp on $SRV_IF"
	synacct_stop
}

# Where bpffs is mounted (most hosts), libxdp first tries its dispatcher,
# which this kernel refuses, then attaches the program alone: a normal run
# still prints nothing on stderr (no misleading libbpf warnings).
sc_quiet_with_bpffs() {
	local err
	err=$(unshare -m sh -c 'mount -t bpf bpf /sys/fs/bpf && exec "$0" "$@"' \
		"$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --duration 0.3 --json 2>&1 >/dev/null)
	t_is "$?,$err" "0," "with bpffs mounted: exit 0 and nothing on stderr"
}

# Two interfaces at once: a second veth pair; per-port counts add up over
# both, and both are cleaned up.
sc_two_ifaces() {
	local srv cnt
	ip link add sa-srv1 netns "$SRV" type veth peer name sa-cli1 netns "$CLI"
	ip -n "$SRV" addr add 198.18.1.1/24 dev sa-srv1
	ip -n "$CLI" addr add 198.18.1.2/24 dev sa-cli1
	ip -n "$SRV" link set sa-srv1 up
	ip -n "$CLI" link set sa-cli1 up
	lab_server 8090 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	synacct_start --iface sa-srv1
	lab_nstat "$CLI" >"$LAB_DIR/cli.0"
	lab_client --to $SRV_IP4 --port 8090 --count 10 >/dev/null
	lab_client --to 198.18.1.1 --port 8090 --count 15 >/dev/null
	lab_nstat "$CLI" >"$LAB_DIR/cli.1"
	synacct_stop
	lab_server_stop $srv $cnt
	t_is "$(jq -r 'select(.type == "summary") | .ifaces | join(",")' "$SA_OUT")" "$SRV_IF,sa-srv1" \
		"two interfaces: both in the summary"
	t_is "$(summary nic_syn 8090),$(summary tc_syn 8090),$(summary synack_sent 8090)" \
		"25,25,25" "two interfaces: nic_syn, tc_syn, synack_sent add up over both (10 + 15)"
	t_is "$(cli_syns_sent "$LAB_DIR/cli.0" "$LAB_DIR/cli.1")" 25 "two interfaces: the clients sent 25 SYNs"
	t_is "$(ip -n "$SRV" -j link show dev sa-srv1 | jq '.[0].xdp // "none"')" '"none"' \
		"two interfaces: no XDP left on the second"
	t_is "$(tc -n "$SRV" filter show dev sa-srv1 ingress)" "" "two interfaces: no TC filter left on the second"
	ip -n "$SRV" link del sa-srv1
}

# table_start FILE [synacct options...]: synacct without --json, its table
# to FILE; returns once the first live table is out.  TABLE_PID.
table_start() {
	local file=$1 i; shift
	"$SYNACCT" --netns "$SRV" --iface "$SRV_IF" "$@" >"$file" 2>&1 &
	TABLE_PID=$!
	LAB_PIDS+=($TABLE_PID)
	for ((i = 0; i < 50; i++)); do grep -qs 'synacct live' "$file" && break; sleep 0.1; done
}

# The table people read carries the same figures as the JSON: a run
# without --json, its summary row for the port read back by column name.
sc_table_summary() {
	local t=$LAB_DIR/table.txt srv cnt sent row c failed=$T_FAILED
	lab_server 8095 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	table_start "$t" --ports 8095
	lab_nstat "$CLI" >"$LAB_DIR/cli.0"
	lab_client --to $SRV_IP4 --port 8095 --count 12 >/dev/null
	lab_nstat "$CLI" >"$LAB_DIR/cli.1"
	kill -INT $TABLE_PID; wait $TABLE_PID
	lab_server_stop $srv $cnt
	sent=$(cli_syns_sent "$LAB_DIR/cli.0" "$LAB_DIR/cli.1")
	row=$(for c in nic_syn tc_syn listener_syn syn_queued established accepted synack_sent; do
		table_cell "$t" 8095 $c || echo "($c?)"; done | paste -sd' ')
	t_is "$row" "$sent $sent $sent $sent $sent $sent $sent" \
		"table summary: nic_syn tc_syn listener_syn syn_queued established accepted synack_sent == SYNs sent ($sent)"
	row=$(for c in stack_drops listen_drops syncookies_sent; do
		table_cell "$t" 8095 $c || echo "($c?)"; done | paste -sd' ')
	t_is "$row" "0 0 0" "table summary: stack_drops listen_drops syncookies_sent == 0"
	t_like "$(sed -n '/^synacct summary/,$p' "$t")" "=> no loss" "table summary: verdict under the row"
	t_like "$(cat "$t")" "per-port sums agree with them" "table summary: MIB cross-check line"
	[ "$T_FAILED" -eq "$failed" ] || t_diag "$t"
}

# After a scan of 100 closed ports the table keeps to the 50 busiest in
# its summary and says how many more there are; interval records carry
# only the ports that moved in their interval.
scan() { lab_flood --to $SRV_IP4 --port 30000 --port-span 100 --count 100 --rate 2000 --src-net $SPOOF_NET4 >/dev/null; }
sc_table_scan() {
	local t=$LAB_DIR/scan.txt summ
	table_start "$t" --interval 0.5
	scan
	kill -INT $TABLE_PID; wait $TABLE_PID
	synacct_start --interval 0.5
	scan
	synacct_wait_record "$(lab_now)"
	synacct_stop
	summ=$(sed -n '/^synacct summary/,$p' "$t")
	t_is "$(table_ports "$t" | awk '$1 >= 30000 && $1 < 30100' | wc -l)" 50 "table after a 100-port scan: 50 port rows"
	t_like "$summ" "\(\+50 more ports left out" "table: says 50 more ports are left out"
	t_is "$(jq -s '[.[] | select(.type == "summary") | .ports[] | select(.port >= 30000 and .port < 30100)] | length' "$SA_OUT")" \
		100 "JSON summary: all 100 ports"
	t_is "$(jq -s '[.[] | select(.type == "interval")] | last | [.ports[] | select(.port >= 30000 and .port < 30100)] | length' "$SA_OUT")" \
		0 "JSON interval after the scan: quiet ports are not repeated"
	t_is "$(jq -s '[.[] | select(.type == "interval") | .ports[] | select(.port >= 30000 and .port < 30100) | .nic_syn] | add' "$SA_OUT")" \
		100 "JSON intervals: the scan's 100 SYNs, each once"
}

# --ports narrows the report; a listener shows even without SYNs.
sc_ports_duration() {
	lab_server 9000 --accept all
	lab_server 9003 --accept all	# a listener outside the selection
	synacct_start --ports 9000,9001-9002 --duration 1
	wait $SA_PID; SA_RC=$?
	t_is "$SA_RC" 0 "--duration: exits 0 by itself"
	t_is "$(jq -r 'select(.type == "summary") | [.ports[].port] | join(",")' "$SA_OUT")" "9000" \
		"--ports: only the selected listener"
	t_is "$(summary nic_syn 9000)" 0 "idle listener reported with nic_syn 0"
	nothing_attached "after --duration"
}

# A container-style namespace path: /proc/PID/ns/net of a process in it.
sc_netns_path() {
	local srv cnt out
	lab_server 9010 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	out=$("$SYNACCT" --netns /proc/$srv/ns/net --iface "$SRV_IF" --json --duration 1 --ports 9010 2>"$LAB_DIR/err")
	t_is "$?" 0 "--netns /proc/PID/ns/net: exit 0"
	t_is "$(echo "$out" | jq -r 'select(.type == "summary") | [.ports[] | "\(.port):\(.listeners)"] | join(",")')" \
		"9010:1" "--netns /proc/PID/ns/net: sees that namespace's listener"
	lab_server_stop $srv $cnt
}

# SIGTERM cleans up too.
sc_sigterm() {
	synacct_start
	kill -TERM $SA_PID; wait $SA_PID; SA_RC=$?
	t_is "$SA_RC" 0 "SIGTERM: exit 0"
	nothing_attached "after SIGTERM"
}

# Another tool's clsact qdisc and filter stay as they were.
sc_other_tc_filter() {
	local before
	tc -n "$SRV" qdisc add dev "$SRV_IF" clsact
	tc -n "$SRV" filter add dev "$SRV_IF" ingress prio 10 protocol all u32 match u32 0 0 classid 1:1
	before=$(tc -n "$SRV" filter show dev "$SRV_IF" ingress)
	synacct_start
	t_is "$(tc -n "$SRV" filter show dev "$SRV_IF" ingress | grep -c 'synacct_tc_in')" 1 \
		"beside another tool's filter: synacct's filter attached"
	synacct_stop
	t_is "$(tc -n "$SRV" filter show dev "$SRV_IF" ingress)" "$before" \
		"another tool's TC filter is untouched"
	t_is "$(tc -n "$SRV" qdisc show dev "$SRV_IF" | grep -c clsact)" 1 \
		"a clsact qdisc synacct did not create stays"
	tc -n "$SRV" qdisc del dev "$SRV_IF" clsact
}

# The interface disappears under synacct: one line, exit 1.
sc_iface_deleted() {
	local i
	synacct_start
	ip -n "$SRV" link del "$SRV_IF"
	for ((i = 0; i < 50; i++)); do kill -0 $SA_PID 2>/dev/null || break; sleep 0.1; done
	wait $SA_PID; SA_RC=$?
	t_is "$SA_RC" 1 "interface deleted: exit 1"
	t_like "$(cat "$SA_ERR")" "interface $SRV_IF disappeared" "interface deleted: says so"
	t_is "$(jq -s '[.[] | select(.type == "summary")] | length' "$SA_OUT")" 1 \
		"interface deleted: the summary of what was counted is still printed"
}

# SIGHUP reloads --config (65-config.t's reload); without one it says
# there is nothing to reload and the run goes on.  A run started under
# nohup inherits SIGHUP ignored and keeps it so.  Either way it writes
# further interval records after the SIGHUP, then stops on SIGINT with
# its summary.
intervals() { jq -s '[.[] | select(.type == "interval")] | length' "$SA_OUT" 2>/dev/null || echo 0; }
sc_sighup() {
	local n i
	SA_WRAP=nohup synacct_start --interval 0.2
	kill -HUP $SA_PID
	n=$(intervals)
	for ((i = 0; i < 100; i++)); do [ "$(intervals)" -ge $((n + 2)) ] && break; sleep 0.1; done
	t_ok "$( [ "$(intervals)" -ge $((n + 2)) ] && kill -0 $SA_PID 2>/dev/null; echo $?)" \
		"under nohup: still running and reporting after SIGHUP"
	synacct_stop
	t_is "$SA_RC,$(jq -s '[.[] | select(.type == "summary")] | length' "$SA_OUT")" "0,1" \
		"under nohup: SIGINT then ends it, exit 0, one summary"
	synacct_start --interval 0.2
	kill -HUP $SA_PID
	n=$(intervals)
	for ((i = 0; i < 100; i++)); do [ "$(intervals)" -ge $((n + 2)) ] && break; sleep 0.1; done
	t_ok "$( [ "$(intervals)" -ge $((n + 2)) ] && kill -0 $SA_PID 2>/dev/null; echo $?)" \
		"from a shell, no --config: still running and reporting after SIGHUP"
	synacct_stop
	t_is "$SA_RC,$(jq -s '[.[] | select(.type == "summary")] | length' "$SA_OUT"),$(cat "$SA_ERR")" \
		"0,1,synacct: SIGHUP: started without --config, there is no file to reload" \
		"from a shell, no --config: SIGHUP says there is nothing to reload; SIGINT ends it, exit 0, one summary"
	nothing_attached "after SIGHUP"
}

# Filters another tool adds during the run, on the clsact qdisc synacct
# created, survive synacct's exit, and so does the qdisc they sit on; on
# either hook.
sc_foreign_filter_during_run() {
	local hook before
	for hook in ingress egress; do
		synacct_start
		tc -n "$SRV" filter add dev "$SRV_IF" $hook prio 10 protocol all u32 match u32 0 0 classid 1:1
		before=$(tc -n "$SRV" filter show dev "$SRV_IF" $hook | grep -v ' pref 1 ')
		t_like "$before" "pref 10 u32" "foreign $hook filter added during the run"
		synacct_stop
		t_is "$SA_RC" 0 "foreign $hook filter: synacct exits 0"
		t_is "$(tc -n "$SRV" filter show dev "$SRV_IF" $hook)" "$before" \
			"a $hook filter added during the run survives synacct's exit"
		t_is "$(tc -n "$SRV" filter show dev "$SRV_IF" ingress; tc -n "$SRV" filter show dev "$SRV_IF" egress)" \
			"$before" "foreign $hook filter: synacct's own filters are gone, nothing else is"
		t_is "$(tc -n "$SRV" qdisc show dev "$SRV_IF" | grep -c clsact)" 1 \
			"foreign $hook filter: the clsact qdisc under it stays"
		tc -n "$SRV" qdisc del dev "$SRV_IF" clsact
	done
}

# SIGKILL leaves synacct's XDP program and TC filters attached (nothing
# can run after it); the next synacct recognises them as a dead run's,
# replaces them saying so in one line, counts exactly, and leaves nothing
# behind, not even the clsact qdisc the killed run created.  Two kills in
# a row must not pile filters up.
sc_sigkill_restart() {
	local srv cnt sent passive lock
	lab_server 8100 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	synacct_start
	kill -KILL $SA_PID; wait $SA_PID 2>/dev/null
	t_is "$(ip -n "$SRV" -j link show dev "$SRV_IF" | jq -r '.[0].xdp.prog.name')" synacct_xdp \
		"after SIGKILL: synacct's XDP program is still attached"
	synacct_start
	t_like "$(cat "$SA_ERR")" "^synacct: interface $SRV_IF: replacing what a synacct that is no longer running \(pid [0-9]+\) left attached \(XDP program id [0-9]+, 2 TC filters\)$" \
		"restart after SIGKILL: one line saying what it replaced"
	kill -KILL $SA_PID; wait $SA_PID 2>/dev/null
	t_is "$(tc -n "$SRV" filter show dev "$SRV_IF" ingress | grep -c 'synacct_tc_in'),$(tc -n "$SRV" filter show dev "$SRV_IF" egress | grep -c 'synacct_tc_eg')" \
		"1,1" "after two SIGKILLs: one synacct filter per hook, no pile-up"
	t_is "$(tc -n "$SRV" filter show dev "$SRV_IF" ingress | grep -c 'pref 1 bpf.*handle 0x5a')" 1 \
		"after two SIGKILLs: the filter is still at priority 1"
	synacct_start --interval 0.5
	t_is "$(wc -l <"$SA_ERR")" 1 "restart after the second SIGKILL: exactly one line on stderr"
	t_like "$(cat "$SA_ERR")" "replacing what a synacct that is no longer running" \
		"restart after the second SIGKILL: says it replaced the stale attachment"
	lab_nstat "$CLI" >"$LAB_DIR/cli.0"
	lab_nstat "$SRV" >"$LAB_DIR/srv.0"
	lab_client --to $SRV_IP4 --port 8100 --count 30 --parallel 4 >/dev/null
	lab_nstat "$CLI" >"$LAB_DIR/cli.1"
	lab_nstat "$SRV" >"$LAB_DIR/srv.1"
	synacct_stop
	lab_server_stop $srv $cnt
	sent=$(cli_syns_sent "$LAB_DIR/cli.0" "$LAB_DIR/cli.1")
	passive=$(nstat_delta "$LAB_DIR/srv.0" "$LAB_DIR/srv.1" TcpPassiveOpens)
	t_is "$SA_RC" 0 "restart after SIGKILL: exits 0 on SIGINT"
	t_is "$sent" 30 "restart after SIGKILL: the client sent 30 SYNs (nstat)"
	t_is "$(summary nic_syn 8100),$(summary tc_syn 8100),$(summary synack_sent 8100)" \
		"$sent,$sent,$passive" "restart after SIGKILL: nic_syn, tc_syn == SYNs sent, synack_sent == TcpPassiveOpens"
	nothing_attached "after a SIGKILL and a restart"
	lock=/run/synacct/net$(stat -L -c %i "/run/netns/$SRV")-if$(ip -n "$SRV" -j link show dev "$SRV_IF" | jq '.[0].ifindex').lock
	t_is "$(ls "$lock" 2>/dev/null)" "" "after a SIGKILL and a restart: the restart removed its lock file"
}

lab_main "$@"
