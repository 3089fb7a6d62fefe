#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nic.sh - what each NIC-stage choice costs on a real driver: one guest of
# selftests/vm/kernels.sh (Debian 12's 6.1 cloud kernel unless KERNELS=
# says otherwise) with a virtio-net NIC (VM_NIC=virtio), running
# selftests/bench/nic-guest.sh; prints its table rows (docs/performance.md,
# "virtio_net in a guest").  make bench runs it when BENCH_NIC=1 (about
# 4 minutes under TCG); alone: sudo selftests/bench/nic.sh.  The guest's
# TAP and console stay in build/vm/run-<uname -r>/.
#
# Progress goes to stderr, the rows to stdout.

SA_ROOT=${SA_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
log=$(mktemp /tmp/synacct-bench-nic.XXXXXX)
trap 'rm -f "$log"' EXIT

[ "$(id -u)" -eq 0 ] || { echo "bench nic: needs root" >&2; exit 2; }
command -v iperf3 >/dev/null || { echo "bench nic: iperf3 is missing: run it through 'sudo make bench'" >&2; exit 1; }
# One guest: the newest Debian 12 6.1 cloud kernel apt knows.
KERNELS=${KERNELS:-$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-cloud-amd64$' |
	awk '{ print $1 }' | sort -V | tail -n 1)}
[ -n "$KERNELS" ] || { echo "bench nic: no Debian 12 6.1 cloud kernel known to apt (set KERNELS)" >&2; exit 1; }
export KERNELS
echo "bench: virtio_net in a guest (selftests/bench/nic.sh, QEMU TCG)" >&2
VM_NIC=virtio VM_SYSTEMD= VM_TESTS=bench/nic-guest.sh \
	"$SA_ROOT/selftests/vm/kernels.sh" >"$log" 2>&1
rc=$?
sed -n 's/^# bench-row: //p' "$log"
grep -E '^(not ok|Bail out!)|^kernel ' "$log" | sed 's/^/bench nic: /' >&2
[ $rc -eq 0 ] || echo "bench nic: the guest's run failed (exit $rc); its log: build/vm/run-*/" >&2
exit $rc
