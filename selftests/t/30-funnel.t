#!/bin/bash
# The funnel, scenario by scenario: every figure synacct reports equals the
# lab's ground truth (SYNs sent, connections made and accepted) and the
# server namespace's own counters (nstat), with nothing unexplained; the
# floods' also what the lab saw without synacct (lab.sh, "outside
# oracles"): the server veth's rx packets, ss, and nft counters in the
# client namespace of the SYNs it sent and the SYN-ACKs and RSTs it got.
# Each scenario runs in a lab of its own:
#   selftests/t/30-funnel.t [--list] [SCENARIO...]
. "$(dirname "$0")/../lib/lab.sh"

LAB_SCENARIOS=(accept_overflow syn_flood_no_cookies syn_flood_cookies
	syncookies_always closed_port nft_input_drop bad_checksum
	ack_accept_full two_ports healthy_server ipv6_hop_by_hop
	synack_output_drop port_scan cpu_split fastopen)
# Listener verdicts: consume_skb's location (Linux 6.3+), or fexit or a
# kprobe on tcp_conn_request where the kernel allows them.
LAB_REQUIRE_HOOK=$LISTENER_HOOKS

FAMILIES="4 6"
addr_of() { [ "$1" = 4 ] && echo $SRV_IP4 || echo $SRV_IP6; }
spoof_of() { [ "$1" = 4 ] && echo $SPOOF_NET4 || echo $SPOOF_NET6; }

# nft_packets: the packets counted by every nftables rule of the server.
nft_packets() {
	ip netns exec "$SRV" nft -j list ruleset |
		jq '[.nftables[] | .rule? // empty | .expr[] | .counter? // empty | .packets] | add'
}

# Accept queue overflow: backlog 4, nobody accepts, 5 + 25 clients.
sc_accept_overflow() {
	local fam name port srv cnt out accepted connected sent t0 t1 t2 t3 age
	for fam in $FAMILIES; do
		name="accept queue overflow IPv$fam"
		port=$((8100 + fam))
		lab_server $port --backlog 4 --accept none
		srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
		scenario_begin
		t0=$EPOCHREALTIME	# before the first connection's handshake
		# Five clients one at a time fill the accept queue, then 25 at
		# once find it full: their SYNs are dropped at the listener
		# whatever the machine's speed.  (30 at once on a slow machine,
		# QEMU TCG, queued every SYN before the first handshake ended,
		# and the overflow moved to the handshake ACKs.)
		out=$(lab_client --to "$(addr_of $fam)" --port $port --count 5 --parallel 1)
		connected=${out#connected=}; connected=${connected%% *}
		t1=$EPOCHREALTIME	# after it: it completed in between
		out=$(lab_client --to "$(addr_of $fam)" --port $port --count 25 --timeout-ms 2500)
		t2=$EPOCHREALTIME	# before synacct's last reading
		scenario_end
		lab_server_stop $srv $cnt; accepted=$LAB_ACCEPTED
		out=${out#connected=}; connected=$((connected + ${out%% *}))
		sent=$(cli_sent)
		check_funnel "$name" $port
		t_is "$(summary nic_syn $port)" "$sent" "$name: nic_syn == SYNs the clients sent"
		t_is "$(summary tc_syn $port)" "$sent" "$name: tc_syn == SYNs the clients sent"
		t_is "$(summary listener_syn $port)" "$sent" "$name: every SYN reached the listener"
		t_is "$(summary listen_drops.accept_queue_full $port)" "$(srv_delta TcpExtListenOverflows)" \
			"$name: accept_queue_full == ListenOverflows"
		t_is "$(summary listen_drops.accept_queue_full $port)" "$((sent - connected))" \
			"$name: accept_queue_full == SYNs sent - connections made"
		t_is "$(summary established $port)" "$connected" "$name: established == connections made"
		t_is "$(summary syn_queued $port)" "$connected" "$name: syn_queued == connections made"
		t_is "$connected" 5 "$name: backlog 4 holds 5 connections"
		t_is "$(summary accepted $port)" "$accepted" "$name: accepted == what the server accepted (0)"
		# The 25 clients retried until their timeout, every SYN dropped
		# by the full accept queue: 1 s apart for the first
		# tcp_syn_linear_timeouts retries where the client kernel has
		# the sysctl (6.18), else 1 s then 2 s.
		check_retries "$name" $port accept_queue_full 25
		check_retry_wait "$name" $port
		t_is "$(summary '[.accept_queue_len, .accept_backlog] | join("/")' $port)" "5/4" \
			"$name: accept queue 5/4 at the end"
		t_like "$(summary verdict.text $port)" "^accept queue full \(backlog 4\)" "$name: verdict"
		# Queue age: the head is the first connection, which completed
		# between t0 and t1 and was still queued at the last reading,
		# taken after t2 and before the summary record's time t3.
		# Orders the test saw, not timer races; one jiffy (<= 10 ms)
		# either side for lsndtime's resolution.
		t3=$(date -d "$(jq -r 'select(.type == "summary") | .time' "$SA_OUT")" +%s.%N)
		age=$(summary accept_queue_oldest_age_seconds $port)
		! kernel_hz_known &&
			t_skip "$name: accept_queue_oldest_age_seconds" "$KERNEL_HZ_UNKNOWN" ||
		t_is "$(awk -v a="$age" -v t0="$t0" -v t1="$t1" -v t2="$t2" -v t3="$t3" 'BEGIN {
			lo = t2 - t1; hi = t3 + 0.001 - t0
			printf "# accept_queue_oldest_age_seconds %s, bounds [%.3f, %.3f]\n", a, lo, hi > "/dev/stderr"
			print (a != "null" && a >= lo - 0.01 && a <= hi + 0.01) ? "ok" : a " not in [" lo ", " hi "]" }')" ok \
			"$name: accept_queue_oldest_age_seconds within [last reading - first connected, summary time - first connect]"
		t_is "$(summary verdict.id $port),$(summary verdict.severity $port),$(summary verdict.stage $port)" \
			"accept_queue_full,critical,stack" "$name: verdict id accept_queue_full, severity critical, stage stack"
		# ListenOverflows counts SYNs and handshake ACKs the full
		# accept queue dropped: the verdict's figure is both.
		t_is "$(summary verdict.count $port)" "$(srv_delta TcpExtListenOverflows)" \
			"$name: verdict count == ListenOverflows"
		t_is "$(jq -r --argjson p $port 'select(.type == "summary") | [.listeners[] | select(.port == $p) |
			[.addr, .family, .accept_queue_len, .accept_backlog, .syn_queue_len, .listener_sk_drops] | join(",")] | join(";")' "$SA_OUT")" \
			"::,ipv6,5,4,0,$(srv_delta TcpExtListenDrops)" \
			"$name: the listening socket itself: [::], 5/4 queued, ListenDrops drops"
	done
}

# A spoofed SYN flood against backlog 16, without and with cookies.
# Outside oracles: the server veth's rx packets, ss's SYN-RECV sockets,
# and in the client namespace, where the SYN-ACKs to the spoofed sources
# come back and die, an nft counter of them and a set of the flows they
# answered.  Synacct stops after every request sock's first SYN-ACK
# retransmission (1 s after its SYN) and before the second (3 s): no
# SYN-ACK leaves between its last reading and the counters'.
syn_flood() {	# syn_flood TCP_SYNCOOKIES
	local cookies=$1 fam name port srv cnt out queued rx0 rx rtx synrecv synacks answered
	lab_sysctl "$SRV" net.ipv4.tcp_syncookies=$cookies
	for fam in $FAMILIES; do
		name="SYN flood, tcp_syncookies=$cookies, IPv$fam"
		port=$((8200 + 10 * cookies + fam))
		lab_server $port --backlog 16 --accept all
		srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
		lab_oracle "$CLI"
		lab_oracle_count "$CLI" synacks in "tcp sport $port $LAB_SYNACK"
		lab_oracle_flows "$CLI" answered in $fam "tcp sport $port $LAB_SYNACK"
		rx0=$(lab_link_stat "$SRV" "$SRV_IF" rx packets)
		scenario_begin
		out=$(lab_flood --to "$(addr_of $fam)" --port $port --count 200 --src-net "$(spoof_of $fam)")
		lab_wait_synack_retrans "$SRV" $port "$LAB_DIR/srv.0"; rtx=$?
		scenario_end
		synrecv=$(lab_ss_count "$SRV" syn-recv $port)
		rx=$(( $(lab_link_stat "$SRV" "$SRV_IF" rx packets) - rx0 ))
		synacks=$(lab_oracle_synacks "$CLI" synacks "$SRV" "$LAB_DIR/srv.1")
		answered=$(lab_oracle_get "$CLI" answered)
		lab_oracle_del "$CLI"
		lab_server_stop $srv $cnt
		check_funnel "$name" $port
		t_is "$out" "sent=200" "$name: the flood sent 200 SYNs"
		t_is "$(summary nic_syn $port),$(summary tc_syn $port),$(summary listener_syn $port)" \
			"200,200,200" "$name: nic_syn, tc_syn, listener_syn == 200"
		t_is "$(summary nic_syn $port)" "$rx" "$name: nic_syn == the server veth's rx packets (ip -s link)"
		queued=$(summary syn_queued $port)
		t_is "$queued" "$(summary syn_queue_len $port)" "$name: syn_queued == SYN queue length (iterator)"
		t_is "$queued" "$synrecv" "$name: syn_queued == the SYN-RECV sockets ss lists in the server namespace"
		t_is "$(( queued + $(summary syncookies_sent $port) ))" "$answered" \
			"$name: syn_queued + syncookies_sent == flows the client namespace got a SYN-ACK for (nft set)"
		if [ $cookies = 0 ]; then
			t_is "$(summary listen_drops.syn_queue_full $port)" "$(srv_delta TcpExtTCPReqQFullDrop)" \
				"$name: syn_queue_full == TCPReqQFullDrop"
			t_is "$(summary listen_drops.syn_queue_full $port)" "$((200 - queued))" \
				"$name: syn_queue_full == 200 - syn_queued"
			t_is "$(summary syncookies_sent $port)" 0 "$name: no cookies"
			t_like "$(summary verdict.text $port)" "^SYN queue full without SYN cookies" "$name: verdict"
		else
			t_is "$(summary syncookies_sent $port)" "$(srv_delta TcpExtSyncookiesSent)" \
				"$name: syncookies_sent == SyncookiesSent"
			t_is "$(summary syncookies_sent $port)" "$((200 - queued))" \
				"$name: syncookies_sent == 200 - syn_queued"
			t_is "$(summary '.listen_drops | [.[]] | add' $port)" 0 "$name: no listen drops"
			t_like "$(summary verdict.text $port)" "^no loss; [0-9]+ SYNs answered with SYN cookies" "$name: verdict"
		fi
		t_is "$rtx" 0 "$name: every request sock's first SYN-ACK retransmission went out while synacct ran"
		t_is "$(summary synack_retrans $port)" "$(srv_delta TcpExtTCPSynRetrans)" \
			"$name: synack_retrans == TCPSynRetrans"
		# Queue age: every request sock of the flood was read at the
		# last reading, each retransmitted once (rtx 0 above).
		t_is "$(summary half_open_synack_retrans.count $port),$(summary half_open_age_seconds.count $port)" \
			"$(summary syn_queue_len $port),$(summary syn_queue_len $port)" \
			"$name: half-open requests read == syn_queue_len, all timed"
		t_is "$(summary half_open_synack_retrans.sum $port)" "$(srv_delta TcpExtTCPSynRetrans)" \
			"$name: half-open requests' SYN-ACK retransmissions add up to TCPSynRetrans"
		t_is "$(summary '.half_open_synack_retrans.buckets | [.["0"], .["1"], .["+Inf"]] | join(",")' $port)" \
			"0,$queued,$queued" "$name: each half-open request retransmitted its SYN-ACK once"
		t_is "$(summary '.half_open_age_seconds | [.buckets["3"], .buckets["+Inf"], .count] | join(",")' $port)" \
			"$queued,$queued,$queued" "$name: half-open ages within 3 s of the first SYN-ACK (before the second retransmission)"
		t_is "$(summary synack_sent $port)" \
			"$(( $(summary syn_queued $port) + $(summary syncookies_sent $port) + $(summary synack_retrans $port) ))" \
			"$name: synack_sent == queued + cookies + retransmits"
		t_is "$(summary synack_sent $port)" "$synacks" \
			"$name: synack_sent == SYN-ACKs the client namespace received while synacct ran (nft counter, less TCPSynRetrans since)"
	done
}
sc_syn_flood_no_cookies() { syn_flood 0; }
sc_syn_flood_cookies() { syn_flood 1; }

# tcp_syncookies=2: every handshake by cookie, all established, accepted.
sc_syncookies_always() {
	local fam name port srv cnt out accepted
	lab_sysctl "$SRV" net.ipv4.tcp_syncookies=2
	for fam in $FAMILIES; do
		name="tcp_syncookies=2 IPv$fam"
		port=$((8300 + fam))
		lab_server $port --accept all
		srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
		scenario_begin
		out=$(lab_client --to "$(addr_of $fam)" --port $port --count 40 --parallel 10 --send 100)
		sleep 0.3
		scenario_end
		lab_server_stop $srv $cnt; accepted=$LAB_ACCEPTED
		check_funnel "$name" $port
		t_is "$out" "connected=40 failed=0" "$name: 40 clients connected"
		t_is "$(summary syncookies_sent $port),$(summary syn_queued $port)" "40,0" "$name: 40 cookies, nothing queued"
		t_is "$(srv_delta TcpExtSyncookiesRecv)" 40 "$name: SyncookiesRecv == 40"
		t_is "$(summary established $port)" 40 "$name: established == 40"
		t_is "$(summary accepted $port)" "$accepted" "$name: accepted == the server's count"
		t_is "$accepted" 40 "$name: the server accepted 40"
	done
}

# Closed port: NO_SOCKET.
sc_closed_port() {
	local fam name port out sent
	for fam in $FAMILIES; do
		name="closed port IPv$fam"
		port=$((8400 + fam))
		scenario_begin --ports $port
		out=$(lab_client --to "$(addr_of $fam)" --port $port --count 20)
		scenario_end
		sent=$(cli_sent)
		check_funnel "$name" $port
		t_is "$out" "connected=0 failed=20" "$name: every client refused"
		t_is "$(summary nic_syn $port)" "$sent" "$name: nic_syn == SYNs sent"
		t_is "$(summary stack_drops.NO_SOCKET $port)" "$sent" "$name: stack_drops.NO_SOCKET == SYNs sent"
		t_is "$(srv_delta TcpOutRsts)" "$sent" "$name: one RST per SYN (TcpOutRsts)"
		t_like "$(summary verdict.text $port)" "^no listener: $sent SYNs to a closed port" "$name: verdict"
	done
}

# nftables drop on the input hook: NETFILTER_DROP.
sc_nft_input_drop() {
	local port=8500 fam name srv cnt out before after sent
	ip netns exec "$SRV" nft -f - <<NFT
table inet synacct_test {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport $port tcp flags & (syn | ack) == syn counter drop
	}
}
NFT
	lab_server $port --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	for fam in $FAMILIES; do
		name="nftables input drop IPv$fam"
		scenario_begin --ports $port
		before=$(nft_packets)
		out=$(lab_client --to "$(addr_of $fam)" --port $port --count 10 --timeout-ms 1500)
		scenario_end
		after=$(nft_packets)
		sent=$(cli_sent)
		check_funnel "$name" $port
		t_is "$out" "connected=0 failed=10" "$name: no client got through"
		t_is "$(summary stack_drops.NETFILTER_DROP $port)" "$sent" "$name: NETFILTER_DROP == SYNs sent"
		t_is "$(summary stack_drops.NETFILTER_DROP $port)" "$((after - before))" "$name: NETFILTER_DROP == the nft rule's counter"
		t_like "$(summary verdict.text $port)" "^firewall: netfilter dropped $sent SYNs" "$name: verdict"
		check_retries "$name" $port netfilter_drop 10
	done
	lab_server_stop $srv $cnt
}

# Bad TCP checksum: TCP_CSUM.
sc_bad_checksum() {
	local fam name port srv cnt
	for fam in $FAMILIES; do
		name="bad checksum IPv$fam"
		port=$((8600 + fam))
		lab_server $port --accept all
		srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
		scenario_begin --ports $port
		lab_flood --to "$(addr_of $fam)" --port $port --count 50 --bad-csum --src-net "$(spoof_of $fam)" >/dev/null
		scenario_end
		lab_server_stop $srv $cnt
		check_funnel "$name" $port
		t_is "$(summary nic_syn $port)" 50 "$name: nic_syn == 50"
		t_is "$(summary stack_drops.TCP_CSUM $port)" 50 "$name: stack_drops.TCP_CSUM == 50"
		t_is "$(srv_delta TcpInCsumErrors)" 50 "$name: TcpInCsumErrors == 50"
		t_like "$(summary verdict.text $port)" "^bad TCP checksum: 50 SYNs dropped" "$name: verdict"
	done
}

# Accept queue full when the handshake's ACK arrives: hold the ACKs back
# with nftables while 6 clients connect (their request socks wait in the
# SYN queue), then let them through to a backlog of 2.
sc_ack_accept_full() {
	local port=8700 name="accept queue full at ACK time" srv cnt clients
	lab_server $port --backlog 2 --accept none
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	ip netns exec "$SRV" nft -f - <<NFT
table inet synacct_test {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport $port tcp flags & syn == 0 drop
	}
}
NFT
	scenario_begin --ports $port
	lab_client --to $SRV_IP4 --port $port --count 6 --send 10 --hold-ms 3000 >"$LAB_DIR/ack.out" &
	LAB_PIDS+=($!); clients=$!
	sleep 0.5
	ip netns exec "$SRV" nft delete table inet synacct_test
	wait $clients
	# Closing the listener ends the request socks' retries, so nothing
	# moves between synacct's stop and the last nstat reading.
	lab_server_stop $srv $cnt
	scenario_end
	check_funnel "$name" $port
	t_is "$(( $(summary syn_queued $port) + $(summary syncookies_sent $port) ))" 6 \
		"$name: all 6 SYNs answered (backlog 2: 3 queued, the rest by cookie)"
	t_is "$(summary established $port)" 3 "$name: 3 handshakes completed (backlog 2 holds 3)"
	t_is "$(summary established $port)" "$(srv_delta TcpPassiveOpens)" "$name: established == TcpPassiveOpens"
	t_is "$(summary ack_dropped_accept_full $port)" "$(srv_delta TcpExtListenOverflows)" \
		"$name: ack_dropped_accept_full == ListenOverflows"
	t_ok $(( $(summary ack_dropped_accept_full $port) >= 3 ? 0 : 1 )) \
		"$name: the 3 clients left over had their ACKs dropped ($(summary ack_dropped_accept_full $port))"
	t_like "$(summary verdict.text $port)" "^accept queue full at handshake completion \(backlog 2\)" "$name: verdict"
}

# Two ports, different faults, at once: figures stay per port, each
# against nft counters in the client namespace: the SYNs it sent to each
# port, the SYN-ACKs and RSTs it got back from each.
sc_two_ports() {
	local name="two ports" s1 c1 s2 c2 a2 p1 p2 p3 port
	lab_server 8801 --backlog 4 --accept none
	s1=$LAB_SERVER_PID; c1=$LAB_SERVER_COUNT
	lab_server 8802 --accept all
	s2=$LAB_SERVER_PID; c2=$LAB_SERVER_COUNT
	lab_oracle "$CLI"
	for port in 8801 8802 8803; do
		lab_oracle_count "$CLI" syn_$port out "tcp dport $port $LAB_SYN"
		lab_oracle_count "$CLI" synack_$port in "tcp sport $port $LAB_SYNACK"
		lab_oracle_count "$CLI" rst_$port in "tcp sport $port $LAB_RST"
	done
	scenario_begin --ports 8801-8803
	lab_client --to $SRV_IP4 --port 8801 --count 20 --timeout-ms 1500 >"$LAB_DIR/p1" &
	p1=$!
	lab_client --to $SRV_IP6 --port 8802 --count 50 --parallel 10 >"$LAB_DIR/p2" &
	p2=$!
	lab_client --to $SRV_IP4 --port 8803 --count 10 >"$LAB_DIR/p3" &
	p3=$!
	wait $p1 $p2 $p3
	scenario_end
	lab_server_stop $s1 $c1
	lab_server_stop $s2 $c2; a2=$LAB_ACCEPTED
	for port in 8801 8802 8803; do check_funnel "$name port $port" $port; done
	t_is "$(( $(summary listen_drops.accept_queue_full 8801) + $(summary ack_dropped_accept_full 8801) ))" \
		"$(srv_delta TcpExtListenOverflows)" \
		"$name: port 8801 carries all the ListenOverflows (SYNs and handshake ACKs)"
	t_is "$(summary '[.listen_drops[]] | add' 8802),$(summary '.stack_drops | length' 8802)" "0,0" \
		"$name: port 8802 lost nothing"
	t_is "$(summary accepted 8802)" "$a2" "$name: port 8802 accepted == server count"
	t_is "$(summary stack_drops.NO_SOCKET 8803)" "$(summary nic_syn 8803)" "$name: port 8803 all NO_SOCKET"
	t_is "$(( $(summary nic_syn 8801) + $(summary nic_syn 8802) + $(summary nic_syn 8803) ))" "$(cli_sent)" \
		"$name: SYNs over the three ports == SYNs sent"
	t_is "$(summary nic_syn 8801),$(summary nic_syn 8802),$(summary nic_syn 8803)" \
		"$(lab_oracle_get "$CLI" syn_8801),$(lab_oracle_get "$CLI" syn_8802),$(lab_oracle_get "$CLI" syn_8803)" \
		"$name: nic_syn of each port == the SYNs the client namespace sent to it (nft counters)"
	# The clients of 8802 all connected: no SYN-ACK of theirs was
	# retransmitted after synacct stopped (8801's still are).
	t_is "$(summary synack_sent 8802),$(summary synack_sent 8803)" \
		"$(lab_oracle_get "$CLI" synack_8802),$(lab_oracle_get "$CLI" synack_8803)" \
		"$name: synack_sent of ports 8802, 8803 == the SYN-ACKs the client namespace got from each (nft counters)"
	t_is "$(summary stack_drops.NO_SOCKET 8803)" "$(lab_oracle_get "$CLI" rst_8803)" \
		"$name: port 8803's NO_SOCKET == the RSTs the client namespace got from it (nft counter)"
	t_like "$(summary verdict.text 8801)" "^accept queue full" "$name: port 8801 verdict"
	t_is "$(summary verdict.text 8802)" "no loss" "$name: port 8802 verdict"
	t_like "$(summary verdict.text 8803)" "^no listener" "$name: port 8803 verdict"
}

# A healthy accepting server under load: no loss.  Its backlog is sized
# for the load: clients that close right after sending can complete
# handshakes faster than one process accepts on a 2-CPU machine.
sc_healthy_server() {
	local fam name port srv cnt out accepted sent
	for fam in $FAMILIES; do
		name="healthy server IPv$fam"
		port=$((8900 + fam))
		lab_server $port --accept all --backlog 1024
		srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
		scenario_begin --ports $port --interval 0.5
		out=$(lab_client --to "$(addr_of $fam)" --port $port --count 300 --parallel 30 --send 1000)
		synacct_wait_quiet	# an interval record read after the last connection
		scenario_end
		lab_server_stop $srv $cnt; accepted=$LAB_ACCEPTED
		sent=$(cli_sent)
		check_funnel "$name" $port
		t_is "$out" "connected=300 failed=0" "$name: 300 clients connected"
		t_is "$(summary nic_syn $port),$(summary tc_syn $port),$(summary listener_syn $port),$(summary syn_queued $port),$(summary established $port)" \
			"$sent,$sent,$sent,$sent,$sent" "$name: nic = tc = listener = queued = established = SYNs sent"
		t_is "$(summary accepted $port)" "$accepted" "$name: accepted == the server's count"
		t_is "$accepted" 300 "$name: the server accepted 300"
		! kernel_hz_known && t_skip "$name: accept queue empty at the end: oldest age 0" "$KERNEL_HZ_UNKNOWN" ||
		t_is "$(summary '[.accept_queue_len, .accept_queue_oldest_age_seconds] | join(",")' $port)" "0,0" \
			"$name: accept queue empty at the end: oldest age 0"
		t_is "$(summary verdict.text $port)" "no loss" "$name: verdict"
		t_is "$(summary verdict.id $port),$(summary verdict.severity $port)" "no_loss,ok" \
			"$name: verdict id no_loss, severity ok"
		t_is "$(interval_sum listener_syn $port),$(interval_sum syn_queued $port),$(interval_sum established $port),$(interval_sum accepted $port)" \
			"$sent,$sent,$sent,$accepted" "$name: the interval records add up to the summary"
	done
}

# IPv6 SYNs with a hop-by-hop options header, through every stage.
sc_ipv6_hop_by_hop() {
	local name="IPv6 hop-by-hop header" port=8960 srv cnt out
	lab_sysctl "$SRV" net.ipv4.tcp_syncookies=1
	lab_server $port --backlog 16 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	scenario_begin --ports $port
	out=$(lab_flood --to $SRV_IP6 --port $port --count 40 --src-net $SPOOF_NET6 --hbh)
	sleep 0.2
	scenario_end
	lab_server_stop $srv $cnt
	check_funnel "$name" $port
	t_is "$out" "sent=40" "$name: the flood sent 40 SYNs"
	t_is "$(summary nic_syn $port),$(summary tc_syn $port),$(summary listener_syn $port)" "40,40,40" \
		"$name: nic_syn, tc_syn, listener_syn == 40"
	t_is "$(( $(summary syn_queued $port) + $(summary syncookies_sent $port) ))" 40 \
		"$name: all 40 queued or answered with a cookie"
}

# SYN-ACKs dropped on the way out (an nftables output rule).  What the
# kernel does then: a SYN-ACK retransmission that fails drops the request
# sock (the client's next SYN is queued afresh), and tcp_retransmit_synack
# fires only for retransmissions that were sent.  So every SYN-ACK the
# rule dropped is one of: a first SYN-ACK (seen as
# unexplained.synack_sent < 0), a failed timer retransmission (one per
# request sock that never completed: syn_queued - established), or a
# failed retransmission answering a retransmitted SYN (that SYN is then
# freed as NOT_SPECIFIED).
sc_synack_output_drop() {
	local name="SYN-ACKs dropped on output" port=8970 srv cnt cl dropped sent
	lab_server $port --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	lab_drop_synacks_out $port
	lab_oracle "$CLI"
	lab_oracle_count "$CLI" synacks in "tcp sport $port $LAB_SYNACK"
	scenario_begin --ports $port
	lab_client --to $SRV_IP4 --port $port --count 5 --timeout-ms 6000 >"$LAB_DIR/out" &
	cl=$!
	sleep 2.5	# the clients retransmit their SYNs at 1 s and 2 s
	# An accept rule ahead of the drop rule freezes its counter before
	# it is read: SYN-ACKs the rule dropped between a reading and the
	# table's removal would be in synacct's figures and not in the reading.
	ip netns exec "$SRV" nft insert rule inet synacct_test output tcp sport $port accept
	dropped=$(nft_packets)
	ip netns exec "$SRV" nft delete table inet synacct_test
	wait $cl
	scenario_end
	lab_server_stop $srv $cnt
	sent=$(cli_sent)
	t_is "$(cat "$LAB_DIR/out")" "connected=5 failed=0" "$name: the 5 clients got through once the rule went"
	t_is "$(summary nic_syn $port),$(summary tc_syn $port)" "$sent,$sent" "$name: nic_syn, tc_syn == SYNs sent ($sent)"
	t_is "$(summary '.unexplained | [.nic_to_tc, .tc_to_listener, .at_listener] | join(",")' $port)" "0,0,0" \
		"$name: every SYN explained (listener, request sock or NOT_SPECIFIED)"
	t_is "$(summary syn_queued $port)" "$(summary listener_syn $port)" "$name: every SYN at the listener was queued"
	t_is "$(summary established $port),$LAB_ACCEPTED" "5,5" "$name: 5 established, 5 accepted"
	t_is "$(summary synack_retrans $port)" "$(srv_delta TcpExtTCPSynRetrans)" \
		"$name: synack_retrans == TCPSynRetrans (retransmissions that went out)"
	t_is "$(( -$(summary unexplained.synack_sent $port) + $(summary syn_queued $port) - $(summary established $port) + $(summary '.stack_drops.NOT_SPECIFIED // 0' $port) ))" \
		"$dropped" "$name: the rule's counter == first SYN-ACKs lost + failed retransmissions"
	t_is "$(summary synack_sent $port)" "$(lab_oracle_get "$CLI" synacks)" \
		"$name: synack_sent == the SYN-ACKs that reached the client namespace (nft counter there)"
	t_like "$(summary verdict.text $port)" "^SYN-ACKs lost on the way out" "$name: verdict"
	# Every client retried; its first SYN-ACK never reached TC egress,
	# so its first retry follows an attempt synacct saw no end of.
	t_is "$(summary syn_retries $port)" "$(cli_delta TcpExtTCPSynRetrans)" \
		"$name: syn_retries == the client namespace's TCPSynRetrans"
	t_is "$(summary '.syn_retry_attempt."1" // 0' $port),$(summary '[.syn_retries_after[]] | add // 0' $port)" \
		"5,$(summary syn_retries $port)" "$name: 5 first retries; every retry has a previous attempt's fate"
	t_ok $(( $(summary '.syn_retries_after.unseen // 0' $port) >= 5 ? 0 : 1 )) \
		"$name: at least the 5 first retries follow an unseen end (SYN-ACK dropped before TC)"
}

# A scan: one SYN to each of 20000 closed ports (more than a drop map of
# 16384 entries would hold).  Every port is accounted for on its own (none
# lost to a full map), and the sum is exact.
sc_port_scan() {
	local name="port scan" out hwm
	# A row for every port (--json-all-ports): each port is checked below.
	scenario_begin --interval 0.5 --json-all-ports
	# 10 000 SYN/s: a busy machine may hold off the receiving softirq
	# for tens of ms, and the veth's backlog (netdev_max_backlog, 1 000
	# by default) must not overflow before any hook sees the SYNs.
	out=$(lab_flood --to $SRV_IP4 --port 20000 --port-span 20000 --count 20000 --rate 10000 --src-net $SPOOF_NET4)
	synacct_wait_record "$(lab_now)"	# an interval record read after the last SYN
	hwm=$(awk '/^VmHWM/ { print $2 }' /proc/$SA_PID/status)
	scenario_end
	# Records are written port by port; built as one JSON tree, a record
	# for 20000 ports took synacct's peak RSS to ~98 MB (28 MB streamed).
	# ASan's shadow memory and quarantine make RSS meaningless in the
	# sanitizer build (make SANITIZE=1): the bound holds in the normal one.
	if [ -n "$SA_SANITIZED" ]; then
		echo "ok $((++T_NUM)) - $name: synacct's peak RSS # SKIP tool: synacct is a sanitizer build (make SANITIZE=1): ASan makes RSS meaningless (${hwm} kB)"
	else
		# A reading, not an empty one (synacct gone, no VmHWM): 0 < hwm.
		[[ $hwm =~ ^[0-9]+$ ]] && [ "$hwm" -gt 0 ] && [ "$hwm" -lt 65536 ]
		t_ok $? "$name: synacct's peak RSS stays under 64 MB (${hwm:-no reading} kB)"
	fi
	t_is "$out" "sent=20000" "$name: 20000 SYNs sent"
	t_is "$(jq -r 'select(.type == "summary") | [.ports[] | select(.port >= 20000 and .port < 40000)] |
		[length, (map(.nic_syn) | add), (map(.stack_drops.NO_SOCKET // 0) | add),
		 (map(select(.nic_syn == 1 and .tc_syn == 1 and .stack_drops.NO_SOCKET == 1 and
			     .unexplained.tc_to_listener == 0)) | length)] | join(",")' "$SA_OUT")" \
		"20000,20000,20000,20000" "$name: 20000 ports, each with 1 SYN at the NIC and at TC, 1 NO_SOCKET drop"
	t_is "$(srv_delta TcpOutRsts)" 20000 "$name: the kernel reset 20000 (TcpOutRsts)"
}

# synacct confined to one CPU while the SYNs are processed on another:
# every CPU still gets a MIB baseline, so every SYN is classified.
sc_cpu_split() {
	local name="synacct on CPU 0, SYNs on CPU 1" port=8950 srv cnt
	if [ "$(nproc)" -lt 2 ]; then
		echo "ok $((T_NUM += 1)) - # SKIP kernel: $(nproc) CPU online: cannot confine synacct apart from the traffic"
		return
	fi
	lab_server $port --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	SA_WRAP="taskset -c 0" scenario_begin --ports $port
	ip netns exec "$CLI" taskset -c 1 "$SA_BIN/lab_client" --to $SRV_IP4 --port $port --count 50 --parallel 5 >/dev/null
	scenario_end
	lab_server_stop $srv $cnt
	check_funnel "$name" $port
	t_is "$(summary listener_syn $port),$(summary syn_queued $port),$(summary established $port),$LAB_ACCEPTED" \
		"50,50,50,50" "$name: 50 SYNs reached the listener, were queued, established, accepted"
}

# TCP Fast Open: each SYN carries data, which the kernel queues on the
# child as a clone of the SYN (tcp_fastopen_add_skb).  Nobody accepts;
# stopping the server purges the children, and with them those clones:
# copies a socket held, not SYNs lost (counted once, at the listener).
sc_fastopen() {
	local fam name port srv cnt out sent i
	# Server: Fast Open with no cookie asked; client: send without one.
	lab_sysctl "$SRV" net.ipv4.tcp_fastopen=0x202
	lab_sysctl "$CLI" net.ipv4.tcp_fastopen=0x5
	for fam in $FAMILIES; do
		name="Fast Open IPv$fam"
		port=$((8970 + fam))
		lab_server $port --backlog 64 --accept none --fastopen 64
		srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
		scenario_begin --ports $port
		out=$(lab_client --to "$(addr_of $fam)" --port $port --count 10 --fastopen --send 100)
		# A Fast Open child is a full socket in SYN-RECV until the
		# client's ACK: wait until the kernel shows all 10 past it
		# (established, or close-wait once the client closed; 5 s at
		# most), or stopping the server purges some before their
		# handshake completes (seen on 6.1 under QEMU: established 1,
		# PassiveOpens 10).
		for ((i = 0; i < 50; i++)); do
			[ "$(ip netns exec "$SRV" ss -Htn state established state close-wait "( sport = :$port )" | wc -l)" -ge 10 ] && break
			sleep 0.1
		done
		# The server goes while synacct watches: its children's queues
		# are purged now.
		lab_server_stop $srv $cnt
		scenario_end
		sent=$(cli_sent)
		check_funnel "$name" $port
		t_is "$out" "connected=10 failed=0" "$name: 10 clients sent their data in the SYN"
		t_is "$(srv_delta TcpExtTCPFastOpenPassive)" 10 "$name: the server took 10 Fast Open SYNs (nstat)"
		t_is "$(summary nic_syn $port),$(summary tc_syn $port),$(summary listener_syn $port),$(summary syn_queued $port)" \
			"$sent,$sent,$sent,$sent" "$name: nic = tc = listener = queued = SYNs sent"
		t_is "$(summary '.stack_drops | add // 0' $port)" 0 \
			"$name: the purged copies are not stack drops"
		t_is "$(summary established $port)" "$(srv_delta TcpPassiveOpens)" "$name: established == PassiveOpens"
		t_is "$LAB_ACCEPTED" 0 "$name: the server accepted none"
	done
}

lab_main "$@"
