#!/bin/bash
# The options each do what the man page says, checked against the kernel and the
# lab's own counts: --help/--version of every command; the 16-interface
# limit; --xdp-mode auto/tc/skb/native (the mode the kernel attached, the
# start record's "xdp", exact counts in each mode, native falling back to
# skb on a device without native XDP; in tc mode another tool's TC filter
# between nic_syn's filter and tc_syn's: its drops are the gap, and it
# stays when synacct goes; priority 1 taken: refused); --btf with a copy of the kernel's
# BTF (exact counts) and with a file that is not BTF; -v naming every hook;
# --no-stack (NIC/TC exact, stack figures null, no verdict beyond TC, no
# stack family on /metrics); SIGHUP with and without nohup (the counts
# across it); --metrics-top by default, 0 and with --ports (series per family, "other"
# with exact sums); IPv6 SYNs with destination options, routing headers
# (type 0, 2, segment routing) and chains, raw and on real connections:
# synacct against the listener's request socks (ss), nstat and accepts.
# Each scenario runs in a lab of its own:
#   selftests/t/15-options.t [--list] [SCENARIO...]
. "$(dirname "$0")/../lib/lab.sh"

LAB_SCENARIOS=(help_version iface_limit xdp_modes xdp_native_fallback tc_mode_between
	tc_mode_prio1_taken btf_file verbose
	no_stack sighup_counts metrics_top_default metrics_top_zero metrics_top_ports ipv6_ext_raw
	ipv6_ext_connect)

EXT6=$SA_ROOT/selftests/tools/lab_ext6.py

nothing_attached() {	# nothing_attached WHAT [IFACE]
	local ifc=${2:-$SRV_IF}
	t_is "$(ip -n "$SRV" -j link show dev "$ifc" | jq -c '.[0].xdp // "none"'),$(tc -n "$SRV" filter show dev "$ifc" ingress; tc -n "$SRV" filter show dev "$ifc" egress)" \
		'"none",' "$1: no XDP program, no TC filter left on $ifc"
}

# xdp_kernel IFACE: what `ip -d link` says is attached: "xdp/id:N"
# (native, driver), "xdpgeneric/id:N" (skb) or "none".
xdp_kernel() {
	ip -n "$SRV" -d link show dev "$1" | awk '
		NR == 1 { for (i = 1; i < NF; i++) if ($i == "mtu") mode = $(i + 2) }
		$1 ~ /^prog\/xdp/ && $2 == "id" { id = $3 }
		END { print (mode ~ /^xdp/ && id) ? mode "/id:" id : "none" }'
}

# ---- --help, --version ----

sc_help_version() {
	local cmd out err rc commit version
	# What the build saw: git HEAD ("-dirty": changes in the tree when it
	# was built, which git cannot tell now; "unknown" outside git) and
	# libxdp's version; libbpf's own.
	commit=$(git -C "$SA_ROOT" rev-parse --short=12 HEAD 2>/dev/null) || commit=unknown
	version="synacct 0.1 (commit $commit)
libbpf $(pkg-config --modversion libbpf | cut -d. -f1,2), libxdp $(pkg-config --modversion libxdp)"
	for cmd in "" check counters detach verdicts; do
		out=$("$SYNACCT" $cmd --help 2>"$LAB_DIR/err"); rc=$?; err=$(cat "$LAB_DIR/err")
		t_is "$rc,$err" "0," "synacct $cmd${cmd:+ }--help: exit 0, nothing on stderr"
		t_like "$out" "^Usage: synacct${cmd:+ $cmd}( |$)" "synacct $cmd${cmd:+ }--help: usage on stdout"
		out=$("$SYNACCT" $cmd --version 2>"$LAB_DIR/err"); rc=$?; err=$(cat "$LAB_DIR/err")
		t_is "$rc,$err,${out/-dirty)/)}" "0,,$version" "synacct $cmd${cmd:+ }--version: exit 0, version, commit, libbpf, libxdp on stdout"
	done
	out=$("$SYNACCT" --help)
	t_like "$out" "--xdp-mode=MODE" "synacct --help lists the options (--xdp-mode)"
	t_like "$out" "synacct check .*synacct counters.*synacct detach .*synacct verdicts" "synacct --help lists the subcommands"
	for cmd in "" check detach; do
		t_like "$("$SYNACCT" $cmd --help)" $'\nExamples:\n  synacct '"${cmd:--}" "synacct $cmd${cmd:+ }--help: examples of the command"
	done
	"$SYNACCT" counters --markdown >/dev/null 2>&1
	t_is $? 2 "synacct counters --markdown (an option that changed nothing) is gone: exit 2"
	out=$("$SYNACCT" -V 2>&1); rc=$?
	t_is "$rc,${out/-dirty)/)}" "0,$version" "synacct -V: exit 0, the version"
}

# ---- --iface: at most 16 ----

sc_iface_limit() {
	local args=() i err rc
	for ((i = 0; i < 16; i++)); do args+=(--iface "sa-none$i"); done
	err=$("$SYNACCT" --netns "$SRV" "${args[@]}" --duration 0.1 2>&1 >/dev/null); rc=$?
	# 16 names pass the parser: the first one is then not found.
	t_is "$rc" 2 "16 --iface: past the parser (exit 2 for the unknown interface)"
	t_like "$err" "^synacct: interface sa-none0 not found" "16 --iface: the limit is not what stops it"
	err=$("$SYNACCT" --netns "$SRV" "${args[@]}" --iface sa-none16 --duration 0.1 2>&1 >/dev/null); rc=$?
	t_is "$rc" 2 "a 17th --iface: usage error, exit 2"
	t_like "$err" "^synacct: at most 16 interfaces" "a 17th --iface: says the limit"
	t_is "$(ip -n "$SRV" -j link show dev "$SRV_IF" | jq -c '.[0].xdp // "none"')" '"none"' \
		"a 17th --iface: nothing attached"
}

# ---- --xdp-mode ----

# xdp_count MODE REASON KERNEL HOOK: synacct with --xdp-mode MODE around
# 20 clients; the start record, the kernel's view and the counts.
xdp_count() {
	local mode=$1 reason=$2 kern=$3 hook=$4 srv cnt id sent passive n=20
	lab_server 8080 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	synacct_start --xdp-mode "$mode" --interval 0.5 || { t_ok 1 "--xdp-mode $mode: synacct starts"; return; }
	t_is "$(jq -c 'select(.type == "start") | .xdp' "$SA_OUT")" \
		"[{\"iface\":\"$SRV_IF\",\"mode\":\"$kern\",\"reason\":\"$reason\"}]" \
		"--xdp-mode $mode: start record's xdp: $SRV_IF, mode $kern and why"
	t_is "$(jq -r 'select(.type == "start") | [.xdp_mode, .hooks[0]] | join(",")' "$SA_OUT")" \
		"$kern,$hook" "--xdp-mode $mode: xdp_mode $kern, hook $hook"
	if [ "$kern" = tc ]; then
		t_is "$(xdp_kernel "$SRV_IF"),$(tc_ingress_bpf)" "none,1 synacct_nic_tc 65535 synacct_tc_in" \
			"--xdp-mode $mode: no XDP (ip -d link); TC ingress: nic_syn's filter at priority 1, tc_syn's at 65535 (tc filter show)"
	else
		id=$(ip -n "$SRV" -j link show dev "$SRV_IF" | jq '.[0].xdp.prog.id')
		t_is "$(xdp_kernel "$SRV_IF")" "$([ "$kern" = skb ] && echo xdpgeneric || echo xdp)/id:$id" \
			"--xdp-mode $mode: the kernel has it attached $([ "$kern" = skb ] && echo generic || echo native) (ip -d link)"
		t_is "$(bpftool prog show id "$id" -j 2>/dev/null | jq -r '.type + " " + .name')" "xdp synacct_xdp" \
			"--xdp-mode $mode: bpftool names program $id synacct_xdp"
	fi
	lab_nstat "$CLI" >"$LAB_DIR/cli.0"
	lab_nstat "$SRV" >"$LAB_DIR/srv.0"
	t_is "$(lab_client --to $SRV_IP4 --port 8080 --count $((n / 2)) --parallel 4; lab_client --to $SRV_IP6 --port 8080 --count $((n / 2)) --parallel 4)" \
		"connected=$((n / 2)) failed=0"$'\n'"connected=$((n / 2)) failed=0" "--xdp-mode $mode: $n clients connected (IPv4 and IPv6)"
	lab_nstat "$CLI" >"$LAB_DIR/cli.1"
	lab_nstat "$SRV" >"$LAB_DIR/srv.1"
	synacct_stop
	lab_server_stop $srv $cnt
	sent=$(cli_syns_sent "$LAB_DIR/cli.0" "$LAB_DIR/cli.1")
	passive=$(nstat_delta "$LAB_DIR/srv.0" "$LAB_DIR/srv.1" TcpPassiveOpens)
	t_is "$SA_RC" 0 "--xdp-mode $mode: exit 0"
	t_is "$(summary nic_syn 8080),$(summary tc_syn 8080),$(summary synack_sent 8080),$(summary listener_syn 8080),$LAB_ACCEPTED" \
		"$sent,$sent,$passive,$sent,$n" \
		"--xdp-mode $mode: nic_syn, tc_syn, listener_syn == SYNs the clients sent ($sent, nstat), synack_sent == PassiveOpens, $n accepted"
	t_is "$(summary '.unexplained | [.[]] | map(select(. != 0)) | length' 8080)" 0 "--xdp-mode $mode: nothing unexplained"
	nothing_attached "--xdp-mode $mode, after SIGINT"
}

# The bpf filters on $SRV_IF's ingress: "PRIO NAME ..." in the kernel's order.
tc_ingress_bpf() {
	tc -n "$SRV" -j filter show dev "${1:-$SRV_IF}" ingress |
		jq -r '[.[] | select(.kind == "bpf" and .options.bpf_name != null) |
			"\(.pref) \(.options.bpf_name | sub(":\\[[0-9]+\\]$"; ""))"] | join(" ")'
}

sc_xdp_modes() {
	xdp_count auto "auto: veth is a software device; native XDP would move every frame onto its XDP path and slow it" skb xdp_skb
	xdp_count tc "tc requested (--xdp-mode tc)" tc tc_ingress_first
	xdp_count skb "skb requested (--xdp-mode skb)" skb xdp_skb
	xdp_count native "native requested (--xdp-mode native)" native xdp
}

# A device without native XDP (a bridge: no ndo_bpf) beside one with it:
# --xdp-mode native gets native where the driver has it and falls back to
# skb, saying why, where it has not.
sc_xdp_native_fallback() {
	ip -n "$SRV" link add sa-br0 type bridge 2>/dev/null ||
		{ t_skip "--xdp-mode native falls back on a bridge" "kernel: this kernel has no bridge driver (ip link add type bridge failed)"; return; }
	ip -n "$SRV" link set sa-br0 up
	synacct_start --xdp-mode native --iface sa-br0 || { t_ok 1 "native with fallback: synacct starts"; return; }
	t_is "$(jq -c 'select(.type == "start") | [.xdp[] | [.iface, .mode, .reason]]' "$SA_OUT")" \
		"[[\"$SRV_IF\",\"native\",\"native requested (--xdp-mode native)\"],[\"sa-br0\",\"skb\",\"native requested, but the driver refused it (Operation not supported)\"]]" \
		"--xdp-mode native, veth and bridge: start record's xdp: native on the veth, skb on the bridge and why"
	t_like "$(xdp_kernel "$SRV_IF") $(xdp_kernel sa-br0)" "^xdp/id:[0-9]+ xdpgeneric/id:[0-9]+$" \
		"--xdp-mode native: the kernel has native on the veth, generic on the bridge (ip -d link)"
	t_is "$(cat "$SA_ERR")" "synacct: native XDP not available on sa-br0 (Operation not supported); using SKB mode" \
		"--xdp-mode native: one line on stderr saying it fell back on sa-br0"
	synacct_stop
	t_is "$SA_RC" 0 "--xdp-mode native with fallback: exit 0"
	nothing_attached "native with fallback" "$SRV_IF"
	nothing_attached "native with fallback" sa-br0
	ip -n "$SRV" link del sa-br0
}

# ---- --btf ----

sc_btf_file() {
	local srv cnt sent out err rc bad
	local hooks
	cp /sys/kernel/btf/vmlinux "$LAB_DIR/vmlinux.btf"
	hooks=$("$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --json --duration 0.1 | jq -r 'select(.type == "start") | .hooks | join(",")')
	lab_server 8081 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	synacct_start --btf "$LAB_DIR/vmlinux.btf" --interval 0.5 || { t_ok 1 "--btf FILE: synacct starts"; return; }
	t_is "$(cat "$SA_ERR")" "" "--btf a copy of the kernel's BTF: nothing on stderr"
	t_is "$(jq -r 'select(.type == "start") | .hooks | join(",")' "$SA_OUT")" "$hooks" \
		"--btf FILE: the hooks it has with the kernel's own BTF"
	lab_nstat "$CLI" >"$LAB_DIR/cli.0"
	out=$(lab_client --to $SRV_IP4 --port 8081 --count 15 --parallel 4)
	lab_nstat "$CLI" >"$LAB_DIR/cli.1"
	lab_settle "$SRV"
	synacct_stop
	lab_server_stop $srv $cnt
	sent=$(cli_syns_sent "$LAB_DIR/cli.0" "$LAB_DIR/cli.1")
	t_is "$SA_RC,$out" "0,connected=15 failed=0" "--btf FILE: exit 0, 15 clients connected"
	t_is "$(summary nic_syn 8081),$(summary tc_syn 8081),$(summary listener_syn 8081),$(summary established 8081),$(summary accepted 8081)" \
		"$sent,$sent,$sent,15,$LAB_ACCEPTED" \
		"--btf FILE: nic_syn, tc_syn, listener_syn == SYNs sent ($sent), established and accepted == the server's accepts"

	# Not BTF: random bytes, an empty file, a text file.
	head -c 4096 /dev/urandom >"$LAB_DIR/random.btf"
	: >"$LAB_DIR/empty.btf"
	for bad in "$LAB_DIR/random.btf" "$LAB_DIR/empty.btf" /etc/hostname; do
		err=$("$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --btf "$bad" --json --duration 0.5 2>&1 >/dev/null); rc=$?
		t_is "$rc" 1 "--btf $(basename "$bad"): exit 1"
		t_is "$err" "synacct: cannot use BTF file $bad: it holds no BTF that libbpf can parse ($([ -s "$bad" ] && echo "BPF object format invalid" || echo "Input/output error")); give a kernel's BTF, such as a copy of /sys/kernel/btf/vmlinux" \
			"--btf $(basename "$bad"): one line naming the file"
		nothing_attached "--btf $(basename "$bad")"
	done
	# BTF, but not the kernel's (a BPF object's own): the loader uses it,
	# finds no kernel type in it and refuses; a synacct that left --btf
	# unused would start.
	err=$("$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --btf "$SA_BIN/xdp_pass.bpf.o" --json --duration 0.5 2>&1 >/dev/null); rc=$?
	t_is "$rc,$(tail -1 <<<"$err")" "1,synacct: cannot load the XDP program: Invalid argument" \
		"--btf a BPF object's BTF (no kernel types): the loader used it and failed, exit 1"
	nothing_attached "--btf a BPF object's BTF"
	err=$("$SYNACCT" check --netns "$SRV" --btf "$LAB_DIR/random.btf" --json 2>&1 >/dev/null); rc=$?
	t_is "$rc,$(wc -l <<<"$err")" "1,1" "synacct check --btf not BTF: exit 1, one line"
	"$SYNACCT" check --netns "$SRV" --btf "$LAB_DIR/vmlinux.btf" --json >"$LAB_DIR/check.json" 2>&1; rc=$?
	t_is "$rc,$(jq -r .type "$LAB_DIR/check.json" 2>/dev/null)" "0,check" "synacct check --btf a copy of the kernel's BTF: exit 0, a check record"
}

# ---- -v ----

sc_verbose() {
	local hooks h missing=
	synacct_start -v --duration 0.5 || { t_ok 1 "-v: synacct starts"; return; }
	wait $SA_PID; SA_RC=$?
	t_is "$SA_RC" 0 "-v: exit 0"
	hooks=$(jq -r 'select(.type == "start") | .hooks[]' "$SA_OUT")
	t_ok "$([ "$(wc -l <<<"$hooks")" -ge 4 ]; echo $?)" "-v: the start record lists hooks ($(echo $hooks))"
	for h in $hooks; do
		grep -qxF "synacct: hook: $h" "$SA_ERR" || missing+=" $h"
	done
	t_is "$missing" "" "-v: stderr names every hook of the start record (synacct: hook: NAME)"
	t_is "$(grep -c '^synacct: hook: ' "$SA_ERR")" "$(wc -l <<<"$hooks")" "-v: and no other hook"
	t_is "$(grep -cxF "synacct: watching $SRV_IF in network namespace $SRV; hooks: $(echo $hooks | sed 's/ /, /g'); mode: not pinned, no metrics, JSON on stdout" "$SA_ERR")" 1 \
		"-v: one start line naming the interface, namespace, every hook and the mode"
	t_is "$(grep -c "^synacct: xdp on $SRV_IF: skb mode: auto: veth is a software device" "$SA_ERR")" 1 \
		"-v: says the XDP mode of $SRV_IF and why"
	t_ok "$([ "$(grep -c '^libbpf: ' "$SA_ERR")" -gt 100 ]; echo $?)" \
		"-v: libbpf's debug output ($(grep -c '^libbpf: ' "$SA_ERR") lines)"
	t_like "$(grep -m1 '^libxdp: ' "$SA_ERR")" "^libxdp: " "-v: libxdp's debug output"
	synacct_start --duration 0.3
	wait $SA_PID
	t_is "$?,$(cat "$SA_ERR")" "0," "without -v: exit 0, nothing on stderr"
}

# tc mode: another tool's TC filter (cls_bpf at priority 5,
# selftests/bpf/tc_drop.bpf.c: drops the SYNs from $SPOOF_NET4) sits
# between nic_syn's filter (priority 1) and tc_syn's (65535): nic_syn -
# tc_syn is exactly the kernel's count of what TC ingress dropped (the
# clsact qdisc's drops, tc -s), the stack saw them as TC_INGRESS drops, so
# nothing is unexplained; the filter stays when synacct goes.
sc_tc_mode_between() {
	local srv cnt sent dropped out err n=8 flood=9
	lab_server 8080 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	scenario_begin --xdp-mode tc --interval 0.5 || { t_ok 1 "tc mode: synacct starts"; return; }
	if ! err=$(tc -n "$SRV" filter add dev "$SRV_IF" ingress prio 5 bpf da \
		obj "$SA_BIN/tc_drop.bpf.o" sec tc 2>&1); then
		synacct_stop
		lab_server_stop $srv $cnt
		t_skip "tc mode: another tool's filter between" "tool: tc cannot attach a BPF object: $err"
		return
	fi
	t_is "$(tc_ingress_bpf)" "1 synacct_nic_tc 5 tc_drop.bpf.o:[tc] 65535 synacct_tc_in" \
		"tc mode: the other tool's filter added at priority 5, between synacct's two"
	t_is "$(lab_client --to $SRV_IP4 --port 8080 --count $n --parallel 4)" "connected=$n failed=0" \
		"tc mode: $n clients connected past the filter"
	t_is "$(lab_flood --to $SRV_IP4 --port 8080 --count $flood --src-net $SPOOF_NET4)" "sent=$flood" \
		"tc mode: $flood SYNs from $SPOOF_NET4, which the filter drops"
	lab_nstat "$CLI" >"$LAB_DIR/cli.1"
	synacct_stop
	lab_server_stop $srv $cnt
	sent=$(cli_syns_sent "$LAB_DIR/cli.0" "$LAB_DIR/cli.1")
	dropped=$(tc -n "$SRV" -s -j qdisc show dev "$SRV_IF" | jq '.[] | select(.kind == "clsact") | .drops')
	t_is "$SA_RC,$dropped" "0,$flood" "tc mode: exit 0; TC ingress dropped the $flood SYNs (tc -s qdisc show: clsact's drops)"
	t_is "$(summary nic_syn 8080),$(summary tc_syn 8080),$(summary listener_syn 8080)" \
		"$((sent + flood)),$sent,$sent" \
		"tc mode: nic_syn == every SYN sent ($sent by the clients (nstat) + $flood), tc_syn == listener_syn == the clients'"
	t_is "$(( $(summary nic_syn 8080) - $(summary tc_syn 8080) )),$(summary '.stack_drops.TC_INGRESS // 0' 8080)" \
		"$dropped,$dropped" "tc mode: nic_syn - tc_syn == stack_drops.TC_INGRESS == the filter's drops ($dropped)"
	t_is "$(summary '.unexplained | [.[]] | map(select(. != 0)) | length' 8080)" 0 "tc mode: nothing unexplained"
	t_is "$(tc_ingress_bpf),$(tc -n "$SRV" filter show dev "$SRV_IF" egress | wc -l)" "5 tc_drop.bpf.o:[tc],0" \
		"tc mode, after SIGINT: synacct's filters gone, the other tool's filter left"
	tc -n "$SRV" filter del dev "$SRV_IF" ingress prio 5
	tc -n "$SRV" qdisc del dev "$SRV_IF" clsact 2>/dev/null
}

# tc mode with another tool's filter at priority 1.  Of another kind
# (u32): the kernel refuses synacct's cls_bpf there (-EINVAL), and synacct
# refuses to start, saying so (it would no longer be TC's first look).  A
# cls_bpf filter of another tool (protocol all): synacct's joins the same
# priority, and cls_bpf runs the newest of a priority first, so nic_syn
# still counts the SYNs that filter drops (ground truth: the flood sent);
# the other tool's filter stays when synacct goes.
sc_tc_mode_prio1_taken() {
	local err rc srv cnt sent flood=5 n=3
	tc -n "$SRV" qdisc add dev "$SRV_IF" clsact
	tc -n "$SRV" filter add dev "$SRV_IF" ingress prio 1 protocol ip u32 match u32 0 0
	err=$("$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --xdp-mode tc --duration 1 2>&1 >/dev/null); rc=$?
	t_is "$rc" 1 "tc mode, u32 at priority 1: exit 1"
	t_like "$err" "TC ingress priority 1 on $SRV_IF holds another tool's filter of another kind" \
		"tc mode, u32 at priority 1: says whose place it is"
	t_is "$(tc -n "$SRV" filter show dev "$SRV_IF" ingress | grep -c 'u32 chain 0 fh 800::800'),$(tc_ingress_bpf),$(tc -n "$SRV" filter show dev "$SRV_IF" egress | wc -l)" \
		"1,,0" "tc mode, u32 at priority 1: the other tool's filter stays, nothing of synacct's left"
	tc -n "$SRV" filter del dev "$SRV_IF" ingress prio 1
	if ! err=$(tc -n "$SRV" filter add dev "$SRV_IF" ingress prio 1 bpf da \
		obj "$SA_BIN/tc_drop.bpf.o" sec tc 2>&1); then
		tc -n "$SRV" qdisc del dev "$SRV_IF" clsact
		t_skip "tc mode, cls_bpf at priority 1" "tool: tc cannot attach a BPF object: $err"
		return
	fi
	lab_server 8080 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	scenario_begin --xdp-mode tc --interval 0.5 || { t_ok 1 "tc mode, cls_bpf at priority 1: synacct starts"; return; }
	t_is "$(tc_ingress_bpf)" "1 synacct_nic_tc 1 tc_drop.bpf.o:[tc] 65535 synacct_tc_in" \
		"tc mode, cls_bpf at priority 1: synacct's joins the priority, listed (and run) first"
	t_is "$(lab_client --to $SRV_IP4 --port 8080 --count $n --parallel 1)" "connected=$n failed=0" \
		"tc mode, cls_bpf at priority 1: $n clients connected"
	t_is "$(lab_flood --to $SRV_IP4 --port 8080 --count $flood --src-net $SPOOF_NET4)" "sent=$flood" \
		"tc mode, cls_bpf at priority 1: $flood SYNs the other filter drops"
	lab_nstat "$CLI" >"$LAB_DIR/cli.1"
	synacct_stop
	lab_server_stop $srv $cnt
	sent=$(cli_syns_sent "$LAB_DIR/cli.0" "$LAB_DIR/cli.1")
	t_is "$SA_RC,$(summary nic_syn 8080),$(summary tc_syn 8080),$(summary '.stack_drops.TC_INGRESS // 0' 8080)" \
		"0,$((sent + flood)),$sent,$flood" \
		"tc mode, cls_bpf at priority 1: nic_syn == all $((sent + flood)) SYNs sent, tc_syn == the clients' $sent, $flood TC_INGRESS drops"
	t_is "$(tc_ingress_bpf)" "1 tc_drop.bpf.o:[tc]" "tc mode, cls_bpf at priority 1: the other tool's filter stays"
	tc -n "$SRV" qdisc del dev "$SRV_IF" clsact
}

# ---- --no-stack ----

# NIC and TC count exactly; every stack figure is null (a top-level
# counter) or absent (the objects: listen_drops, stack_drops, unexplained,
# ...), and the verdict says nothing about stages synacct cannot see.
sc_no_stack() {
	local srv cnt sent out keys mp fams stackfams i
	lab_server 8082 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	mp=$(lab_free_port)
	scenario_begin --no-stack --interval 0.5 --metrics "127.0.0.1:$mp" || { t_ok 1 "--no-stack: synacct starts"; return; }
	t_is "$(jq -r 'select(.type == "start") | .hooks | join(",")' "$SA_OUT")" "xdp_skb,tc_ingress,tc_egress" \
		"--no-stack: hooks: XDP and TC only"
	out=$(lab_client --to $SRV_IP4 --port 8082 --count 12 --parallel 4)
	t_is "$out" "connected=12 failed=0" "--no-stack: 12 clients connected"
	# SYNs to a closed port: lost in the stack, which synacct does not see.
	t_is "$(lab_flood --to $SRV_IP4 --port 8199 --count 9 --src-net $SPOOF_NET4)" "sent=9" \
		"--no-stack: 9 SYNs to the closed port 8199"
	for ((i = 0; i < 50; i++)); do
		curl -sf "http://127.0.0.1:$mp/metrics" >"$LAB_DIR/page" &&
			grep -q '^synacct_nic_syn_total{port="8199"} 9$' "$LAB_DIR/page" && break
		sleep 0.1
	done
	scenario_end
	lab_server_stop $srv $cnt
	sent=$(cli_sent)
	t_is "$SA_RC" 0 "--no-stack: exit 0"
	# docs/metrics.md: the stack stage's families (and every per-port
	# gauge) are absent with --no-stack; the NIC's and TC's are there.
	fams=$(sed -n 's/^# TYPE \(synacct_[a-z_]*\) .*/\1/p' "$LAB_DIR/page" | paste -sd' ')
	stackfams=$("$SYNACCT" counters | awk -F'|' '$3 ~ /^ *(stack|listeners|container) *$/' | grep -o 'synacct_[a-z_]*' | sort -u)
	t_is "$(for f in $stackfams synacct_missed_runs_total synacct_unexplained; do [[ " $fams " == *" $f "* ]] && echo "$f"; done | paste -sd' ')" "" \
		"--no-stack: no family of the stack stage on /metrics ($(wc -w <<<"$stackfams") from 'synacct counters', missed_runs, unexplained)"
	t_is "$(for f in synacct_nic_syn_total synacct_tc_syn_total synacct_synack_sent_total synacct_nic_unparsed_total synacct_tc_unparsed_total; do [[ " $fams " == *" $f "* ]] && echo "$f"; done | wc -l),$(grep -c '^synacct_nic_syn_total{port="8199"} 9$' "$LAB_DIR/page")" \
		"5,1" "--no-stack: the NIC's and TC's families are there, nic_syn_total of port 8199 9"
	t_is "$(summary nic_syn 8082),$(summary tc_syn 8082),$(summary synack_sent 8082)" \
		"$sent,$sent,$(srv_delta TcpPassiveOpens)" \
		"--no-stack: nic_syn, tc_syn == SYNs sent ($sent), synack_sent == PassiveOpens"
	t_is "$(summary nic_syn 8199),$(summary tc_syn 8199),$(summary synack_sent 8199)" "9,9,0" \
		"--no-stack: closed port: nic_syn, tc_syn == 9, no SYN-ACK"
	t_is "$(srv_delta TcpOutRsts)" 9 "--no-stack: the server reset those 9 (nstat TcpOutRsts)"
	# The stack stage's top-level keys, from the counter table.
	keys=$("$SYNACCT" counters | awk -F'|' '$3 ~ /^ *stack *$/ && $2 !~ /\./ { gsub(/[ `]/, "", $2); print $2 }' | paste -sd' ')
	t_is "$(jq -r --arg k "$keys" 'select(.type == "summary") | .ports[] |
		select(.port == 8082) | . as $p | [$k | splits(" ") |
		select(. as $key | ($p | has($key)) == false or $p[$key] != null)] | join(",")' "$SA_OUT")" "" \
		"--no-stack: each of the stack stage's $(wc -w <<<"$keys") top-level figures is there, null"
	t_is "$(jq -r 'select(.type == "summary") | .ports[] | select(.port == 8082) |
		[.listener_syn, .syn_queued, .established] | map(tostring) | join(",")' "$SA_OUT")" "null,null,null" \
		"--no-stack: listener_syn, syn_queued, established null"
	t_is "$(jq -r 'select(.type == "summary") | .ports[] | select(.port == 8082) |
		[has("listen_drops"), has("stack_drops"), has("unexplained"), has("accepted"), has("syn_queue_len")] | map(tostring) | join(",")' "$SA_OUT")" \
		"false,false,false,false,false" "--no-stack: no listen_drops, stack_drops, unexplained, accepted, queue lengths"
	t_is "$(jq -r 'select(.type == "summary") | [has("consistent"), has("listeners"), .missed_runs, .update_failed.stack] | map(tostring) | join(",")' "$SA_OUT")" \
		"false,false,null,null" "--no-stack: no MIB cross-check, no listeners, missed_runs and update_failed.stack null"
	t_is "$(summary verdict.text 8082)|$(summary verdict.text 8199)" \
		"stack stage off: no verdict beyond TC|stack stage off: no verdict beyond TC" \
		"--no-stack: the verdict of both ports says the stack is not seen (no 'no loss')"
}

# ---- SIGHUP ----

# SIGHUP reloads --config (65-config.t's reload); 20-counts.t's sighup
# checks that the run goes on.  Here the counts across it: under nohup
# (SIGHUP ignored) and from a shell without --config (nothing to
# reload), SYNs before and after it are counted exactly in one run.
hup_clients() {	# hup_clients N: N clients to 8083 (HUP_OUT), SYNs they sent added to HUP_SENT
	lab_nstat "$CLI" >"$LAB_DIR/cli.0"
	HUP_OUT=$(lab_client --to $SRV_IP4 --port 8083 --count "$1" --parallel 4)
	lab_nstat "$CLI" >"$LAB_DIR/cli.1"
	HUP_SENT=$((HUP_SENT + $(cli_syns_sent "$LAB_DIR/cli.0" "$LAB_DIR/cli.1")))
}
intervals() { jq -s '[.[] | select(.type == "interval")] | length' "$SA_OUT" 2>/dev/null || echo 0; }
sc_sighup_counts() {
	local srv cnt n i wrap err
	lab_server 8083 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	for wrap in nohup ""; do
		local how=${wrap:+under nohup}
		how=${how:-from a shell}
		err=${wrap:+}
		[ -z "$wrap" ] && err="synacct: SIGHUP: started without --config, there is no file to reload"
		HUP_SENT=0
		SA_WRAP=$wrap synacct_start --interval 0.2 || { t_ok 1 "SIGHUP $how: synacct starts"; return; }
		hup_clients 8
		t_is "$HUP_OUT" "connected=8 failed=0" "$how: 8 clients before the SIGHUP"
		kill -HUP $SA_PID
		n=$(intervals)
		for ((i = 0; i < 100; i++)); do [ "$(intervals)" -ge $((n + 2)) ] && break; sleep 0.1; done
		hup_clients 8
		t_is "$HUP_OUT" "connected=8 failed=0" "$how: 8 clients after the SIGHUP"
		lab_settle "$SRV"
		# An interval record with the last SYNs, before the end.
		for ((i = 0; i < 50; i++)); do [ "$(interval_sum nic_syn 8083)" -ge "$HUP_SENT" ] && break; sleep 0.1; done
		synacct_stop
		t_is "$SA_RC,$(jq -s '[.[] | select(.type == "start" or .type == "summary")] | length' "$SA_OUT"),$(cat "$SA_ERR")" "0,2,$err" \
			"$how: one run across the SIGHUP (one start, one summary), exit 0 on SIGINT, ${err:-nothing} on stderr"
		t_is "$(summary nic_syn 8083),$(summary tc_syn 8083),$(summary listener_syn 8083),$(summary established 8083)" \
			"$HUP_SENT,$HUP_SENT,$HUP_SENT,16" \
			"$how: nic_syn, tc_syn, listener_syn == SYNs sent before and after the SIGHUP ($HUP_SENT), 16 established"
		t_is "$(interval_sum nic_syn 8083)" "$HUP_SENT" "$how: the interval records add up to them too"
	done
	lab_server_stop $srv $cnt
	nothing_attached "after SIGHUP"
}

# ---- --metrics-top ----

# families_by_labels LABELS: the port-labelled families of docs/metrics.md
# whose labels are exactly LABELS (e.g. "port", "port, cause"), without the
# container's (served only for ports whose SYNs reach a followed namespace:
# synacct_container_info, and the series with netns) and the accept
# queue's age (only for a port a listener holds).
families_by_labels() {
	sed -n 's/^| `\(synacct_[a-z_]*\)` | [a-z]* | \([a-z, ]*\) |.*/\1|\2/p' "$SA_ROOT/docs/metrics.md" |
		sed 's/, netns$//' |
		awk -F'|' -v l="$1" '$2 == l && $1 !~ /^synacct_container_/ &&
			$1 != "synacct_accept_queue_oldest_age_seconds" { print $1 }'
}

# series_check PAGE NAME NPORTS: each port-labelled family of docs/metrics.md
# has one series per port (three per port for listen_drops' causes, six for
# the gaps, one verdict), and no family has a series more.
series_check() {
	local page=$1 name=$2 np=$3 f bad=
	for f in $(families_by_labels port); do
		[ "$(grep -c "^$f{" "$page")" = "$np" ] || bad+=" $f:$(grep -c "^$f{" "$page")"
	done
	for f in $(families_by_labels "port, cause"); do
		[ "$(grep -c "^$f{" "$page")" = $((3 * np)) ] || bad+=" $f:$(grep -c "^$f{" "$page")"
	done
	for f in $(families_by_labels "port, gap"); do
		[ "$(grep -c "^$f{" "$page")" = $((6 * np)) ] || bad+=" $f:$(grep -c "^$f{" "$page")"
	done
	for f in $(families_by_labels "port, id, severity"); do
		[ "$(grep -c "^$f{" "$page")" = "$np" ] || bad+=" $f:$(grep -c "^$f{" "$page")"
	done
	t_is "$bad" "" "$name: every port-labelled family has $np ports' series (listen_drops 3 causes, unexplained 6 gaps each, one verdict each): $(families_by_labels port | wc -l)+$(families_by_labels 'port, cause' | wc -l)+$(families_by_labels 'port, gap' | wc -l)+$(families_by_labels 'port, id, severity' | wc -l) families"
}

metric() {	# metric PAGE NAME LABELS: one series' value, "none" without it
	awk -v s="$2{$3} " 'index($0, s) == 1 { print $NF; f = 1 } END { if (!f) print "none" }' "$1"
}

# metrics_run [synacct options...]: a listener on 8080, synacct with
# --metrics on a free port, then a scan: 150 closed ports 9000-9149 get 1
# SYN each and the last 50 of them (9100-9149) 3 more: 300 SYNs, in one
# interval; PAGE is the page once synacct has read them (METRICS_SEEN of
# them: those it reports).
METRICS_SEEN=300
metrics_run() {
	local mp srv cnt i
	lab_server 8080 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	mp=$(lab_free_port)
	scenario_begin --metrics "127.0.0.1:$mp" --interval 1.5 "$@" || { t_ok 1 "metrics: synacct starts"; return 1; }
	t_is "$(lab_flood --to $SRV_IP4 --port 9100 --port-span 50 --count 150 --src-net 198.19.1.0/24);$(lab_flood --to $SRV_IP4 --port 9000 --port-span 150 --count 150 --src-net 198.19.2.0/24)" \
		"sent=150;sent=150" "the scan: 300 SYNs over 150 closed ports"
	# The first reading after the scan (an interval record with its SYNs).
	for ((i = 0; i < 50; i++)); do
		[ "$(jq -s '[.[] | select(.type == "interval") | .ports[] | .nic_syn] | add // 0' "$SA_OUT")" -ge "$METRICS_SEEN" ] && break
		sleep 0.1
	done
	curl -sf "http://127.0.0.1:$mp/metrics" >"$LAB_DIR/page"
	scenario_end
	lab_server_stop $srv $cnt
	PAGE=$LAB_DIR/page
	t_is "$(srv_delta TcpOutRsts)" 300 "the server reset the 300 SYNs (nstat TcpOutRsts)"
}

scan_ports() {	# scan_ports PAGE: the scanned ports with a label of their own
	grep -oE '^synacct_nic_syn_total\{port="9[01][0-9][0-9]"\}' "$1" | grep -oE '[0-9]+' | paste -sd' '
}

sc_metrics_top_default() {
	local name="--metrics-top default" heavy
	metrics_run || return
	# 100 labels by SYNs: the 50 ports with 4, then 50 of those with 1.
	t_is "$(scan_ports "$PAGE" | wc -w)" 100 "$name: 100 scanned ports with a label of their own"
	heavy=$(grep -cE '^synacct_nic_syn_total\{port="91[0-4][0-9]"\} 4$' "$PAGE")
	t_is "$heavy" 50 "$name: the 50 busiest ports (4 SYNs each) among them"
	t_is "$(metric "$PAGE" synacct_nic_syn_total 'port="other"'),$(metric "$PAGE" synacct_stack_drops_total 'port="other",reason="NO_SOCKET"')" \
		"50,50" "$name: port=\"other\": the other 50 ports' 50 SYNs, NO_SOCKET"
	t_is "$(awk '/^synacct_nic_syn_total\{/ { s += $2 } END { print s }' "$PAGE")" 300 \
		"$name: nic_syn over every series == 300 SYNs sent"
	t_is "$(metric "$PAGE" synacct_nic_syn_total 'port="8080"'),$(metric "$PAGE" synacct_listeners 'port="8080"')" "0,1" \
		"$name: the listening port 8080 has its series too"
	series_check "$PAGE" "$name" 102
	t_is "$(grep -c '^synacct_stack_drops_total{' "$PAGE")" 101 \
		"$name: stack_drops_total: one series per port that saw a drop (100 + other, not 8080)"
}

sc_metrics_top_zero() {
	local name="--metrics-top 0"
	metrics_run --metrics-top 0 || return
	t_is "$(scan_ports "$PAGE")" "" "$name: no scanned port has a label of its own"
	t_is "$(metric "$PAGE" synacct_nic_syn_total 'port="other"'),$(metric "$PAGE" synacct_tc_syn_total 'port="other"'),$(metric "$PAGE" synacct_stack_drops_total 'port="other",reason="NO_SOCKET"')" \
		"300,300,300" "$name: port=\"other\" holds all 300 SYNs (nic_syn, tc_syn, stack_drops NO_SOCKET)"
	t_is "$(grep -oE '^synacct_nic_syn_total\{port="[a-z0-9]+"' "$PAGE" | cut -d'"' -f2 | paste -sd,)" "8080,other" \
		"$name: nic_syn_total: the listening port and other"
	series_check "$PAGE" "$name" 2
}

sc_metrics_top_ports() {
	local name="--metrics-top 5 --ports 9000-9119"
	METRICS_SEEN=180 metrics_run --metrics-top 5 --ports 9000-9119 || return
	# Every port of --ports that saw SYNs has a label; none outside is
	# counted, not even the listener 8080; "other" never appears.
	t_is "$(scan_ports "$PAGE" | wc -w),$(scan_ports "$PAGE" | tr ' ' '\n' | sort -n | sed -n '1p;$p' | paste -sd-)" \
		"120,9000-9119" "$name: all 120 selected ports have a label, beyond --metrics-top"
	t_is "$(metric "$PAGE" synacct_nic_syn_total 'port="other"'),$(metric "$PAGE" synacct_nic_syn_total 'port="8080"')" \
		"none,none" "$name: no port=\"other\", no unselected port (8080)"
	t_is "$(awk '/^synacct_nic_syn_total\{/ { s += $2 } END { print s }' "$PAGE")" $((100 + 20 * 4)) \
		"$name: nic_syn over every series == the SYNs to selected ports (100 x 1 + 20 x 4)"
	series_check "$PAGE" "$name" 120
}

# ---- IPv6 extension headers ----

# ext6 syn|connect ARGS...: lab_ext6.py in the client namespace.
ext6() { ip netns exec "$CLI" python3 "$EXT6" "$@"; }
# have_python WHAT: python3 is there to run lab_ext6.py (not in the QEMU
# guests of make test-kernels), or WHAT is skipped, saying so.
have_python() {
	command -v python3 >/dev/null && return 0
	t_skip "$1" "tool: python3 is not installed (lab_ext6.py builds the frames)"
	return 1
}

# rx_not_icmp: the server's rx packets on the lab veth less the ICMPv6
# messages it received, read until both stand still between two reads.
# The client namespace answers the SYN-ACKs and parameter problems sent
# to the spoofed sources with ICMPv6 errors (no route there), rate
# limited: every other frame the server receives is a SYN.
rx_not_icmp() {
	local a b icmp i
	for ((i = 0; i < 20; i++)); do
		a=$(ip -n "$SRV" -s -j link show dev "$SRV_IF" | jq '.[0].stats64.rx.packets')
		icmp=$(lab_nstat "$SRV" | awk '$1 == "Icmp6InMsgs" { print $2 }')
		b=$(ip -n "$SRV" -s -j link show dev "$SRV_IF" | jq '.[0].stats64.rx.packets')
		[ "$a" = "$b" ] && break
	done
	echo $((b - ${icmp:-0}))
}

# Raw SYNs, 10 per kind of header chain, each kind to a listener of its
# own; the kernel decides what reaches the listener (its request socks,
# ss state syn-recv), synacct must agree with it and account for the rest.
sc_ipv6_ext_raw() {
	local kinds=(dst rh0 rh0-sl1 rh2 srh srh hbh,dst,rh0,dst hbh,dst,rh0,dst,dst)
	local label=(dst rh0 rh0-sl1 rh2 "srh (seg6_enabled=0)" "srh (seg6_enabled=1)" hbh,dst,rh0,dst hbh,dst,rh0,dst,dst)
	local n=10 i port k rx0 rx1 queued drops hdrerr
	local -a Q HE
	have_python "IPv6 SYNs with extension headers" || return
	for i in "${!kinds[@]}"; do lab_server $((8201 + i)) --backlog 256; done
	scenario_begin --interval 0.5 || { t_ok 1 "IPv6 extension headers: synacct starts"; return; }
	lab_quiet "$SRV" "$SRV_IF"
	rx0=$(rx_not_icmp)
	for i in "${!kinds[@]}"; do
		port=$((8201 + i)) k=${kinds[$i]}
		# The second srh: with segment routing on where it arrives.
		[ "$i" = 5 ] && lab_sysctl "$SRV" net.ipv6.conf.all.seg6_enabled=1 &&
			lab_sysctl "$SRV" net.ipv6.conf.$SRV_IF.seg6_enabled=1
		lab_nstat "$SRV" >"$LAB_DIR/ext.0"
		t_is "$(ext6 syn --to $SRV_IP6 --port $port --count $n --ext "$k" --src-net "2001:db8:ff:0:$port::/80")" \
			"sent=$n" "ext $k: $n raw SYNs to port $port"
		lab_nstat "$SRV" >"$LAB_DIR/ext.1"
		HE[$i]=$(nstat_delta "$LAB_DIR/ext.0" "$LAB_DIR/ext.1" Ip6InHdrErrors)
	done
	for i in "${!kinds[@]}"; do Q[$i]=$(lab_ss_count "$SRV" syn-recv $((8201 + i))); done
	scenario_end
	rx1=$(rx_not_icmp)
	t_is "$((rx1 - rx0))" $((n * ${#kinds[@]})) \
		"every SYN arrived: $SRV_IF rx packets - Icmp6InMsgs == $((n * ${#kinds[@]}))"
	echo "# kind: request socks (ss syn-recv), Ip6InHdrErrors; then synacct's summary for the port"
	for i in "${!kinds[@]}"; do
		echo "# ${kinds[$i]}: ${Q[$i]} ${HE[$i]}: $(jq -c --argjson p $((8201 + i)) 'select(.type == "summary") | .ports[] | select(.port == $p) | [.nic_syn, .tc_syn, .listener_syn, .syn_queued, .stack_drops, .unexplained.synack_sent, .verdict.text]' "$SA_OUT")"
	done
	for i in 0 1 2 3 4 5 6; do
		port=$((8201 + i)) k=${label[$i]} queued=${Q[$i]}
		drops=$(summary '.stack_drops | [.[]] | add // 0' $port)
		t_is "$(summary nic_syn $port),$(summary tc_syn $port)" "$n,$n" "ext $k: nic_syn, tc_syn == $n sent"
		t_is "$(summary listener_syn $port),$(summary syn_queued $port)" "$queued,$queued" \
			"ext $k: listener_syn, syn_queued == the listener's request socks ($queued, ss syn-recv)"
		t_is "$drops" $((n - queued)) "ext $k: stack_drops == SYNs that arrived and made no request sock ($((n - queued)))"
		t_is "$(summary '.unexplained | [.[]] | map(select(. != 0)) | length' $port)" 0 "ext $k: nothing unexplained"
		[ "$queued" = 0 ] && t_like "$(summary verdict.text $port)" "^stack drop: $n SYNs dropped before a socket" \
			"ext $k: the verdict names the drop"
	done
	# What the kernel decided, as it decided it on 6.18 (the checks above
	# hold whatever it decides): destination options and a type 0 header
	# with no segment left reach the listener (RFC 5095 drops type 0 only
	# when it would route); type 0 with a segment left and type 2 (no
	# Mobile IPv6 here) are parameter problems (Ip6InHdrErrors); segment
	# routing is dropped silently unless seg6_enabled.
	echo "# the kernel: ${kinds[*]} -> request socks ${Q[*]}, Ip6InHdrErrors ${HE[*]}"
	t_is "${Q[2]},${HE[2]}" "0,$n" "rh0-sl1: the kernel refused all $n as header errors (Ip6InHdrErrors)"
	t_is "${Q[4]},${HE[4]}" "0,0" "srh, seg6_enabled=0: the kernel dropped all $n without a MIB counter: synacct's stack_drops is the only count"
	t_is "${Q[5]}" $n "srh, seg6_enabled=1: all $n reached the listener"
	# Five headers: beyond the parser's SA_MAX_EXTHDR (4): NIC and TC
	# count them unparsed, the stack's walker (8 headers) counts them at
	# the listener and as syn_beyond_parser, which reconciliation takes
	# into account: nothing silent, nothing unexplained.
	port=8208
	t_is "${Q[7]}" $n "5 extension headers: the kernel took all $n (ss syn-recv)"
	t_is "$(summary nic_syn $port),$(summary tc_syn $port)" "0,0" \
		"5 extension headers: no nic_syn, tc_syn (beyond the parser's limit)"
	t_is "$(jq -r 'select(.type == "summary") | [.nic_unparsed, .tc_unparsed] | join(",")' "$SA_OUT")" "$n,$n" \
		"5 extension headers: nic_unparsed, tc_unparsed == $n (the only frames beyond the limits)"
	t_is "$(summary listener_syn $port),$(summary syn_beyond_parser $port)" "${Q[7]},${Q[7]}" \
		"5 extension headers: listener_syn, syn_beyond_parser == the kernel's request socks"
	t_is "$(summary '.unexplained | [.[]] | map(select(. != 0)) | length' $port)" 0 \
		"5 extension headers: nothing unexplained"
	t_is "$(jq -r 'select(.type == "summary") | .consistent' "$SA_OUT")" true "IPv6 extension headers: per-port sums agree with the namespace MIBs"
}

# Real connections whose every segment carries a header: destination
# options (IPV6_DSTOPTS), and a segment routing header (IPV6_RTHDR type 4)
# with and without seg6_enabled on the server.
sc_ipv6_ext_connect() {
	local srv cnt out sent name
	have_python "IPv6 connections with extension headers" || return
	lab_server 8210 --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	lab_sysctl "$CLI" net.ipv4.tcp_syn_retries=1
	scenario_begin --interval 0.5 || { t_ok 1 "IPv6 extension headers, connections: synacct starts"; return; }
	out=$(ext6 connect --to $SRV_IP6 --port 8210 --count 10 --ext dst)
	t_is "$out" "connected=10 failed=0" "dst: 10 connections with destination options"
	out=$(ext6 connect --to $SRV_IP6 --port 8210 --count 3 --ext srh --timeout 2)
	t_is "$out" "connected=0 failed=3" "srh, seg6_enabled=0 on the server: 3 connections fail"
	lab_sysctl "$SRV" net.ipv6.conf.all.seg6_enabled=1
	lab_sysctl "$SRV" net.ipv6.conf.$SRV_IF.seg6_enabled=1
	out=$(ext6 connect --to $SRV_IP6 --port 8210 --count 10 --ext srh)
	t_is "$out" "connected=10 failed=0" "srh, seg6_enabled=1: 10 connections"
	scenario_end
	lab_server_stop $srv $cnt
	sent=$(cli_sent)
	name="IPv6 extension headers, connections"
	t_is "$SA_RC" 0 "$name: exit 0"
	t_is "$LAB_ACCEPTED,$(srv_delta TcpPassiveOpens)" "20,20" "$name: the server accepted 20 (and nstat PassiveOpens)"
	t_is "$(summary nic_syn 8210),$(summary tc_syn 8210)" "$sent,$sent" "$name: nic_syn, tc_syn == SYNs the client sent ($sent, nstat)"
	t_is "$(summary established 8210),$(summary accepted 8210),$(summary syn_queued 8210)" "20,20,20" \
		"$name: syn_queued, established, accepted == 20"
	t_is "$(summary '.stack_drops | [.[]] | add // 0' 8210)" "$((sent - 20))" \
		"$name: stack_drops == the SYNs that made no connection (the srh ones before seg6_enabled)"
	check_funnel "$name" 8210
}

lab_main "$@"
