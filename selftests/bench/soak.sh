#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# soak.sh - synacct under a sustained SYN flood for a minute: its resident
# memory and open descriptors must stay flat, and its summary must still
# count every SYN.  For `make bench` (or by hand, as root):
#
#   selftests/bench/soak.sh [SECONDS]      default 60; SOAK_RATE SYN/s (5000)
#
# A spoofed IPv6 flood (the lab's 2001:db8:ff::/64, so no source repeats)
# at a listener with SYN cookies on, spread over 1000 ports so the maps
# keep growing, while synacct writes JSON every 0.5 s.  Once a second the
# script samples synacct's VmRSS and its number of open fds; after a warm-up
# of a quarter of the run the floor of its open fds must not rise and RSS
# may not grow by more than SOAK_RSS_SLACK_KB (default 1024 kB): a leak of
# even a few hundred bytes per SYN or per record shows as megabytes here.
# Samples go to $SOAK_CSV if set.  Output is TAP; exit 0 when flat.
. "$(dirname "$0")/../lib/lab.sh"

SECONDS_RUN=${1:-60}
RATE=${SOAK_RATE:-5000}
SLACK_KB=${SOAK_RSS_SLACK_KB:-1024}
[[ $SECONDS_RUN =~ ^[0-9]+$ && $SECONDS_RUN -ge 8 ]] ||
	{ echo "soak.sh: SECONDS must be a whole number, at least 8" >&2; exit 2; }
[[ $RATE =~ ^[0-9]+$ && $RATE -gt 0 ]] ||
	{ echo "soak.sh: SOAK_RATE must be a positive number of SYNs per second" >&2; exit 2; }

lab_init
lab_server 8080 --accept all
count=$((SECONDS_RUN * RATE))

synacct_start --interval 0.5 --ports 8080-9079 || { echo "Bail out! synacct did not start"; exit 1; }
lab_nstat "$CLI" >"$LAB_DIR/cli.0"
ip netns exec "$CLI" "$SA_BIN/lab_synflood" --to $SRV_IP6 --port 8080 --port-span 1000 \
	--count $count --rate $RATE --src-net $SPOOF_NET6 >"$LAB_DIR/flood.out" 2>&1 &
flood=$!
LAB_PIDS+=($flood)

samples=$LAB_DIR/samples.csv
echo "second,rss_kb,fds" >"$samples"
for ((s = 1; s <= SECONDS_RUN; s++)); do
	sleep 1
	kill -0 $SA_PID 2>/dev/null || break
	rss=$(awk '/^VmRSS/ { print $2 }' /proc/$SA_PID/status)
	fds=$(ls /proc/$SA_PID/fd | wc -l)
	echo "$s,$rss,$fds" >>"$samples"
done
wait $flood
flood_rc=$?
sleep 1	# the last SYNs reach every stage before the summary is read
synacct_stop
[ -n "$SOAK_CSV" ] && cp "$samples" "$SOAK_CSV"

warm=$((SECONDS_RUN / 4))
read -r rss0 < <(awk -F, -v w=$warm 'NR > 1 && $1 == w { print $2 }' "$samples")
# Descriptors: a reading opens one for a moment (the TCP iterator, a /proc
# file), so a sample can catch one more; a leak raises the floor.  The
# floor of the first five samples after warm-up against that of the last
# five.
read -r fds0 fds_end < <(awk -F, -v w=$warm -v e=$SECONDS_RUN 'NR > 1 {
	if ($1 >= w && $1 < w + 5 && (a == "" || $3 < a)) a = $3
	if ($1 > e - 5 && (b == "" || $3 < b)) b = $3 }
	END { print a, b }' "$samples")
read -r rss_max fds_min fds_max n < <(awk -F, -v w=$warm 'NR > 1 && $1 >= w {
	if ($2 > r) r = $2; if (fmin == "" || $3 < fmin) fmin = $3; if ($3 > fmax) fmax = $3; n++ }
	END { print r, fmin, fmax, n }' "$samples")
rss_end=$(tail -1 "$samples" | cut -d, -f2)
echo "# $SECONDS_RUN s at $RATE SYN/s over 1000 ports: RSS ${rss0} kB at ${warm} s, peak ${rss_max} kB," \
	"end ${rss_end} kB; fds ${fds0} at ${warm} s, ${fds_min}-${fds_max} after"

t_is "$flood_rc,$(cat "$LAB_DIR/flood.out")" "0,sent=$count" "the flood sent $count SYNs"
t_is "$n" $((SECONDS_RUN - warm + 1)) "synacct ran through the whole soak (samples after warm-up)"
t_is "$fds_end" "$fds0" "open fds flat: the floor at the end == the floor after warm-up (${fds_min}-${fds_max} sampled)"
t_ok $(( rss_max - rss0 <= SLACK_KB ? 0 : 1 )) \
	"RSS flat after warm-up: grew $((rss_max - rss0)) kB (at most ${SLACK_KB} kB)"
t_is "$SA_RC" 0 "synacct exits 0"
t_is "$(jq -r 'select(.type == "summary") | [.ports[].nic_syn] | add' "$SA_OUT")" "$count" \
	"summary: nic_syn over the 1000 ports == SYNs sent"
t_is "$(jq -r 'select(.type == "summary") | [.ports[].tc_syn] | add' "$SA_OUT")" "$count" \
	"summary: tc_syn over the 1000 ports == SYNs sent"
t_done
