#!/bin/bash
# SYN cookies during a run: cookies sent, validated, what they encoded, and
# which clients lost window scaling and SACK to them; exact against nstat
# and against what the clients' own sockets show.
# Each scenario runs in a lab of its own:
#   selftests/t/50-cookies.t [--list] [SCENARIO...]
. "$(dirname "$0")/../lib/lab.sh"

LAB_SCENARIOS=(flood_ipv4_mss1400_no_ts flood_ipv6_mss9000 forged_acks
	always_ipv4_ts always_ipv6_no_ts packet_flood)
# Listener verdicts: consume_skb's location (Linux 6.3+), or fexit or a
# kprobe on tcp_conn_request where the kernel allows them.
LAB_REQUIRE_HOOK=$LISTENER_HOOKS

# A spoofed flood against backlog 16 with tcp_syncookies=1.
flood_case() {	# flood_case FAMILY ADDR NET MSS TS_OPT WANT_MSS_KEY
	local fam=$1 addr=$2 net=$3 mss=$4 tsopt=$5 key=$6 port=$((8000 + $1))
	local name="cookie flood IPv$fam, MSS $mss${tsopt:+, no timestamps}"
	lab_sysctl "$SRV" net.ipv4.tcp_syncookies=1
	lab_server $port --backlog 16 --accept all
	local srv=$LAB_SERVER_PID cnt=$LAB_SERVER_COUNT
	scenario_begin --ports $port
	lab_flood --to "$addr" --port $port --count 200 --src-net "$net" --mss "$mss" $tsopt >/dev/null
	sleep 0.2
	scenario_end
	lab_server_stop $srv $cnt
	check_funnel "$name" $port
	local cookies
	cookies=$(summary syncookies_sent $port)
	t_is "$cookies" "$(srv_delta TcpExtSyncookiesSent)" "$name: syncookies_sent == SyncookiesSent"
	t_is "$(( cookies + $(summary syn_queued $port) ))" 200 "$name: cookies + queued == 200 SYNs"
	t_is "$(summary '.syncookies_mss | to_entries | map("\(.key)=\(.value)") | join(",")' $port)" \
		"$key=$cookies" "$name: every cookie encoded MSS $key"
	if [ -n "$tsopt" ]; then
		t_is "$(summary syncookies_no_ts $port)" "$cookies" "$name: every cookie went to a client without timestamps"
	else
		t_is "$(summary syncookies_no_ts $port)" 0 "$name: no cookie went to a client without timestamps"
	fi
	t_is "$(summary cookie_mode $port)" true "$name: the listener was in cookie mode"
	t_is "$(jq -r 'select(.type == "summary") | .tcp_syncookies' "$SA_OUT")" 1 "$name: tcp_syncookies reported"
}
sc_flood_ipv4_mss1400_no_ts() { flood_case 4 $SRV_IP4 $SPOOF_NET4 1400 --no-timestamps 1300; }

# The benchmark's flood (lab_synflood --packet: AF_PACKET frames, qdisc
# bypass, sendmmsg batches), more SYNs than --src-net has addresses
# (--reuse-sources), IPv4 and IPv6, with tcp_syncookies=2: every SYN is
# answered with a cookie and every one is counted at every stage.
sc_packet_flood() {
	local smac fam addr net n port name
	smac=$(ip -n "$SRV" -j link show dev "$SRV_IF" | jq -r '.[0].address')
	lab_sysctl "$SRV" net.ipv4.tcp_syncookies=2
	for fam in 4 6; do
		if [ $fam = 4 ]; then addr=$SRV_IP4 net=198.19.0.0/24 n=70000
		else addr=$SRV_IP6 net=2001:db8:ff::/120 n=5000; fi
		port=$((8100 + fam))
		name="packet flood IPv$fam, $n SYNs"
		lab_server $port --backlog 16 --accept none
		local srv=$LAB_SERVER_PID cnt=$LAB_SERVER_COUNT rx0 rx
		lab_oracle "$CLI"
		lab_oracle_count "$CLI" synacks in "tcp sport $port $LAB_SYNACK"
		rx0=$(lab_link_stat "$SRV" "$SRV_IF" rx packets)
		scenario_begin --ports $port
		t_is "$(lab_flood --to "$addr" --port $port --count $n --src-net "$net" --reuse-sources \
			--packet "$CLI_IF" --dst-mac "$smac")" "sent=$n" "$name: all sent"
		sleep 0.2
		scenario_end
		rx=$(( $(lab_link_stat "$SRV" "$SRV_IF" rx packets) - rx0 ))
		lab_server_stop $srv $cnt
		check_funnel "$name" $port
		t_is "$(summary '[.nic_syn, .tc_syn, .listener_syn, .syncookies_sent, .synack_sent] | join(",")' $port)" \
			"$n,$n,$n,$n,$n" "$name: nic_syn, tc_syn, listener_syn, syncookies_sent, synack_sent"
		t_is "$(srv_delta TcpExtSyncookiesSent)" $n "$name: SyncookiesSent (nstat)"
		# Outside oracles: the frames the server's veth received, the
		# SYN-ACKs the client namespace got back (cookies: never
		# retransmitted, none comes after synacct stops).
		t_is "$(summary nic_syn $port)" "$rx" "$name: nic_syn == the server veth's rx packets (ip -s link)"
		t_is "$(summary synack_sent $port)" "$(lab_oracle_get "$CLI" synacks)" \
			"$name: synack_sent == the SYN-ACKs the client namespace received (nft counter)"
		lab_oracle_del "$CLI"
	done
}
sc_flood_ipv6_mss9000() { flood_case 6 $SRV_IP6 $SPOOF_NET6 9000 "" 8940; }

# Forged cookie ACKs: after a flood made the listener send cookies, bare
# ACKs with random numbers fail the cookie check; each is counted on its
# port, exactly.
sc_forged_acks() {
	local fam name port addr net srv cnt
	lab_sysctl "$SRV" net.ipv4.tcp_syncookies=1
	for fam in 4 6; do
		name="forged cookie ACKs IPv$fam"
		port=$((8050 + fam))
		addr=$SRV_IP4; net=$SPOOF_NET4
		[ $fam = 6 ] && addr=$SRV_IP6 && net=$SPOOF_NET6
		lab_server $port --backlog 16 --accept all
		srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
		scenario_begin --ports $port
		lab_flood --to "$addr" --port $port --count 100 --src-net "$net" >/dev/null
		lab_flood --to "$addr" --port $port --count 30 --src-net "$net" --ack >/dev/null
		sleep 0.2
		scenario_end
		lab_server_stop $srv $cnt
		check_funnel "$name" $port
		t_is "$(srv_delta TcpExtSyncookiesFailed)" 30 "$name: the kernel failed 30 cookies"
		t_is "$(summary syncookies_failed $port)" 30 "$name: syncookies_failed == 30 on the port"
		t_is "$(summary syncookies_recv $port)" 0 "$name: none validated"
	done
}

# tcp_syncookies=2 with real clients: every handshake by cookie.  A client
# without timestamps gets a cookie that cannot carry window scaling: its
# own socket shows none, while a client with timestamps keeps it.
always_case() {	# always_case FAMILY ADDR CLIENT_TIMESTAMPS
	local fam=$1 addr=$2 ts=$3 port=$((8100 + $1))
	local name="tcp_syncookies=2 IPv$fam, client timestamps=$ts"
	lab_sysctl "$SRV" net.ipv4.tcp_syncookies=2
	lab_sysctl "$CLI" net.ipv4.tcp_timestamps=$ts
	lab_server $port --accept all
	local srv=$LAB_SERVER_PID cnt=$LAB_SERVER_COUNT
	scenario_begin --ports $port
	lab_client --to "$addr" --port $port --count 20 --send 10 --hold-ms 1500 >"$LAB_DIR/out" &
	local cl=$!
	sleep 0.8
	local est wscale
	est=$(ip netns exec "$CLI" ss -Htn state established "( dport = :$port )" | wc -l)
	wscale=$(ip netns exec "$CLI" ss -Htin state established "( dport = :$port )" | grep -c 'wscale:')
	wait $cl
	sleep 0.2
	scenario_end
	lab_server_stop $srv $cnt
	check_funnel "$name" $port
	t_is "$(cat "$LAB_DIR/out")" "connected=20 failed=0" "$name: 20 clients connected"
	t_is "$(summary syncookies_sent $port),$(summary syn_queued $port)" "20,0" "$name: 20 cookies, nothing queued"
	t_is "$(summary syncookies_recv $port)" "$(srv_delta TcpExtSyncookiesRecv)" "$name: syncookies_recv == SyncookiesRecv"
	t_is "$(summary syncookies_recv $port),$(summary established $port),$LAB_ACCEPTED" "20,20,20" \
		"$name: 20 cookies validated, established and accepted"
	t_is "$est" 20 "$name: the clients hold 20 established sockets"
	if [ "$ts" = 0 ]; then
		t_is "$(summary syncookies_no_ts $port)" 20 "$name: syncookies_no_ts == 20"
		t_is "$wscale" 0 "$name: no client socket has window scaling (ss -ti)"
	else
		t_is "$(summary syncookies_no_ts $port)" 0 "$name: syncookies_no_ts == 0"
		t_is "$wscale" 20 "$name: every client socket kept window scaling (ss -ti)"
	fi
}
sc_always_ipv4_ts() { always_case 4 $SRV_IP4 1; }
sc_always_ipv6_no_ts() { always_case 6 $SRV_IP6 0; }

lab_main "$@"
