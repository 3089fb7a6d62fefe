#!/bin/bash
# Bad input gets one clear line and the right exit code, and loses nothing:
# usage errors exit 2, runtime errors 1, and nothing stays attached.
# Each scenario runs in a lab of its own:
#   selftests/t/10-errors.t [--list] [SCENARIO...]
. "$(dirname "$0")/../lib/lab.sh"

LAB_SCENARIOS=(usage missing_btf unprivileged xdp_slot_taken
	second_synacct no_xdp)

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
		   "--interval abc" "--duration -1" "--xdp-mode hw" "--bogus"; do
		run --iface "$SRV_IF" --netns "$SRV" $bad
		t_is "$RC" 2 "usage error '$bad': exit 2"
	done
}

sc_missing_btf() {
	run --iface "$SRV_IF" --netns "$SRV" --btf /nonexistent/vmlinux --duration 1
	t_is "$RC" 1 "missing BTF: exit 1"
	t_like "$ERR" "cannot read BTF file /nonexistent/vmlinux" "missing BTF: names the file"
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

# A second synacct on the same interface: told that synacct is already
# there, and the first one keeps running undisturbed.
sc_second_synacct() {
	local first i
	"$SYNACCT" --iface "$SRV_IF" --netns "$SRV" --duration 3 --json >"$LAB_DIR/first.json" 2>&1 &
	first=$!
	for ((i = 0; i < 50; i++)); do grep -q '"start"' "$LAB_DIR/first.json" && break; sleep 0.1; done
	run --iface "$SRV_IF" --netns "$SRV" --duration 1
	t_is "$RC" 1 "second synacct on the interface: exit 1"
	t_like "$ERR" "already has synacct's XDP program .*another synacct is watching it" \
		"second synacct: says synacct is already there"
	wait $first
	t_is "$?" 0 "the first synacct ran to the end undisturbed"
}

# --no-xdp works beside another tool's program, and reports nic_syn as null.
sc_no_xdp() {
	local other
	ip -n "$SRV" link set dev "$SRV_IF" xdp obj "$SA_BIN/xdp_pass.bpf.o" sec xdp
	other=$(ip -n "$SRV" -j link show dev "$SRV_IF" | jq '.[0].xdp.prog.id')
	run --iface "$SRV_IF" --netns "$SRV" --duration 1 --json --no-xdp
	t_is "$RC" 0 "--no-xdp beside another XDP program: exit 0"
	t_is "$(echo "$OUT" | jq -r 'select(.type == "summary") | [.hooks[] | select(startswith("xdp"))] | length')" \
		0 "--no-xdp: no xdp hook in the summary's hooks"
	t_is "$(echo "$OUT" | jq -r 'select(.type == "summary") | [.ports[].nic_syn] | map(select(. != null)) | length')" \
		0 "--no-xdp: nic_syn is null"
	t_is "$(ip -n "$SRV" -j link show dev "$SRV_IF" | jq '.[0].xdp.prog.id')" "$other" \
		"--no-xdp: the other program is untouched"
	ip -n "$SRV" link set dev "$SRV_IF" xdp off
}

lab_main "$@"
