#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fleet.sh - what one node's synacct costs a fleet's collection (issue #23;
# docs/deploy.md, "What a fleet costs"): the series and the bytes of its
# /metrics page with 0, 100 and 1 000 listening ports, idle and after one
# SYN to each; then the bytes per sample a Prometheus agent's remote_write
# sends for the 1 000-port page.  For `make bench` (or by hand, as root):
#
#   selftests/bench/fleet.sh [EXTRA SYNACCT OPTIONS]
#
# The listeners are bench_helper's (ports 20000-20999, IPv4 and IPv6);
# synacct runs as a node agent does (--quiet --metrics) with the options
# given.  Prints "# name value" lines (bench.sh makes rows of them):
#   series_N, series_N_syn   sample lines on the page (no comments)
#   bytes_N, bytes_N_syn     the page, plain (a client that does not ask
#                            for gzip)
#   gzip_N, gzip_N_syn       the same page as served to a client that asks
#                            for gzip, as Prometheus does (level 6)
#   rw_bytes_per_sample      the agent's remote_write bytes (snappy
#                            protobuf, after compression) per sample sent
. "$(dirname "$0")/../lib/lab.sh"

HELPER=$SA_BIN/bench_helper
BASE=20000
RW_SCRAPES=${FLEET_RW_SCRAPES:-10}

lab_init
# Every SYN answered with a cookie: the listeners' queues stay empty.
lab_sysctl "$SRV" net.ipv4.tcp_syncookies=2
SRV_MAC=$(ip -n "$SRV" -j link show dev "$SRV_IF" | jq -r '.[0].address')
MP=$(lab_free_port) || exit 1
MURL=http://127.0.0.1:$MP/metrics

# measure NAME: the page now, once a reading begun after now is served.
measure() {
	metrics_wait_read "$MURL" "$(date +%s.%N)" >/dev/null || { echo "Bail out! no reading of $MURL"; exit 1; }
	curl -sf -H 'Accept-Encoding: gzip' "$MURL" >"$LAB_DIR/page.gz"
	gzip -dc "$LAB_DIR/page.gz" >"$LAB_DIR/page"
	echo "# series_$1 $(grep -vc '^#' "$LAB_DIR/page")"
	echo "# bytes_$1 $(wc -c <"$LAB_DIR/page")"
	echo "# gzip_$1 $(wc -c <"$LAB_DIR/page.gz")"
	echo "# ports_$1 $(grep -o 'port="[^"]*"' "$LAB_DIR/page" | sort -u | wc -l)"
}

for n in 0 100 1000; do
	if [ "$n" -gt 0 ]; then
		rm -f "$LAB_DIR/listen"
		ip netns exec "$SRV" "$HELPER" listen $BASE $n >"$LAB_DIR/listen" &
		LPID=$!; LAB_PIDS+=($LPID)
		lab_wait_file "$LAB_DIR/listen" 100 || { echo "Bail out! bench_helper listen $n"; exit 1; }
	fi
	"$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --metrics "127.0.0.1:$MP" --quiet --interval 1 "$@" \
		>/dev/null 2>"$LAB_DIR/synacct.err" &
	SA_PID=$!; LAB_PIDS+=($SA_PID)
	measure $n
	if [ "$n" -gt 0 ]; then
		# One SYN to each listening port: the families a port has once
		# it has counted something (cookies by MSS, its verdict).
		lab_flood --to $SRV_IP4 --port $BASE --port-span $n --count $n \
			--src-net 198.19.0.0/16 --packet "$CLI_IF" --dst-mac "$SRV_MAC" >/dev/null
		measure "${n}_syn"
	fi
	if [ "$n" = 1000 ]; then
		# A Prometheus agent scrapes the 1 000-port page every second and
		# remote_writes it to a receiver; its own counters say what it sent.
		AP=$(lab_free_port) && RP=$(lab_free_port) || exit 1
		printf 'global:\n  scrape_interval: 1s\n' >"$LAB_DIR/receiver.yml"
		prometheus --web.listen-address="127.0.0.1:$RP" --config.file="$LAB_DIR/receiver.yml" \
			--storage.tsdb.path="$LAB_DIR/receiver-tsdb" --web.enable-remote-write-receiver \
			>"$LAB_DIR/receiver.log" 2>&1 &
		LAB_PIDS+=($!)
		cat >"$LAB_DIR/agent.yml" <<-EOF
		global: { scrape_interval: 1s }
		scrape_configs:
		  - job_name: synacct
		    static_configs: [ { targets: [ "127.0.0.1:$MP" ] } ]
		remote_write:
		  - url: http://127.0.0.1:$RP/api/v1/write
		    queue_config: { batch_send_deadline: 1s }
		EOF
		prometheus --web.listen-address="127.0.0.1:$AP" --enable-feature=agent \
			--config.file="$LAB_DIR/agent.yml" --storage.agent.path="$LAB_DIR/agent-wal" \
			--storage.remote.flush-deadline=1s >"$LAB_DIR/agent.log" 2>&1 &
		LAB_PIDS+=($!)
		# rw NAME: a counter of the agent's remote_write queue.
		rw() { curl -sf "http://127.0.0.1:$AP/metrics" | awk -v n="prometheus_remote_storage_$1" '$1 ~ "^" n "({|$)" { s += $2 } END { print s + 0 }'; }
		for ((i = 0; i < 300; i++)); do
			[ "$(rw samples_total)" -gt 0 ] 2>/dev/null && break
			sleep 0.1
		done
		s0=$(rw samples_total); b0=$(rw bytes_total)
		sleep "$RW_SCRAPES"
		s1=$(rw samples_total); b1=$(rw bytes_total)
		echo "# rw_samples $((s1 - s0))"
		echo "# rw_bytes $((b1 - b0))"
		echo "# rw_bytes_per_sample $(awk -v s=$((s1 - s0)) -v b=$((b1 - b0)) 'BEGIN { if (s > 0) printf "%.2f", b / s; else print "none" }')"
		echo "# rw_failed $(( $(rw samples_failed_total) + $(rw samples_dropped_total) ))"
	fi
	kill -INT $SA_PID; wait $SA_PID 2>/dev/null
	[ "$n" -gt 0 ] && { kill -TERM $LPID; wait $LPID 2>/dev/null; }
done
