#!/bin/bash
# Bad input gets one clear line and the right exit code, and loses nothing:
# usage errors exit 2, runtime errors 1, and nothing stays attached.
# Each scenario runs in a lab of its own:
#   selftests/t/10-errors.t [--list] [SCENARIO...]
. "$(dirname "$0")/../lib/lab.sh"

LAB_SCENARIOS=(usage missing_btf listener_hook unprivileged xdp_slot_taken
	second_synacct second_synacct_other_run tc_prio_taken not_ethernet no_xdp no_cap_syslog)

run() {	# run ARGS...: OUT, ERR, RC of synacct
	OUT=$("$SYNACCT" "$@" 2>"$LAB_DIR/err")
	RC=$?
	ERR=$(cat "$LAB_DIR/err")
}

sc_usage() {
	local bad
	run
	t_is "$RC" 2 "no --iface: exit 2"
	t_like "$ERR" "no interface given" "no --iface: says what is missing"

	run --iface nope0 --netns "$SRV" --duration 1
	t_is "$RC" 2 "unknown interface: exit 2"
	t_like "$ERR" "^synacct: interface nope0 not found in network namespace $SRV" "unknown interface: one line naming it"

	run --iface "$SRV_IF" --netns sa-no-such-ns --duration 1
	t_is "$RC" 2 "unknown namespace: exit 2"
	t_like "$ERR" "network namespace 'sa-no-such-ns' not found" "unknown namespace: names it"

	run --iface "$SRV_IF" --netns /etc/hostname --duration 1
	t_is "$RC" 2 "a file that is not a namespace: exit 2"
	t_like "$ERR" "not a network namespace" "a file that is not a namespace: says so"

	for bad in "--ports 70000" "--ports 80-" "--ports ,80" "--ports 90-80" "--interval 0" \
		   "--interval abc" "--interval 1e-300" "--interval 0.009" "--duration -1" \
		   "--xdp-mode hw" "--listener-hook tracepoint" "--bogus"; do
		run --iface "$SRV_IF" --netns "$SRV" $bad
		t_is "$RC" 2 "usage error '$bad': exit 2"
	done
	# An interval too short to read the maps in would only spin.
	run --iface "$SRV_IF" --netns "$SRV" --interval 1e-300
	t_like "$ERR" "^synacct: invalid interval '1e-300': expected seconds, at least 0.01" \
		"--interval 1e-300: says the minimum"
}

sc_missing_btf() {
	run --iface "$SRV_IF" --netns "$SRV" --btf /nonexistent/vmlinux --duration 1
	t_is "$RC" 1 "missing BTF: exit 1"
	t_like "$ERR" "cannot read BTF file /nonexistent/vmlinux" "missing BTF: names the file"
}

# --listener-hook kprobe: used where the kernel has kprobes, refused with
# the reason where it has not (this project's 6.18 under lockdown).
sc_listener_hook() {
	run --iface "$SRV_IF" --netns "$SRV" --no-xdp --json --duration 0.1 --listener-hook kprobe
	if [ -e /sys/bus/event_source/devices/kprobe/type ]; then
		t_is "$RC" 0 "--listener-hook kprobe on a kernel with kprobes: exit 0"
		t_is "$(echo "$OUT" | jq -r 'select(.type == "start") | [.hooks[] | select(endswith("tcp_conn_request") or . == "tp_btf/consume_skb")] | join(",")')" \
			"kprobe/tcp_conn_request,tp_btf/consume_skb" "--listener-hook kprobe: hooks name the kprobe and consume_skb"
	else
		t_is "$RC" 1 "--listener-hook kprobe on a kernel without kprobes: exit 1"
		t_like "$ERR" "^synacct: --listener-hook kprobe: this kernel cannot give it: it has no kprobes" \
			"--listener-hook kprobe without kprobes: says why"
	fi
}

sc_unprivileged() {
	if command -v setpriv >/dev/null; then
		OUT=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
			"$SYNACCT" --iface "$SRV_IF" --netns "$SRV" --duration 1 2>&1)
		RC=$?
		t_is "$RC" 1 "unprivileged: exit 1"
		t_like "$OUT" "insufficient privileges" "unprivileged: says which privileges"
	fi
}

# Another tool's XDP program on the interface: refuse, keep it, attach
# nothing.
sc_xdp_slot_taken() {
	local other
	ip -n "$SRV" link set dev "$SRV_IF" xdp obj "$SA_BIN/xdp_pass.bpf.o" sec xdp
	other=$(ip -n "$SRV" -j link show dev "$SRV_IF" | jq '.[0].xdp.prog.id')
	run --iface "$SRV_IF" --netns "$SRV" --duration 1
	t_is "$RC" 1 "XDP slot taken: exit 1"
	t_like "$ERR" "already has an XDP program \(id $other, name other_tool_xdp\) attached by another tool.*--no-xdp" \
		"XDP slot taken: names the program and what to do"
	t_is "$(ip -n "$SRV" -j link show dev "$SRV_IF" | jq '.[0].xdp.prog.id')" "$other" \
		"XDP slot taken: the other program is still attached"
	t_is "$(tc -n "$SRV" filter show dev "$SRV_IF" ingress | grep -c synacct)" 0 \
		"XDP slot taken: no synacct TC filter left"

	ip -n "$SRV" link set dev "$SRV_IF" xdp off
}

# A second synacct on the same interface: told that a running synacct
# (its lock) is there, with or without --no-xdp, and the first one keeps
# running undisturbed.
sc_second_synacct() {
	local first i
	"$SYNACCT" --iface "$SRV_IF" --netns "$SRV" --duration 3 --json >"$LAB_DIR/first.json" 2>&1 &
	first=$!
	for ((i = 0; i < 50; i++)); do grep -q '"start"' "$LAB_DIR/first.json" && break; sleep 0.1; done
	run --iface "$SRV_IF" --netns "$SRV" --duration 1
	t_is "$RC" 1 "second synacct on the interface: exit 1"
	t_like "$ERR" "^synacct: interface $SRV_IF is already watched by a running synacct \(pid $first, lock /run/synacct/net[0-9]+-if[0-9]+\.lock\): stop that one first" \
		"second synacct: one line naming the running one"
	t_is "$(echo "$ERR" | wc -l)" 1 "second synacct: exactly one line"
	# --no-xdp does not get around it: the TC filters are just as much
	# the first one's.
	run --iface "$SRV_IF" --netns "$SRV" --duration 1 --no-xdp
	t_is "$RC" 1 "second synacct with --no-xdp: exit 1"
	t_like "$ERR" "already watched by a running synacct" "second synacct with --no-xdp: refused too"
	t_is "$(tc -n "$SRV" filter show dev "$SRV_IF" ingress | grep -c 'synacct_tc_in')" 1 \
		"second synacct: the first one's ingress filter is still there, once"
	wait $first
	t_is "$?" 0 "the first synacct ran to the end undisturbed"
}

# A running synacct whose lock is not in this /run (a container with its
# own /run): the lock is free here, but its programs are held by a live
# process, so they are not a dead run's leftovers: refused, and the first
# one runs on undisturbed.
sc_second_synacct_other_run() {
	local first i
	mkdir -p /run/synacct
	unshare --mount --propagation private bash -c 'mount -t tmpfs sa-private-run /run/synacct && exec "$0" "$@"' \
		"$SYNACCT" --iface "$SRV_IF" --netns "$SRV" --duration 3 --json >"$LAB_DIR/first.json" 2>&1 &
	first=$!
	for ((i = 0; i < 50; i++)); do grep -q '"start"' "$LAB_DIR/first.json" && break; sleep 0.1; done
	run --iface "$SRV_IF" --netns "$SRV" --duration 1
	t_is "$RC" 1 "synacct under another /run watching: exit 1"
	t_like "$ERR" "^synacct: interface $SRV_IF carries synacct's programs and a running process holds them \(pid $first\), though not under this host's lock" \
		"synacct under another /run watching: names the process holding its programs"
	t_is "$(ip -n "$SRV" -j link show dev "$SRV_IF" | jq -r '.[0].xdp.prog.name')" synacct_xdp \
		"synacct under another /run watching: its XDP program stays"
	wait $first
	t_is "$?" 0 "the synacct under another /run ran to the end undisturbed"
}

# Priority 1 taken by another tool's filter: synacct never falls back to
# another priority behind it; it says so, attaches nothing, and leaves
# the other filter alone.
sc_tc_prio_taken() {
	local before
	tc -n "$SRV" qdisc add dev "$SRV_IF" clsact
	tc -n "$SRV" filter add dev "$SRV_IF" ingress prio 1 protocol ip u32 match u32 0 0 classid 1:1
	before=$(tc -n "$SRV" filter show dev "$SRV_IF" ingress)
	run --iface "$SRV_IF" --netns "$SRV" --duration 1
	t_is "$RC" 1 "TC priority 1 taken: exit 1"
	t_like "$ERR" "^synacct: TC ingress priority 1 on $SRV_IF holds another tool's filter .*does not move behind other filters" \
		"TC priority 1 taken: one line saying why and what to do"
	t_is "$(echo "$ERR" | wc -l)" 1 "TC priority 1 taken: exactly one line"
	t_is "$(tc -n "$SRV" filter show dev "$SRV_IF" ingress)" "$before" \
		"TC priority 1 taken: the other filter is untouched, no synacct filter at any priority"
	t_is "$(tc -n "$SRV" filter show dev "$SRV_IF" egress)" "" "TC priority 1 taken: no egress filter left"
	t_is "$(ip -n "$SRV" -j link show dev "$SRV_IF" | jq '.[0].xdp // "none"')" '"none"' \
		"TC priority 1 taken: no XDP program left"
	tc -n "$SRV" qdisc del dev "$SRV_IF" clsact
}

# An interface without an Ethernet header (tun: link type none) would be
# misparsed: refused in one line, nothing attached.
sc_not_ethernet() {
	ip -n "$SRV" tuntap add dev sa-tun0 mode tun
	ip -n "$SRV" link set sa-tun0 up
	run --iface sa-tun0 --netns "$SRV" --duration 1
	t_is "$RC" 1 "tun interface: exit 1"
	t_like "$ERR" "^synacct: interface sa-tun0 is not an Ethernet device \(link type none: tun or WireGuard\): synacct parses Ethernet frames" \
		"tun interface: one line saying why"
	t_is "$(echo "$ERR" | wc -l)" 1 "tun interface: exactly one line"
	t_is "$(ip -n "$SRV" -j link show dev sa-tun0 | jq '.[0].xdp // "none"'),$(tc -n "$SRV" qdisc show dev sa-tun0 | grep -c clsact)" \
		'"none",0' "tun interface: no XDP program, no clsact qdisc"
	ip -n "$SRV" link del sa-tun0
}

# --no-xdp works beside another tool's program, and reports nic_syn as
# null: on a port with a listener and traffic, where every other stage's
# figure is a number equal to the SYNs the clients sent (a null with no
# port at all, or with every figure null, proves nothing).
sc_no_xdp() {
	local other port=8110 srv cnt sent
	ip -n "$SRV" link set dev "$SRV_IF" xdp obj "$SA_BIN/xdp_pass.bpf.o" sec xdp
	other=$(ip -n "$SRV" -j link show dev "$SRV_IF" | jq '.[0].xdp.prog.id')
	lab_server $port --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	scenario_begin --ports $port --no-xdp
	lab_client --to $SRV_IP4 --port $port --count 3 >/dev/null
	scenario_end
	lab_server_stop $srv $cnt
	sent=$(cli_sent)
	t_is "$SA_RC" 0 "--no-xdp beside another XDP program: exit 0"
	t_is "$(jq -r 'select(.type == "summary") | [.hooks[] | select(startswith("xdp"))] | length' "$SA_OUT")" \
		0 "--no-xdp: no xdp hook in the summary's hooks"
	t_is "$(jq -r 'select(.type == "summary") | [.ports[] | .port] | join(",")' "$SA_OUT")" \
		"$port" "--no-xdp: the summary has the port the clients used"
	t_is "$(summary nic_syn $port)" null "--no-xdp: nic_syn is null"
	t_is "$(summary '[.tc_syn, .listener_syn, .established] | map(type) | join(",")' $port)" \
		"number,number,number" "--no-xdp: tc_syn, listener_syn, established are numbers"
	t_is "$(summary tc_syn $port),$(summary listener_syn $port),$(summary established $port),$LAB_ACCEPTED" \
		"$sent,$sent,3,3" "--no-xdp: tc_syn, listener_syn == SYNs sent ($sent); 3 established, 3 accepted"
	t_is "$(ip -n "$SRV" -j link show dev "$SRV_IF" | jq '.[0].xdp.prog.id')" "$other" \
		"--no-xdp: the other program is untouched"
	ip -n "$SRV" link set dev "$SRV_IF" xdp off
}

# Without CAP_SYSLOG the kernel hides /proc/kallsyms' addresses from
# synacct, and with them where a listener consumes a SYN (consume_skb's
# location): where no other listener hook is left, synacct refuses with
# the fix and attaches nothing, rather than call every SYN that reaches a
# listener unexplained.  --no-stack needs no kallsyms.
sc_no_cap_syslog() {
	local addr
	if ! command -v capsh >/dev/null; then
		t_skip "synacct without CAP_SYSLOG" "tool: capsh is not installed (Debian: libcap2-bin)"
		return
	fi
	# The kernel's answer, not synacct's: what a process without
	# CAP_SYSLOG reads there.
	addr=$(capsh --drop=cap_syslog -- -c 'awk '\''$3 == "tcp_rcv_state_process" { print $1; exit }'\'' /proc/kallsyms')
	OUT=$(capsh --drop=cap_syslog -- -c '"$0" "$@"' "$SYNACCT" --iface "$SRV_IF" --netns "$SRV" \
		--json --duration 0.2 2>"$LAB_DIR/err")
	RC=$?; ERR=$(cat "$LAB_DIR/err")
	if [ -n "$addr" ] && [ "$addr" != 0000000000000000 ]; then
		t_is "$RC" 0 "without CAP_SYSLOG, on a kernel that shows it kallsyms' addresses anyway: exit 0"
	elif ! lab_kernel_has fexit/tcp_conn_request >/dev/null && ! lab_kernel_has kprobe/tcp_conn_request >/dev/null; then
		t_is "$RC:$(wc -l <"$LAB_DIR/err")" 1:1 "without CAP_SYSLOG (kallsyms' addresses hidden, no fexit or kprobe): exit 1, one line"
		t_like "$ERR" "^synacct: .*CAP_SYSLOG.*--no-stack" "... naming CAP_SYSLOG and --no-stack"
		t_is "$(ip -n "$SRV" -j link show dev "$SRV_IF" | jq '.[0].xdp.prog.id // 0'),$(tc -n "$SRV" filter show dev "$SRV_IF" ingress | grep -c synacct)" \
			"0,0" "... and no XDP program or TC filter left"
	else
		t_is "$RC" 0 "without CAP_SYSLOG, with fexit or a kprobe for the listener's verdict: exit 0"
		t_like "$(jq -r 'select(.type == "start") | .hooks | join(",")' <<<"$OUT")" "tcp_conn_request" \
			"... taken on tcp_conn_request"
	fi
	OUT=$(capsh --drop=cap_syslog -- -c '"$0" "$@"' "$SYNACCT" --iface "$SRV_IF" --netns "$SRV" \
		--no-stack --json --duration 0.2 2>"$LAB_DIR/err")
	t_is "$?:$(cat "$LAB_DIR/err")" "0:" "without CAP_SYSLOG, --no-stack: exit 0, nothing on stderr"
}

lab_main "$@"
