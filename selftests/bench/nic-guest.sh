#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nic-guest.sh - the guest side of selftests/bench/nic.sh: what each NIC-
# stage choice costs on a real driver (virtio_net), run in a guest of
# selftests/vm/kernels.sh with VM_NIC=virtio.  The lab is 68-nic.t's
# (lab_nic_init): the guest's eth0 in a server namespace, the traffic from
# the host's namespace on the tap's side (vm_host).
#
# For each mode, in rounds that alternate the modes: no synacct; synacct
# --no-xdp (the NIC stage not attached: TC ingress is the first count);
# --xdp-mode skb (generic XDP, today's auto); --xdp-mode native.  Each
# measures, with the mode's synacct attached and running:
#   bulk: iperf3 from the host to the guest for BENCH_NIC_IPERF_S s; the
#         guest's busy CPU time (every CPU, /proc/stat) per KiB eth0 took in
#   flood: BENCH_NIC_SYNS SYNs at BENCH_NIC_RATE/s from the host's tap
#         (tcp_syncookies=2: each answered with a cookie); the guest's busy
#         CPU time per SYN
# Guest CPU under QEMU TCG is emulated: only ratios within a run mean
# anything.  Every flood is also checked: the SYNs eth0 took in == those
# sent, and synacct's first count (nic_syn, or tc_syn with --no-xdp) ==
# them (TAP lines); the figures are "# bench-row:" lines nic.sh collects.
. "$(dirname "$0")/../lib/lab.sh"

ROUNDS=${BENCH_NIC_ROUNDS:-3}
IPERF_S=${BENCH_NIC_IPERF_S:-3}
SYNS=${BENCH_NIC_SYNS:-4000}
RATE=${BENCH_NIC_RATE:-2000}
FPORT=8101
MODES="none no-xdp skb native"

command -v iperf3 >/dev/null || t_skip_all "tool: iperf3 is not in the guest (run through make bench)"
lab_nic_init
lab_sysctl "$SRV" net.ipv4.tcp_syncookies=2
lab_server $FPORT --backlog 16 --accept none

# busy: the guest's busy CPU time so far, in ticks of USER_HZ, every CPU
# (user nice system irq softirq steal).
busy() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)	# USER_HZ: 100 on Linux; the guest has no getconf
declare -A BULK_NS BULK_MBPS FLOOD_US

for ((r = 1; r <= ROUNDS; r++)); do
	for m in $MODES; do
		case $m in
		none)	;;
		no-xdp)	synacct_start --ports $FPORT --no-xdp ;;
		*)	synacct_start --ports $FPORT --xdp-mode "$m" ;;
		esac
		# bulk
		ip netns exec "$SRV" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
		ipid=$!
		sleep 0.5
		b0=$(busy); rx0=$(lab_link_stat "$SRV" "$SRV_IF" rx bytes)
		bytes=$(vm_host "iperf3 -c $SRV_IP4 -p 5201 -t $IPERF_S -J" | jq '.end.sum_received.bytes')
		b1=$(busy); rx1=$(lab_link_stat "$SRV" "$SRV_IF" rx bytes)
		wait $ipid
		BULK_NS[$m]+="$(awk -v b=$((b1 - b0)) -v hz=$HZ -v n=$((rx1 - rx0)) 'BEGIN { printf "%.0f", b / hz * 1e9 / (n / 1024) }') "
		BULK_MBPS[$m]+="$(awk -v n="$bytes" -v s=$IPERF_S 'BEGIN { printf "%.0f", n * 8 / s / 1e6 }') "
		# flood
		p0=$(lab_link_stat "$SRV" "$SRV_IF" rx packets); b0=$(busy)
		out=$(vm_host "selftests/bin/lab_synflood --to $SRV_IP4 --port $FPORT --count $SYNS --rate $RATE \
			--src-net $NIC_SPOOF_NET4 --reuse-sources --packet $NIC_HOST_IF --dst-mac $NIC_GUEST_MAC")
		lab_settle "$SRV"
		b1=$(busy); p1=$(lab_link_stat "$SRV" "$SRV_IF" rx packets)
		FLOOD_US[$m]+="$(awk -v b=$((b1 - b0)) -v hz=$HZ -v n=$SYNS 'BEGIN { printf "%.1f", b / hz * 1e6 / n }') "
		t_is "$out $((p1 - p0))" "sent=$SYNS $SYNS" "round $r, $m: the host sent $SYNS SYNs, eth0 took in $SYNS"
		if [ $m != none ]; then
			synacct_wait_record "$(lab_now)"
			synacct_stop
			f=nic_syn; [ $m = no-xdp ] && f=tc_syn
			t_is "$(summary $f $FPORT)" "$SYNS" "round $r, $m: $f == SYNs sent"
		fi
	done
done

# The lowest of the rounds: other load on the host (TCG's vCPU threads
# descheduled) only ever adds to the guest's busy time, so the least
# disturbed round is the basis, as for the veth rows; every round is shown.
low() { tr ' ' '\n' | grep . | sort -g | head -n 1; }
row() { echo "# bench-row: | $1 | $2 | $3 | $4 | - |"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
base_b=$(low <<<"${BULK_NS[none]}"); base_f=$(low <<<"${FLOOD_US[none]}")
declare -A names
names[no-xdp]="synacct --no-xdp (the NIC stage at TC ingress)"
names[skb]="synacct, generic XDP (--xdp-mode skb, today's auto)"
names[native]="synacct, native XDP (--xdp-mode native)"
for m in no-xdp skb native; do
	b=$(low <<<"${BULK_NS[$m]}"); f=$(low <<<"${FLOOD_US[$m]}")
	row "virtio_net guest ($(uname -r), TCG): bulk TCP, guest CPU ns per KiB received, lowest of $ROUNDS (rounds: ${BULK_NS[$m]% }; Mb/s ${BULK_MBPS[$m]% } against ${BULK_MBPS[none]% }); ${names[$m]}" \
		"$base_b (${BULK_NS[none]% })" "$b" "$(ratio "$b" "$base_b")"
	row "virtio_net guest, SYN flood ($SYNS at $RATE/s): guest CPU us per SYN, lowest of $ROUNDS (rounds: ${FLOOD_US[$m]% }); ${names[$m]}" \
		"$base_f (${FLOOD_US[none]% })" "$f" "$(ratio "$f" "$base_f")"
done
lab_server_stop "$LAB_SERVER_PID" "$LAB_SERVER_COUNT"
t_done
