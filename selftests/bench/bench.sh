#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh - make bench: what synacct costs, side by side in one run, one
# table (docs/performance.md explains each row).  Root; about 4.5 minutes.
#
# Everything is compared within this run, alternating with and without
# synacct, because the machine may be shared: figures from different runs
# are not comparable.  BENCH_NIC=1 adds the rows of selftests/bench/nic.sh
# (virtio_net in a QEMU guest, about 4 minutes more).  The lab is selftests/lib/lab.sh's (two namespaces, a
# veth pair, no default route); the flood is lab_synflood --packet.
#
# Progress goes to stderr, the table to stdout.

SA_ROOT=${SA_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
source "$SA_ROOT/selftests/lib/lab.sh"

HELPER=$SA_BIN/bench_helper
EMPTY=$SA_BIN/bench_empty.bpf.o
PAIRS=${BENCH_PAIRS:-7}		# rounds of floods: without, empty hooks, synacct, tcpdump...
IPERF_PAIRS=${BENCH_IPERF_PAIRS:-6}	# with/without pairs of iperf3 runs
IPERF_S=${BENCH_IPERF_S:-2}	# seconds per iperf3 run
FLOOD_N=${BENCH_FLOOD_N:-200000}	# SYNs per flood
PORT=8080			# the flooded listener
LISTEN_BASE=20000		# 1000 listeners: 20000-20999
SCAN_BASE=30000			# scanned ports: 30000-49999

ROWS=()
row() {		# row MEASURE WITHOUT WITH RATIO TARGET
	ROWS+=("$(printf '| %s | %s | %s | %s | %s |' "$@")")
}
say() { echo "bench: $*" >&2; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
fmt() { awk -v v="$1" -v d="${2:-0}" 'BEGIN { printf "%.*f", d, v }'; }

# Run-time statistics are on only while `bench_helper hold` runs
# (BPF_ENABLE_STATS, held by its descriptor; the sysctl is left alone).

[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (sudo make bench)" >&2; exit 2; }
for t in iperf3 tcpdump perf bpftool /usr/bin/time "$HELPER" "$EMPTY"; do
	command -v "$t" >/dev/null || [ -e "$t" ] ||
		{ echo "bench: $t is missing: run it through 'sudo make bench'" >&2; exit 1; }
done
lab_init
# Cookies for every SYN: the listener never fills, every SYN is answered.
lab_sysctl "$SRV" net.ipv4.tcp_syncookies=2
SRV_MAC=$(ip -n "$SRV" -j link show dev "$SRV_IF" | jq -r '.[0].address')
NCPU=$(nproc)

# ---- helpers ----

# flood N [CPU] [SRC-NET]: N SYNs to $PORT from the client namespace, pinned
# to CPU; FLOOD_WALL (s), FLOOD_CPU_S (the generator's user+sys, plus the
# softirq and irq time of its CPU: the whole kernel path runs there).
flood() {
	local n=$1 cpu=${2:-$((NCPU - 1))} net=${3:-198.19.0.0/16} t s0 s1
	s0=$(awk -v c="cpu$cpu" '$1 == c { print $7 + $8 }' /proc/stat)
	t=$( { ip netns exec "$CLI" taskset -c "$cpu" /usr/bin/time -f '%e %U %S' \
		"$SA_BIN/lab_synflood" --to $SRV_IP4 --port $PORT --count "$n" \
		--src-net "$net" --reuse-sources --packet "$CLI_IF" --dst-mac "$SRV_MAC" \
		>/dev/null; } 2>&1 | tail -1)
	s1=$(awk -v c="cpu$cpu" '$1 == c { print $7 + $8 }' /proc/stat)
	FLOOD_WALL=$(awk '{ print $1 }' <<<"$t")
	FLOOD_CPU_S=$(awk -v t="$t" -v d=$((s1 - s0)) -v hz="$(getconf CLK_TCK)" \
		'BEGIN { split(t, a, " "); print a[2] + a[3] + d / hz }')
}

# proc_cpu_s PID: user+sys seconds of PID so far.
proc_cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"
}

# bpf_snap FILE: every program's run_cnt and run_time_ns, by id.
bpf_snap() {
	bpftool prog show -j >"$1"
}

# bpf_delta BEFORE AFTER IDS-JSON N: "name runs ns" per program, per unit N.
bpf_delta() {
	jq -r -s --argjson ids "$3" --argjson n "$4" '
		(.[0] | map({key: (.id | tostring), value: .}) | from_entries) as $a
		| .[1][] | select(.id as $i | $ids | index($i))
		| ($a[.id | tostring] // {}) as $p
		| [.name, (((.run_cnt // 0) - ($p.run_cnt // 0)) / $n),
		   (((.run_time_ns // 0) - ($p.run_time_ns // 0)) / $n)] | @tsv' "$1" "$2"
}

# prog ids held by PID (synacct's programs and links).
pid_prog_ids() {
	cat /proc/"$1"/fdinfo/* 2>/dev/null | awk '$1 == "prog_id:" { print $2 }' | sort -un | jq -s -c .
}

# ---- machine ----

CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
say "machine: $CPU_MODEL, $NCPU CPUs, Linux $(uname -r)"

# ---- attach time ----

t0=$(date +%s.%N)
synacct_start || exit 1
t1=$(date -d "$(jq -r 'select(.type == "start") | .time' "$SA_OUT")" +%s.%N)
ATTACH_MS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
XDP_MODE=$(jq -r 'select(.type == "start") | .xdp[0] | "\(.mode): \(.reason)"' "$SA_OUT")
synacct_stop

# ---- bulk TCP over the veth pair ----

say "bulk TCP: iperf3 ${IPERF_S}s x $IPERF_PAIRS pairs, alternating without/with synacct"
lab_bg "$SRV" iperf3 -s -B $SRV_IP4 -p 5201 >/dev/null 2>&1
sleep 0.5
# Client and server each on a CPU of their own, the same in every run:
# where the scheduler puts them moves a run by 20 %, more than synacct.
IPERF_AFF=()
[ "$NCPU" -gt 1 ] && IPERF_AFF=(-A "$((NCPU - 1)),0")
iperf() {
	ip netns exec "$CLI" iperf3 -c $SRV_IP4 -p 5201 -t "$IPERF_S" "${IPERF_AFF[@]}" -J 2>/dev/null |
		jq -r '.end.sum_received.bits_per_second / 1e9'
}
off=() on=() nat=()
for ((i = 0; i < IPERF_PAIRS; i++)); do
	off+=("$(iperf)")
	synacct_start && on+=("$(iperf)"); synacct_stop
done
synacct_start --xdp-mode native && nat+=("$(iperf)"); synacct_stop
mean() { printf '%s\n' "$@" | awk '{ s += $1; n++ } END { if (n) printf "%.2f", s / n }'; }
range() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.1f-%.1f", lo, hi }'; }
best() { printf '%s\n' "$@" | sort -g | tail -1; }
# Other load on the machine only ever slows a run down: the best run of
# each side is the one least disturbed, and what the ratio compares.
row "bulk TCP over a lab veth pair, Gb/s, best of $IPERF_PAIRS (iperf3 ${IPERF_S}s, alternating; with: default mode)" \
	"$(fmt "$(best "${off[@]}")" 2) (range $(range "${off[@]}"))" \
	"$(fmt "$(best "${on[@]}")" 2) (range $(range "${on[@]}"))" \
	"$(ratio "$(best "${on[@]}")" "$(best "${off[@]}")")" ">= 0.97x"
row "same, mean of each side" "$(mean "${off[@]}")" "$(mean "${on[@]}")" \
	"$(ratio "$(mean "${on[@]}")" "$(mean "${off[@]}")")" "-"
row "same, with --xdp-mode native (for contrast; one run)" "" "$(fmt "$(best "${nat[@]}")" 2)" \
	"$(ratio "$(best "${nat[@]}")" "$(best "${off[@]}")")" "-"

# hold_and_start: run-time statistics on and empty programs at synacct's
# tracepoints (bench_helper hold, the floor), then synacct; ids and eids
# are their program ids.
hold_and_start() {
	"$HELPER" hold "$EMPTY" >"$LAB_DIR/hold" &
	HOLD_PID=$!
	LAB_PIDS+=($HOLD_PID)
	lab_wait_file "$LAB_DIR/hold"; sleep 0.3
	synacct_start
	ids=$(pid_prog_ids $SA_PID)
	eids=$(awk '{ print $2 }' "$LAB_DIR/hold" | jq -s -c .)
}

# The global tracepoints on skbs that are not SYNs: bulk TCP, with empty
# programs at the same tracepoints in the same run as the floor.
say "tracepoints on non-SYN skbs: iperf3 2s with bpf_stats"
hold_and_start
bpf_snap "$LAB_DIR/t0"
IPERF_S=2 iperf >/dev/null
bpf_snap "$LAB_DIR/t1"
synacct_stop
# tp_row TP BEFORE AFTER WHAT: synacct's program at tracepoint TP against
# the empty one there, ns per run between two snapshots; WHAT names the
# runs, with %s for their count.
tp_row() {
	local runs ns eruns ens
	read -r runs ns < <(bpf_delta "$2" "$3" "$ids" 1 | awk -v n="synacct_$1" '$1 == n { print $2, $3 }')
	read -r eruns ens < <(bpf_delta "$2" "$3" "$eids" 1 | awk -v n="bench_empty_$1" '$1 == n { print $2, $3 }')
	# shellcheck disable=SC2059
	row "tp_btf/$1 $(printf "$4" "${runs:-0}"), ns per run; without = empty program, same runs" \
		"$(fmt "$(awk -v r="$eruns" -v t="$ens" 'BEGIN { print r ? t / r : 0 }')" 1)" \
		"$(fmt "$(awk -v r="$runs" -v t="$ns" 'BEGIN { print r ? t / r : 0 }')" 1)" \
		"+$(fmt "$(awk -v r="$runs" -v t="$ns" -v er="$eruns" -v et="$ens" 'BEGIN { print (r ? t / r : 0) - (er ? et / er : 0) }')" 1) ns" \
		"<= 40 ns (above empty)"
}
for tp in kfree_skb consume_skb; do
	tp_row $tp "$LAB_DIR/t0" "$LAB_DIR/t1" "during bulk TCP (%s runs, every one on the host)"
done
kill -TERM $HOLD_PID; wait $HOLD_PID 2>/dev/null

# ---- the SYN flood ----

lab_server $PORT --backlog 128 >/dev/null

# Generator rate: one process per CPU, no synacct.
say "generator: lab_synflood --packet, $NCPU processes"
start=$(date +%s.%N)
for ((c = 0; c < NCPU; c++)); do
	ip netns exec "$CLI" taskset -c $c "$SA_BIN/lab_synflood" --to $SRV_IP4 --port $PORT \
		--count "$FLOOD_N" --src-net "198.19.$((c * 16)).0/20" --reuse-sources \
		--packet "$CLI_IF" --dst-mac "$SRV_MAC" >/dev/null &
	gen_pids+=($!)
done
wait "${gen_pids[@]}"
end=$(date +%s.%N)
GEN_RATE=$(awk -v a="$start" -v b="$end" -v n=$((FLOOD_N * NCPU)) 'BEGIN { printf "%.0f", n / (b - a) }')

# hooks_flood KEY [HOOK,...]: a flood with empty programs at synacct's hooks
# (bench_helper floor), its CPU per SYN appended to cpu[KEY].
hooks_flood() {
	rm -f "$LAB_DIR/hooks"
	ip netns exec "$SRV" "$HELPER" floor "$EMPTY" "$SRV_IF" $2 >"$LAB_DIR/hooks" &
	FL_PID=$!
	LAB_PIDS+=($FL_PID)
	lab_wait_file "$LAB_DIR/hooks" || { echo "bench: bench_helper floor did not start" >&2; exit 1; }
	flood "$FLOOD_N"
	kill -TERM $FL_PID; wait $FL_PID 2>/dev/null
	cpu[$1]+="$(awk -v c="$FLOOD_CPU_S" -v n="$FLOOD_N" 'BEGIN { print c / n * 1e9 }') "
}

# CPU per SYN: none / empty hooks / synacct / tcpdump, alternating, on one CPU.
say "flood CPU: $PAIRS rounds of $FLOOD_N SYNs each without, with empty programs at synacct's hooks, with synacct, with tcpdump"
declare -A cpu sum_obs
nic_ok=0 tc_ok=0 lst_ok=0
TD_STATS=
for ((i = 0; i < PAIRS; i++)); do
	flood "$FLOOD_N"
	cpu[none]+="$(awk -v c="$FLOOD_CPU_S" -v n="$FLOOD_N" 'BEGIN { print c / n * 1e9 }') "

	# Empty programs at synacct's hooks, and at those the issue names:
	# what the hooks alone cost.
	hooks_flood hooks
	hooks_flood named xdp,tc,kfree_skb,consume_skb
	hooks_flood tcx xdp,tcx,nf,kfree_skb,consume_skb,net_dev_xmit

	synacct_start
	o0=$(proc_cpu_s $SA_PID)
	flood "$FLOOD_N"
	o1=$(proc_cpu_s $SA_PID)
	synacct_stop
	cpu[synacct]+="$(awk -v c="$FLOOD_CPU_S" -v o=$o0 -v p=$o1 -v n="$FLOOD_N" 'BEGIN { print (c + p - o) / n * 1e9 }') "
	[ "$(summary nic_syn $PORT)" = "$FLOOD_N" ] && nic_ok=$((nic_ok + 1))
	[ "$(summary tc_syn $PORT)" = "$FLOOD_N" ] && tc_ok=$((tc_ok + 1))
	[ "$(summary listener_syn $PORT)" = "$FLOOD_N" ] && lst_ok=$((lst_ok + 1))
	SA_RATE=$(awk -v n="$FLOOD_N" -v w="$FLOOD_WALL" 'BEGIN { printf "%.0f", n / w }')

	# The same without XDP: what generic XDP itself costs (it copies a
	# frame without XDP_PACKET_HEADROOM before running the program).
	synacct_start --no-xdp
	o0=$(proc_cpu_s $SA_PID)
	flood "$FLOOD_N"
	o1=$(proc_cpu_s $SA_PID)
	synacct_stop
	cpu[noxdp]+="$(awk -v c="$FLOOD_CPU_S" -v o=$o0 -v p=$o1 -v n="$FLOOD_N" 'BEGIN { print (c + p - o) / n * 1e9 }') "

	ip netns exec "$SRV" tcpdump -i "$SRV_IF" -w /dev/null -n \
		"tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn" 2>"$LAB_DIR/tcpdump.err" &
	TD_PID=$!
	LAB_PIDS+=($TD_PID)
	for ((k = 0; k < 50; k++)); do
		grep -qs 'listening on' "$LAB_DIR/tcpdump.err" && break
		sleep 0.1
	done
	# The tcpdump process itself, not ip netns exec: its own CPU time.
	td=$(pgrep -P $TD_PID -x tcpdump || echo $TD_PID)
	o0=$(proc_cpu_s "$td")
	flood "$FLOOD_N"
	sleep 0.2	# let it drain its buffer
	o1=$(proc_cpu_s "$td")
	kill -INT $TD_PID; wait $TD_PID 2>/dev/null
	cpu[tcpdump]+="$(awk -v c="$FLOOD_CPU_S" -v o=$o0 -v p=$o1 -v n="$FLOOD_N" 'BEGIN { print (c + p - o) / n * 1e9 }') "
	TD_STATS+="$(grep -E 'captured|dropped by kernel' "$LAB_DIR/tcpdump.err" | tr '\n' ' ' | sed 's/  */ /g'); "
done
med() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 } END { printf "%.0f", v[int((NR + 1) / 2)] }'; }
low() { tr ' ' '\n' <<<"$1" | grep . | sort -g | head -1 | awk '{ printf "%.0f", $1 }'; }
row "generator: lab_synflood --packet, $NCPU processes, SYN/s from the client namespace (no observer)" \
	"$GEN_RATE" "" "" ">= 200000"
# As for bulk TCP, other load only adds: the lowest of each side is the
# least disturbed; the medians show how much the rounds spread.
row "host CPU per SYN under the flood, ns, lowest of $PAIRS rounds (generator + softirq on its CPU + observer process)" \
	"$(low "${cpu[none]}")" "$(low "${cpu[synacct]}")" "$(ratio "$(low "${cpu[synacct]}")" "$(low "${cpu[none]}")")" "<= 1.05x"
row "same, medians" "$(med "${cpu[none]}")" "$(med "${cpu[synacct]}")" \
	"$(ratio "$(med "${cpu[synacct]}")" "$(med "${cpu[none]}")")" "-"
# cpu_row KEY WHAT [PREFIX] [TARGET]: cpu[KEY] against cpu[none], lowest; median.
cpu_row() {
	row "same, $2 (lowest; median)" "$(low "${cpu[none]}")" \
		"${3:-}$(low "${cpu[$1]}"); $(med "${cpu[$1]}")" \
		"$(ratio "$(low "${cpu[$1]}")" "$(low "${cpu[none]}")")" "${4:--}"
}
cpu_row hooks "empty programs at synacct's hooks instead (generic XDP, TC ingress and egress, netfilter LOCAL_IN and FORWARD, kfree_skb, consume_skb, net_dev_xmit)"
cpu_row named "empty programs at the hooks issue #8 names only (generic XDP, TC ingress and egress, kfree_skb, consume_skb)"
cpu_row tcx "empty programs at all synacct's hooks, TC through TCX links (Linux 6.6+) instead of clsact"
row "same, synacct against empty programs at all its hooks (lowest)" \
	"$(low "${cpu[hooks]}")" "$(low "${cpu[synacct]}")" \
	"$(ratio "$(low "${cpu[synacct]}")" "$(low "${cpu[hooks]}")")" "-"
cpu_row noxdp "synacct --no-xdp (TC, stack and listeners only)"
cpu_row tcpdump "tcpdump -w /dev/null with a SYN-only filter instead of synacct" "tcpdump: " "synacct below tcpdump"
row "SYNs counted by synacct (nic_syn, tc_syn, listener_syn == sent), floods" \
	"" "$nic_ok, $tc_ok, $lst_ok of $PAIRS" "" "all"
row "tcpdump's own report per flood of $FLOOD_N SYNs" "" "${TD_STATS%; }" "" "-"
row "flood rate with synacct attached, one generator, SYN/s" "" "$SA_RATE" "" "-"

# BPF time per SYN: bpf_stats, synacct and the empty tracepoint programs
# in the same flood.
say "BPF time per SYN: $FLOOD_N SYNs with bpf_stats"
hold_and_start
bpf_snap "$LAB_DIR/f0"
flood "$FLOOD_N"
bpf_snap "$LAB_DIR/f1"
synacct_stop
kill -TERM $HOLD_PID; wait $HOLD_PID 2>/dev/null
bpf_delta "$LAB_DIR/f0" "$LAB_DIR/f1" "$eids" "$FLOOD_N" >"$LAB_DIR/floor"
FLOOR=$(awk '{ r += $2; t += $3 } END { printf "%.1f", r ? t / r : 0 }' "$LAB_DIR/floor")
total=0 net=0
while IFS=$'\t' read -r name runs ns; do
	[ "$(awk -v r="$runs" 'BEGIN { print (r > 0.001) }')" = 1 ] || continue
	row "BPF ns per SYN, $name (cookie flood; $(fmt "$runs" 2) runs per SYN)" \
		"" "$(fmt "$ns" 1)" "" ""
	total=$(awk -v a=$total -v b="$ns" 'BEGIN { print a + b }')
	net=$(awk -v a=$net -v b="$ns" -v r="$runs" -v f="$FLOOR" 'BEGIN { print a + b - r * f }')
done < <(bpf_delta "$LAB_DIR/f0" "$LAB_DIR/f1" "$ids" "$FLOOD_N")
row "BPF ns per SYN, all synacct programs (bpf_stats)" "" "$(fmt $total 0)" "" "<= 400"
row "same, less bpf_stats' own cost (an empty tp_btf program in the same flood: $FLOOR ns per run)" \
	"" "$(fmt $net 0)" "" ""
# kfree_skb's runs in this flood are the SYN-ACKs the client namespace
# drops (no socket there): skbs outside the watched namespace, on a hot
# path, beside an empty program at the same tracepoint.
tp_row kfree_skb "$LAB_DIR/f0" "$LAB_DIR/f1" \
	"on skbs outside the watched namespace (the flood's SYN-ACKs, dropped by the client: %s runs)"

# ---- where the added CPU goes: perf, system-wide, during the flood ----

# profile NAME: a flood of PROF_N SYNs under `perf record -a` (cpu-clock:
# a sample's period is the nanoseconds it stands for); NAME.syms holds
# "ns symbol" per kernel symbol, summed over every CPU.
PROF_N=${BENCH_PROF_N:-300000}
profile() {
	# The flood is perf's workload: perf starts it once it records.
	perf record -a -q -o "$LAB_DIR/$1.perf" -- ip netns exec "$CLI" taskset -c $((NCPU - 1)) \
		"$SA_BIN/lab_synflood" --to $SRV_IP4 --port $PORT --count "$PROF_N" \
		--src-net 198.19.0.0/16 --reuse-sources --packet "$CLI_IF" --dst-mac "$SRV_MAC" \
		>/dev/null 2>&1
	perf report -i "$LAB_DIR/$1.perf" --no-children --sort sym -F period,sym \
		--stdio -g none 2>/dev/null |
		awk '$2 == "[k]" { s = $3; for (i = 4; i <= NF; i++) s = s " " $i; ns[s] += $1 }
		     END { for (s in ns) print ns[s], s }' >"$LAB_DIR/$1.syms"
}
# The kernel's own parts of each hook, by symbol; the rest of the
# difference (allocation, cache misses, more of everything) is "other".
declare -A PROF_RE=(
	[programs]='^bpf_prog_[0-9a-f]+_synacct_'
	[helpers]='^(bpf_trace_run[0-9]|__bpf_trace_|copy_from_kernel_nofault|bpf_probe_read_kernel|bpf_map_lookup_percpu_elem|bpf_get_smp_processor_id|bpf_skc_to_|bpf_loop|bpf_ktime_get_ns|bpf_dispatcher_xdp|__bpf_prog_enter|__bpf_prog_exit|htab_|__htab_|bpf_ct_)'
	[generic_xdp]='^(do_xdp_generic|bpf_prog_run_generic_xdp|netif_receive_generic_xdp|netif_skb_check_for_xdp|pskb_expand_head|skb_cow_data_for_xdp|skb_pp_cow_data)'
	[tc]='^(tc_run|tcf_classify|__tcf_classify|cls_bpf_classify|sch_handle_ingress|sch_handle_egress|tcx_run)'
	[netfilter]='^(nf_hook_slow|nf_hook_run_bpf)'
)
PROF_ORDER=(programs helpers generic_xdp tc netfilter)
say "where the added CPU goes: perf record -a, floods of $PROF_N SYNs without and with synacct"
profile off
synacct_start || exit 1
profile on
synacct_stop
# prof_ns NAME [REGEX]: ns per SYN of the symbols matching REGEX (all).
prof_ns() {
	awk -v re="${2:-.}" -v n="$PROF_N" '{ ns = $1; $1 = ""; sub(/^ /, "") }
		$0 ~ re && $0 != "pv_native_safe_halt" && $0 !~ /^(default_idle|cpu_idle|intel_idle|acpi_idle|poll_idle|native_safe_halt)/ { t += ns }
		END { printf "%.0f", t / n }' "$LAB_DIR/$1.syms"
}
p_off=$(prof_ns off) p_on=$(prof_ns on)
row "kernel CPU per SYN in a flood, every CPU, ns (perf record -a, cpu-clock, kernel samples, idle left out; $PROF_N SYNs)" \
	"$p_off" "$p_on" "$(ratio "$p_on" "$p_off")" "-"
rest=$((p_on - p_off))
for c in "${PROF_ORDER[@]}"; do
	d=$(( $(prof_ns on "${PROF_RE[$c]}") - $(prof_ns off "${PROF_RE[$c]}") ))
	rest=$((rest - d))
	case $c in
	programs) what="synacct's BPF programs, their own code" ;;
	helpers) what="BPF dispatch and helpers (tracepoint runners, probe reads, map helpers)" ;;
	generic_xdp) what="generic XDP's path (the skb reallocated for XDP's 256 bytes of headroom: pskb_expand_head)" ;;
	tc) what="the TC clsact path (tc_run, tcf_classify, cls_bpf)" ;;
	netfilter) what="the netfilter hook (NAT stage)" ;;
	esac
	row "same, added per SYN: $what" "" "$d" "" "-"
done
row "same, added per SYN: the rest of the kernel (more allocation and freeing, cache misses)" "" "$rest" "" "-"

# ---- XDP/TC per packet vs an empty program ----

say "BPF_PROG_TEST_RUN: synacct vs empty programs"
while read -r hook frame ns ens; do
	case $frame in syn) target="<= 1.5x" ;; synack) [ "$hook" = tc_egress ] && target="<= 1.5x" || target="<= 1.1x" ;; *) target="<= 1.1x" ;; esac
	[ "$hook" = tc_egress ] && [ "$frame" = syn ] && target="<= 1.1x"
	row "$hook per packet, $frame frame, ns (BPF_PROG_TEST_RUN, min of 15; without = empty program)" \
		"$ens" "$ns" "$(ratio "$ns" "$ens")" "$target"
done < <("$HELPER" testrun "$SA_ROOT/build/nic.bpf.o" "$SA_ROOT/build/tc.bpf.o" "$EMPTY")

# ---- the agent ----

say "agent: 1000 listeners, 10 s at a 1 s interval; then a 20000-port scan"
lab_server_stop "$LAB_SERVER_PID" "$LAB_SERVER_COUNT"
ip netns exec "$SRV" "$HELPER" listen $LISTEN_BASE 1000 >"$LAB_DIR/listen" &
LAB_PIDS+=($!)
lab_wait_file "$LAB_DIR/listen" 100
# agent_cpu PID: % of one CPU it uses over AGENT_S seconds.
AGENT_S=${BENCH_AGENT_S:-10}
agent_cpu() {
	local o0 o1 w0 w1
	o0=$(proc_cpu_s "$1"); w0=$(date +%s.%N)
	sleep "$AGENT_S"
	o1=$(proc_cpu_s "$1"); w1=$(date +%s.%N)
	awk -v a="$o0" -v b="$o1" -v s="$w0" -v e="$w1" 'BEGIN { printf "%.2f", (b - a) / (e - s) * 100 }'
}
# The live table first (what a person watches), then --json.
"$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --interval 1 >/dev/null 2>&1 &
TABLE_PID=$!
LAB_PIDS+=($TABLE_PID)
sleep 1.5
AGENT_CPU_TABLE=$(agent_cpu $TABLE_PID)
kill -INT $TABLE_PID; wait $TABLE_PID 2>/dev/null
synacct_start --interval 1 --json-all-ports
sleep 1
AGENT_CPU=$(agent_cpu $SA_PID)
RSS_LISTEN=$(awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' /proc/$SA_PID/status)
ip netns exec "$CLI" "$SA_BIN/lab_synflood" --to $SRV_IP4 --port $SCAN_BASE --port-span 20000 \
	--count 20000 --src-net 198.19.0.0/16 --packet "$CLI_IF" --dst-mac "$SRV_MAC" >/dev/null
sleep 2.5
RSS_SCAN=$(awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' /proc/$SA_PID/status)
synacct_stop
SCAN_PORTS=$(jq -r --argjson lo $SCAN_BASE 'select(.type == "summary") | [.ports[] | select(.port >= $lo and .port < $lo + 20000 and .nic_syn == 1)] | length' "$SA_OUT")
row "agent peak RSS (VmHWM), MiB: 1000 listening ports" "" "$RSS_LISTEN" "" "<= 20"
row "agent peak RSS, MiB: after a 20000-port scan (ports each counted once: $SCAN_PORTS)" "" "$RSS_SCAN" "" "<= 20"
row "agent CPU at a 1 s interval with 1000 listeners, % of one CPU: live table" "" "$AGENT_CPU_TABLE" "" "<= 1"
row "same, --json (interval records carry the ports that moved)" "" "$AGENT_CPU" "" "<= 1"
row "attach time, ms (start to the start record; $XDP_MODE)" "" "$ATTACH_MS" "" "-"

# ---- after a scan of every port: cost follows the ports that move ----

say "agent after a 65535-port scan, no traffic since (selftests/bench/scan.sh)"
SCAN_OUT=$("$SA_ROOT/selftests/bench/scan.sh" 2>&1)
scan_val() { awk -v k="$1" '$1 == "#" && $2 == k { print $3 }' <<<"$SCAN_OUT"; }
row "agent CPU at a 1 s interval after one SYN to each of 65535 ports, no traffic since, % of one CPU (--json)" \
	"" "$(scan_val idle_cpu_pct)" "" "<= 1"
row "same, agent RSS (VmRSS), MiB; peak (VmHWM) $(scan_val hwm_mib)" "" "$(scan_val rss_mib)" "" "<= 24"
row "same, longest JSON interval record, KiB (the scan's; ports beyond folded into \"other\")" \
	"" "$(scan_val interval_max_kib)" "" "<= 256"
row "same, JSON summary record, KiB (nic_syn over its rows: $(scan_val summary_nic_syn))" \
	"" "$(scan_val summary_kib)" "" "<= 1024"
SCAN_OUT=$(SCAN_METRICS=1 "$SA_ROOT/selftests/bench/scan.sh" 2>&1)
row "same with --metrics, agent CPU, % of one CPU (nic_syn over the page's series: $(scan_val metrics_nic_syn))" \
	"" "$(scan_val idle_cpu_pct)" "" "<= 1"

# ---- fleet collection: series and bytes per node ----

say "fleet: /metrics with 0, 100 and 1000 listening ports; remote_write (selftests/bench/fleet.sh)"
FLEET_OUT=$("$SA_ROOT/selftests/bench/fleet.sh" 2>&1)
fleet_val() { awk -v k="$1" '$1 == "#" && $2 == k { print $3 }' <<<"$FLEET_OUT"; }
row "fleet: /metrics series per node, 0 / 100 / 1000 idle listening ports (after one SYN to each: 100 / 1000)" "" \
	"$(fleet_val series_0) / $(fleet_val series_100) / $(fleet_val series_1000) ($(fleet_val series_100_syn) / $(fleet_val series_1000_syn))" "" "-"
row "same, bytes per scrape as served (plain; gzip -6 in brackets)" "" \
	"$(fleet_val bytes_0) / $(fleet_val bytes_100) / $(fleet_val bytes_1000) ($(fleet_val gzip_0) / $(fleet_val gzip_100) / $(fleet_val gzip_1000))" "" "-"
row "same, Prometheus agent remote_write bytes per sample, 1000-port page at 1 s (samples failed or dropped: $(fleet_val rw_failed))" "" \
	"$(fleet_val rw_bytes_per_sample)" "" "-"

# ---- soak: a minute under a flood, RSS and open fds flat ----

SOAK_S=${BENCH_SOAK_S:-60}
say "soak: ${SOAK_S} s under a flood (selftests/bench/soak.sh)"
SOAK_OUT=$("$SA_ROOT/selftests/bench/soak.sh" "$SOAK_S" 2>&1)
SOAK_LINE=$(grep -m1 '^# [0-9]* s at' <<<"$SOAK_OUT" | sed 's/^# //')
SOAK_FAIL=$(grep -m1 '^not ok' <<<"$SOAK_OUT")
row "soak: ${SOAK_LINE:-no result}" "" "${SOAK_FAIL:-flat, every SYN counted}" "" "RSS and fds flat"

# ---- a real driver: virtio_net in a guest (opt-in: BENCH_NIC=1) ----

# About 4 minutes under QEMU TCG (selftests/bench/nic.sh): rows beside the
# veth ones, each against no synacct in the same guest.
if [ "${BENCH_NIC:-0}" = 1 ]; then
	say "virtio_net in a guest (selftests/bench/nic.sh)"
	while IFS= read -r r; do
		ROWS+=("$r")
	done < <("$SA_ROOT/selftests/bench/nic.sh")
fi

# ---- the table ----

echo "synacct bench  $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $CPU_MODEL, $NCPU CPUs, Linux $(uname -r)"
echo
echo "| measure | without synacct | with synacct | ratio | target |"
echo "|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
