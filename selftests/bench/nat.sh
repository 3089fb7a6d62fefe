#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nat.sh - what synacct's netfilter programs cost (docs/containers.md):
# ns of BPF per run and runs per packet, for synacct_nat_in (LOCAL_IN) and
# synacct_forward (FORWARD) and the stack handlers, under
#   1. a SYN flood to a REDIRECTed port (every SYN learned at LOCAL_IN),
#   2. a SYN flood to a port DNATed to a container (every SYN forwarded),
#   3. bulk TCP to the host (LOCAL_IN's cheapest test, per packet),
#   4. bulk TCP forwarded to the container (FORWARD's cheapest test).
# Run time statistics are held on with BPF_ENABLE_STATS for the run only
# (refcounted by the kernel; the kernel.bpf_stats_enabled sysctl is left
# alone).  Usage: sudo selftests/bench/nat.sh [SYNS]
. "$(dirname "$0")/../lib/lab.sh"
N=${1:-20000}

if [ -z "$SA_STATS_HELD" ]; then
	SA_STATS_HELD=1 exec python3 -c '
import ctypes, os, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
attr = (ctypes.c_uint32 * 32)()          # attr.enable_stats.type = BPF_STATS_RUN_TIME (0)
fd = libc.syscall(321, 32, ctypes.byref(attr), 4)   # __NR_bpf, BPF_ENABLE_STATS
if fd < 0:
    sys.exit("BPF_ENABLE_STATS failed: errno %d" % ctypes.get_errno())
sys.exit(subprocess.call(sys.argv[1:]))' "$0" "$@"
fi
command -v iperf3 >/dev/null || { echo "nat.sh: needs iperf3 (apt-get install iperf3)" >&2; exit 1; }

lab_init
lab_container
ip -n "$CTR" route add $SPOOF_NET4 via $CTR_GW4
nft_srv() { ip netns exec "$SRV" nft "$@"; }
nft_srv add table inet sa_nat
nft_srv add chain inet sa_nat pre '{ type nat hook prerouting priority dstnat; }'
nft_srv add rule inet sa_nat pre tcp dport 8081 redirect to :80
nft_srv add rule inet sa_nat pre tcp dport 8080 dnat ip to $CTR_IP4:80
nft_srv add rule inet sa_nat pre tcp dport 5202 dnat ip to $CTR_IP4:5201
lab_sysctl "$SRV" net.ipv4.tcp_syncookies=1
lab_server 80 --accept all
ctr_server 80 --accept all
lab_bg "$SRV" iperf3 -s -1 -p 5201 >/dev/null
lab_bg "$CTR" iperf3 -s -1 -p 5201 >/dev/null
sleep 0.5
synacct_start --ports 80,8080,8081,5201,5202 || exit 1

# This synacct's programs (other synacct instances may be running): the
# prog_id of its file descriptors.
SA_PROG_IDS=$(grep -h '^prog_id:' /proc/$SA_PID/fdinfo/* 2>/dev/null | awk '{ print $2 }' |
	sort -un | jq -sc .)
# prog_stats: "name run_cnt run_time_ns" of this synacct's programs.
prog_stats() {
	bpftool prog show -j | jq -r --argjson ids "$SA_PROG_IDS" '.[] |
		select(.id as $i | $ids | index($i)) |
		"\(.name) \(.run_cnt // 0) \(.run_time_ns // 0)"' | sort
}
# phase NAME PACKETS CMD...: per program, runs and ns per run, runs per packet.
phase() {
	local name=$1 pkts=$2; shift 2
	prog_stats >"$LAB_DIR/s0"
	"$@" >/dev/null
	prog_stats >"$LAB_DIR/s1"
	echo "== $name ($pkts packets)"
	join "$LAB_DIR/s0" "$LAB_DIR/s1" | awk -v p="$pkts" '$4 > $2 {
		runs = $4 - $2; ns = $5 - $3
		printf "  %-24s %9d runs %7.1f ns/run %6.2f runs/packet %7.1f ns/packet\n",
			$1, runs, ns / runs, runs / p, ns / p }'
}
phase "SYN flood to a REDIRECTed port" $N \
	lab_flood --to $SRV_IP4 --port 8081 --count $N --src-net $SPOOF_NET4 --rate 20000
phase "SYN flood to a port DNATed to the container" $N \
	lab_flood --to $SRV_IP4 --port 8080 --count $N --src-net $SPOOF_NET4 --rate 20000
bulk() { ip netns exec "$CLI" iperf3 -c "$1" -p "$2" -t 3 -J | jq '.end.sum_sent.bytes / 1448 | floor'; }
pk=$(mktemp); trap 'rm -f "$pk"; lab_teardown' EXIT
phase_bulk() {	# NAME ADDR PORT: packets estimated from the bytes sent (MSS 1448)
	prog_stats >"$LAB_DIR/s0"
	bulk "$2" "$3" >"$pk"
	prog_stats >"$LAB_DIR/s1"
	echo "== $1 (~$(cat "$pk") segments)"
	join "$LAB_DIR/s0" "$LAB_DIR/s1" | awk -v p="$(cat "$pk")" '$4 > $2 {
		runs = $4 - $2; ns = $5 - $3
		printf "  %-24s %9d runs %7.1f ns/run\n", $1, runs, ns / runs }'
}
phase_bulk "bulk TCP to the host (local delivery)" $SRV_IP4 5201
phase_bulk "bulk TCP forwarded to the container" $SRV_IP4 5202
synacct_stop
