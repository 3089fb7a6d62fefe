#!/bin/bash
# What synacct accepts as input (issue #21, item 3): --btf reads only a
# regular file of at most 256 MiB (a FIFO blocked it, /dev/zero spun),
# libbpf's own error codes are named, not "Unknown error 4001"; an
# interface alias (eth0:junk) and an IPv6 --metrics address without
# brackets are usage errors; an interface named with hostile bytes
# (0xff, ESC) leaves every JSON record valid UTF-8 (python3's strict
# decoder and json parser are the oracle) and the /metrics page too, the
# name escaped as docs/metrics.md says.  (--config's inputs: 65-config.t.)
# Each scenario runs in a lab of its own:
#   selftests/t/12-inputs.t [--list] [SCENARIO...]
. "$(dirname "$0")/../lib/lab.sh"

LAB_SCENARIOS=(btf_files iface_alias metrics_ipv6 hostile_iface)
LAB_REQUIRE=require_tools

require_tools() {
	command -v python3 >/dev/null || t_skip_all "tool: python3 is not installed"
	command -v curl >/dev/null || t_skip_all "tool: curl is not installed (make deps installs it)"
}

# run ARGS...: OUT, ERR, RC of synacct, under `timeout 10` (a read that
# blocks or never ends is rc 124).
run() {
	OUT=$(timeout 10 "$SYNACCT" "$@" 2>"$LAB_DIR/err")
	RC=$?
	ERR=$(cat "$LAB_DIR/err")
}

nothing_attached() {	# nothing_attached WHAT
	t_is "$(ip -n "$SRV" -j link show dev "$SRV_IF" | jq -c '.[0].xdp // "none"'),$(tc -n "$SRV" filter show dev "$SRV_IF" ingress; tc -n "$SRV" filter show dev "$SRV_IF" egress)" \
		'"none",' "$1: no XDP program, no TC filter left on $SRV_IF"
}

# --btf: refused before libbpf opens the file, exit 1 (an unusable --btf
# is a runtime error, like a missing one: 10-errors.t missing_btf).
sc_btf_files() {
	local f
	mkfifo "$LAB_DIR/fifo.btf"
	mkdir "$LAB_DIR/dir.btf"
	truncate -s $(( (256 << 20) + 1 )) "$LAB_DIR/big.btf"
	for f in "$LAB_DIR/fifo.btf:a FIFO" "/dev/zero:a character device" \
		 "$LAB_DIR/dir.btf:a directory"; do
		run --netns "$SRV" --iface "$SRV_IF" --btf "${f%%:*}" --json -d 0.3
		t_is "$RC:$ERR" "1:synacct: cannot read BTF file ${f%%:*}: it is ${f#*:}; give a regular file" \
			"--btf ${f#*:}: exit 1 at once, one line"
		nothing_attached "--btf ${f#*:}"
	done
	run --netns "$SRV" --iface "$SRV_IF" --btf "$LAB_DIR/big.btf" --json -d 0.3
	t_is "$RC:$ERR" "1:synacct: cannot read BTF file $LAB_DIR/big.btf: 268435457 bytes, more than the limit of 268435456" \
		"--btf of 256 MiB + 1 byte: exit 1, the limit named"
	run check --netns "$SRV" --btf "$LAB_DIR/fifo.btf"
	t_is "$RC:$ERR" "1:synacct: cannot read BTF file $LAB_DIR/fifo.btf: it is a FIFO; give a regular file" \
		"check --btf a FIFO: exit 1 at once, one line"
	# libbpf's codes from 4000 (LIBBPF_ERRNO__FORMAT here) by their
	# names: strerror() has none ("Unknown error 4001").
	printf 'not BTF at all\n' >"$LAB_DIR/text.btf"
	run --netns "$SRV" --iface "$SRV_IF" --btf "$LAB_DIR/text.btf" --json -d 0.3
	t_is "$RC:$ERR" "1:synacct: cannot use BTF file $LAB_DIR/text.btf: it holds no BTF that libbpf can parse (BPF object format invalid); give a kernel's BTF, such as a copy of /sys/kernel/btf/vmlinux" \
		"--btf a text file: libbpf's error by its name"
}

# eth0:1 names an address label, not an interface: if_nametoindex()
# found eth0, and synacct watched it under the alias's name.
sc_iface_alias() {
	run --netns "$SRV" --iface "$SRV_IF:junk" --json -d 0.3
	t_is "$RC:$(head -1 <<<"$ERR")" "2:synacct: invalid interface name '$SRV_IF:junk': a name with ':' is an alias (an address label), not an interface: give --iface $SRV_IF" \
		"--iface $SRV_IF:junk: exit 2, the fix in one line"
	t_is "$OUT" "" "... no record"
	nothing_attached "--iface $SRV_IF:junk"
	printf 'netns = %s\niface = %s:0\n' "$SRV" "$SRV_IF" >"$LAB_DIR/alias.conf"
	run --config "$LAB_DIR/alias.conf" --json -d 0.3
	t_is "$RC:$ERR" "2:synacct: $LAB_DIR/alias.conf:2: invalid interface name '$SRV_IF:0': a name with ':' is an alias (an address label), not an interface: give --iface $SRV_IF" \
		"iface = $SRV_IF:0 in a config file: exit 2, FILE:LINE"
	run detach --netns "$SRV" --iface "$SRV_IF:junk"
	t_is "$RC:$(head -1 <<<"$ERR")" "2:synacct detach: invalid interface name '$SRV_IF:junk': a name with ':' is an alias (an address label), not an interface: give --iface $SRV_IF" \
		"detach --iface $SRV_IF:junk: exit 2"
	run --netns "$SRV" --iface "a/b" --json -d 0.3
	t_is "$RC:$(head -1 <<<"$ERR")" "2:synacct: invalid interface name 'a/b': no interface has this name (one has no ':', '/' or white space, and is not . or ..)" \
		"--iface a/b: exit 2"
}

# ::1:9465 could be [::1]:9465 or [::1:9465] without its port: synacct
# read it as the first.  IPv6 goes in brackets.
sc_metrics_ipv6() {
	local mp pid i page=
	mp=$(lab_free_port) || exit 1
	run --netns "$SRV" --iface "$SRV_IF" --json -d 0.3 --metrics "::1:$mp"
	t_is "$RC:$(head -1 <<<"$ERR")" "2:synacct: invalid --metrics '::1:$mp': an IPv6 address goes in brackets, [ADDR6]:PORT: [::1]:$mp" \
		"--metrics ::1:$mp: exit 2, the bracketed form in the message"
	nothing_attached "--metrics ::1:$mp"
	run --netns "$SRV" --iface "$SRV_IF" --json -d 0.3 --metrics "2001:db8::1:80"
	t_is "$RC:$(head -1 <<<"$ERR")" "2:synacct: invalid --metrics '2001:db8::1:80': an IPv6 address goes in brackets, [ADDR6]:PORT: [2001:db8::1]:80" \
		"--metrics 2001:db8::1:80: exit 2"
	if ! grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6; then
		t_skip "[::1]:PORT served" "kernel: no IPv6 loopback address in this namespace"
		return
	fi
	"$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --quiet --metrics "[::1]:$mp" --duration 30 \
		>/dev/null 2>"$LAB_DIR/m.err" &
	pid=$!; LAB_PIDS+=($pid)
	for ((i = 0; i < 50; i++)); do
		page=$(curl -gsf "http://[::1]:$mp/metrics") && break
		sleep 0.1
	done
	kill -INT $pid; wait $pid
	t_like "$(grep '^synacct_info' <<<"$page")" "ifaces=\"$SRV_IF\"" "--metrics [::1]:$mp: served on ::1"
}

# An interface named with bytes 0xff and ESC (anyone may name one in a
# namespace they own): the start record wrote it raw (invalid UTF-8),
# /metrics as '?'.  JSON: invalid bytes as the text \xNN, the rest as it
# is (JSON escapes ESC); /metrics: the table's escaping (\xNN for both),
# then the exposition format's.
sc_hostile_iface() {
	local name=$'e\xff\x1b[31m\xc3\xa9' mp url pid rc
	if ! ip -n "$SRV" link add "$name" type veth peer name sa-peer0 2>"$LAB_DIR/ip.err"; then
		t_ok 1 "ip link add a veth named e\\xff\\x1b[31mé: $(cat "$LAB_DIR/ip.err")"
		return
	fi
	ip -n "$SRV" link set dev "$name" up
	ip -n "$SRV" link set dev sa-peer0 up
	mp=$(lab_free_port) || exit 1
	url=http://127.0.0.1:$mp/metrics
	"$SYNACCT" --netns "$SRV" --iface "$name" --json --interval 0.2 --metrics "127.0.0.1:$mp" \
		--duration 30 >"$LAB_DIR/h.out" 2>"$LAB_DIR/h.err" &
	pid=$!; LAB_PIDS+=($pid)
	metrics_wait_read "$url" "$(date +%s.%N)"
	curl -sf "$url" >"$LAB_DIR/h.page"
	# One interval record at least (the page can come from the first
	# reading, before any interval ends).
	for ((i = 0; i < 100; i++)); do
		grep -q '"type":"interval"' "$LAB_DIR/h.out" && break
		sleep 0.1
	done
	kill -INT $pid; wait $pid; rc=$?
	t_is "$rc:$(cat "$LAB_DIR/h.err")" "0:" "synacct on the interface: exit 0, nothing on stderr"
	# Every line: strict UTF-8, one JSON object; the names as they must read.
	t_is "$(python3 - "$LAB_DIR/h.out" <<'EOF'
import json, sys
want = 'e\\xff\x1b[31m\u00e9'
bad, types = [], []
for n, raw in enumerate(open(sys.argv[1], 'rb').read().splitlines(), 1):
    try:
        rec = json.loads(raw.decode('utf-8', errors='strict'))
    except (UnicodeDecodeError, ValueError) as e:
        bad.append('line %d: %s' % (n, e))
        continue
    types.append(rec.get('type'))
    if rec.get('ifaces') != [want]:
        bad.append('line %d: ifaces %a' % (n, rec.get('ifaces')))
    if rec.get('type') == 'start':
        ifs = [x.get('iface') for x in rec.get('xdp', [])]
        if ifs != [want]:
            bad.append('start: xdp[].iface %a' % ifs)
ok = types[:1] == ['start'] and types[-1:] == ['summary'] and 'interval' in types
print('; '.join(bad) if bad else 'valid' if ok else 'records: %a' % types)
EOF
)" valid "JSON records (start, intervals, summary): strict UTF-8 and JSON (python3), ifaces and xdp[].iface == 'e\\xff' ESC '[31mé'"
	t_is "$(python3 - "$LAB_DIR/h.page" <<'EOF'
import sys
try:
    page = open(sys.argv[1], 'rb').read().decode('utf-8', errors='strict')
except UnicodeDecodeError as e:
    print('invalid UTF-8: %s' % e)
    sys.exit()
info = [l for l in page.splitlines() if l.startswith('synacct_info{')]
want = 'ifaces="e\\\\xff\\\\x1b[31m\u00e9"'
print('valid' if len(info) == 1 and want in info[0] else 'synacct_info: %a' % info)
EOF
)" valid "/metrics: strict UTF-8 (python3), synacct_info{ifaces=\"e\\\\xff\\\\x1b[31mé\"} (docs/metrics.md, Label values)"
}

lab_main "$@"
