#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scan.sh - what synacct costs after a scan of every port (issue #21):
# one SYN to each of ports 1-65535, then no traffic.  For `make bench`
# (or by hand, as root):
#
#   selftests/bench/scan.sh [EXTRA SYNACCT OPTIONS]
#
# synacct --json at a 1 s interval watches the lab's server veth while
# lab_synflood --packet scans it; once the scan is counted, the agent's
# CPU (user+sys over SCAN_IDLE_S seconds, default 10) and resident memory
# (VmRSS, VmHWM) are sampled with no traffic, with its CPU since start
# (cpu_total_s: the scan's readings), then the agent is stopped
# and its longest interval record and its summary are measured.  Prints
# "# name value" lines (bench.sh makes rows of them); SYNACCT= another
# binary, for a comparison.  SCAN_METRICS=1 adds --metrics on a free
# port, and after the idle time the sum of synacct_nic_syn_total on the
# page (every port's, "other" included: 65535).
. "$(dirname "$0")/../lib/lab.sh"

IDLE_S=${SCAN_IDLE_S:-10}

lab_init
SRV_MAC=$(ip -n "$SRV" -j link show dev "$SRV_IF" | jq -r '.[0].address')
METRICS=()
if [ "${SCAN_METRICS:-0}" = 1 ]; then
	mp=$(lab_free_port) || exit 1
	METRICS=(--metrics "127.0.0.1:$mp")
fi
synacct_start --interval 1 "${METRICS[@]}" "$@" || { echo "Bail out! synacct did not start"; exit 1; }
ip netns exec "$CLI" "$SA_BIN/lab_synflood" --to $SRV_IP4 --port 1 --port-span 65535 \
	--count 65535 --src-net 198.19.0.0/16 --reuse-sources --packet "$CLI_IF" --dst-mac "$SRV_MAC" >/dev/null
# Counted: three interval records after the scan ended (it ends when
# its last frame is sent; the veth delivers at once).
n0=$(grep -c '"type":"interval"' "$SA_OUT")
for ((i = 0; i < 100; i++)); do
	[ "$(grep -c '"type":"interval"' "$SA_OUT")" -ge $((n0 + 3)) ] && break
	sleep 0.2
done
sleep 2
hz=$(getconf CLK_TCK)
cpu_s() { awk -v hz="$hz" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/$SA_PID/stat"; }
c0=$(cpu_s); w0=$(date +%s.%N)
sleep "$IDLE_S"
c1=$(cpu_s); w1=$(date +%s.%N)
echo "# idle_cpu_pct $(awk -v a="$c0" -v b="$c1" -v s="$w0" -v e="$w1" 'BEGIN { printf "%.2f", (b - a) / (e - s) * 100 }')"
echo "# rss_mib $(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' /proc/$SA_PID/status)"
echo "# hwm_mib $(awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' /proc/$SA_PID/status)"
echo "# cpu_total_s $(cpu_s)"
[ -n "${mp:-}" ] && echo "# metrics_nic_syn $(curl -sf "http://127.0.0.1:$mp/metrics" |
	awk '/^synacct_nic_syn_total\{/ { n += $2 } END { print n + 0 }')"
synacct_stop
echo "# rc $SA_RC"
echo "# interval_max_kib $(awk '/"type":"interval"/ { if (length($0) > m) m = length($0) } END { printf "%.1f", m / 1024 }' "$SA_OUT")"
echo "# summary_kib $(awk '/"type":"summary"/ { printf "%.1f", length($0) / 1024 }' "$SA_OUT")"
echo "# summary_nic_syn $(jq -s '[.[] | select(.type == "summary") | .ports[] | .nic_syn] | add' "$SA_OUT")"
