#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernels.sh - the lab suite on other kernels: Debian's own kernel packages,
# booted under QEMU (TCG: no KVM on the project's machines) with an
# initramfs that holds synacct, the lab tools, the test scripts, the user
# space they need (copied from this machine with their libraries) and the
# kernel's modules.  The guest's /init (selftests/vm/init) runs the tests
# and writes their TAP to a second serial port, which this script streams
# and counts.  Ends with one line per kernel:
#
#   kernel <uname -r>: <passed>/<total> ok, <skipped> skipped
#
# counting test points (a skipped point is ok and skipped; a file skipped
# whole counts as one skipped and adds nothing to the total).
# Exit 0 only when every kernel ran every test file to its plan with no
# failure.  Run through `sudo make test-kernels` (which builds synacct and
# installs qemu-system-x86, cpio, kmod and the tests' packages).
#
# Environment:
#   KERNELS    linux-image package names (default: the newest Debian 12
#              6.1 and 6.12 cloud kernels apt knows)
#   VM_TESTS   test files to run, names under selftests/t; FILE@HOOK runs
#              FILE with synacct --listener-hook HOOK; FILE[@HOOK]:A,B only
#              its scenarios A and B (default: every file
#              that touches the kernel, then the funnel and cookie files
#              with kprobe); none: only the boot with systemd (VM_SYSTEMD);
#              bench/NAME: selftests/bench/NAME, a benchmark's guest side
#              (selftests/bench/nic.sh)
#   VM_SET     ci: the subset .ci/run runs (make test-kernels-ci): Debian
#              12's 6.1 only (kprobes allowed, no consume_skb), the
#              funnel in its fexit form and its listener scenarios in the
#              kprobe form,
#              the losses, pin and VLAN files; KERNELS and VM_TESTS still
#              override it
#   VM_SYSTEMD test files to run in a second boot of each kernel with
#              systemd as PID 1 (default 80-systemd.t; empty: no such
#              boot): the initramfs then also holds systemd, journald and
#              their units (this machine's), synacct installed by
#              `make install DESTDIR=... PREFIX=/usr`, and
#              selftests/vm/systemd/, whose target runs /init as a service
#   VM_TIMEOUT seconds one kernel may take before it is stopped (3600;
#              1500 for VM_SET=ci); the boot with systemd: VM_SD_TIMEOUT
#              (600)
#   VM_MEM     guest memory in MB (2048)
#   VM_NIC     virtio: give the guest a virtio-net NIC (eth0) whose host
#              side is a tap in a lab namespace of its own (sa-vmnic-PID,
#              198.18.200.1/24, 2001:db8:200::1/64, no default route),
#              where QEMU runs so the tap stays there; the guest's lab
#              files reach that namespace through a third serial port
#              (vm_host in selftests/lib/lab.sh).  Default: virtio when a
#              file of VM_TESTS carries the line "# synacct-vm: nic",
#              none otherwise.  VM_NIC_QUEUES queue pairs (4: native XDP
#              on virtio_net wants one XDP_TX queue per CPU beside the
#              guest's 2 CPUs' own, virtnet_xdp_set)
# Everything is cached under build/vm: the .deb files, the unpacked kernels,
# the initramfs images, and each run's TAP and console log.

set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

SA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM=$SA_ROOT/build/vm
# CI's whole run must stay under 45 minutes: its part here takes about
# 17 (2026-12-07: 991 s of tests, 75-pin 394 s of it) and is stopped at 25;
# the boot with systemd adds about 2 (115-121 s, 80-systemd.t 95-101 s of
# it), stopped at 10 (VM_SD_TIMEOUT).
[ "${VM_SET:-}" = ci ] && VM_TIMEOUT=${VM_TIMEOUT:-1500}
VM_TIMEOUT=${VM_TIMEOUT:-3600}
VM_SD_TIMEOUT=${VM_SD_TIMEOUT:-600}
VM_SYSTEMD=${VM_SYSTEMD-80-systemd.t}
VM_MEM=${VM_MEM:-2048}
# Modules the lab needs; nf_tables' expressions and everything else under
# the net/ trees come along so the guest's modprobe can autoload them.
VM_MODULES="veth nf_tables sch_ingress cls_bpf 8021q tun"
VM_MODULE_DIRS="kernel/net kernel/drivers/net/veth* kernel/drivers/net/tun* kernel/lib kernel/crypto"
# VM_NIC=virtio: the PCI transport and the driver (with net_failover).
VM_NIC_MODULES="virtio_pci virtio_net"
VM_NIC_MODULE_DIRS="kernel/drivers/virtio kernel/drivers/net/virtio_net* kernel/drivers/net/net_failover*"

die() { echo "kernels.sh: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (run: sudo make test-kernels)"
for cmd in qemu-system-x86_64 cpio depmod modprobe dpkg-deb apt-get; do
	command -v $cmd >/dev/null || die "$cmd not found (run: sudo make test-kernels, which installs it)"
done
[ -x "$SA_ROOT/synacct" ] && [ -x "$SA_ROOT/selftests/bin/lab_server" ] ||
	die "synacct and selftests/bin not built (run: sudo make test-kernels)"

# apt's lists, fresh once per run: the newest kernel changes with each
# Debian point release and security update.
APT_UPDATED=
apt_update_once() {
	[ -n "$APT_UPDATED" ] && return 0
	APT_UPDATED=1
	echo "# apt-get update"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
		echo "# apt-get update failed; going on with the lists apt has"
}

# The newest package whose name matches @1, by version.
newest() {
	apt-cache search --names-only "$1" | awk '{ print $1 }' | sort -V | tail -n 1
}

if [ "${VM_SET:-}" = ci ]; then
	# 6.1: the oldest kernel synacct supports, the one where the listener
	# verdicts come from fexit or kprobe rather than consume_skb, and the
	# only one where the VLAN file runs end to end (6.18 skips it).
	# The kprobe form: the scenarios whose figures come from the listener
	# verdicts it gives (fexit, the automatic choice on 6.1, runs them all).
	VM_TESTS=${VM_TESTS:-30-funnel.t@fexit 30-funnel.t@kprobe:accept_overflow,syn_flood_no_cookies,syn_flood_cookies,ack_accept_full,fastopen 62-losses.t 75-pin.t 63-vlan.t}
	if [ -z "${KERNELS:-}" ]; then
		apt_update_once
		KERNELS=$(newest '^linux-image-6\.1\.0-[0-9]+-cloud-amd64$')
		[ -n "$KERNELS" ] || die "no Debian 12 6.1 cloud kernel known to apt (run apt-get update, or set KERNELS)"
	fi
elif [ -n "${VM_SET:-}" ]; then
	die "unknown VM_SET '$VM_SET' (ci, or unset for every file on 6.1 and 6.12)"
fi
if [ -z "${KERNELS:-}" ]; then
	apt_update_once
	KERNELS="$(newest '^linux-image-6\.1\.0-[0-9]+-cloud-amd64$') $(newest '^linux-image-6\.12\.[0-9]+\+deb12-cloud-amd64$')"
	[ -n "${KERNELS// /}" ] || die "no Debian 12 cloud kernel known to apt (run apt-get update, or set KERNELS)"
fi
# A package name, not a pattern: apt-get download takes anything else as
# a regular expression ("6.1" once fetched 282 packages, 35 GB).
for pkg in $KERNELS; do
	[[ $pkg =~ ^linux-image-[0-9][A-Za-z0-9.+~-]*$ ]] ||
		die "KERNELS takes linux-image package names (e.g. linux-image-6.1.0-57-cloud-amd64), not '$pkg'"
done
# These are not about the kernel (docs against the code, the lab's table
# reader on fixtures, C unit tests, the Prometheus page with a real
# Prometheus, the config file, what synacct accepts as input, make
# install): make test runs them.
VM_HOST_ONLY="02-docs.t 02-lab.t 05-unit.t 12-inputs.t 60-metrics.t 61-fleet.t 65-config.t 70-install.t"
# ... and this one runs in the boot with systemd as PID 1 (VM_SYSTEMD).
VM_SYSTEMD_ONLY="80-systemd.t"
if [ -z "${VM_TESTS:-}" ]; then
	VM_TESTS="$(cd "$SA_ROOT/selftests/t" && ls *.t | grep -vxF "$(tr ' ' '\n' <<<"$VM_HOST_ONLY $VM_SYSTEMD_ONLY")" | tr '\n' ' ')"
	# Automatic choice takes fexit on 6.1 and consume_skb on 6.12: the
	# kprobe form runs on both too.
	VM_TESTS+="30-funnel.t@kprobe 50-cookies.t@kprobe"
fi
[ "$VM_TESTS" = none ] && VM_TESTS=
# test_path NAME: a test file's path under selftests (bench/NAME: one of
# selftests/bench, a benchmark's guest side, e.g. nic-guest.sh).
test_path() {
	case $1 in bench/*) echo "selftests/$1" ;; *) echo "selftests/t/$1" ;; esac
}
for t in $VM_TESTS $VM_SYSTEMD; do
	f=${t%%:*}; f=${f%@*}
	[ -f "$SA_ROOT/$(test_path "$f")" ] || die "no test file $(test_path "$f") (VM_TESTS)"
	case $t in *:*)
		for sc in $(tr , ' ' <<<"${t#*:}"); do
			bash "$SA_ROOT/$(test_path "$f")" --list | grep -qxF "$sc" ||
				die "$f has no scenario $sc (VM_TESTS)"
		done ;;
	esac
done

# VM_NIC: the guest's virtio-net NIC, asked for or wanted by a file.
if [ -z "${VM_NIC:-}" ]; then
	VM_NIC=none
	for t in $VM_TESTS; do
		f=${t%%:*}; f=${f%@*}
		grep -qx '# synacct-vm: nic' "$SA_ROOT/$(test_path "$f")" && VM_NIC=virtio
	done
fi
case $VM_NIC in
virtio)	VM_MODULES+=" $VM_NIC_MODULES"; VM_MODULE_DIRS+=" $VM_NIC_MODULE_DIRS" ;;
none)	;;
*)	die "unknown VM_NIC '$VM_NIC' (virtio or none)" ;;
esac
VM_NIC_QUEUES=${VM_NIC_QUEUES:-4}

mkdir -p "$VM/debs" || exit 1

# ---- the kernels ----

# fetch_kernel PKG: download and unpack it once; sets KDIR and KVER.
fetch_kernel() {
	local pkg=$1 deb
	deb=$(ls "$VM/debs/${pkg}_"*.deb 2>/dev/null | head -n 1)
	if [ -z "$deb" ]; then
		apt_update_once
		echo "# downloading $pkg"
		(cd "$VM/debs" && apt-get download -q "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed') ||
			die "cannot download $pkg (apt-get update? is the name right?)"
		deb=$(ls "$VM/debs/${pkg}_"*.deb 2>/dev/null | head -n 1)
		[ -n "$deb" ] || die "apt-get download $pkg left no .deb"
	fi
	KDIR=$VM/kernel/$pkg
	if [ ! -d "$KDIR/lib/modules" ]; then
		rm -rf "$KDIR" && mkdir -p "$KDIR" && dpkg-deb -x "$deb" "$KDIR" ||
			die "cannot unpack $deb"
	fi
	KVER=$(ls "$KDIR/lib/modules" | head -n 1)
	[ -n "$KVER" ] && [ -f "$KDIR/boot/vmlinuz-$KVER" ] || die "$deb holds no kernel"
}

# ---- the user space (shared by every kernel) ----

# copy_path PATH: PATH into $R with its directory canonicalised (/lib is a
# link to usr/lib on Debian 12), following symlinks to what they name.
copy_path() {
	local p=$1 dir dest
	dir=$(readlink -f "$(dirname "$p")") || return 1
	p=$dir/$(basename "$p")
	dest=$R$p
	[ -e "$dest" ] || [ -L "$dest" ] && return 0
	mkdir -p "$R$dir" && cp -a "$p" "$dest" || return 1
	# Follow a link one step at a time: alternatives chain through /etc.
	if [ -L "$p" ]; then
		local to
		to=$(readlink "$p")
		case $to in /*) ;; *) to=$dir/$to ;; esac
		copy_path "$to"
	fi
}

# copy_bin PATH...: executables and every library they load.
copy_bin() {
	local f lib
	for f; do
		copy_path "$f" || die "cannot copy $f"
		for lib in $(ldd "$f" 2>/dev/null | awk '/=> \// { print $3 } /^\t\/[^ ]+ \(/ { print $1 }'); do
			copy_path "$lib" || die "cannot copy $lib (for $f)"
		done
	done
}

# Executables of the Debian packages the tests call.
pkg_bins() {
	dpkg -L "$@" 2>/dev/null | grep -E '^/(usr/)?s?bin/[^/]+$' | while read -r f; do
		[ -f "$f" ] && [ -x "$f" ] && echo "$f"
	done
}

build_userspace() {
	local out=$VM/userspace.cpio.gz f
	R=$VM/userspace
	rm -rf "$R" && mkdir -p "$R" || exit 1
	for d in bin sbin lib lib64; do
		ln -s usr/$d "$R/$d"
	done
	mkdir -p "$R"/{usr/bin,usr/sbin,usr/lib,usr/lib64,dev,proc,sys,tmp,run,etc,root,var} &&
	ln -s ../run "$R/var/run" && mknod -m 600 "$R/dev/console" c 5 1 &&
	mknod -m 666 "$R/dev/null" c 1 3 || die "cannot lay out $R"

	copy_bin $(pkg_bins bash coreutils grep sed mawk findutils procps iproute2 \
		nftables jq kmod diffutils xdp-tools tmux) \
		/usr/bin/awk /usr/bin/mount /usr/bin/umount /usr/bin/setpriv \
		/usr/bin/taskset /usr/bin/nsenter /usr/bin/unshare /usr/bin/flock \
		$(command -v curl bpftool iperf3)
	# sh -c in the tests (unshare, su): bash stands in for dash.
	[ -e "$R/usr/bin/sh" ] || ln -s bash "$R/usr/bin/sh" || die "cannot link sh"
	# libxdp's dispatcher, for kernels where it can load one.
	for f in $(dpkg -L libxdp1 xdp-tools | grep '\.o$'); do
		copy_path "$f" || die "cannot copy $f"
	done
	# tmux (25-table.t) needs a UTF-8 locale and a terminal description.
	[ -d /usr/lib/locale/C.utf8 ] && { mkdir -p "$R/usr/lib/locale" &&
		cp -a /usr/lib/locale/C.utf8 "$R/usr/lib/locale/" || die "cannot copy the C.utf8 locale"; }
	for f in /usr/share/terminfo/x/xterm /usr/share/terminfo/x/xterm-256color \
		 /usr/share/terminfo/t/tmux /usr/share/terminfo/t/tmux-256color \
		 /usr/share/terminfo/s/screen /usr/share/terminfo/d/dumb \
		 /lib/terminfo/x/xterm /lib/terminfo/x/xterm-256color /lib/terminfo/s/screen \
		 /lib/terminfo/t/tmux /lib/terminfo/t/tmux-256color /lib/terminfo/d/dumb; do
		[ -e "$f" ] && copy_path "$f"
	done
	# What the tests read from /etc; no user database beyond root.
	for f in /etc/protocols /etc/services /etc/ethertypes; do
		[ -f "$f" ] && copy_path "$f"
	done
	echo synacct-vm >"$R/etc/hostname"
	printf 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$R/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$R/etc/group"

	# synacct, its tests and lab tools, at the same relative places.
	mkdir -p "$R/synacct/selftests" &&
	cp "$SA_ROOT/synacct" "$R/synacct/" &&
	cp -r "$SA_ROOT/selftests/t" "$SA_ROOT/selftests/lib" "$SA_ROOT/selftests/bin" \
		"$R/synacct/selftests/" &&
	mkdir -p "$R/synacct/selftests/bench" && cp "$SA_ROOT"/selftests/bench/*.sh "$R/synacct/selftests/bench/" &&
	cp -r "$SA_ROOT/configs" "$R/synacct/" &&
	copy_bin "$SA_ROOT/synacct" "$SA_ROOT"/selftests/bin/lab_* "$SA_ROOT/selftests/bin/test_parse" ||
		die "cannot copy synacct and its tests"
	# copy_bin placed them under their host path too; the guest uses /synacct.
	rm -rf "$R${SA_ROOT}"
	echo "$VM_TESTS" >"$R/synacct/vm-tests"
	install -m 755 "$SA_ROOT/selftests/vm/init" "$R/init" || die "cannot install /init"

	(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp" && mv "$out.tmp" "$out" ||
		die "cannot build $out"
}

# build_systemd: what the boot with systemd as PID 1 adds to the user
# space, as a cpio to put after it: systemd, journald, systemctl and
# journalctl with their libraries, the few units they need (the targets a
# service's default dependencies name, the journal's), the guest's target
# and service (selftests/vm/systemd/), and synacct as `make install`
# installs it (binary, config, synacct.service, synacct@.service).
SD_UNITS="basic.target sysinit.target sockets.target timers.target paths.target
	slices.target local-fs.target local-fs-pre.target swap.target shutdown.target
	multi-user.target network.target network-online.target network-pre.target
	systemd-journald.service systemd-journald.socket systemd-journald-dev-log.socket
	systemd-journald-audit.socket"
build_systemd() {
	local out=$VM/systemd.cpio.gz u
	R=$VM/systemd
	rm -rf "$R" && mkdir -p "$R/usr/lib/systemd/system" "$R/etc/systemd/system" "$R/synacct" || exit 1
	copy_bin /usr/lib/systemd/systemd /usr/lib/systemd/systemd-journald \
		/usr/bin/systemctl /usr/bin/journalctl
	for u in $SD_UNITS; do
		cp "/usr/lib/systemd/system/$u" "$R/usr/lib/systemd/system/" || die "cannot copy unit $u"
	done
	[ -f /usr/lib/os-release ] && copy_path /usr/lib/os-release && ln -sf ../usr/lib/os-release "$R/etc/os-release"
	cp "$SA_ROOT"/selftests/vm/systemd/synacct-vm.* "$R/usr/lib/systemd/system/" ||
		die "cannot copy selftests/vm/systemd"
	make -s -C "$SA_ROOT" install DESTDIR="$R" PREFIX=/usr >/dev/null || die "make install DESTDIR=$R failed"
	echo "$VM_SYSTEMD" >"$R/synacct/vm-tests-systemd"
	(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp" && mv "$out.tmp" "$out" ||
		die "cannot build $out"
}

# build_modules: the kernel's modules the lab needs, as a cpio to append
# to the user space (an initramfs may be several archives in a row).
build_modules() {
	local out=$VM/modules-$KVER.cpio.gz src=$KDIR/lib/modules/$KVER d
	R=$VM/modules-$KVER
	rm -rf "$R" && mkdir -p "$R/usr/lib/modules/$KVER" || exit 1
	cp "$src"/modules.order "$src"/modules.builtin* "$R/usr/lib/modules/$KVER/" || exit 1
	for d in $VM_MODULE_DIRS; do
		for p in "$src"/$d; do
			[ -e "$p" ] || continue
			mkdir -p "$R/usr/lib/modules/$KVER/$(dirname "${p#$src/}")" &&
			cp -a "$p" "$R/usr/lib/modules/$KVER/${p#$src/}" || exit 1
		done
	done
	# The kernel's config where a Debian host has it: synacct reads
	# CONFIG_HZ there for the accept queue's age (kprobe/listeners).
	mkdir -p "$R/boot" && cp "$KDIR/boot/config-$KVER" "$R/boot/" ||
		die "$KDIR/boot/config-$KVER missing"
	depmod -b "$R/usr" "$KVER" || die "depmod failed for $KVER"
	for m in $VM_MODULES; do
		modprobe -d "$R/usr" -S "$KVER" --show-depends "$m" >/dev/null 2>&1 ||
			die "module $m not found for $KVER"
	done
	(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp" && mv "$out.tmp" "$out" ||
		die "cannot build $out"
	echo "$VM_MODULES" | tr -s ' \t\n' ' ' >"$VM/modules-$KVER.list"
	INITRD=$VM/initrd-$KVER.gz
	cat "$VM/userspace.cpio.gz" "$out" >"$INITRD"
	if [ -n "$VM_SYSTEMD" ]; then
		INITRD_SD=$VM/initrd-systemd-$KVER.gz
		cat "$VM/userspace.cpio.gz" "$VM/systemd.cpio.gz" "$out" >"$INITRD_SD"
	fi
}

# ---- running ----

# The guest's TAP, as it arrives: echo it, and count.  Markers from
# selftests/vm/init frame each file; a file passes when it ran to its plan
# with every test ok (or skipped), exited 0 and left no namespace behind
# (the end marker's left=N; a file skipped whole that left one fails too).
tap_count() {
	# mawk reads a pipe in blocks unless told it is interactive.
	mawk -W interactive -v summary="$1" '
	function file_end(rc, secs, left,    total) {
		if (!in_file)
			return
		total = seen > plan ? seen : plan
		if (left + 0 > 0) {
			bad = 1
			res = sprintf("FAILED (left %d namespaces behind; %d/%d ok, exit %s)", left, ok, total, rc)
		} else if (skip_all) {
			skipped++
			res = "skipped: " skip_all
		} else if (!have_plan || seen != plan || failed || rc != 0 || bailed) {
			bad = 1
			res = sprintf("FAILED (%d/%d ok, exit %s%s)", ok, total, rc,
				      have_plan ? "" : ", no plan")
		} else {
			res = sprintf("ok (%d tests)", total)
		}
		# A file that left namespaces behind counts none of its tests ok.
		all_ok += left + 0 > 0 ? 0 : ok; all_total += skip_all ? 0 : total
		printf "# %s .. %s, %s s\n", file, res, secs
		fflush()
		in_file = 0
	}
	{ sub(/\r$/, "") }
	/^# synacct-vm: uname / { uname = $4 }
	/^# synacct-vm: begin / {
		file_end("?", "?", 0)
		file = $4; in_file = 1; seen = ok = failed = plan = have_plan = bailed = 0
		skip_all = ""
	}
	/^# synacct-vm: end / {
		rc = $5; sub(/^rc=/, "", rc); secs = $6; sub(/s$/, "", secs)
		left = $7; sub(/^left=/, "", left)
		file_end(rc, secs, left); next
	}
	/^# synacct-vm: done/ { done = 1 }
	# An older guest (no left=N on its end markers) says it on a line
	# of its own, after the file ended.
	/^# synacct-vm: .* left [0-9]+ namespaces behind/ { bad = 1 }
	{ print; fflush() }
	!in_file { next }
	/^ok [0-9]+/ { seen++; ok++; if ($0 ~ /# *SKIP/) skipped++ }
	/^not ok [0-9]+/ { seen++; if ($0 !~ /# *TODO/) failed++; else ok++ }
	/^1\.\.[0-9]+/ {
		have_plan = 1; plan = substr($1, 4) + 0
		if (plan == 0) { skip_all = $0; sub(/^1\.\.0 *# *(SKIP|skip) */, "", skip_all)
				 if (skip_all == "") skip_all = "no tests" }
	}
	/^Bail out!/ { bailed = 1 }
	END {
		file_end("?", "?", 0)
		if (!done) { bad = 1; print "# the guest did not finish (see its console log)" }
		if (uname == "") uname = "(did not boot)"
		printf "kernel %s: %d/%d ok, %d skipped\n", uname, all_ok, all_total, skipped > summary
		exit bad
	}'
}

# ---- VM_NIC=virtio: the host side of the guest's NIC ----
#
# A lab namespace of its own (quiet links, no default route) where QEMU
# runs, so the tap QEMU creates stays there; the flood's spoofed sources
# are blackholed in it.  The guest's lab files ask for commands to run
# in it over a QEMU pipe chardev (the guest's ttyS2): a line "run
# BASE64(command)", answered "rc STATUS BASE64(stdout)".  Commands run
# from this tree (selftests/bin/lab_synflood ...) with a timeout.
NIC_NS=sa-vmnic-$$
NIC_HOST_IF=sa-vmtap0
NIC_HOST_MAC=52:54:00:5a:00:01
NIC_GUEST_MAC=52:54:00:5a:00:02
NIC_SERVER= NIC_ADDR=

nic_serve() {
	local dir=$1 req out rc
	while IFS= read -r req <&8; do
		req=${req%$'\r'}
		case $req in "run "*) ;; *) continue ;; esac
		req=$(base64 -d <<<"${req#run }" 2>/dev/null) || { echo "rc 254 " >&9; continue; }
		echo "$(date -u +%T) $req" >>"$dir/host.log"
		out=$(cd "$SA_ROOT" && timeout -k 5 600 ip netns exec "$NIC_NS" bash -c "$req" 2>>"$dir/host.log")
		rc=$?
		printf 'rc %d %s\n' "$rc" "$(printf '%s' "$out" | base64 -w0)" >&9
	done
}

nic_start() {
	local dir=$1 k
	ip netns del "$NIC_NS" 2>/dev/null
	ip netns add "$NIC_NS" || return 1
	for k in router_solicitations=0 addr_gen_mode=1 mldv2_unsolicited_report_interval=1 \
		 mldv1_unsolicited_report_interval=1; do
		ip netns exec "$NIC_NS" sysctl -qw net.ipv6.conf.default.$k || return 1
	done
	ip -n "$NIC_NS" link set lo up &&
	ip -n "$NIC_NS" route add blackhole 198.19.200.0/24 &&
	ip -n "$NIC_NS" -6 route add blackhole 2001:db8:ff:200::/64 || return 1
	mkfifo "$dir/ctl.in" "$dir/ctl.out" || return 1
	# Read-write opens: neither waits for QEMU.
	exec 8<>"$dir/ctl.out" 9<>"$dir/ctl.in"
	nic_serve "$dir" &
	NIC_SERVER=$!
	exec 8<&- 9>&-
	# The tap appears when QEMU opens it: address it then.
	(
		for ((k = 0; k < 300; k++)); do
			ip -n "$NIC_NS" link show dev "$NIC_HOST_IF" >/dev/null 2>&1 && break
			sleep 0.1
		done
		ip -n "$NIC_NS" link set dev "$NIC_HOST_IF" address $NIC_HOST_MAC &&
		ip -n "$NIC_NS" addr add 198.18.200.1/24 dev "$NIC_HOST_IF" &&
		ip -n "$NIC_NS" addr add 2001:db8:200::1/64 dev "$NIC_HOST_IF" nodad &&
		ip -n "$NIC_NS" neigh replace 198.18.200.2 lladdr $NIC_GUEST_MAC dev "$NIC_HOST_IF" nud permanent &&
		ip -n "$NIC_NS" neigh replace 2001:db8:200::2 lladdr $NIC_GUEST_MAC dev "$NIC_HOST_IF" nud permanent &&
		ip -n "$NIC_NS" link set dev "$NIC_HOST_IF" up ||
			echo "# kernels.sh: cannot address $NIC_HOST_IF in $NIC_NS" >&2
	) &
	NIC_ADDR=$!
	echo "# NIC: virtio-net, $VM_NIC_QUEUES queue pairs; host side $NIC_HOST_IF in $NIC_NS"
}

nic_stop() {
	[ -n "$NIC_SERVER" ] || return 0
	kill "$NIC_ADDR" "$NIC_SERVER" 2>/dev/null
	wait "$NIC_ADDR" "$NIC_SERVER" 2>/dev/null
	ip netns del "$NIC_NS" 2>/dev/null
	NIC_SERVER= NIC_ADDR=
}
trap 'nic_stop' EXIT

# run_kernel [systemd]: boot it, stream the TAP; 0 when everything
# passed.  With systemd: the initramfs with systemd, booted as PID 1
# (rdinit=), which runs the VM_SYSTEMD files through synacct-vm.target.
run_kernel() {
	local dir=$VM/run-$KVER start rc initrd=$INITRD limit=$VM_TIMEOUT append= what=
	if [ "${1:-}" = systemd ]; then
		dir=$VM/run-systemd-$KVER initrd=$INITRD_SD limit=$VM_SD_TIMEOUT what=" (systemd as PID 1)"
		append="rdinit=/usr/lib/systemd/systemd systemd.unit=synacct-vm.target systemd.show_status=0"
	fi
	mkdir -p "$dir" && rm -f "$dir"/* || exit 1
	local nic=() ns=()
	if [ "$VM_NIC" = virtio ] && [ "${1:-}" != systemd ]; then
		nic_start "$dir" || return 1
		ns=(ip netns exec "$NIC_NS")
		nic=(-netdev "tap,id=n0,ifname=$NIC_HOST_IF,script=no,downscript=no,vhost=off,queues=$VM_NIC_QUEUES"
		     -device "virtio-net-pci,netdev=n0,mac=$NIC_GUEST_MAC,mq=on,vectors=$((2 * VM_NIC_QUEUES + 2))"
		     -chardev "pipe,id=ctl,path=$dir/ctl" -device isa-serial,chardev=ctl)
		append+=" synacct.nic=virtio"
	fi
	echo "# kernel $KVER$what: booting under QEMU TCG (console: ${dir#$SA_ROOT/}/console.log)"
	start=$(date +%s)
	# ttyS0 carries the kernel's console to a file, ttyS1 the TAP; with
	# VM_NIC, ttyS2 the guest's requests to the NIC's namespace.
	"${ns[@]}" timeout --foreground -k 10 "$limit" qemu-system-x86_64 -accel tcg -m "$VM_MEM" -smp 2 \
		-nodefaults -no-reboot -display none -monitor none \
		-kernel "$KDIR/boot/vmlinuz-$KVER" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 quiet loglevel=4 synacct.modules=$(tr ' ' , <"$VM/modules-$KVER.list") $append" \
		-serial "file:$dir/console.log" -serial stdio "${nic[@]}" </dev/null |
		tee "$dir/tap.raw" | tap_count "$dir/summary"
	rc=$?
	[ ${#nic[@]} -gt 0 ] && nic_stop
	echo "# kernel $KVER$what: $(( $(date +%s) - start )) s under TCG"
	SUMMARIES+=("$(sed "s/:/$what:/" "$dir/summary" 2>/dev/null || echo "kernel $KVER$what: did not run")")
	return $rc
}

SUMMARIES=()
fail=0
echo "# kernels: $KERNELS"
echo "# tests: $VM_TESTS"
echo "# systemd boot: ${VM_SYSTEMD:-(none)}"
echo "# building the guest's user space"
build_userspace
[ -n "$VM_SYSTEMD" ] && build_systemd
for pkg in $KERNELS; do
	fetch_kernel "$pkg"
	build_modules
	if [ -n "$VM_TESTS" ]; then
		run_kernel || fail=1
	fi
	if [ -n "$VM_SYSTEMD" ]; then
		run_kernel systemd || fail=1
	fi
done
for s in "${SUMMARIES[@]}"; do
	echo "$s"
done
exit $fail
