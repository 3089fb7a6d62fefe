#!/bin/bash
# --pin: a flood runs across a kill -9 and a restart, and the totals are
# every SYN sent (== nstat): the programs counted while no synacct ran.
# State pinned by an incompatible synacct is refused, naming `synacct
# detach`; `synacct detach` removes everything --pin left.  State pinned
# under this namespace's inode by another namespace (its cookie) is
# replaced; `synacct detach --pin-dir` removes what a deleted namespace
# left.
#
# Each scenario gets a bpffs of its own: a private mount namespace (the
# host's bpffs untouched) with a fresh bpffs on /sys/fs/bpf, unmounted by
# its teardown.  Each scenario runs in a lab of its own:
#   selftests/t/75-pin.t [--list] [SCENARIO...]
if [ -z "$SA_PIN_PRIVATE" ]; then
	export SA_PIN_PRIVATE=1
	exec unshare -m --propagation private /bin/bash "$0" "$@"
fi
. "$(dirname "$0")/../lib/lab.sh"

LAB_SCENARIOS=(detach_usage restart_mid_flood detach foreign_filters service_capabilities
	incompatible_layout incompatible_map foreign_dir killed_unpinned_xdp reused_inode
	gone_netns symlink_foreign symlink_live moved_state detach_live quiet_start
	unpinned_on_pinned bpffs_missing bpffs_read_only netns_deleted)
LAB_REQUIRE_HOOK=$LISTENER_HOOKS
LAB_REQUIRE=require_pin
LAB_TEARDOWN=pin_teardown

require_pin() {
	local tool
	mount -t bpf bpf /sys/fs/bpf && umount /sys/fs/bpf || t_skip_all "kernel: cannot mount bpffs (mount -t bpf)"
	for tool in curl bpftool; do
		command -v $tool >/dev/null || t_skip_all "tool: $tool is not installed"
	done
}

# pin_init: a fresh bpffs for the scenario; MP and MURL, a --metrics
# address; DIR, where --pin keeps the lab's state.
pin_init() {
	mount -t bpf bpf /sys/fs/bpf || { echo "Bail out! cannot mount bpffs"; exit 1; }
	PIN_MOUNTED=1
	MP=$(lab_free_port) || exit 1
	MURL=http://127.0.0.1:$MP/metrics
	NSINO=$(ip netns exec "$SRV" stat -L -c %i /proc/self/ns/net)
	DIR=/sys/fs/bpf/synacct/$NSINO/$SRV_IF
}

# pin_teardown: the scenario's bpffs goes, and with it every pinned link
# a failed scenario may have left attached.
pin_teardown() {
	[ -n "${PIN_MOUNTED:-}" ] || return 0
	umount /sys/fs/bpf 2>/dev/null || umount -l /sys/fs/bpf
	PIN_MOUNTED=
}

# expected_pins: PINS, what --pin leaves: the maps, and a link per stack
# program this kernel offers (its listener verdict hook, LAB_HOOK from
# lab_require_hook; netfilter links for NAT, 6.4+), sorted; N_PINS, how
# many.  From kernel facts, not from what synacct says it attached: a
# synacct that attached less leaves fewer pins and fails.
expected_pins() {
	PINS=$({
		lab_kernel_has netfilter/local_in >/dev/null && printf 'link_netfilter_%s\n' 0 1 2 3
		case $LAB_HOOK in
		tp_btf/consume_skb) echo link_synacct_consume_skb ;;
		fexit/tcp_conn_request) echo link_synacct_conn_request_fexit ;;
		kprobe/tcp_conn_request)	# and the map only it creates
			printf '%s\n' link_synacct_conn_request_kprobe link_synacct_conn_request_consumed \
				stack_conn_request_skb ;;
		esac
		printf '%s\n' link_synacct_dev_xmit link_synacct_kfree_skb link_synacct_prime \
			link_synacct_set_state link_synacct_synack_retrans meta \
			stack_container_counters stack_counts_lost stack_cpu_offset stack_drop_keys_lost stack_drop_keys_new \
			stack_follow_ctl stack_follow_flows stack_follow_ns stack_ports_touched tc_ports_touched xdp_ports_touched \
			stack_follow_port_ns stack_fwd_ifindex stack_mib_baseline stack_nat_flows stack_nat_ports \
			stack_prog_counters stack_rtx_mark stack_stack_counters stack_stack_counters_more \
			stack_stack_counters_port stack_stack_counters_slot stack_stack_drops stack_synack_drops \
			tc_counts_lost tc_created_clsact_$SRV_IF tc_prog_counters tc_synack_flight tc_synack_last \
			tc_retries_counters tc_retries_counters_more tc_retries_counters_port \
			tc_retries_counters_slot tc_retry_gate tc_retry_table \
			tc_tc_counters tc_tc_counters_more tc_tc_counters_port tc_tc_counters_slot \
			xdp_counts_lost xdp_nic_counters xdp_nic_counters_more xdp_nic_counters_port xdp_nic_counters_slot \
			xdp_prog_counters
	} | LC_ALL=C sort | tr '\n' ' ')
	N_PINS=$(wc -w <<<"$PINS")
}

port=9100

# metric NAME LABELS: one series from a fresh scrape ("none" if absent).
metric() {
	curl -sf "$MURL" | awk -v s="$1{$2} " 'index($0, s) == 1 { print $NF; f = 1 } END { if (!f) print "none" }'
}
wait_http() {
	local i
	for ((i = 0; i < 50; i++)); do
		curl -sf -o /dev/null "$MURL" && return 0
		sleep 0.1
	done
	return 1
}
start_quiet() {	# start_quiet: a --pin synacct serving metrics; its PID in QPID
	"$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --pin --metrics "127.0.0.1:$MP" --quiet \
		--interval 0.2 2>"$LAB_DIR/q.err" &
	QPID=$!; LAB_PIDS+=($QPID)
	wait_http
}

sc_detach_usage() {
	local err rc
	pin_init
	err=$("$SYNACCT" detach 2>&1 >/dev/null); rc=$?
	t_is "$rc" 2 "synacct detach without --iface: usage error"
	err=$("$SYNACCT" detach --netns "$SRV" --iface "$SRV_IF" 2>&1 >/dev/null); rc=$?
	t_is "$rc:$err" "1:synacct: nothing pinned for $SRV_IF in this namespace (no $DIR)" "synacct detach with nothing pinned: exit 1, says so"
}

# ---- a flood across kill -9 and a restart ----

# The programs count while no synacct runs: killed, and after a clean exit.
sc_restart_mid_flood() {
	local flood nic tc drops unexpl since out rx0 rx
	pin_init
	expected_pins
	lab_nstat "$SRV" >"$LAB_DIR/srv.0"
	rx0=$(lab_link_stat "$SRV" "$SRV_IF" rx packets)
	start_quiet; t_is $? 0 "synacct --pin serves metrics"
	t_is "$(ls "$DIR" | LC_ALL=C sort | tr '\n' ' ')" "$PINS" \
		"pinned under /sys/fs/bpf/synacct/<netns inode>/<iface>: maps, links, layout ($N_PINS)"
	# 7.5 s of flood: a slow machine (QEMU TCG) takes seconds to restart
	# synacct, which must be back before the flood ends.
	lab_flood --to $SRV_IP4 --port $port --count 3000 --rate 400 --src-net $SPOOF_NET4 >"$LAB_DIR/flood.out" &
	flood=$!; LAB_PIDS+=($flood)
	sleep 0.8
	kill -KILL $QPID; wait $QPID 2>/dev/null
	t_is "$(kill -0 $QPID 2>/dev/null; echo $?)" 1 "synacct killed with SIGKILL mid-flood"
	sleep 0.5	# no synacct runs; the flood goes on
	synacct_start --pin --metrics "127.0.0.1:$MP" --interval 0.2
	t_is $? 0 "synacct --pin restarted"
	kill -0 $flood 2>/dev/null
	t_is $? 0 "... while the flood is still running"
	wait $flood
	t_is "$(cat "$LAB_DIR/flood.out")" "sent=3000" "the flood sent 3000 SYNs"
	synacct_wait_record "$(lab_now)"	# a reading after the last SYN: the page has it
	nic=$(metric synacct_nic_syn_total "port=\"$port\"")
	tc=$(metric synacct_tc_syn_total "port=\"$port\"")
	drops=$(metric synacct_stack_drops_total "port=\"$port\",reason=\"NO_SOCKET\"")
	unexpl=$(curl -sf "$MURL" | awk -v s="synacct_unexplained{port=\"$port\"," 'index($0, s) == 1 { n += ($NF < 0 ? -$NF : $NF) } END { print n + 0 }')
	synacct_stop
	lab_nstat "$SRV" >"$LAB_DIR/srv.1"
	rx=$(( $(lab_link_stat "$SRV" "$SRV_IF" rx packets) - rx0 ))
	t_is "$SA_RC" 0 "the restarted synacct exits 0 on SIGINT"
	t_is "$nic,$tc,$drops" "3000,3000,3000" \
		"/metrics after kill -9 and restart: nic_syn, tc_syn, stack_drops{NO_SOCKET} == 3000 sent"
	t_is "$nic" "$rx" "nic_syn across kill -9 and restart == the server veth's rx packets (ip -s link)"
	t_is "$drops" "$(nstat_delta "$LAB_DIR/srv.0" "$LAB_DIR/srv.1" TcpOutRsts)" \
		"stack_drops{NO_SOCKET} == the RSTs the server sent (nstat TcpOutRsts): 0 SYNs lost"
	t_is "$unexpl" 0 "nothing unexplained across the restart"
	since=$(summary nic_syn $port)
	t_is "$([ "${since:-0}" -gt 0 ] && [ "$since" -lt 3000 ] && echo yes)" yes \
		"the restarted synacct's own summary counts only since its start, some but not all ($since)"

	# ---- after a clean exit the programs stay and count ----

	t_is "$(ip netns exec "$SRV" ip -j link show dev "$SRV_IF" | jq -r '.[0].xdp != null')" true "after exit: XDP still attached"
	t_is "$(ip netns exec "$SRV" tc filter show dev "$SRV_IF" ingress | grep -c 'handle 0x5a synacct_tc_in')" 1 \
		"after exit: synacct's TC filter still there, once"
	out=$(lab_flood --to $SRV_IP4 --port $port --count 100 --src-net $SPOOF_NET4)
	start_quiet
	t_is "$(metric synacct_nic_syn_total "port=\"$port\""),$(metric synacct_stack_drops_total "port=\"$port\",reason=\"NO_SOCKET\"")" \
		"3100,3100" "100 more SYNs while no synacct ran: counted by XDP and the stack's pinned links"
	t_is "$(metric synacct_nic_syn_total "port=\"$port\"")" "$(( $(lab_link_stat "$SRV" "$SRV_IF" rx packets) - rx0 ))" \
		"... nic_syn == the server veth's rx packets since the first start (ip -s link)"
	t_is "$(ip netns exec "$SRV" tc filter show dev "$SRV_IF" ingress | grep -c 'handle 0x5a synacct_tc_in')" 1 \
		"a restart replaces synacct's TC filter, never adds a second"
	kill -TERM $QPID; wait $QPID
}

# ---- synacct detach ----

sc_detach() {
	local err rc
	pin_init
	start_quiet; kill -TERM $QPID; wait $QPID
	err=$("$SYNACCT" detach --netns "$SRV" --iface "$SRV_IF" 2>&1); rc=$?
	t_is "$rc:$err" "0:" "synacct detach: exit 0"
	t_is "$(ip netns exec "$SRV" ip -j link show dev "$SRV_IF" | jq -r '.[0].xdp != null')" false "no XDP program left"
	t_is "$(ip netns exec "$SRV" tc qdisc show dev "$SRV_IF" | grep -c clsact)" 0 \
		"no TC filter, and the clsact qdisc synacct created is gone"
	t_is "$(ls /sys/fs/bpf/synacct/)" "" "nothing left in /sys/fs/bpf/synacct"
}

# Another tool's filter, added while synacct is pinned (a firewall rule
# during an incident), lives on the clsact qdisc synacct created:
# destroying the qdisc would take it along.  And a filter at synacct's
# own priority and handle that is not synacct's (cls_bpf again: same
# kind, another program) is not synacct's to delete.  (Classic BPF in
# cls_bpf, built in: this kernel loads no modules.)
tcf() { ip netns exec "$SRV" tc filter show dev "$SRV_IF" "$1"; }
sc_foreign_filters() {
	local err rc
	pin_init
	start_quiet; kill -TERM $QPID; wait $QPID
	ip netns exec "$SRV" tc filter add dev "$SRV_IF" ingress prio 7 bpf bytecode '1,6 0 0 0,'
	err=$("$SYNACCT" detach --netns "$SRV" --iface "$SRV_IF" 2>&1); rc=$?
	t_is "$rc:$err" "0:synacct: left the clsact qdisc synacct created on $SRV_IF: other tools' filters are on it (tc filter show dev $SRV_IF ingress; ... egress)" \
		"synacct detach beside another tool's filter: exit 0, says why the qdisc stays"
	t_is "$(ip netns exec "$SRV" ip -j link show dev "$SRV_IF" | jq -r '.[0].xdp != null')" false "no XDP program left"
	t_is "$(tcf ingress | grep -c synacct_tc),$(tcf egress | grep -c synacct_tc)" "0,0" \
		"synacct's TC filters are gone, ingress and egress"
	t_is "$(tcf ingress | grep -c "pref 7 bpf chain 0 handle 0x1 .*bytecode '1,6 0 0 0'")" 1 "the other tool's filter survives"
	t_is "$(ip netns exec "$SRV" tc qdisc show dev "$SRV_IF" | grep -c clsact)" 1 \
		"... and so does the clsact qdisc it sits on"
	t_is "$(ls /sys/fs/bpf/synacct/)" "" "nothing left in /sys/fs/bpf/synacct"
	ip netns exec "$SRV" tc qdisc del dev "$SRV_IF" clsact

	start_quiet; kill -TERM $QPID; wait $QPID
	ip netns exec "$SRV" tc filter del dev "$SRV_IF" ingress prio 1 handle 0x5a bpf
	ip netns exec "$SRV" tc filter add dev "$SRV_IF" ingress prio 1 handle 0x5a bpf \
		bytecode '1,6 0 0 0,'
	# A --pin restart takes the place of synacct's own filter, never of
	# another tool's there.
	err=$("$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --pin --json -d 0.2 2>&1 >/dev/null); rc=$?
	t_like "$rc:$err" "^1:synacct: TC ingress filter priority 1 handle 0x5a on $SRV_IF is taken by another tool's filter" \
		"--pin restart beside another tool's filter at synacct's place: exit 1, says so, replaces nothing"
	t_is "$(tcf ingress | grep -c 'handle 0x5a.*bytecode')" 1 "... and that filter is still there"
	"$SYNACCT" detach --netns "$SRV" --iface "$SRV_IF" 2>/dev/null
	t_is "$?,$(tcf ingress | grep -c 'handle 0x5a.*bytecode'),$(tcf egress | grep -c synacct_tc)" "0,1,0" \
		"synacct detach: another tool's cls_bpf filter at priority 1 handle 0x5a stays; synacct's egress filter goes"
	ip netns exec "$SRV" tc qdisc del dev "$SRV_IF" clsact
}

# With the service's capabilities only (configs/synacct.service).
sc_service_capabilities() {
	local caps
	pin_init
	expected_pins
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$SA_ROOT/configs/synacct.service" | tr 'A-Z ' 'a-z,' | sed 's/cap_/+/g')
	setpriv --no-new-privs --inh-caps=-all --bounding-set=-all,$caps \
		"$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --pin --json -d 0.3 >/dev/null 2>"$LAB_DIR/caps.err"
	# (libbpf's lines: libxdp's dispatcher cannot load on this kernel, with
	# or without capabilities; it falls back to attaching the program alone.)
	t_is "$?:$(grep -v '^libbpf: ' "$LAB_DIR/caps.err")" "0:" "--pin with only the unit's capabilities ($caps): exit 0, no error of synacct's"
	t_is "$(ls "$DIR" | wc -l)" $N_PINS "... and pinned its $N_PINS objects"
	"$SYNACCT" detach --pin-dir "$DIR/"
	t_is "$?:$(ip netns exec "$SRV" ip -j link show dev "$SRV_IF" | jq -r '.[0].xdp != null')" "0:false" \
		"synacct detach --pin-dir DIR/ (its namespace alive): exit 0, no XDP program left"
	t_is "$(ip netns exec "$SRV" tc qdisc show dev "$SRV_IF" | grep -c clsact),$(ls /sys/fs/bpf/synacct/)" "0," \
		"... no TC filter nor clsact qdisc, nothing left in /sys/fs/bpf/synacct"
}

# ---- state of an incompatible synacct ----

sc_incompatible_layout() {
	local err rc
	pin_init
	start_quiet; kill -TERM $QPID; wait $QPID
	bpftool map update pinned "$DIR/meta" key 0 0 0 0 value 1 0 0 0 0 0 0 0
	err=$("$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --pin -d 0.2 2>&1 >/dev/null); rc=$?
	t_is "$rc" 1 "state pinned by an incompatible synacct: exit 1"
	t_like "$err" "^synacct: $DIR was pinned by an incompatible synacct \(layout 1, this one [0-9a-f]+\): remove it with 'synacct detach --netns $SRV --iface $SRV_IF', then start again$" \
		"... the message names synacct detach"
	"$SYNACCT" detach --netns "$SRV" --iface "$SRV_IF"
	t_is "$?:$(ls /sys/fs/bpf/synacct/)" "0:" "synacct detach removes it too"
}

# Same layout hash, but a map of another shape (an older build's).
sc_incompatible_map() {
	local err rc
	pin_init
	start_quiet; kill -TERM $QPID; wait $QPID
	rm "$DIR/tc_tc_counters"
	bpftool map create "$DIR/tc_tc_counters" type hash key 4 value 8 entries 16 name tc_counters
	err=$("$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --pin -d 0.2 2>&1 >/dev/null); rc=$?
	t_is "$rc" 1 "a pinned map of another shape: exit 1"
	t_like "$err" "^synacct: $DIR was pinned by an incompatible synacct \(another layout of map tc_counters\): remove it with 'synacct detach --netns $SRV --iface $SRV_IF', then start again" \
		"... the message names the map and synacct detach"
	"$SYNACCT" detach --netns "$SRV" --iface "$SRV_IF"
	t_is "$?:$(ls /sys/fs/bpf/synacct/)" "0:" "... and synacct detach removes it"
}

# A directory where synacct would pin, but not synacct's (no meta map):
# another tool's pins in it.  Neither --pin nor detach touches them.
sc_foreign_dir() {
	local err rc before
	pin_init
	mkdir -p "$DIR"
	bpftool map create "$DIR/their_map" type array key 4 value 8 entries 4 name their_map
	before=$(pin_ids "$DIR")
	err=$("$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --pin -d 0.2 2>&1 >/dev/null); rc=$?
	t_is "$rc:$err" "1:synacct: $DIR holds no synacct state (no meta): synacct removes only what it pinned; move it away, then start again" \
		"a directory without synacct's meta: --pin refused, says so"
	err=$("$SYNACCT" detach --netns "$SRV" --iface "$SRV_IF" 2>&1); rc=$?
	t_is "$rc:$err" "1:synacct: $DIR holds no synacct state (no meta): not removing it" \
		"... synacct detach refuses it too"
	t_is "$(pin_ids "$DIR")" "$before" "... the other tool's map still pinned there, same id (bpftool)"
	rm "$DIR/their_map"
	rmdir "$DIR" "$(dirname "$DIR")"
}

# ---- a program that counts elsewhere is never taken for the pinned one ----

# A synacct without --pin killed: its XDP program stays, counting into a
# map no one reads.  A --pin synacct must not read zeros from a fresh
# pinned map beside it: it refuses (exit 1), or it replaces the program
# and counts.
sc_killed_unpinned_xdp() {
	local stale rc
	pin_init
	"$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --json -d 30 >/dev/null 2>&1 &
	stale=$!; LAB_PIDS+=($stale)
	sleep 1; kill -KILL $stale; wait $stale 2>/dev/null
	"$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --pin --metrics "127.0.0.1:$MP" --quiet \
		--interval 0.2 2>"$LAB_DIR/stale.err" &
	QPID=$!; LAB_PIDS+=($QPID)
	if wait_http; then
		lab_flood --to $SRV_IP4 --port 9200 --count 50 --src-net $SPOOF_NET4 >/dev/null
		metrics_wait_read "$MURL" "$(date +%s.%N)"
		t_is "$(metric synacct_nic_syn_total 'port="9200"')" 50 \
			"--pin beside a killed synacct's XDP program: replaced it, and counts (50 SYNs)"
		kill -TERM $QPID; wait $QPID
	else
		wait $QPID; rc=$?
		t_like "$rc:$(grep -v '^lib' "$LAB_DIR/stale.err")" "^1:synacct: interface $SRV_IF already has synacct's XDP program" \
			"--pin beside a killed synacct's XDP program: refused, saying so"
	fi
	"$SYNACCT" detach --netns "$SRV" --iface "$SRV_IF"
	t_is "$?:$(ip netns exec "$SRV" ip -j link show dev "$SRV_IF" | jq -r '.[0].xdp != null')" "0:false" \
		"synacct detach removes synacct's XDP program, the killed one's too"
}

# ---- a namespace that had this inode before ----

# ids ATTR PIN...: the program (prog_id) or map (id) ids of pins.
ids() {
	local attr=$1 f kind=link
	shift
	[ "$attr" = id ] && kind=map
	for f in "$@"; do
		bpftool $kind show pinned "$f" -j 2>/dev/null | jq -r ".$attr"
	done | sort -n | tr '\n' ' '
}
# alive KIND ID...: those of the ids the kernel still has (at most 3 s
# for the last references to go).
alive() {
	local kind=$1 i id left
	shift
	for ((i = 0; i < 30; i++)); do
		left=$(for id in "$@"; do bpftool $kind show id $id >/dev/null 2>&1 && echo $id; done | tr '\n' ' ')
		[ -z "$left" ] && break
		sleep 0.1
	done
	echo "$left"
}

# The kernel gives a dead namespace's inode to a new one; the directory
# is named by the inode, the meta map holds the cookie (never reused).
# Here the namespace lives on and its meta says another cookie: what a
# restart in a new namespace with the old one's inode sees.
sc_reused_inode() {
	local old_progs
	pin_init
	start_quiet
	lab_flood --to $SRV_IP4 --port 9300 --count 20 --src-net $SPOOF_NET4 >/dev/null
	metrics_wait_read "$MURL" "$(date +%s.%N)"
	t_is "$(metric synacct_nic_syn_total 'port="9300"')" 20 "pinned: 20 SYNs to port 9300"
	kill -TERM $QPID; wait $QPID
	old_progs=$(ids prog_id "$DIR"/link_*)
	bpftool map update pinned "$DIR/meta" key 1 0 0 0 value 1 0 0 0 0 0 0 0
	start_quiet
	t_is "$?:$(grep -c 'pinned in a network namespace' "$LAB_DIR/q.err")" "0:1" \
		"--pin over state of another namespace's cookie: starts, and says so once"
	t_like "$(grep 'pinned in a network namespace' "$LAB_DIR/q.err")" \
		"^synacct: $DIR was pinned in a network namespace that no longer exists \(cookie 1; this one, which has its inode now, is [0-9]+\): removing its programs and counters, counting afresh$" \
		"... naming the cookies, and what it does"
	lab_flood --to $SRV_IP4 --port 9300 --count 10 --src-net $SPOOF_NET4 >/dev/null
	metrics_wait_read "$MURL" "$(date +%s.%N)"
	t_is "$(metric synacct_nic_syn_total 'port="9300"'),$(metric synacct_stack_drops_total 'port="9300",reason="NO_SOCKET"')" "10,10" \
		"... counts afresh: 10 SYNs, not 30 (new maps, new stack links)"
	t_is "$(alive prog $old_progs)" "" "... the old stack links' programs are gone ($(wc -w <<<"$old_progs"))"
	kill -TERM $QPID; wait $QPID
	"$SYNACCT" detach --netns "$SRV" --iface "$SRV_IF"
}

# ---- pinned state of a namespace that is gone ----

# Pinned in a namespace that is then deleted: its interface took XDP and
# TC along, the stack's links keep running (tracepoints are global), and
# no --netns can name it any more: synacct detach --pin-dir can.
sc_gone_netns() {
	local gone gdir g_links g_progs g_maps err rc
	pin_init
	expected_pins
	gone=sa-$$-gone
	lab_netns_add "$gone" && ip -n "$gone" link add sa-gone0 type veth peer name sa-gone1 &&
		ip -n "$gone" link set sa-gone0 up && ip -n "$gone" link set sa-gone1 up ||
		{ echo "Bail out! cannot make namespace $gone"; exit 1; }
	gdir=/sys/fs/bpf/synacct/$(ip netns exec "$gone" stat -L -c %i /proc/self/ns/net)/sa-gone0
	"$SYNACCT" --netns "$gone" --iface sa-gone0 --pin --json -d 0.3 >/dev/null 2>"$LAB_DIR/gone.err"
	t_is "$?:$(grep -v '^libbpf: ' "$LAB_DIR/gone.err")" "0:" "--pin in namespace $gone, exits"
	g_links=$(cd "$gdir" && ls link_* | wc -l)
	g_progs=$(ids prog_id "$gdir"/link_*)
	g_maps=$(ids id $(ls -d "$gdir"/* | grep -v '/link_'))
	t_is "$(wc -w <<<"$g_progs"),$(wc -w <<<"$g_maps")" "$g_links,$((N_PINS - g_links))" \
		"... left its links' programs and its maps pinned in $gdir"
	ip netns del "$gone"
	err=$("$SYNACCT" detach --netns "$gone" --iface sa-gone0 2>&1); rc=$?
	t_like "$rc:$err" "^2:synacct: network namespace '$gone' not found" "namespace deleted: detach --netns cannot name it"
	t_is "$(alive prog $g_progs | wc -w)" "$g_links" "... while its $g_links stack links still run"
	err=$("$SYNACCT" detach --pin-dir "$gdir" 2>&1); rc=$?
	t_is "$rc:$err" "0:" "synacct detach --pin-dir of the gone namespace: exit 0"
	t_is "$(ls /sys/fs/bpf/synacct/)" "" "... nothing left in /sys/fs/bpf/synacct"
	t_is "$(alive prog $g_progs)" "" "... none of its programs left in the kernel (bpftool prog show id)"
	t_is "$(alive map $g_maps)" "" "... none of its maps"
}

# ---- nothing under the pin root follows a link ----

# pin_ids DIR: "name:id" of each pin in DIR (bpftool's map, link or
# program id), sorted: the kernel's view of what is pinned there.
pin_ids() {
	local f id
	for f in "$1"/*; do
		[ -e "$f" ] || continue
		id=$(bpftool map show pinned "$f" -j 2>/dev/null | jq -r '.id // empty')
		[ -n "$id" ] || id=link$(bpftool link show pinned "$f" -j 2>/dev/null | jq -r '.id // empty')
		echo "${f##*/}:$id"
	done | LC_ALL=C sort | tr '\n' ' '
}
xdp_id() {	# xdp_id NS IFACE: the XDP program id on IFACE, "none"
	ip -n "$1" -j link show dev "$2" | jq -r '.[0].xdp.prog.id // "none"'
}

# other_pinned: a second namespace, OTHER, with an interface of the same
# name as the lab's ($SRV_IF), where a --pin synacct ran and exited: its
# state in ODIR (OINO its inode), its pins in OPINS, the programs of its
# links in OPROGS, its XDP program in OXDP.  What a planted link or a
# moved directory would make synacct take for the lab's own.
other_pinned() {
	OTHER=sa-$$-other
	lab_netns_add "$OTHER" && ip -n "$OTHER" link add "$SRV_IF" type veth peer name sa-oth1 &&
		ip -n "$OTHER" link set "$SRV_IF" up && ip -n "$OTHER" link set sa-oth1 up ||
		{ echo "Bail out! cannot make namespace $OTHER"; exit 1; }
	OINO=$(ip netns exec "$OTHER" stat -L -c %i /proc/self/ns/net)
	ODIR=/sys/fs/bpf/synacct/$OINO/$SRV_IF
	"$SYNACCT" --netns "$OTHER" --iface "$SRV_IF" --pin --json -d 0.3 >/dev/null 2>"$LAB_DIR/other.err" ||
		{ t_diag "$LAB_DIR/other.err"; echo "Bail out! --pin in $OTHER failed"; exit 1; }
	OPINS=$(pin_ids "$ODIR")
	OPROGS=$(ids prog_id "$ODIR"/link_*)
	OXDP=$(xdp_id "$OTHER" "$SRV_IF")
}
# other_intact WHAT: OTHER's state is all there: the pins and their ids,
# its links' programs in the kernel, its XDP program.
other_intact() {
	local dir=${2:-$ODIR}
	t_is "$(pin_ids "$dir")" "$OPINS" "$1: the other namespace's $(wc -w <<<"$OPINS") pins all there, same ids (bpftool)"
	t_is "$(alive prog $OPROGS | wc -w),$(xdp_id "$OTHER" "$SRV_IF")" "$(wc -w <<<"$OPROGS"),$OXDP" \
		"$1: its links' programs still in the kernel, its XDP program ($OXDP) still attached"
}

# Another tool's directory linked in as the lab's state directory, and
# as the lab namespace's directory: synacct follows neither.
sc_symlink_foreign() {
	local err rc before want
	pin_init
	mkdir -p /sys/fs/bpf/other/"$SRV_IF" "$(dirname "$DIR")"
	bpftool map create /sys/fs/bpf/other/"$SRV_IF"/their_map type array key 4 value 8 entries 4 name their_map
	bpftool map create /sys/fs/bpf/other/"$SRV_IF"/their_hash type hash key 4 value 8 entries 16 name their_hash
	before=$(pin_ids /sys/fs/bpf/other/"$SRV_IF")
	ln -s /sys/fs/bpf/other/"$SRV_IF" "$DIR"
	want="cannot use $DIR: a symbolic link or not a directory: synacct follows no link under /sys/fs/bpf/synacct"
	err=$("$SYNACCT" detach --netns "$SRV" --iface "$SRV_IF" 2>&1); rc=$?
	t_is "$rc:$err" "1:synacct: $want; not touching it" "detach, the state directory a link to another tool's: exit 1, says so"
	err=$("$SYNACCT" detach --pin-dir "$DIR" 2>&1); rc=$?
	t_is "$rc:$err" "1:synacct: $want; not touching it" "... detach --pin-dir too"
	err=$("$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --pin --json -d 0.2 2>&1 >/dev/null); rc=$?
	t_is "$rc:$err" "1:synacct: $want; synacct made no such thing there: remove it, then start again" \
		"... --pin too"
	t_is "$(pin_ids /sys/fs/bpf/other/"$SRV_IF"),$(readlink "$DIR")" "$before,/sys/fs/bpf/other/$SRV_IF" \
		"... the other tool's pins all there, same ids (bpftool); the link untouched"
	t_is "$(xdp_id "$SRV" "$SRV_IF"),$(ls /sys/fs/bpf/other/"$SRV_IF" | wc -l)" "none,2" "... nothing attached, nothing pinned beside them"
	# One level up: the namespace's directory a link.
	rm "$DIR"; rmdir "$(dirname "$DIR")"
	ln -s /sys/fs/bpf/other "$(dirname "$DIR")"
	err=$("$SYNACCT" detach --netns "$SRV" --iface "$SRV_IF" 2>&1); rc=$?
	t_is "$rc:$err" "1:synacct: $want; not touching it" "detach, the namespace's directory a link: exit 1, says so"
	err=$("$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --pin --json -d 0.2 2>&1 >/dev/null); rc=$?
	t_is "$rc" 1 "... --pin: exit 1"
	t_is "$(pin_ids /sys/fs/bpf/other/"$SRV_IF"),$(readlink "$(dirname "$DIR")")" "$before,/sys/fs/bpf/other" \
		"... the other tool's pins all there, same ids; the link untouched"
}

# A link from the lab namespace's directory to another namespace's live
# --pin state: --pin took it for a gone namespace's and removed it (44
# pins), detach removed it.
sc_symlink_live() {
	local err rc want
	pin_init
	expected_pins
	other_pinned
	ln -s "$OINO" "$(dirname "$DIR")"
	want="cannot use $DIR: a symbolic link or not a directory: synacct follows no link under /sys/fs/bpf/synacct"
	err=$("$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --pin --json -d 0.2 2>&1 >/dev/null); rc=$?
	t_is "$rc:$err" "1:synacct: $want; synacct made no such thing there: remove it, then start again" \
		"--pin, the namespace's directory a link to another namespace's state: exit 1, says so"
	other_intact "after that --pin"
	err=$("$SYNACCT" detach --netns "$SRV" --iface "$SRV_IF" 2>&1); rc=$?
	t_is "$rc:$err" "1:synacct: $want; not touching it" "detach through the same link: exit 1, says so"
	other_intact "after that detach"
	t_is "$(readlink "$(dirname "$DIR")"),$(wc -w <<<"$OPINS")" "$OINO,$N_PINS" "... the link untouched; the other state had all $N_PINS pins"
	"$SYNACCT" detach --netns "$OTHER" --iface "$SRV_IF"
}

# Another namespace's live state moved (bpffs renames) under the lab
# namespace's inode: its meta names another namespace, alive, so it is
# not "a gone namespace's": --pin and detach --iface refuse; detach
# --pin-dir finds its namespace by the meta's inode and cookie.
sc_moved_state() {
	local err rc
	pin_init
	other_pinned
	mv /sys/fs/bpf/synacct/"$OINO" "$(dirname "$DIR")"
	err=$("$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --pin --json -d 0.2 2>&1 >/dev/null); rc=$?
	t_like "$rc:$err" "^1:synacct: $DIR holds the state of another network namespace \(inode $OINO, cookie [0-9]+; this one is inode $NSINO\): not removing it; 'synacct detach --pin-dir $DIR' removes it, then start again$" \
		"--pin over another live namespace's state moved under this inode: exit 1, says whose"
	other_intact "after that --pin" "$DIR"
	err=$("$SYNACCT" detach --netns "$SRV" --iface "$SRV_IF" 2>&1); rc=$?
	t_like "$rc:$err" "^1:synacct: $DIR was pinned in another network namespace \(inode $OINO, cookie [0-9]+\), not this one: not removing it here" \
		"detach --iface in this namespace: exit 1, says whose"
	other_intact "after that detach" "$DIR"
	err=$("$SYNACCT" detach --pin-dir "$DIR" 2>&1); rc=$?
	t_is "$rc:$err" "0:" "detach --pin-dir: exit 0 (in the namespace its meta names)"
	t_is "$(xdp_id "$OTHER" "$SRV_IF"),$(alive prog $OPROGS),$(ls /sys/fs/bpf/synacct/)" "none,," \
		"... that namespace's XDP program, its links' programs, its pins gone"
}

# ---- synacct detach and a running synacct ----

sc_detach_live() {
	local err rc dpid progs xdp before
	pin_init
	expected_pins
	start_quiet; t_is $? 0 "synacct --pin serves metrics"
	xdp=$(xdp_id "$SRV" "$SRV_IF")
	progs=$(ids prog_id "$DIR"/link_*)
	before=$(pin_ids "$DIR")
	err=$("$SYNACCT" detach --netns "$SRV" --iface "$SRV_IF" 2>&1); rc=$?
	t_is "$rc:$err" "1:synacct: interface $SRV_IF is watched by a running synacct (pid $QPID): stop it first, or use 'synacct detach --force', which stops it" \
		"detach while a pinned synacct runs: exit 1, names its pid"
	t_is "$(xdp_id "$SRV" "$SRV_IF"),$(pin_ids "$DIR"),$(alive prog $progs | wc -w)" "$xdp,$before,$(wc -w <<<"$progs")" \
		"... its XDP program, its $N_PINS pins (same ids) and its links' programs all there"
	kill -0 $QPID; t_is $? 0 "... and it still runs"
	lab_flood --to $SRV_IP4 --port 9400 --count 20 --src-net $SPOOF_NET4 >/dev/null
	metrics_wait_read "$MURL" "$(date +%s.%N)"
	t_is "$(metric synacct_nic_syn_total 'port="9400"')" 20 "... and counts (20 SYNs)"
	"$SYNACCT" detach --force --netns "$SRV" --iface "$SRV_IF" 2>"$LAB_DIR/force.err" &
	dpid=$!
	wait $dpid; rc=$?
	t_is "$rc:$(cat "$LAB_DIR/force.err")" "0:synacct: stopping the synacct watching $SRV_IF (pid $QPID): --force" \
		"detach --force: exit 0, says whom it stopped"
	wait $QPID; rc=$?
	t_is "$rc:$(cat "$LAB_DIR/q.err")" "1:synacct: stopping: 'synacct detach --force' (pid $dpid) is removing this synacct's hooks; its figures would be frozen from here on" \
		"... the running synacct said so on stderr and exited 1"
	t_is "$(xdp_id "$SRV" "$SRV_IF"),$(alive prog $progs),$(ls /sys/fs/bpf/synacct/)" "none,," \
		"... then its XDP program, its links' programs (bpftool) and its pins went"
	t_is "$(ip netns exec "$SRV" tc qdisc show dev "$SRV_IF" | grep -c clsact)" 0 "... and its TC filters and clsact qdisc"
}

# ---- what a start says ----

# --pin without -v says nothing on stderr, fresh or continuing.
sc_quiet_start() {
	local err rc
	pin_init
	err=$("$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --pin --json -d 0.3 2>&1 >/dev/null); rc=$?
	t_is "$rc:$err" "0:" "a fresh --pin start without -v: exit 0, nothing on stderr"
	err=$("$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --pin --json -d 0.3 2>&1 >/dev/null); rc=$?
	t_is "$rc:$err" "0:" "a --pin restart without -v: exit 0, nothing on stderr"
	"$SYNACCT" detach --netns "$SRV" --iface "$SRV_IF"
}

# A start without --pin on pinned state: refused, naming both ways out;
# the pinned programs untouched.
sc_unpinned_on_pinned() {
	local err rc xdp before
	pin_init
	start_quiet; kill -TERM $QPID; wait $QPID
	xdp=$(xdp_id "$SRV" "$SRV_IF")
	before=$(pin_ids "$DIR")
	err=$("$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --json -d 0.2 2>&1 >/dev/null); rc=$?
	t_is "$rc:$err" "1:synacct: interface $SRV_IF carries the programs of a synacct started with --pin (state in $DIR): start with --pin to continue its counts, or remove them with 'synacct detach --netns $SRV --iface $SRV_IF'" \
		"a start without --pin on pinned state: exit 1, names --pin and synacct detach"
	t_is "$(xdp_id "$SRV" "$SRV_IF"),$(pin_ids "$DIR")" "$xdp,$before" "... the pinned XDP program and pins untouched"
	"$SYNACCT" detach --netns "$SRV" --iface "$SRV_IF"
	t_is "$?:$(xdp_id "$SRV" "$SRV_IF")" "0:none" "synacct detach removes it"
}

# The watched namespace deleted under a --pin synacct: nothing can
# continue its state (no name reaches that namespace), so synacct removes
# it as `synacct detach` would, and exits 1 with one line.
sc_netns_deleted() {
	local i links err
	pin_init
	"$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --pin --json --interval 0.3 \
		>"$LAB_DIR/d.out" 2>"$LAB_DIR/d.err" &
	QPID=$!; LAB_PIDS+=($QPID)
	for ((i = 0; i < 100; i++)); do grep -q '"type":"start"' "$LAB_DIR/d.out" 2>/dev/null && break; sleep 0.1; done
	links=$(for f in "$DIR"/link_*; do bpftool link show pinned "$f" -j | jq -r .id; done | paste -sd' ')
	t_like "$links" '^[0-9]+( [0-9]+)+$' "its links are pinned in $DIR ($links)"
	ip netns del "$SRV"
	for ((i = 0; i < 100; i++)); do kill -0 $QPID 2>/dev/null || break; sleep 0.1; done
	kill -INT $QPID 2>/dev/null	# still running 10 s on: stopped, and exits 0
	wait $QPID
	t_is "$?:$(cat "$LAB_DIR/d.err")" \
		"1:synacct: network namespace $SRV deleted (/run/netns/$SRV is gone); stopping, so as not to keep it alive" \
		"namespace deleted: exit 1, one line on stderr"
	t_is "$(ls -A /sys/fs/bpf/synacct 2>/dev/null)" "" "its pinned state is removed (/sys/fs/bpf/synacct is empty)"
	# shellcheck disable=SC2086
	t_is "$(for i in $links; do bpftool link show id $i >/dev/null 2>&1 && echo $i; done | paste -sd' ')" "" \
		"bpftool link show: none of its links is left"
}

# --pin where it cannot pin: one line, exit 1, nothing attached.  The
# kernel says what is on the interface (ip link, tc qdisc show).
pin_refused() {	# pin_refused NAME WANT-STDERR
	local out err rc
	out=$("$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --pin --json -d 0.3 2>"$LAB_DIR/p.err"); rc=$?
	err=$(cat "$LAB_DIR/p.err")
	t_is "$rc:$err" "1:$2" "$1: exit 1, one line on stderr"
	t_is "$out" "" "$1: no record on stdout"
	t_is "$(xdp_id "$SRV" "$SRV_IF"),$(tc -n "$SRV" -j qdisc show dev "$SRV_IF" | jq -r '[.[].kind] | join(" ")')" \
		"none,noqueue" "$1: no XDP program on $SRV_IF, no clsact qdisc (ip link, tc qdisc show)"
}

# No bpffs on /sys/fs/bpf: a tmpfs there instead (in this file's own mount
# namespace).
sc_bpffs_missing() {
	mount -t tmpfs sa-not-bpffs /sys/fs/bpf || { echo "Bail out! cannot mount a tmpfs"; exit 1; }
	PIN_MOUNTED=1
	pin_refused "bpffs missing" "synacct: --pin needs bpffs on /sys/fs/bpf: mount -t bpf bpf /sys/fs/bpf"
}

# A read-only bpffs: the state's directory cannot be made.
sc_bpffs_read_only() {
	local ino
	mount -t bpf -o ro bpf /sys/fs/bpf || { echo "Bail out! cannot mount bpffs read-only"; exit 1; }
	PIN_MOUNTED=1
	ino=$(ip netns exec "$SRV" stat -L -c %i /proc/self/ns/net)
	pin_refused "bpffs read-only" \
		"synacct: cannot make /sys/fs/bpf/synacct/$ino/$SRV_IF: Read-only file system"
}

lab_main "$@"
