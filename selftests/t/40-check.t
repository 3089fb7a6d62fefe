#!/bin/bash
# synacct check: every setting and listener figure it reports equals what the
# lab set up and what the kernel says (sysctl, ss, nstat), every finding is
# raised by the condition it names and by nothing else, and the exit status
# says whether anything needs fixing (0 ok, 3 findings, 2 usage, 1 runtime).
# Each scenario runs in a lab of its own:
#   selftests/t/40-check.t [--list] [SCENARIO...]
. "$(dirname "$0")/../lib/lab.sh"

LAB_SCENARIOS=(healthy weak_settings backlog_clamped backlog_default
	accept_queue_full accept_queue_at_backlog syn_flood syn_queue_at_backlog hostile_names bad_input json_schema)

# A healthy namespace: cookies and timestamps on (the defaults of a new
# namespace), an IPv4-only listener and a dual-stack one, queues empty.
sc_healthy() {
	local name="healthy" srv1 cnt1 srv2 cnt2
	lab_server 9001 --addr $SRV_IP4 --backlog 16 --accept all
	srv1=$LAB_SERVER_PID; cnt1=$LAB_SERVER_COUNT
	lab_server 9002 --backlog 64 --accept all
	srv2=$LAB_SERVER_PID; cnt2=$LAB_SERVER_COUNT
	synacct_check --json
	t_is "$CK_RC" 0 "$name: exit 0"
	t_is "$(ck '.type + " " + .netns + " " + .status')" "check $SRV ok" "$name: type, netns, status ok"
	t_is "$(ck '.listeners | length')" 2 "$name: two listeners"
	t_is "$(ck_listener 9001)" "$SRV_IP4 9001 ipv4 $srv1 lab_server 16 0 0 0" \
		"$name: IPv4 listener: addr port family pid comm accept_backlog queues drops"
	t_is "$(ck_listener 9002)" ":: 9002 ipv6 $srv2 lab_server 64 0 0 0" \
		"$name: dual-stack listener: addr port family pid comm accept_backlog queues drops"
	t_is "$(ck_findings)" "" "$name: no findings"
	t_is "$(ck '.settings | to_entries | map(.key + "=" + (.value.value | tostring) + "/" + .value.scope) | join(" ")')" \
		"net.ipv4.tcp_syncookies=1/netns net.ipv4.tcp_max_syn_backlog=$(ip netns exec "$SRV" sysctl -n net.ipv4.tcp_max_syn_backlog)/netns net.core.somaxconn=4096/netns net.ipv4.tcp_abort_on_overflow=0/netns net.ipv4.tcp_synack_retries=5/netns net.ipv4.tcp_timestamps=1/netns net.core.netdev_max_backlog=$(sysctl -n net.core.netdev_max_backlog)/global" \
		"$name: settings, values and scopes (netdev_max_backlog from the host)"
	t_is "$(ck '[.settings[] | select((.meaning | length) == 0)] | length')" 0 \
		"$name: every setting has a meaning"
	t_is "$(ck '.settings."net.ipv4.tcp_synack_retries".meaning')" \
		"SYN-ACK retransmissions: an unanswered request holds its SYN-queue slot about 63 s" \
		"$name: tcp_synack_retries=5 means 63 s (1+2+4+8+16+32)"

	synacct_check
	t_is "$CK_RC" 0 "$name, text: exit 0"
	t_like "$CK_OUT" $'\nSettings\n.*\nListeners\n.*\nFindings\n  \\(none\\)\n\nStatus: ok$' \
		"$name, text: Settings, Listeners, Findings (none), Status: ok"
	t_like "$CK_OUT" $'\n  198\\.18\\.0\\.1 +9001 +'"$srv1"$' +lab_server +16 +0 +0 +0\n' \
		"$name, text: the IPv4 listener's row"
	t_like "$CK_OUT" $'\n  :: +9002 +'"$srv2"$' +lab_server +64 +0 +0 +0\n' \
		"$name, text: the dual-stack listener's row"

	synacct_check --json --ports 9001
	t_is "$(ck '[.listeners[].port] | map(tostring) | join(",")')" 9001 "--ports 9001: only that listener"
	synacct_check --json --ports 1
	t_is "$CK_RC,$(ck '.listeners | length'),$(ck_findings)" "0,0,info:no_listeners" \
		"--ports 1, no listener there: exit 0, no listeners (nothing to sort)"
	synacct_check --json --ports 9100-9200
	t_is "$CK_RC,$(ck '.listeners | length'),$(ck_findings)" "0,0,info:no_listeners" \
		"--ports with no listener: exit 0, no listeners, info no_listeners"
	lab_server_stop $srv1 $cnt1
	lab_server_stop $srv2 $cnt2
}

# Settings that weaken the defences: one warning each, exit 3.
sc_weak_settings() {
	local name="weak settings" srv cnt out
	lab_server 9001 --addr $SRV_IP4 --backlog 16 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	lab_sysctl "$SRV" net.ipv4.tcp_syncookies=0
	lab_sysctl "$SRV" net.ipv4.tcp_timestamps=0
	lab_sysctl "$SRV" net.ipv4.tcp_abort_on_overflow=1
	synacct_check --json --ports 9001
	t_is "$CK_RC" 3 "$name: exit 3"
	t_is "$(ck_findings)" "warning:syncookies_disabled warning:timestamps_off warning:abort_on_overflow" \
		"$name: syncookies_disabled, timestamps_off, abort_on_overflow, all warnings"
	t_is "$(ck .status)" warning "$name: status warning"
	t_is "$(ck '.findings[] | select(.id == "syncookies_disabled") | .fix')" \
		"ip netns exec $SRV sysctl -w net.ipv4.tcp_syncookies=1" "$name: syncookies_disabled: the fix names the namespace"
	t_is "$(ck '[.findings[] | select(.fix == "" or .message == "")] | length')" 0 "$name: every finding has a message and a fix"
	# The same fixes as a sysctl.d file: each setting once, and applied
	# in the namespace (as the file says) they leave nothing to fix.
	synacct_check --ports 9001
	t_like "$CK_OUT" $'\n  The sysctl fixes as a file for /etc/sysctl.d/ \\(applied at boot\\): synacct check --netns '"$SRV"$' --sysctl-file\n\nStatus: warning$' \
		"$name, text: names --sysctl-file"
	synacct_check --ports 9001 --sysctl-file
	printf '%s\n' "$CK_OUT" >"$LAB_DIR/60-synacct.conf"
	t_is "$CK_RC,$(grep -v '^#' "$LAB_DIR/60-synacct.conf" | grep . | paste -sd,)" \
		"3,net.ipv4.tcp_syncookies = 1,net.ipv4.tcp_timestamps = 1,net.ipv4.tcp_abort_on_overflow = 0" \
		"$name: --sysctl-file: exit 3, one line per sysctl fix"
	t_like "$CK_OUT" "ip netns exec $SRV sysctl -p /etc/sysctl.d/60-synacct.conf" \
		"$name: --sysctl-file: says how to apply it in the namespace"
	ip netns exec "$SRV" sysctl -q -p "$LAB_DIR/60-synacct.conf"
	synacct_check --json --ports 9001
	t_is "$CK_RC,$(ck_findings)" "0," "$name: the file applied in the namespace: exit 0, no findings"
	synacct_check --ports 9001
	t_is "$(grep -c 'sysctl-file' <<<"$CK_OUT")" 0 "$name, text: no sysctl fix, no --sysctl-file line"
	synacct_check --ports 9001 --sysctl-file
	t_is "$CK_RC,$(grep -v '^#' <<<"$CK_OUT" | grep -c .),$(grep -c '^# No finding has a sysctl fix' <<<"$CK_OUT")" "0,0,1" \
		"$name: --sysctl-file with nothing to fix: exit 0, no setting, says so"
	synacct_check --sysctl-file --json
	t_is "$CK_RC,$(wc -l <<<"$CK_ERR")" "2,2" "--sysctl-file --json: usage error (exit 2)"
	lab_sysctl "$SRV" net.ipv4.tcp_syncookies=0
	lab_sysctl "$SRV" net.ipv4.tcp_timestamps=0
	lab_sysctl "$SRV" net.ipv4.tcp_abort_on_overflow=1
	# synacct itself inside the namespace (a container): the global
	# netdev_max_backlog is hidden there, not missing from the kernel.
	out=$(ip netns exec "$SRV" "$SYNACCT" check --ports 9001 2>&1)
	t_like "$out" $'\n  net.core.netdev_max_backlog +- +not visible here: a global sysctl, which only the host\'s initial namespace shows\n' \
		"synacct check inside a namespace: netdev_max_backlog is not visible there, and it says so"
	t_is "$(ip netns exec "$SRV" cat /proc/sys/net/core/netdev_max_backlog 2>/dev/null)" "" \
		"the namespace's /proc/sys has no net.core.netdev_max_backlog (what that line is about)"
	synacct_check --json --netns /run/netns/"$SRV" --ports 9001
	t_is "$(ck '.findings[] | select(.id == "timestamps_off") | .fix')" \
		"nsenter --net=/run/netns/$SRV sysctl -w net.ipv4.tcp_timestamps=1" "$name: --netns PATH: the fix uses nsenter"
	lab_sysctl "$SRV" net.ipv4.tcp_timestamps=1
	lab_sysctl "$SRV" net.ipv4.tcp_abort_on_overflow=0
	lab_sysctl "$SRV" net.ipv4.tcp_syncookies=2
	synacct_check --json --ports 9001
	t_is "$CK_RC,$(ck_findings)" "3,warning:syncookies_always" "tcp_syncookies=2: exit 3, warning syncookies_always"
	lab_server_stop $srv $cnt
}

# A backlog cut by somaxconn: listen(100) with somaxconn 8 gives 8.
sc_backlog_clamped() {
	local name="backlog clamped" srv cnt
	lab_sysctl "$SRV" net.core.somaxconn=8
	lab_server 9003 --backlog 100 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	synacct_check --json --ports 9003
	t_is "$CK_RC" 3 "$name: exit 3"
	t_is "$(ck '.settings."net.core.somaxconn".value')" 8 "$name: somaxconn 8 read in the namespace"
	t_is "$(ck_listener 9003 ipv6)" ":: 9003 ipv6 $srv lab_server 8 0 0 0" "$name: accept_backlog 8"
	t_is "$(ck_findings)" "warning:backlog_clamped:9003" "$name: warning backlog_clamped, port 9003"
	t_like "$(ck '.findings[0].message')" "^port 9003 \(::, lab_server pid $srv\): backlog 8 equals net.core.somaxconn" \
		"$name: the message names the listener and its process"
	t_is "$(ck '.findings[0].fix')" \
		"ip netns exec $SRV sysctl -w net.core.somaxconn=4096, then restart the service so it calls listen() again" \
		"$name: fix: raise somaxconn, restart"
	lab_server_stop $srv $cnt
}

# At the default somaxconn a backlog equal to it is listen(SOMAXCONN): info.
sc_backlog_default() {
	local name="backlog at the default somaxconn" srv cnt
	lab_server 9004 --backlog 5000 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	synacct_check --json --ports 9004
	t_is "$CK_RC,$(ck_findings),$(ck .status)" "0,info:backlog_clamped:9004,ok" "$name: exit 0, info backlog_clamped, status ok"
	t_is "$(ck_listener 9004)" ":: 9004 ipv6 $srv lab_server 4096 0 0 0" "$name: accept_backlog 4096"
	lab_server_stop $srv $cnt
}

# wait_established PORT N: until N connections to PORT are established
# on the server side (5 s at most; the checks that follow then fail).
wait_established() {
	local i
	for ((i = 0; i < 50; i++)); do
		[ "$(lab_ss_count "$SRV" established "$1")" -eq "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# Accept queue full now: backlog 2 holds 3 (the kernel's test is
# accept_queue_len > backlog), nobody accepts, 3 clients hold on.
sc_accept_queue_full() {
	local name="accept queue full" srv cnt clients
	lab_server 9005 --backlog 2 --accept none
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	lab_bg "$CLI" "$SA_BIN/lab_client" --to $SRV_IP4 --port 9005 --count 3 --hold-ms 10000
	clients=$LAB_LAST_PID
	wait_established 9005 3
	synacct_check --json --ports 9005
	t_is "$CK_RC" 3 "$name: exit 3"
	t_is "$(ck_listener 9005)" ":: 9005 ipv6 $srv lab_server 2 0 3 0" "$name: accept_queue_len 3, backlog 2"
	t_is "$(ck '.listeners[0].accept_queue_len')" "$(ip netns exec "$SRV" ss -Htln "( sport = :9005 )" | awk '{ print $2 }')" \
		"$name: accept_queue_len == ss Recv-Q"
	t_is "$(ck_findings),$(ck .status)" "critical:accept_queue_full:9005,critical" "$name: critical accept_queue_full, port 9005"
	t_like "$(ck '.findings[0].message')" "accept queue full now \(3 waiting, backlog 2\)" "$name: message gives the queue"
	kill $clients; wait $clients 2>/dev/null
	lab_server_stop $srv $cnt
}

# An accept queue at its backlog is not full yet: backlog 2 holds 2
# waiting with room for a third (the kernel's test is '>', not '>='), so
# no finding.  2 clients hold on, nobody accepts.
sc_accept_queue_at_backlog() {
	local name="accept queue at its backlog" srv cnt clients
	lab_server 9006 --backlog 2 --accept none
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	lab_bg "$CLI" "$SA_BIN/lab_client" --to $SRV_IP4 --port 9006 --count 2 --hold-ms 10000
	clients=$LAB_LAST_PID
	wait_established 9006 2
	synacct_check --json --ports 9006
	t_is "$(ck_listener 9006)" ":: 9006 ipv6 $srv lab_server 2 0 2 0" "$name: accept_queue_len 2, backlog 2"
	t_is "$(ck '.listeners[0].accept_queue_len')" "$(ip netns exec "$SRV" ss -Htln "( sport = :9006 )" | awk '{ print $2 }')" \
		"$name: accept_queue_len == ss Recv-Q"
	t_is "$CK_RC,$(ck_findings),$(ck .status)" "0,,ok" "$name: exit 0, no finding, status ok"
	kill $clients; wait $clients 2>/dev/null
	lab_server_stop $srv $cnt
}

# SYN queue: 200 spoofed SYNs at backlog 16.  Without cookies 17 wait
# half-open (the queue is full above the backlog) and 183 are dropped.
sc_syn_flood() {
	local cookies name port srv cnt out synrecv
	for cookies in 0 1; do
		name="SYN flood, tcp_syncookies=$cookies"
		port=$((9010 + cookies))
		lab_sysctl "$SRV" net.ipv4.tcp_syncookies=$cookies
		lab_server $port --backlog 16 --accept all
		srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
		lab_nstat "$SRV" >"$LAB_DIR/srv.0"
		out=$(lab_flood --to $SRV_IP4 --port $port --count 200 --src-net $SPOOF_NET4)
		sleep 0.2
		lab_nstat "$SRV" >"$LAB_DIR/srv.1"
		synacct_check --json --ports $port
		synrecv=$(lab_ss_count "$SRV" syn-recv $port)
		t_is "$out" "sent=200" "$name: the flood sent 200 SYNs"
		t_is "$(ck '.listeners[0].syn_queue_len')" 17 "$name: syn_queue_len 17 (backlog 16 + 1)"
		t_is "$(ck '.listeners[0].syn_queue_len')" "$synrecv" "$name: syn_queue_len == ss state syn-recv"
		t_is "$(ck '.listeners[0].listener_sk_drops')" \
			"$(nstat_delta "$LAB_DIR/srv.0" "$LAB_DIR/srv.1" TcpExtListenDrops)" "$name: listener_sk_drops == ListenDrops"
		if [ $cookies = 0 ]; then
			t_is "$(ck '.listeners[0].listener_sk_drops')" 183 "$name: 183 dropped"
			t_is "$CK_RC,$(ck_findings)" \
				"3,warning:syncookies_disabled critical:syn_queue_full:$port info:listener_drops:$port" \
				"$name: exit 3; syncookies_disabled, critical syn_queue_full, info listener_drops"
			t_is "$(ck '.findings[] | select(.id == "syn_queue_full") | .fix')" \
				"ip netns exec $SRV sysctl -w net.ipv4.tcp_syncookies=1" "$name: fix: turn cookies on"
			# The same report as text.
			synacct_check --ports $port
			t_is "$CK_RC" 3 "$name, text: exit 3"
			t_is "$(sed -n 's/^  \(info\|warning\|critical\) *\([a-z_]*\): .*/\1:\2/p' <<<"$CK_OUT" | paste -sd' ')" \
				"warning:syncookies_disabled critical:syn_queue_full info:listener_drops" \
				"$name, text: the same findings in the same order"
			t_like "$CK_OUT" $'\n  :: +'"$port +$srv"$' +lab_server +16 +17 +0 +183\n' \
				"$name, text: the listener's row: backlog 16, synq 17, drops 183"
			t_like "$CK_OUT" $'\nStatus: critical$' "$name, text: Status: critical"
		else
			t_is "$(ck '.listeners[0].listener_sk_drops')" 0 "$name: nothing dropped"
			t_is "$CK_RC,$(ck_findings)" "3,warning:syn_queue_full:$port" \
				"$name: exit 3; warning syn_queue_full (the overflow gets cookies)"
		fi
		lab_server_stop $srv $cnt
	done
}

# A SYN queue at its backlog is not full yet: 16 spoofed SYNs at backlog
# 16 wait half-open, and a 17th would still be queued (the kernel's test
# is '>', not '>='): no finding, no cookie, nothing dropped.
sc_syn_queue_at_backlog() {
	local name="SYN queue at its backlog" port=9012 srv cnt out
	lab_server $port --backlog 16 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	lab_nstat "$SRV" >"$LAB_DIR/srv.0"
	out=$(lab_flood --to $SRV_IP4 --port $port --count 16 --src-net $SPOOF_NET4)
	sleep 0.2
	lab_nstat "$SRV" >"$LAB_DIR/srv.1"
	synacct_check --json --ports $port
	t_is "$out" "sent=16" "$name: the flood sent 16 SYNs"
	t_is "$(ck '.listeners[0].syn_queue_len'),$(lab_ss_count "$SRV" syn-recv $port)" "16,16" \
		"$name: syn_queue_len 16 == ss state syn-recv"
	t_is "$(nstat_delta "$LAB_DIR/srv.0" "$LAB_DIR/srv.1" TcpExtSyncookiesSent),$(ck '.listeners[0].listener_sk_drops')" \
		"0,0" "$name: no cookie sent (nstat), nothing dropped"
	t_is "$CK_RC,$(ck_findings),$(ck .status)" "0,,ok" "$name: exit 0, no finding, status ok"
	lab_server_stop $srv $cnt
}

# Hostile names: a listener that names itself with escape sequences,
# a bidi override and invalid UTF-8 (any user can, through
# /proc/self/comm), in a namespace whose name does the same and holds
# shell syntax.  Nothing reaches the terminal raw, the JSON is valid UTF-8
# for a strict parser, and the printed fix, run by a shell, does exactly
# what it says in exactly that namespace.
sc_hostile_names() {
	local name HNS COMM hpid fix out
	name="hostile names"
	# Escaping is synacct's own, not the kernel's: where there is no
	# Python (the VM's initramfs) there is nothing to check it with.
	if ! command -v python3 >/dev/null; then
		t_skip "$name" "tool: python3 is not installed (the hostile listener and the strict UTF-8 reader are Python)"
		return
	fi
	HNS=$'sa-'$$$'-\x1b[2J x\'";$(false)\xff'
	lab_netns_add "$HNS"
	ip -n "$HNS" link set lo up
	lab_sysctl "$HNS" net.core.somaxconn=8
	lab_sysctl "$HNS" net.ipv4.tcp_syncookies=0
	COMM='\x1b[2J\xff\xc3(\xe2\x80\xaeok\\'	# 13 bytes, as a Python bytes literal
	lab_bg "$HNS" python3 -c '
import socket, sys, time
open("/proc/self/comm", "wb").write(b"'"$COMM"'")
s = socket.socket()
s.bind(("127.0.0.1", 9060))
s.listen(4096)
open(sys.argv[1], "w").write("ready")
time.sleep(120)' "$LAB_DIR/hostile.ready"
	hpid=$LAB_LAST_PID
	lab_wait_file "$LAB_DIR/hostile.ready" || echo "# the hostile listener did not start"
	t_is "$(od -An -tx1 /proc/$hpid/comm | tr -d ' \n')" "1b5b324affc328e280ae6f6b5c0a" \
		"$name: the listener's comm is the hostile 13 bytes"

	CK_OUT=$("$SYNACCT" check --netns "$HNS" 2>"$LAB_DIR/check.err"); CK_RC=$?
	printf '%s' "$CK_OUT" >"$LAB_DIR/hostile.txt"
	t_is "$CK_RC" 3 "$name, text: exit 3 (syncookies off, backlog clamped)"
	t_is "$(tr -d '\n\t\040-\176' <"$LAB_DIR/hostile.txt" | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1 && echo valid)" valid \
		"$name, text: valid UTF-8"
	t_is "$(LC_ALL=C tr -d '\n\040-\176' <"$LAB_DIR/hostile.txt" | wc -c)" 0 \
		"$name, text: nothing but printable ASCII and newlines (no ESC, no raw bidi, no invalid bytes)"
	t_like "$CK_OUT" $'^synacct check  netns sa-'$$$'-\\\\x1b\\[2J x\'";\\$\\(false\\)\\\\xff\n' \
		"$name, text: the namespace's name escaped in the header"
	t_like "$CK_OUT" $'\n  127\\.0\\.0\\.1 +9060 +'"$hpid"' +\\x1b\[2J\\xff\\xc3\(\\xe2\\x80\\xaeok\\\\ +8 ' \
		"$name, text: the process name escaped in the listener row"
	t_like "$CK_OUT" 'backlog_clamped: port 9060 \(127\.0\.0\.1, \\x1b\[2J\\xff\\xc3\(\\xe2\\x80\\xaeok\\\\ pid '"$hpid"'\)' \
		"$name, text: the process name escaped in the finding"

	CK_OUT=$("$SYNACCT" check --netns "$HNS" --json 2>"$LAB_DIR/check.err"); CK_RC=$?
	printf '%s' "$CK_OUT" >"$LAB_DIR/hostile.json"
	t_is "$(python3 - "$LAB_DIR/hostile.json" "$HNS" "$hpid" <<'PY'
import json, os, sys
raw = open(sys.argv[1], "rb").read()
doc = json.loads(raw.decode("utf-8", errors="strict"))  # strict: raw controls rejected too
ns = os.fsencode(sys.argv[2]).decode("utf-8", errors="backslashreplace")
(l,) = [l for l in doc["listeners"] if l["port"] == 9060]
fix = [f["fix"] for f in doc["findings"] if f["id"] == "syncookies_disabled"][0]
print(doc["netns"] == ns, l["pid"] == int(sys.argv[3]),
      l["comm"] == "\x1b[2J\\xff\\xc3(\u202eok\\", fix.isascii() and fix.isprintable())
PY
	)" "True True True True" \
		"$name, JSON: strict parser reads it; netns and comm are the names with invalid bytes as \\xNN; the fix is printable ASCII"
	fix=$(ck '.findings[] | select(.id == "syncookies_disabled") | .fix')
	t_like "$fix" "^ip netns exec \\\$'sa-$$-\\\\x1b\\[2J x\\\\'\";\\\$\\(false\\)\\\\xff' sysctl -w net.ipv4.tcp_syncookies=1$" \
		"$name: the fix quotes the namespace for the shell (\$'...')"
	bash -c "$fix" >/dev/null 2>&1
	t_is "$?,$(ip netns exec "$HNS" sysctl -n net.ipv4.tcp_syncookies),$(ip netns exec "$SRV" sysctl -n net.ipv4.tcp_syncookies)" "0,1,1" \
		"$name: the fix, run by bash, sets tcp_syncookies=1 in exactly that namespace"

	# The monitor prints the same names: the table header, the JSON records
	# and its error lines.
	out=$("$SYNACCT" --netns "$HNS" --iface lo --no-xdp --no-stack --duration 0.2 2>&1)
	t_like "$out" $'\nsynacct summary  netns sa-'$$$'-\\\\x1b\\[2J x\'";\\$\\(false\\)\\\\xff  iface lo' \
		"$name: table header escapes the namespace"
	"$SYNACCT" --netns "$HNS" --iface lo --no-xdp --no-stack --duration 0.2 --json >"$LAB_DIR/hostile-run.json" 2>&1
	t_is "$(python3 -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], "rb").read().decode("utf-8", "strict").splitlines()]
print(recs[0]["type"], recs[-1]["type"], all(r["netns"].endswith("\\xff") and "\x1b" in r["netns"] for r in recs))' "$LAB_DIR/hostile-run.json")" \
		"start summary True" "$name: JSON records (start ... summary) are valid UTF-8 with the namespace's name"
	out=$("$SYNACCT" --netns "$HNS" --iface nope0 2>&1)
	t_is "$(LC_ALL=C tr -d '\n\040-\176' <<<"$out" | wc -c)" 0 "$name: error line is printable ASCII"
	t_like "$out" $'^synacct: interface nope0 not found in network namespace sa-'$$$'-\\\\x1b\\[2J' \
		"$name: error line names the namespace, escaped"
	kill "$hpid"
}

run() {	# run ARGS...: OUT, ERR, RC of synacct check
	OUT=$("$SYNACCT" check "$@" 2>"$LAB_DIR/err")
	RC=$?
	ERR=$(cat "$LAB_DIR/err")
}

# Bad input: one line, the right exit status.
sc_bad_input() {
	local bad
	run --netns sa-no-such-ns
	t_is "$RC" 2 "unknown namespace: exit 2"
	t_like "$ERR" "^synacct: network namespace 'sa-no-such-ns' not found" "unknown namespace: names it"
	run --netns /etc/hostname
	t_is "$RC" 2 "not a namespace: exit 2"
	for bad in "--ports 70000" "--ports ,80" "--ports 90-80" "--ports abc" "--bogus" "extra"; do
		run --netns "$SRV" $bad
		t_is "$RC" 2 "usage error '$bad': exit 2"
	done
	t_like "$ERR" "^synacct check: unexpected argument 'extra'" "usage error: names the subcommand and the argument"
	if command -v setpriv >/dev/null; then
		OUT=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
			"$SYNACCT" check --netns "$SRV" 2>&1)
		RC=$?
		t_is "$RC" 1 "unprivileged: exit 1"
		t_like "$OUT" "insufficient privileges" "unprivileged: says which privileges"
	fi
}

# check_schema FILE: every violation of docs/check.md's JSON by a `check
# --json` document, one per line; nothing when it conforms.  The names come
# from docs/check.md itself (its sysctl table, the listener table's JSON
# keys, the finding ids), the types from its text: a key missing, one the
# docs do not have, or a value of another type is a line.
check_schema() {
	local doc=$SA_ROOT/docs/check.md settings lkeys ids
	settings=$(sed -n 's/^| `\(net\.[a-z0-9_.]*\)` | \([a-z]*\) |.*/\1=\2/p' "$doc" | jq -Rn '[inputs | split("=") | {(.[0]): .[1]}] | add')
	lkeys=$(sed -n '/^## Listeners/,/^## /p' "$doc" | grep '^| `' | cut -d'|' -f2 | grep -o '`[a-z_]*`' | tr -d '`' | jq -Rn '[inputs]')
	ids=$(sed -n '/^## Findings/,/^## /p' "$doc" | grep '^| `' | cut -d'|' -f2 | grep -o '`[a-z_]*`' | tr -d '`' | jq -Rn '[inputs]')
	jq -r --argjson S "$settings" --argjson L "$lkeys" --argjson F "$ids" '
	def bad($what): "\($what)";
	def isint: type == "number" and . == floor and . >= 0;
	def keyset($want; $where): (($want - keys) | map("\($where): missing \(.)")[]),
		((keys - $want) | map("\($where): not in docs/check.md: \(.)")[]);
	# which listener keys may be null (no visible owner), and the types
	def ltype($k): {addr: "string", port: "port", family: "family", pid: "int|null",
		comm: "string|null", inode: "int", accept_backlog: "int", syn_queue_len: "int",
		accept_queue_len: "int", listener_sk_drops: "int"}[$k] // "undocumented type";
	def conforms($t): if $t == "int" then isint elif $t == "int|null" then (. == null or isint)
		elif $t == "string" then type == "string" and length > 0
		elif $t == "string|null" then (. == null or type == "string")
		elif $t == "port" then (isint and . >= 1 and . <= 65535)
		elif $t == "family" then IN("ipv4", "ipv6") else false end;
	keyset(["type", "netns", "settings", "listeners", "findings", "status"]; "top"),
	(if .type != "check" then "type: \(.type)" else empty end),
	(if (.netns | type) != "string" and .netns != null then "netns: \(.netns | type)" else empty end),
	(if (.status | IN("ok", "warning", "critical")) | not then "status: \(.status)" else empty end),
	(.settings | if type != "object" then "settings: \(type)" else
		keyset($S | keys; "settings"),
		(to_entries[] | .key as $k | .value |
			keyset(["value", "meaning", "scope"]; "settings.\($k)"),
			(if (.value | . == null or isint) | not then "settings.\($k).value: \(.value | tojson)" else empty end),
			(if (.meaning | type) != "string" or .meaning == "" then "settings.\($k).meaning: \(.meaning | tojson)" else empty end),
			(if .scope != $S[$k] then "settings.\($k).scope: \(.scope), docs: \($S[$k])" else empty end))
		end),
	(.listeners | if type != "array" then "listeners: \(type)" else
		(to_entries[] | .key as $i | .value | keyset($L; "listeners[\($i)]"),
			(to_entries[] | .key as $k | select(.value | conforms(ltype($k)) | not) |
				"listeners[\($i)].\($k): \(.value | tojson) is not \(ltype($k))"))
		end),
	(.findings | if type != "array" then "findings: \(type)" else
		(to_entries[] | .key as $i | .value |
			(if has("port") then keyset(["severity", "id", "message", "fix", "port", "addr"]; "findings[\($i)]")
			 else keyset(["severity", "id", "message", "fix"]; "findings[\($i)]") end),
			(if (.severity | IN("info", "warning", "critical")) | not then "findings[\($i)].severity: \(.severity)" else empty end),
			(if (.id | IN($F[])) | not then "findings[\($i)].id: \(.id) not in docs/check.md" else empty end),
			(if (.message | type) != "string" or .message == "" then "findings[\($i)].message: \(.message | tojson)" else empty end),
			(if (.fix | type) != "string" or .fix == "" then "findings[\($i)].fix: \(.fix | tojson)" else empty end),
			(if has("port") and ((.port | conforms("port")) and (.addr | conforms("string")) | not) then
				"findings[\($i)]: port \(.port | tojson), addr \(.addr | tojson)" else empty end))
		end)' "$1"
}

# The JSON document against docs/check.md, key by key and type by type:
# with listeners of both families and findings about settings and about
# a listener, so that every shape is there to be checked.
sc_json_schema() {
	local name="check --json schema" srv1 cnt1 srv2 cnt2 out
	lab_sysctl "$SRV" net.core.somaxconn=8
	lab_sysctl "$SRV" net.ipv4.tcp_syncookies=0
	lab_server 9001 --addr $SRV_IP4 --backlog 4 --accept all
	srv1=$LAB_SERVER_PID; cnt1=$LAB_SERVER_COUNT
	lab_server 9002 --backlog 100 --accept all
	srv2=$LAB_SERVER_PID; cnt2=$LAB_SERVER_COUNT
	synacct_check --json
	printf '%s\n' "$CK_OUT" >"$LAB_DIR/check.json"
	t_is "$CK_RC" 3 "$name: exit 3 (warnings)"
	t_is "$(ck '[(.settings | length), (.listeners | map(.family) | join("+")), (.findings | map(.id + (if has("port") then ":\(.port)" else "" end)) | join(" "))] | map(tostring) | join(" / ")')" \
		"$(sed -n 's/^| `\(net\.[a-z0-9_.]*\)` |.*/\1/p' "$SA_ROOT/docs/check.md" | wc -l) / ipv4+ipv6 / syncookies_disabled backlog_clamped:9002" \
		"$name: every documented setting, both families' listeners, a settings finding and a listener's"
	out=$(check_schema "$LAB_DIR/check.json")
	t_is "$out" "" "$name: every key docs/check.md documents, with its type, and no other"
	synacct_check --json --netns "/run/netns/$SRV" --ports 1
	printf '%s\n' "$CK_OUT" >"$LAB_DIR/check-empty.json"
	t_is "$(ck '[(.listeners | length), (.findings | map(.id) | join(" "))] | map(tostring) | join(" / ")')" \
		"0 / syncookies_disabled no_listeners" "$name, --netns PATH, no listener: no listeners, two findings"
	out=$(check_schema "$LAB_DIR/check-empty.json")
	t_is "$out" "" "$name, --netns PATH, no listener: conforms too"
	lab_server_stop $srv1 $cnt1
	lab_server_stop $srv2 $cnt2
}

lab_main "$@"
