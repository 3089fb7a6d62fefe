#!/bin/bash
# synacct under a real systemd (PID 1): the units make install ships,
# started against the lab's veth.  Type=notify: active only once the hooks
# are attached (sampled while it starts), STATUS= naming the interface,
# listeners, stages and interval; `systemctl reload` changes the interval
# (STATUS= follows), a bad config is refused and the service stays active,
# the refusal is in `journalctl -p err` and the start line at info only;
# SIGKILL restarts it (Restart=on-failure), exit 2 (an unknown interface)
# does not (RestartPreventExitStatus=2); the template synacct@.service runs
# an instance on /etc/synacct/INSTANCE.conf.
#
# It changes the machine's systemd state (units started, configs in
# /etc/synacct), so it runs only where asked: SA_SYSTEMD_TEST=1, which the
# guest of `make test-kernels` booted with systemd as PID 1 sets
# (selftests/vm/kernels.sh, VM_SYSTEMD); with synacct installed by
# `make install` (the guest's is, DESTDIR into its root).
#   selftests/t/80-systemd.t [--list] [SCENARIO...]
. "$(dirname "$0")/../lib/lab.sh"

LAB_SCENARIOS=(service)
LAB_REQUIRE=require_systemd
CONF=/etc/synacct/synacct.conf
INST=/etc/synacct/sa-lab.conf

require_systemd() {
	[ "${SA_SYSTEMD_TEST:-}" = 1 ] ||
		t_skip_all "tool: no systemd as PID 1 to test with (make test-kernels boots one; SA_SYSTEMD_TEST=1 uses this machine's)"
	[ "$(cat /proc/1/comm)" = systemd ] || t_skip_all "tool: PID 1 is not systemd"
	systemctl cat synacct.service synacct@.service >/dev/null 2>&1 ||
		t_skip_all "tool: synacct.service and synacct@.service are not installed (make install)"
}

sd_teardown() {
	systemctl stop synacct.service synacct@sa-lab.service 2>/dev/null
	systemctl reset-failed synacct.service synacct@sa-lab.service 2>/dev/null
	[ -f "$LAB_DIR/conf.saved" ] && cp "$LAB_DIR/conf.saved" "$CONF"
	rm -f "$INST"
	# --pin leaves the programs attached after a stop: the service's own
	# way out (docs/deploy.md).
	"$SYNACCT" detach --netns "$SRV" --iface "$SRV_IF" >/dev/null 2>&1
}

# show UNIT PROPS: "VALUE,VALUE" of systemctl show -p PROPS (commas).
show() {
	local unit=$1 p out=
	for p in $(tr , ' ' <<<"$2"); do
		out+=${out:+,}$(systemctl show -p "$p" --value "$unit")
	done
	echo "$out"
}

# xdp_prog: the name of the XDP program on the lab's interface ("null").
xdp_prog() { ip -n "$SRV" -j link show "$SRV_IF" | jq -r '.[0].xdp.prog.name'; }

# wait_state UNIT STATE SECONDS: until its ActiveState is STATE.
wait_state() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		[ "$(show "$1" ActiveState)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# journal_has UNIT PRIORITY LINE: within 10 s, LINE is among the unit's
# entries at PRIORITY (journalctl -p X..X) since the test's start.
journal_has() {
	local i
	for ((i = 0; i < 100; i++)); do
		journalctl -q -u "$1" -p "$2..$2" -o cat --since "@$T0" 2>/dev/null | grep -qxF "$3" && return 0
		sleep 0.1
	done
	return 1
}

sc_service() {
	local pid pid2 samples bad n i mp=9464 srv cnt restarts
	LAB_TEARDOWN=sd_teardown
	T0=$(date +%s)
	t_is "$(systemctl show -p ExecStart --value synacct.service | sed -n 's/.*argv\[\]=\([^;]*\);.*/\1/p' | sed 's/ *$//')" \
		"/usr/sbin/synacct --config /etc/synacct/synacct.conf --pin" "the installed unit runs the installed synacct"
	cp "$CONF" "$LAB_DIR/conf.saved"
	lab_server 8081 --accept all; srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	printf 'netns = %s\niface = %s\nmetrics = 127.0.0.1:%s\nquiet = yes\ninterval = 1\n' \
		"$SRV" "$SRV_IF" "$mp" >"$CONF"

	# Start without waiting, and sample (ActiveState, XDP program) until
	# it is active: every "active" sample must see the program attached.
	systemctl start --no-block synacct.service
	samples=$LAB_DIR/samples
	for ((i = 0; i < 1200; i++)); do
		echo "$(show synacct.service ActiveState) $(xdp_prog)" >>"$samples"
		[ "$(tail -n 1 "$samples" | cut -d' ' -f1)" = active ] && break
		[ "$(tail -n 1 "$samples" | cut -d' ' -f1)" = failed ] && break
		sleep 0.1
	done
	t_is "$(show synacct.service ActiveState,SubState)" "active,running" "systemctl start: active, running"
	bad=$(grep -c '^active null$' "$samples")
	n=$(grep -c '^activating synacct_xdp$' "$samples")
	t_is "$bad" 0 "never active before its XDP program is attached ($(wc -l <"$samples") samples, $n activating with it attached)"
	t_is "$(xdp_prog)" synacct_xdp "... the program on $SRV_IF: synacct's"
	t_is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mp/metrics")" 200 "... and /metrics serves (READY=1 after it)"
	t_is "$(show synacct.service StatusText)" \
		"$SRV_IF: listeners on 1 port, reporting all ports; stages up 3/3; every 1 s" \
		"StatusText: the interface, the one listener (8081), both interface stages and the stack up, the interval"
	for ((i = 0; i < 50; i++)); do
		journalctl -q -u synacct.service -o cat --since "@$T0" | grep -q '^synacct: watching' && break
		sleep 0.1
	done
	t_like "$(journalctl -q -u synacct.service -p info..info -o cat --since "@$T0" | grep '^synacct: watching')" \
		"^synacct: watching $SRV_IF in network namespace $SRV; hooks: xdp(_skb)?, tc_ingress, tc_egress, .*; mode: pinned in /sys/fs/bpf/synacct/[0-9]+/$SRV_IF, metrics on 127.0.0.1:$mp, nothing on stdout \(--quiet\)$" \
		"the journal: one start line at priority info naming interface, namespace, hooks and mode"
	pid=$(show synacct.service MainPID)

	# Reload: the interval changes, STATUS= follows.
	sed -i 's/^interval = .*/interval = 2/' "$CONF"
	systemctl reload synacct.service
	t_is "$?,$(show synacct.service ActiveState,SubState,MainPID)" "0,active,running,$pid" "systemctl reload: exit 0, still active, same process"
	for ((i = 0; i < 50; i++)); do
		[ "$(show synacct.service StatusText)" = "$SRV_IF: listeners on 1 port, reporting all ports; stages up 3/3; every 2 s" ] && break
		sleep 0.1
	done
	t_is "$(show synacct.service StatusText)" "$SRV_IF: listeners on 1 port, reporting all ports; stages up 3/3; every 2 s" \
		"... StatusText says the new interval"
	journal_has synacct.service info "synacct: reloaded $CONF: changed interval"
	t_is "$?" 0 "... the journal says what changed, at priority info"

	# A bad config: refused, the service stays, the journal has the error.
	sed -i 's/^interval = .*/interval = 0/' "$CONF"
	systemctl reload synacct.service
	t_is "$?,$(show synacct.service ActiveState,SubState,MainPID)" "0,active,running,$pid" "a bad config: systemctl reload, still active, same process"
	journal_has synacct.service err "synacct: reload refused: $CONF:5: invalid interval '0': expected seconds, at least 0.01 and at most a year; the running configuration stays"
	t_is "$?" 0 "... journalctl -p err shows why (FILE:LINE)"
	t_is "$(journalctl -q -u synacct.service -p err -o cat --since "@$T0" | grep -c 'reloaded\|watching')" 0 \
		"... and -p err holds no info line"
	t_is "$(show synacct.service StatusText)" "$SRV_IF: listeners on 1 port, reporting all ports; stages up 3/3; every 2 s" \
		"... StatusText: the running configuration (every 2 s)"
	sed -i 's/^interval = .*/interval = 1/' "$CONF"

	# SIGKILL: Restart=on-failure brings it back (RestartSec=2s); --pin
	# kept the program attached meanwhile.
	systemctl kill -s KILL synacct.service
	for ((i = 0; i < 900; i++)); do
		pid2=$(show synacct.service MainPID)
		[ "$pid2" != 0 ] && [ "$pid2" != "$pid" ] && [ "$(show synacct.service ActiveState)" = active ] && break
		sleep 0.1
	done
	t_is "$(show synacct.service ActiveState,SubState,NRestarts)" "active,running,1" "SIGKILL: restarted (NRestarts 1), active again"
	t_ok "$([ "$pid2" != "$pid" ] && [ "$pid2" != 0 ]; echo $?)" "... as a new process ($pid -> $pid2)"
	t_is "$(xdp_prog)" synacct_xdp "... its XDP program on $SRV_IF"

	# Exit 2 (a usage error: no such interface) is not restarted.
	sed -i "s/^iface = .*/iface = sa-nope0/" "$CONF"
	systemctl restart synacct.service 2>/dev/null
	wait_state synacct.service failed 30
	restarts=$(show synacct.service NRestarts)
	sleep 4	# RestartSec=2s twice over: a restart would have come
	t_is "$(show synacct.service ActiveState,Result,ExecMainStatus,NRestarts)" "failed,exit-code,2,$restarts" \
		"an unknown interface: exit 2, failed, and 4 s later still failed, not restarted (RestartPreventExitStatus=2)"
	journal_has synacct.service err "synacct: interface sa-nope0 not found in network namespace $SRV; list interfaces with 'ip link' inside it"
	t_is "$?" 0 "... journalctl -p err says why"
	systemctl reset-failed synacct.service

	# The template: an instance on its own config.
	printf 'netns = %s\niface = %s\nmetrics = 127.0.0.1:%s\nquiet = yes\ninterval = 1\n' \
		"$SRV" "$SRV_IF" "$((mp + 1))" >"$INST"
	systemctl start synacct@sa-lab.service
	t_is "$?,$(show synacct@sa-lab.service ActiveState,SubState)" "0,active,running" "synacct@sa-lab: active, running"
	t_is "$(show synacct@sa-lab.service StatusText)" "$SRV_IF: listeners on 1 port, reporting all ports; stages up 3/3; every 1 s" \
		"... StatusText from /etc/synacct/sa-lab.conf"
	t_is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((mp + 1))/metrics")" 200 "... serving /metrics on its own port"
	systemctl stop synacct@sa-lab.service
	t_is "$?,$(show synacct@sa-lab.service ActiveState)" "0,inactive" "systemctl stop: inactive (STOPPING=1, exit 0)"
	lab_server_stop $srv $cnt
}

lab_main "$@"
