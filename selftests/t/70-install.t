#!/bin/bash
# make install (PREFIX, DESTDIR) and the systemd unit: the files land where
# they should, the unit is clean under systemd-analyze verify, its sandbox
# keeps the capabilities it names (systemd-analyze security) and gives
# synacct its lock directory, and synacct runs with exactly the unit's
# capabilities and system calls (measured: each capability left out costs
# what the unit's comment says).  Each
# scenario runs in a lab of its own (and installs into it):
#   selftests/t/70-install.t [--list] [SCENARIO...]
. "$(dirname "$0")/../lib/lab.sh"

LAB_SCENARIOS=(install unit_verify capabilities syscalls)
LAB_REQUIRE=require_setpriv

require_setpriv() {
	command -v setpriv >/dev/null || t_skip_all "tool: setpriv (util-linux) is not installed"
}

# stage_install: make install DESTDIR=INST PREFIX=/usr, INST in the lab's
# directory; UNIT, the staged unit.  Fails with make's status.
stage_install() {
	INST=$LAB_DIR/root
	UNIT=$INST/usr/lib/systemd/system/synacct.service
	make -s -C "$SA_ROOT" install DESTDIR="$INST" PREFIX=/usr >"$LAB_DIR/make.out" 2>&1
}

# staged: stage_install for the scenarios that test the staged tree.
staged() {
	stage_install || { t_diag "$LAB_DIR/make.out"; echo "Bail out! make install DESTDIR=... failed"; exit 1; }
}

sc_install() {
	local f out rc n
	stage_install
	t_is $? 0 "make install DESTDIR=... PREFIX=/usr"
	for f in usr/sbin/synacct:755 usr/share/man/man8/synacct.8:644 etc/synacct/synacct.conf:644 \
		usr/lib/systemd/system/synacct.service:644 usr/lib/systemd/system/synacct@.service:644 \
		usr/share/synacct/synacct-alerts.yml:644 \
		usr/share/synacct/synacct-rules.yml:644 usr/share/synacct/synacct-dashboard.json:644 \
		usr/share/synacct/alertmanager-synacct.yml:644 usr/share/synacct/runbook.md:644 \
		usr/share/synacct/consoles/synacct.html:644 usr/share/doc/synacct/README.md:644 \
		usr/share/doc/synacct/verdicts.md:644 usr/share/bash-completion/completions/synacct:644; do
		t_is "$(stat -c %a "$INST/${f%:*}" 2>&1)" "${f#*:}" "installed /${f%:*}, mode ${f#*:}"
	done
	# The docs the man page and README point at: every one, as in the tree.
	t_is "$(cd "$INST/usr/share/doc/synacct" && ls | paste -sd' ')" \
		"$(cd "$SA_ROOT" && ls README.md docs/*.md | xargs -n1 basename | sort | paste -sd' ')" \
		"/usr/share/doc/synacct: README.md and every docs/*.md"
	# The installed completion completes the installed binary's subcommands.
	t_is "$(bash -c '. "$1"; COMP_WORDS=(synacct ""); COMP_CWORD=1; _synacct; echo "${COMPREPLY[*]}"' - \
		"$INST/usr/share/bash-completion/completions/synacct")" "check counters detach verdicts" \
		"the installed bash completion completes the subcommands"
	t_is "$(grep '^ExecStart=' "$UNIT")" "ExecStart=/usr/sbin/synacct --config /etc/synacct/synacct.conf --pin" \
		"the unit runs the installed binary with the installed config"
	t_is "$(grep '^ExecStart=' "$INST/usr/lib/systemd/system/synacct@.service")" \
		"ExecStart=/usr/sbin/synacct --config /etc/synacct/%i.conf --pin" \
		"the template runs the installed binary with the instance's config"
	# The template is the unit but for its header comment, its
	# Description and its config: a change to one is made to both.
	t_is "$(diff <(sed '/^#/d; /^Description=/d; /^ExecStart=/d' "$SA_ROOT/configs/synacct.service") \
		     <(sed '/^#/d; /^Description=/d; /^ExecStart=/d' "$SA_ROOT/configs/synacct@.service") && echo same)" same \
		"configs/synacct@.service is configs/synacct.service but for Description= and ExecStart='s config"
	t_is "$(grep -E '^(Type|ExecReload|Restart|RestartPreventExitStatus)=' "$UNIT" | paste -sd' ')" \
		'Type=notify ExecReload=/bin/kill -HUP $MAINPID Restart=on-failure RestartPreventExitStatus=2' \
		"the unit: Type=notify, reload by SIGHUP, restarts on failure but not after a usage error (exit 2)"
	# The installed alert rules: Prometheus loads them, and they are the ones
	# promtool test rules checks in 60-metrics.t.
	if command -v promtool >/dev/null; then
		out=$(promtool check rules "$INST/usr/share/synacct/synacct-alerts.yml" 2>&1); rc=$?
		t_like "$rc:$out" "^0:.*SUCCESS: 12 rules found" "promtool check rules: the installed alert rules load (12 rules)"
		n=$(grep -c '^ *runbook_url:' "$SA_ROOT/configs/synacct-alerts.yml")
		t_is "$(diff "$SA_ROOT/configs/synacct-alerts.yml" "$INST/usr/share/synacct/synacct-alerts.yml" | grep -c '^> ')" "$n" \
			"... and are configs/synacct-alerts.yml, which promtool test rules checks (60-metrics.t), but for the $n runbook_url lines"
		out=$(promtool check rules "$INST/usr/share/synacct/synacct-rules.yml" 2>&1); rc=$?
		t_like "$rc:$out" "^0:.*SUCCESS: 16 rules found" "promtool check rules: the installed recording rules load (16 rules)"
	else
		for rc in 1 2 3; do
			T_NUM=$((T_NUM + 1)); echo "ok $T_NUM # SKIP tool: promtool is not installed (Debian: prometheus)"
		done
	fi
	# The runbook links point at the runbook installed beside the rules
	# (or at RUNBOOK_URL): each alert's section is there.
	out=$(grep -ho 'runbook_url: "[^"]*"' "$INST/usr/share/synacct/synacct-alerts.yml" | sed 's/runbook_url: "//; s/#.*//' | sort -u)
	t_is "$out" "file:///usr/share/synacct/runbook.md" "the installed alerts' runbook_url: the installed runbook"
	t_is "$(grep -o 'file:///usr/share/synacct/runbook.md' "$INST/usr/share/synacct/synacct-dashboard.json" | wc -l),$(python3 -m json.tool "$INST/usr/share/synacct/synacct-dashboard.json" >/dev/null && echo valid)" \
		"1,valid" "the installed dashboard links the installed runbook, and is valid JSON"
	make -s -C "$SA_ROOT" install DESTDIR="$LAB_DIR/wiki" RUNBOOK_URL=https://wiki.example/synacct.md >/dev/null 2>&1
	t_is "$(grep -ho 'runbook_url: "[^"]*"' "$LAB_DIR/wiki/usr/local/share/synacct/synacct-alerts.yml" | sed 's/runbook_url: "//; s/#.*//' | sort -u)" \
		"https://wiki.example/synacct.md" "make install RUNBOOK_URL=...: the alerts link there"
	make -s -C "$SA_ROOT" uninstall DESTDIR="$LAB_DIR/wiki" >/dev/null 2>&1
	t_is "$(find "$LAB_DIR/wiki/usr/local/share/synacct" "$LAB_DIR/wiki/usr/local/share/doc/synacct" \
		"$LAB_DIR/wiki/usr/local/share/bash-completion/completions/synacct" 2>&1 | grep -v 'No such file')" "" \
		"make uninstall removes every file it installed under share/synacct, share/doc/synacct and the completion"
	echo "# mine" >>"$INST/etc/synacct/synacct.conf"
	make -s -C "$SA_ROOT" install DESTDIR="$INST" PREFIX=/usr >/dev/null 2>&1
	t_is "$(tail -1 "$INST/etc/synacct/synacct.conf")" "# mine" "a second install keeps the administrator's config"
	make -s -C "$SA_ROOT" install DESTDIR="$LAB_DIR/local" >/dev/null 2>&1
	t_is "$(grep '^ExecStart=' "$LAB_DIR/local/usr/local/lib/systemd/system/synacct.service")" \
		"ExecStart=/usr/local/sbin/synacct --config /etc/synacct/synacct.conf --pin" "default PREFIX=/usr/local"
	# The rule_files paths the alerts' header gives are where make install
	# (default PREFIX) puts the rules.
	out=$(sed -n 's/^#     - \(\/.*\.yml\)$/\1/p' "$SA_ROOT/configs/synacct-alerts.yml")
	t_is "$(for f in $out; do [ -f "$LAB_DIR/local$f" ] && echo "$f"; done | paste -sd' ')" \
		"/usr/local/share/synacct/synacct-alerts.yml /usr/local/share/synacct/synacct-rules.yml" \
		"the rule_files paths in synacct-alerts.yml's header are the files make install installs"
}

# systemd-analyze verify: the staged unit, its binary path made to point
# into the staging root (verify checks that the command exists).
sc_unit_verify() {
	local out rc kept rundir
	staged
	if command -v systemd-analyze >/dev/null; then
		mkdir -p "$LAB_DIR/verify"
		sed "s#=/usr/sbin/synacct#=$INST/usr/sbin/synacct#" "$UNIT" >"$LAB_DIR/verify/synacct.service"
		out=$(MANPATH=$INST/usr/share/man systemd-analyze verify "$LAB_DIR/verify/synacct.service" 2>&1); rc=$?
		t_is "$rc:$out" "0:" "systemd-analyze verify: clean"
		# A template is verified as an instance of it.
		sed "s#=/usr/sbin/synacct#=$INST/usr/sbin/synacct#" "$INST/usr/lib/systemd/system/synacct@.service" \
			>"$LAB_DIR/verify/synacct@web.service"
		out=$(MANPATH=$INST/usr/share/man systemd-analyze verify "$LAB_DIR/verify/synacct@web.service" 2>&1); rc=$?
		t_is "$rc:$out" "0:" "systemd-analyze verify synacct@web.service: clean"
	else
		T_NUM=$((T_NUM + 1)); echo "ok $T_NUM # SKIP tool: systemd-analyze is not installed (Debian: systemd)"
		T_NUM=$((T_NUM + 1)); echo "ok $T_NUM # SKIP tool: systemd-analyze is not installed (Debian: systemd)"
	fi

	# The sandbox as systemd applies it: systemd-analyze security reads the
	# unit offline and evaluates the bounding set that results (not just
	# CapabilityBoundingSet=: ProtectKernelLogs=, for one, takes CAP_SYSLOG
	# out, and with it the listener's verdicts).
	if command -v systemd-analyze >/dev/null &&
		systemd-analyze security --offline=yes --json=short "$LAB_DIR/verify/synacct.service" \
			>"$LAB_DIR/security.json" 2>"$LAB_DIR/security.err"; then
		kept=$(jq -r '[.[] | select(.name | test("^CapabilityBoundingSet=~CAP_(SYS_ADMIN|NET_ADMIN|SYSLOG)$")) |
			select(.set == false) | .name | sub(".*~"; "")] | sort | join(" ")' "$LAB_DIR/security.json")
		t_is "$kept" "CAP_NET_ADMIN CAP_SYSLOG CAP_SYS_ADMIN" \
			"systemd-analyze security --offline: the sandbox keeps CAP_SYS_ADMIN, CAP_NET_ADMIN and CAP_SYSLOG in the bounding set"
		t_is "$(jq -r '.[] | select(.name == "ProtectSystem=") | .description' "$LAB_DIR/security.json")" \
			"Service has strict read-only access to the OS file hierarchy" "... and /run is read-only (ProtectSystem=strict)"
	else
		T_NUM=$((T_NUM + 1)); echo "ok $T_NUM # SKIP tool: systemd-analyze security --offline is not available (systemd 250+)"
		T_NUM=$((T_NUM + 1)); echo "ok $T_NUM # SKIP tool: systemd-analyze security --offline is not available (systemd 250+)"
	fi
	# ... so systemd must make the directory of synacct's interface locks
	# (agent/sys/claim.c), which synacct cannot make under a read-only /run.
	rundir=$(sed -n 's/^#define SA_RUN_DIR "\(.*\)"$/\1/p' "$SA_ROOT/agent/sys/claim.c")
	t_is "/run/$(sed -n 's/^RuntimeDirectory=//p' "$UNIT")" "$rundir" \
		"RuntimeDirectory= is synacct's lock directory ($rundir)"
}

# ---- capabilities ----

# bounding CAPS...: the setpriv --bounding-set argument for exactly CAPS.
bounding() {
	local c s=-all
	for c in "$@"; do
		c=${c#CAP_}
		s+=",+${c,,}"
	done
	echo "$s"
}
# run_caps [--netns] CAPS...: the installed synacct with the installed
# config (but JSON), only CAPS and no new privileges, 0.5 s.  Without
# --netns it starts inside the server namespace, as a service on a host
# would (but for bpffs: ip netns exec gives it a /sys of its own, so
# libxdp attaches without its dispatcher).  RC, ERR, HOOKS.
run_caps() {
	local ns=()
	if [ "$1" = --netns ]; then
		ns=(--netns "$SRV"); shift
		setpriv --no-new-privs --inh-caps=-all --bounding-set="$(bounding "$@")" \
			"$INST/usr/sbin/synacct" --config "$LAB_DIR/loud.conf" --netns "$SRV" \
			--iface "$SRV_IF" --metrics "127.0.0.1:$MP" --json -d 0.5 \
			>"$LAB_DIR/caps.out" 2>"$LAB_DIR/caps.err"
	else
		ip netns exec "$SRV" setpriv --no-new-privs --inh-caps=-all --bounding-set="$(bounding "$@")" \
			"$INST/usr/sbin/synacct" --config "$LAB_DIR/loud.conf" \
			--iface "$SRV_IF" --metrics "127.0.0.1:$MP" --json -d 0.5 \
			>"$LAB_DIR/caps.out" 2>"$LAB_DIR/caps.err"
	fi
	RC=$?
	ERR=$(cat "$LAB_DIR/caps.err")
	HOOKS=$(jq -r 'select(.type == "start") | .hooks | join(",")' "$LAB_DIR/caps.out" 2>/dev/null)
}

sc_capabilities() {
	local CAPS ALL_HOOKS MP drop addr
	staged
	CAPS=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
	t_is "$CAPS" "CAP_SYS_ADMIN CAP_NET_ADMIN CAP_SYSLOG" "the unit's capabilities"
	lab_server 8080 --accept all
	MP=$(lab_free_port) || exit 1
	sed '/^quiet/d' "$INST/etc/synacct/synacct.conf" >"$LAB_DIR/loud.conf"
	# Every hook synacct uses here, from a run with every capability.
	ALL_HOOKS=$("$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --json -d 0.1 2>/dev/null |
		jq -r 'select(.type == "start") | .hooks | join(",")')
	t_like "$ALL_HOOKS" "^xdp(_skb)?,.*tp_btf/consume_skb,.*iter/tcp$" "the hooks of an unrestricted run: $ALL_HOOKS"
	run_caps $CAPS
	t_is "$RC:$ERR" "0:" "with the unit's capabilities only: exit 0, no message"
	t_is "$HOOKS" "$ALL_HOOKS" "... every hook"
	run_caps --netns $CAPS
	t_is "$RC:$ERR" "0:" "... with --netns too"
	t_is "$HOOKS" "$ALL_HOOKS" "... every hook"
	# Without CAP_SYSLOG: what the kernel shows such a process in
	# /proc/kallsyms, and whether fexit or a kprobe can stand in for
	# consume_skb's location, decide (10-errors.t no_cap_syslog too).
	addr=$(setpriv --inh-caps=-all --bounding-set="$(bounding ${CAPS/CAP_SYSLOG/})" \
		awk '$3 == "tcp_rcv_state_process" { print $1; exit }' /proc/kallsyms)
	run_caps ${CAPS/CAP_SYSLOG/}
	if [ -n "$addr" ] && [ "$addr" != 0000000000000000 ]; then
		t_is "$RC:$ERR" "0:" "without CAP_SYSLOG, kallsyms' addresses shown anyway: exit 0"
		t_is "$HOOKS" "$ALL_HOOKS" "... every hook"
	elif lab_kernel_has fexit/tcp_conn_request >/dev/null || lab_kernel_has kprobe/tcp_conn_request >/dev/null; then
		t_is "$RC:$ERR" "0:" "without CAP_SYSLOG: exit 0 (fexit or a kprobe gives the listener's verdicts)"
		t_like "$HOOKS" "tcp_conn_request" "... taken on tcp_conn_request"
	else
		t_is "$RC:$(wc -l <"$LAB_DIR/caps.err")" "1:1" "without CAP_SYSLOG (kallsyms' addresses hidden, no fexit or kprobe): exit 1, one line"
		t_like "$ERR" "^synacct: .*CAP_SYSLOG.*--no-stack" "... naming CAP_SYSLOG and --no-stack"
		t_is "$(ip netns exec "$SRV" tc qdisc show dev "$SRV_IF" | grep -c clsact)" 0 "... nothing left attached"
	fi
	for drop in CAP_NET_ADMIN CAP_SYS_ADMIN; do
		run_caps ${CAPS/$drop/}
		t_is "$RC" 1 "without $drop: exit 1"
		t_like "$ERR" "^synacct: insufficient privileges" "... saying which privileges it needs"
	done
	run_caps --netns CAP_BPF CAP_PERFMON CAP_NET_ADMIN CAP_SYSLOG
	t_like "$RC:$ERR" "^1:synacct: insufficient privileges: .*CAP_SYS_ADMIN" "CAP_BPF and CAP_PERFMON instead of CAP_SYS_ADMIN: --netns refused, saying why"
	# libxdp reads the program's BTF by id, which needs CAP_SYS_ADMIN: without
	# it, a refusal in one line (libxdp 1.3 would crash instead).
	run_caps CAP_BPF CAP_PERFMON CAP_NET_ADMIN CAP_SYSLOG
	t_like "$RC:$ERR" "^1:synacct: insufficient privileges: synacct needs root, or CAP_SYS_ADMIN and CAP_NET_ADMIN \(with --no-xdp" \
		"XDP without CAP_SYS_ADMIN: refused in one line, not a crash"
	sed -i 's/^#no-xdp = no/no-xdp = yes/' "$LAB_DIR/loud.conf"
	run_caps CAP_BPF CAP_PERFMON CAP_NET_ADMIN CAP_SYSLOG
	# Following forwarded SYNs into containers is setns(2): without
	# CAP_SYS_ADMIN that stage is off, and said so, where the kernel
	# could follow at all (netfilter BPF programs, conntrack's BTF).
	if lab_kernel_has netfilter/forward >/dev/null; then
		t_is "$RC:$(wc -l <"$LAB_DIR/caps.err")" "0:1" \
			"no-xdp = yes: CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN, CAP_SYSLOG are enough: exit 0, one line"
		t_like "$ERR" "^synacct: stage container off: .*CAP_SYS_ADMIN.*--no-follow" \
			"... saying the container stage is off for want of CAP_SYS_ADMIN"
	else
		t_is "$RC:$ERR" "0:" "no-xdp = yes: CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN, CAP_SYSLOG are enough"
	fi
	t_is "$HOOKS" "${ALL_HOOKS#*,}" "... every hook but XDP"
	t_is "$(ip netns exec "$SRV" tc qdisc show dev "$SRV_IF" | grep -c clsact)" 0 "nothing left attached"
}

# ---- system calls: all in the unit's SystemCallFilter ----

# expand NAME...: syscall names, the groups of LAB_DIR/groups ("@group
# name" lines) expanded.
expand() {
	local n
	for n in "$@"; do
		case $n in
		@*) expand $(awk -v g="$n" '$1 == g { print $2 }' "$LAB_DIR/groups") ;;
		*) echo "$n" ;;
		esac
	done
}

sc_syscalls() {
	local MP st i
	if command -v systemd-analyze >/dev/null && command -v strace >/dev/null; then
		staged
		lab_server 8080 --accept all
		MP=$(lab_free_port) || exit 1
		# The filter's groups expanded: "@group name" lines of every group.
		systemd-analyze syscall-filter 2>/dev/null | awk '/^@/ { g = $1; next } /^ *#/ { next } NF { print g, $1 }' \
			>"$LAB_DIR/groups"
		expand $(sed -n 's/^SystemCallFilter=//p' "$UNIT") | sort -u >"$LAB_DIR/allowed"
		strace -f -qq -o "$LAB_DIR/strace" \
			"$INST/usr/sbin/synacct" --config "$INST/etc/synacct/synacct.conf" \
			--netns "$SRV" --iface "$SRV_IF" --metrics "127.0.0.1:$MP" -d 0.5 >/dev/null 2>&1 &
		st=$!
		for ((i = 0; i < 50; i++)); do
			curl -sf -o /dev/null "http://127.0.0.1:$MP/metrics" && break
			sleep 0.1
		done
		wait $st
		# "PID name(args" lines; the exec is strace's, before the filter applies.
		sed -n 's/^[0-9]* *\([a-z_0-9]*\)(.*/\1/p' "$LAB_DIR/strace" | grep -vx execve | sort -u >"$LAB_DIR/used"
		t_is "$(comm -23 "$LAB_DIR/used" "$LAB_DIR/allowed" | tr '\n' ' ')" "" \
			"every system call synacct made ($(wc -l <"$LAB_DIR/used") kinds, a scrape included) is in the unit's SystemCallFilter"
		t_like "$(tr '\n' ' ' <"$LAB_DIR/used")" "^accept.* bpf .*setns " \
			"... accept (the scrape), bpf and setns among them (tp_btf needs no perf_event_open)"
	else
		T_NUM=$((T_NUM + 1)); echo "ok $T_NUM # SKIP tool: systemd-analyze or strace is not installed"
	fi
}

lab_main "$@"
