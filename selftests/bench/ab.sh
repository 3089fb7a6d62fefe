#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# ab.sh - A/B of two synacct binaries in one lab, alternating (BASE, NEW:
# paths; root): host CPU per flood SYN (make bench's cookie flood) and BPF
# ns per SYN per program (bpf_stats), with bench.sh's pieces; one line per
# figure (cpu WHICH NS, bpf WHICH PROGRAM RUNS NS).  Used for issue 24's
# retries stage (docs/design.md "Client retries").
SA_ROOT=${SA_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
source "$SA_ROOT/selftests/lib/lab.sh"
HELPER=$SA_BIN/bench_helper
EMPTY=$SA_BIN/bench_empty.bpf.o
FLOOD_N=${FLOOD_N:-200000}
ROUNDS=${ROUNDS:-5}
PORT=8080
BASE=${BASE:?BASE=path of the synacct to compare with}
NEW=${NEW:-$SA_ROOT/synacct}
flood() {
	local n=$1 cpu=$(( $(nproc) - 1 )) t s0 s1
	s0=$(awk -v c="cpu$cpu" '$1 == c { print $7 + $8 }' /proc/stat)
	t=$( { ip netns exec "$CLI" taskset -c "$cpu" /usr/bin/time -f '%e %U %S' \
		"$SA_BIN/lab_synflood" --to $SRV_IP4 --port $PORT --count "$n" \
		--src-net 198.19.0.0/16 --reuse-sources --packet "$CLI_IF" --dst-mac "$SRV_MAC" \
		>/dev/null; } 2>&1 | tail -1)
	s1=$(awk -v c="cpu$cpu" '$1 == c { print $7 + $8 }' /proc/stat)
	FLOOD_CPU_S=$(awk -v t="$t" -v d=$((s1 - s0)) -v hz="$(getconf CLK_TCK)" \
		'BEGIN { split(t, a, " "); print a[2] + a[3] + d / hz }')
}
proc_cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"; }
pid_prog_ids() { cat /proc/"$1"/fdinfo/* 2>/dev/null | awk '$1 == "prog_id:" { print $2 }' | sort -un | jq -s -c .; }
bpf_delta() {
	jq -r -s --argjson ids "$3" --argjson n "$4" '
		(.[0] | map({key: (.id | tostring), value: .}) | from_entries) as $a
		| .[1][] | select(.id as $i | $ids | index($i))
		| ($a[.id | tostring] // {}) as $p
		| [.name, (((.run_cnt // 0) - ($p.run_cnt // 0)) / $n),
		   (((.run_time_ns // 0) - ($p.run_time_ns // 0)) / $n)] | @tsv' "$1" "$2"
}
lab_init
lab_sysctl "$SRV" net.ipv4.tcp_syncookies=2
SRV_MAC=$(ip -n "$SRV" -j link show dev "$SRV_IF" | jq -r '.[0].address')
lab_server $PORT --backlog 128 >/dev/null
for ((i = 0; i < ROUNDS; i++)); do
	for which in base new; do
		[ $which = base ] && SYNACCT=$BASE || SYNACCT=$NEW
		flood "$FLOOD_N"
		echo "cpu none $(awk -v c="$FLOOD_CPU_S" -v n="$FLOOD_N" 'BEGIN { print c / n * 1e9 }')"
		synacct_start; o0=$(proc_cpu_s $SA_PID); flood "$FLOOD_N"; o1=$(proc_cpu_s $SA_PID); synacct_stop
		echo "cpu $which $(awk -v c="$FLOOD_CPU_S" -v o="$o0" -v p="$o1" -v n="$FLOOD_N" 'BEGIN { print (c + p - o) / n * 1e9 }') tc_syn=$(summary tc_syn $PORT)"
		"$HELPER" hold "$EMPTY" >"$LAB_DIR/hold" & HOLD_PID=$!; LAB_PIDS+=($HOLD_PID)
		lab_wait_file "$LAB_DIR/hold"; sleep 0.3
		synacct_start; ids=$(pid_prog_ids $SA_PID)
		bpftool prog show -j >"$LAB_DIR/f0"; flood "$FLOOD_N"; bpftool prog show -j >"$LAB_DIR/f1"
		synacct_stop; kill -TERM $HOLD_PID; wait $HOLD_PID 2>/dev/null
		bpf_delta "$LAB_DIR/f0" "$LAB_DIR/f1" "$ids" "$FLOOD_N" | awk -v w=$which '$2 > 0.001 { printf "bpf %s %s %.2f %.1f\n", w, $1, $2, $3; t += $3 } END { printf "bpf %s total - %.1f\n", w, t }'
	done
done
