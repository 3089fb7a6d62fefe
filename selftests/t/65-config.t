#!/bin/bash
# --config FILE: every long option is a key (the example config has them
# all), the command line overrides the file key by key, and an unknown
# key, a bad value, a stray line or section stop synacct with FILE:LINE,
# exit 2, before anything is attached; lines of any length are read
# whole or refused, never cut; only a regular file is read.  SIGHUP
# reloads it: interval and ports change while running; any other change,
# or a bad file, is refused with the reason and the run goes on as it was.  Each
# scenario runs in a lab of its own:
#   selftests/t/65-config.t [--list] [SCENARIO...]
. "$(dirname "$0")/../lib/lab.sh"

LAB_SCENARIOS=(keys bad_files file_run iface_twice example_config long_lines not_regular reload)
EXAMPLE=$SA_ROOT/configs/synacct.conf

# Keys: the long options of --help (its option rows, not the commands'
# usage lines above them) but argp's own and --config itself.
sc_keys() {
	local key out want
	"$SYNACCT" --help | sed -n 's/^ *\(-[a-zA-Z?], \)\{0,1\}--\([a-z][a-z-]*\).*/\2/p' | sort -u |
		grep -vx 'help\|usage\|version\|config' >"$LAB_DIR/options"
	sed -n 's/^#\{0,1\}\([a-z][a-z-]*\) = .*/\1/p' "$EXAMPLE" | sort -u >"$LAB_DIR/keys"
	t_is "$(diff "$LAB_DIR/options" "$LAB_DIR/keys" && echo same)" same \
		"configs/synacct.conf has a key for every long option of --help ($(wc -l <"$LAB_DIR/options"))"
	# Refused by the key's own parser: "invalid --KEY 'x'", "invalid KEY
	# 'x'" or "invalid value 'x' for KEY" (ports: "invalid port list"),
	# never "unknown key" (which is on line 2 too).
	local pre="synacct: $LAB_DIR/one.conf:2: invalid " n=0
	while read -r key; do
		[ "$key" = iface ] && continue
		n=$((n + 1))
		out=$(printf 'iface = %s\n%s = x\n' "$SRV_IF" "$key" >"$LAB_DIR/one.conf"
		      "$SYNACCT" --config "$LAB_DIR/one.conf" 2>&1 >/dev/null)
		case $key in
		# Any string parses; what it names is looked up after parsing.
		btf) [ "$out" = "synacct: cannot read BTF file x: No such file or directory" ] ;;
		netns) [ "$out" = "synacct: network namespace 'x' not found (no /run/netns/x); list them with 'ip netns list'" ] ;;
		ports) [[ $out == "$pre""port list 'x': "* ]] ;;
		# Read when --metrics is set up, which it needs.
		web-config) [ "$out" = "synacct: --web-config needs --metrics" ] ;;
		# Any directory name parses; read only when a followed namespace
		# is a pod's, so the run goes on to the interface (not here).
		pods-log-dir) [ "$out" = "synacct: interface $SRV_IF not found in network namespace (current); list interfaces with 'ip link'" ] ;;
		*) [[ $out == "$pre--$key 'x': "* || $out == "$pre$key 'x': "* || $out == "$pre""value 'x' for $key: "* ]] ;;
		esac || echo "# key $key: '$out'"
	done <"$LAB_DIR/options" >"$LAB_DIR/keycheck"
	t_is "$(cat "$LAB_DIR/keycheck")" "" \
		"every key reaches its option's parser: 'x' is refused on line 2 naming the key, $n keys (btf, netns, web-config, pods-log-dir: when looked up)"
	t_ok $(( n > 0 ? 0 : 1 )) "... and there were keys to check ($n): an empty --help reading checks nothing"
}

# bad FILE-CONTENT MESSAGE DESCRIPTION
bad() {
	printf "$1" >"$LAB_DIR/bad.conf"
	local err rc
	err=$("$SYNACCT" --netns "$SRV" --config "$LAB_DIR/bad.conf" --duration 5 2>&1 >/dev/null); rc=$?
	t_is "$rc" 2 "$3: exit 2"
	t_is "$err" "synacct: $LAB_DIR/bad.conf:$2" "$3: the message names file:line"
}

sc_bad_files() {
	local err rc
	bad "iface = $SRV_IF\nfoo = 1\n" "2: unknown key 'foo': keys are the long options of synacct --help" "unknown key"
	bad "iface = $SRV_IF\n\nxdp-mode = fast\n" "3: invalid --xdp-mode 'fast': auto, tc, native or skb" "bad value"
	bad "# c\niface = $SRV_IF\ninterval = 0\n" "3: invalid interval '0': expected seconds, at least 0.01 and at most a year" "interval 0"
	bad "iface = $SRV_IF\njson = maybe\n" "2: invalid value 'maybe' for json: expected yes or no" "a flag that is not yes or no"
	bad "iface = $SRV_IF\nports = 80,x\n" "2: invalid port list '80,x': expected e.g. 80,443,8000-8100" "bad port list"
	bad "[synacct]\niface = $SRV_IF\n[other]\n" "3: unknown section [other]: keys go before any section or in [synacct]" "unknown section, even empty"
	bad "iface = $SRV_IF\njust words\n" "2: not an INI line: expected key = value" "not an INI line"
	# inih would join an indented line to the value above it.
	bad "iface = $SRV_IF\ninterval = 1\n  duration = 5\n" "3: indented line: start it at the beginning of the line (an indented line would continue the value above)" "an indented key"
	bad "[synacct]\niface = $SRV_IF\n\t[other]\n" "3: indented line: start it at the beginning of the line (an indented line would continue the value above)" "an indented section"
	bad "iface = $SRV_IF\ninterval = 1\n# c\ninterval = 2\n" "4: interval given twice (first on line 2): it takes one value" "a key given twice"
	bad "iface = $SRV_IF\njson = yes\njson = no\n" "3: json given twice (first on line 2): it takes one value" "a flag given twice"
	bad "iface = $SRV_IF\nconfig = /etc/x\n" "2: unknown key 'config': keys are the long options of synacct --help" "config in a config"
	err=$("$SYNACCT" --config "$LAB_DIR/nope.conf" 2>&1 >/dev/null); rc=$?
	t_is "$rc:$err" "2:synacct: cannot read config file $LAB_DIR/nope.conf: No such file or directory" "a missing file: exit 2"
	t_is "$(ip netns exec "$SRV" tc qdisc show dev "$SRV_IF" | grep -c clsact)" 0 "nothing was attached"
}

# The file alone: namespace, interface, JSON, duration.
sc_file_run() {
	local t0 out rc ms
	cat >"$LAB_DIR/run.conf" <<EOC
[synacct]
netns = $SRV
iface = lo
json = yes
interval = 0.2
duration = 30
no-xdp = no
EOC
	t0=$(date +%s%N)
	out=$("$SYNACCT" --config "$LAB_DIR/run.conf" --iface "$SRV_IF" -d 0.5 2>"$LAB_DIR/run.err"); rc=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	t_is "$rc" 0 "config file run exits 0"
	t_is "$(jq -r 'select(.type == "start") | [.netns, (.ifaces | join(","))] | join(" ")' <<<"$out")" \
		"$SRV $SRV_IF" "netns from the file; --iface on the command line replaces the file's iface"
	t_is "$(jq -r 'select(.type == "summary") | .duration_s < 5' <<<"$out")" true \
		"-d 0.5 overrides duration = 30 (ran ${ms} ms)"
	t_is "$(jq -s '[.[] | select(.type == "interval")] | length >= 2' <<<"$out")" true \
		"interval = 0.2 from the file: several interval records in 0.5 s"
}

# iface repeats (one interface each time); an indented comment is a comment.
sc_iface_twice() {
	local out rc
	printf 'netns = %s\niface = %s\n    # the namespace loopback too\niface = lo\n' "$SRV" "$SRV_IF" >"$LAB_DIR/two.conf"
	out=$("$SYNACCT" --config "$LAB_DIR/two.conf" --json -d 0.3 2>"$LAB_DIR/two.err"); rc=$?
	t_is "$rc:$(cat "$LAB_DIR/two.err")" "0:" "iface twice and an indented comment: accepted"
	t_is "$(jq -r 'select(.type == "start") | .ifaces | join(",")' <<<"$out")" "$SRV_IF,lo" \
		"... both interfaces watched, in order"
}

# The example config, with the host-specific keys overridden.
sc_example_config() {
	local mp pid i rc
	mp=$(lab_free_port) || exit 1
	"$SYNACCT" --config "$EXAMPLE" --netns "$SRV" --iface "$SRV_IF" --metrics "127.0.0.1:$mp" \
		--duration 30 >"$LAB_DIR/ex.out" 2>"$LAB_DIR/ex.err" &
	pid=$!; LAB_PIDS+=($pid)
	for ((i = 0; i < 50; i++)); do
		curl -sf -o /dev/null "http://127.0.0.1:$mp/metrics" && break
		sleep 0.1
	done
	t_like "$(curl -sf "http://127.0.0.1:$mp/metrics" | grep '^synacct_info')" "ifaces=\"$SRV_IF\"" \
		"the example config serves /metrics (address from the command line)"
	kill -TERM $pid; wait $pid; rc=$?
	t_is "$rc" 0 "... and exits 0 on SIGTERM"
	t_is "$(cat "$LAB_DIR/ex.out")" "" "... quiet = yes: nothing on stdout"
}

# conf_run FILE [ARGS...]: synacct on FILE in the lab: OUT, ERR, RC.
# Under `timeout 10`: a read that blocks or never ends is rc 124.
conf_run() {
	local f=$1
	shift
	OUT=$(timeout 10 "$SYNACCT" --config "$f" "$@" 2>"$LAB_DIR/conf.err"); RC=$?
	ERR=$(cat "$LAB_DIR/conf.err")
}

# Lines longer than libinih's buffer (200 bytes in Debian's build): inih
# read them in pieces, each parsed as a line, so a comment's tail was a
# key and line numbers drifted.  A comment or blank line of any length is
# one; any other line fits the buffer or is refused with FILE:LINE.
sc_long_lines() {
	local c n line
	# inih read 199 bytes at a time: the rest of this comment was the
	# line "json = yes", and synacct printed JSON.
	c=$(printf '%*s' 198 '' | tr ' ' c)
	printf 'netns = %s\niface = %s\n#%sjson = yes\n' "$SRV" "$SRV_IF" "$c" >"$LAB_DIR/long.conf"
	conf_run "$LAB_DIR/long.conf" -d 0.3
	t_is "$RC:$ERR" "0:" "a 209-character comment ending in 'json = yes': accepted"
	t_is "$(grep -c '^{' <<<"$OUT")" 0 "... and a comment: no JSON record on stdout (the table)"
	c=$(printf '%*s' 10000 '' | tr ' ' c)
	printf 'netns = %s\niface = %s\n#%s json = yes\n' "$SRV" "$SRV_IF" "$c" >"$LAB_DIR/long1.conf"
	conf_run "$LAB_DIR/long1.conf" -d 0.3
	t_is "$RC:$ERR" "0:" "a 10000-character comment ending in ' json = yes': accepted"
	t_is "$(grep -c '^{' <<<"$OUT")" 0 "... a comment: no JSON record on stdout"
	# ... or a key no option has.
	printf 'netns = %s\n;%s bogus = 1\n  ;%s\n\n%s\niface = %s\n' "$SRV" "$c" "$c" \
		"$(printf '%*s' 5000 '')" "$SRV_IF" >"$LAB_DIR/long2.conf"
	conf_run "$LAB_DIR/long2.conf" --json -d 0.3
	t_is "$RC:$ERR" "0:" "long ';' comments (one indented) and a 5000-space blank line: accepted"
	t_is "$(jq -r 'select(.type == "start") | .ifaces | join(",")' <<<"$OUT")" "$SRV_IF" \
		"... the key after them (line 6) is read"
	# A key line: refused whole, on its own line number (inih said
	# "line 3" of this 2-line file).
	printf 'iface = %s\nports = %s\n' "$SRV_IF" "$(seq -s, 1000 1100)" >"$LAB_DIR/ports.conf"
	conf_run "$LAB_DIR/ports.conf" --netns "$SRV" -d 0.3
	t_like "$RC:$ERR" "^2:synacct: $LAB_DIR/ports.conf:2: line too long \\(limit [0-9]+ bytes; comments may be longer\\)\$" \
		"a 500-byte ports line: exit 2, FILE:2 'line too long (limit N bytes)'"
	n=$(sed -n 's/.*limit \([0-9]*\) bytes.*/\1/p' <<<"$ERR")
	# The limit is the real one: a line of exactly N bytes is read (an
	# inline comment pads it), N + 1 is refused.
	line="iface = $SRV_IF ;"
	line+=$(printf '%*s' $(( ${n:-0} - ${#line} )) '' | tr ' ' x)
	printf 'netns = %s\n%s\n' "$SRV" "$line" >"$LAB_DIR/exact.conf"
	conf_run "$LAB_DIR/exact.conf" --json -d 0.3
	t_is "$RC:$ERR:${#line}" "0::$n" "a key line of exactly the limit ($n bytes): accepted"
	t_is "$(jq -r 'select(.type == "start") | .ifaces | join(",")' <<<"$OUT")" "$SRV_IF" \
		"... its key read, the inline comment left out"
	printf 'netns = %s\n%sx\n' "$SRV" "$line" >"$LAB_DIR/over.conf"
	conf_run "$LAB_DIR/over.conf" -d 0.3
	t_is "$RC:$ERR" "2:synacct: $LAB_DIR/over.conf:2: line too long (limit $n bytes; comments may be longer)" \
		"one byte more: refused on line 2"
	printf 'netns = %s\r\niface = %s\r\n' "$SRV" "$SRV_IF" >"$LAB_DIR/crlf.conf"
	conf_run "$LAB_DIR/crlf.conf" --json -d 0.3
	t_is "$RC:$ERR" "0:" "CRLF line ends: accepted"
	printf 'iface = %s\njson = yes\0\n' "$SRV_IF" >"$LAB_DIR/nul.conf"
	conf_run "$LAB_DIR/nul.conf" --netns "$SRV" -d 0.3
	t_is "$RC:$ERR" "2:synacct: $LAB_DIR/nul.conf:2: a NUL byte: not a text file" \
		"a NUL byte: refused with its line"
	t_is "$(ip netns exec "$SRV" tc qdisc show dev "$SRV_IF" | grep -c clsact)" 0 "nothing left attached"
}

# Only a regular file: a FIFO blocked synacct forever, /dev/zero spun at
# 100 % CPU, a directory read as an empty file.  Each is refused at once
# (under timeout 10: rc 124 is a hang), exit 2, without being opened.
sc_not_regular() {
	local f
	mkfifo "$LAB_DIR/fifo.conf"
	mkdir "$LAB_DIR/dir.conf"
	truncate -s $(( (1 << 20) + 1 )) "$LAB_DIR/big.conf"
	truncate -s $(( 1 << 20 )) "$LAB_DIR/max.conf"
	for f in "$LAB_DIR/fifo.conf:a FIFO" "/dev/zero:a character device" \
		 "$LAB_DIR/dir.conf:a directory"; do
		conf_run "${f%%:*}" --netns "$SRV" --iface "$SRV_IF" -d 0.3
		t_is "$RC:$ERR" "2:synacct: cannot read config file ${f%%:*}: it is ${f#*:}; give a regular file" \
			"--config ${f#*:}: exit 2, one line"
	done
	conf_run "$LAB_DIR/big.conf" --netns "$SRV" --iface "$SRV_IF" -d 0.3
	t_is "$RC:$ERR" "2:synacct: cannot read config file $LAB_DIR/big.conf: 1048577 bytes, more than the limit of 1048576" \
		"--config of 1 MiB + 1 byte: exit 2, the limit named"
	# Exactly 1 MiB (of NUL bytes): read, not refused for its size, then
	# refused for its content.
	conf_run "$LAB_DIR/max.conf" --netns "$SRV" --iface "$SRV_IF" -d 0.3
	t_is "$RC:$ERR" "2:synacct: $LAB_DIR/max.conf:1: a NUL byte: not a text file" \
		"--config of exactly 1 MiB: read, its content judged"
	t_is "$(ip netns exec "$SRV" tc qdisc show dev "$SRV_IF" | grep -c clsact)" 0 "nothing was attached"
}


# ---- SIGHUP ----

# rl_wait_err LINE: until stderr has LINE (5 s); rl_records: the interval
# records after line RL_MARK of the output.
rl_wait_err() {
	local i
	for ((i = 0; i < 50; i++)); do grep -qxF "$1" "$LAB_DIR/rl.err" && return 0; sleep 0.1; done
	return 1
}
rl_records() { tail -n +$((RL_MARK + 1)) "$LAB_DIR/rl.out" | jq -c 'select(.type == "interval")'; }
# rl_after N: wait for N interval records after RL_MARK (10 s).
rl_after() {
	local i
	for ((i = 0; i < 100; i++)); do [ "$(rl_records | wc -l)" -ge "$1" ] && return 0; sleep 0.1; done
	return 1
}
# rl_ports: the ports the records after RL_MARK show, sorted, once each.
rl_ports() { rl_records | jq -r '.ports[].port' | sort -un | paste -sd,; }
# rl_mean_gap: seconds between the first and the last record after
# RL_MARK over their number less one (late ticks even out: each is due
# at a fixed time, the interval after the one before was due).
rl_mean_gap() { rl_records | jq -s '(.[-1].elapsed_s - .[0].elapsed_s) / (length - 1) * 1000 | floor'; }

sc_reload() {
	local conf=$LAB_DIR/rl.conf pid rc s1 c1 s2 c2 gap
	lab_server 8081 --accept all; s1=$LAB_SERVER_PID; c1=$LAB_SERVER_COUNT
	lab_server 8082 --accept all; s2=$LAB_SERVER_PID; c2=$LAB_SERVER_COUNT
	printf 'netns = %s\niface = %s\njson = yes\ninterval = 0.2\nports = 8081\n' "$SRV" "$SRV_IF" >"$conf"
	"$SYNACCT" --config "$conf" >"$LAB_DIR/rl.out" 2>"$LAB_DIR/rl.err" &
	pid=$!; LAB_PIDS+=($pid)
	RL_MARK=0
	rl_after 1 || { t_diag "$LAB_DIR/rl.err"; echo "Bail out! synacct did not report"; exit 1; }
	RL_MARK=$(wc -l <"$LAB_DIR/rl.out")
	lab_client --to $SRV_IP4 --port 8081 --count 2 >/dev/null
	lab_client --to $SRV_IP4 --port 8082 --count 2 >/dev/null
	rl_after 6
	t_is "$(rl_ports)" 8081 "ports = 8081: the records show port 8081 only (SYNs went to 8081 and 8082)"
	gap=$(rl_mean_gap)
	t_ok "$([ "$gap" -ge 150 ] && [ "$gap" -le 300 ]; echo $?)" "interval = 0.2: records $gap ms apart on average"

	sed -i 's/^interval = .*/interval = 0.5/; s/^ports = .*/ports = 8082/' "$conf"
	kill -HUP $pid
	rl_wait_err "synacct: reloaded $conf: changed interval, ports"
	t_is "$?" 0 "SIGHUP after interval and ports changed: 'reloaded FILE: changed interval, ports' on stderr"
	RL_MARK=$(wc -l <"$LAB_DIR/rl.out")
	lab_client --to $SRV_IP4 --port 8081 --count 2 >/dev/null
	lab_client --to $SRV_IP4 --port 8082 --count 2 >/dev/null
	rl_after 5
	t_is "$(rl_ports)" 8082 "... then the records show port 8082 only"
	gap=$(rl_mean_gap)
	t_ok "$([ "$gap" -ge 450 ] && [ "$gap" -le 600 ]; echo $?)" "... and come every 0.5 s ($gap ms on average)"

	# A key that needs a restart: refused whole, even with a runtime key.
	sed -i 's/^interval = .*/interval = 0.3/' "$conf"
	echo "no-xdp = yes" >>"$conf"
	kill -HUP $pid
	rl_wait_err "synacct: reload of $conf refused: no-xdp changed, which needs a restart (only interval and ports can change while running); the running configuration stays"
	t_is "$?" 0 "no-xdp added: refused, naming the key that needs a restart"
	# A file with an error: refused, FILE:LINE and why.
	sed -i '$d' "$conf"
	echo "interval = 0" >>"$conf"
	kill -HUP $pid
	rl_wait_err "synacct: reload refused: $conf:6: interval given twice (first on line 4): it takes one value; the running configuration stays"
	t_is "$?" 0 "a key given twice: refused with FILE:LINE"
	sed -i '$d; s/^interval = .*/interval = 0/' "$conf"
	kill -HUP $pid
	rl_wait_err "synacct: reload refused: $conf:4: invalid interval '0': expected seconds, at least 0.01 and at most a year; the running configuration stays"
	t_is "$?" 0 "interval = 0: refused with FILE:LINE and the parser's message"
	RL_MARK=$(wc -l <"$LAB_DIR/rl.out")
	lab_client --to $SRV_IP4 --port 8081 --count 2 >/dev/null
	lab_client --to $SRV_IP4 --port 8082 --count 2 >/dev/null
	rl_after 4
	gap=$(rl_mean_gap)
	t_is "$(kill -0 $pid && echo running),$(rl_ports)" "running,8082" "after the refused reloads: still running, still ports = 8082"
	t_ok "$([ "$gap" -ge 450 ] && [ "$gap" -le 600 ]; echo $?)" "... every 0.5 s ($gap ms on average)"
	t_is "$(ip -n "$SRV" -j link show "$SRV_IF" | jq -r '.[0].xdp.prog.name')" synacct_xdp \
		"... and its XDP program still on $SRV_IF (no-xdp was refused)"
	kill -TERM $pid; wait $pid; rc=$?
	t_is "$rc,$(wc -l <"$LAB_DIR/rl.err")" "0,4" "SIGTERM: exit 0; stderr holds the four reload lines and nothing else"
	lab_server_stop $s1 $c1
	lab_server_stop $s2 $c2
}

lab_main "$@"
