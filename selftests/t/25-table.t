#!/bin/bash
# The live table as a person sees it: in a real terminal (tmux) at 80x24
# and 200x50 no line wraps, the funnel stays in order left to right, what
# does not fit is folded under the row, the figures equal the lab's ground
# truth, a resized terminal is redrawn at once, and colour follows NO_COLOR;
# with TERM=dumb or into a pipe, no escape sequence at all.
# Each scenario runs in a lab of its own:
#   selftests/t/25-table.t [--list] [SCENARIO...]
. "$(dirname "$0")/../lib/lab.sh"

LAB_SCENARIOS=(narrow height resize loss_verdict no_color plain)
LAB_REQUIRE=require_tmux
LAB_TEARDOWN=tm_kill

require_tmux() {
	command -v tmux >/dev/null || t_skip_all "tool: tmux is not installed (make deps)"
}

tm() { tmux -S "$LAB_DIR/tmux.sock" "$@"; }
tm_kill() { tm kill-server 2>/dev/null; }

# pane: the screen as shown, lines that wrapped joined back (-J), so a
# line longer than the terminal is one long line here.
pane() { tm capture-pane -p -J -t sa; }

# figure FILE PORT NAME: NAME's value for PORT, from its column (found by
# the header's name) or from a "NAME value" pair folded under the row.
figure() { table_cell "$@"; }

# widest FILE: the longest line.
widest() { awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }' "$1"; }

wait_for() {	# wait_for REGEX: until the pane shows it
	local i
	for ((i = 0; i < 50; i++)); do
		pane | grep -Eq "$1" && return 0
		sleep 0.1
	done
	return 1
}

run_table() {	# run_table COLS ROWS [env...]
	tm_kill
	tm -f /dev/null new-session -d -s sa -x "$1" -y "$2" \
		env "${@:3}" "$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --interval 0.3 ||
		{ echo "Bail out! cannot start tmux"; exit 1; }
	tm set-option -t sa remain-on-exit on >/dev/null
	wait_for '^synacct live' || { echo "# no table:"; pane | t_diag; }
}

# servers: the table's two ports, an overflowing accept queue (a loss
# verdict) and a healthy port.
servers() {
	lab_server 8301 --backlog 2 --accept none
	lab_server 8302 --accept all
}

# healthy_clients: 7 clients to the healthy port; SENT, the SYNs they sent.
healthy_clients() {
	lab_nstat "$CLI" >"$LAB_DIR/cli.0"
	lab_client --to $SRV_IP4 --port 8302 --count 7 >/dev/null
	lab_nstat "$CLI" >"$LAB_DIR/cli.1"
	SENT=$(cli_syns_sent "$LAB_DIR/cli.0" "$LAB_DIR/cli.1")
}

# overflow_clients: 8 clients to the port whose accept queue is full.
overflow_clients() {
	lab_client --to $SRV_IP4 --port 8301 --count 8 --timeout-ms 300 >/dev/null
}

sc_narrow() {
	servers
	run_table 80 24
	healthy_clients
	sleep 0.8
	pane >"$LAB_DIR/80.txt"
	t_ok $(( $(widest "$LAB_DIR/80.txt") <= 80 ? 0 : 1 )) \
		"80x24: no line wraps (widest $(widest "$LAB_DIR/80.txt"))"
	t_like "$(grep -m1 '^ *port ' "$LAB_DIR/80.txt")" "port +nic_syn +tc_syn +stack_drops +listener_syn" \
		"80x24: the header starts with the funnel, left to right"
	t_is "$(figure "$LAB_DIR/80.txt" 8302 nic_syn),$(figure "$LAB_DIR/80.txt" 8302 tc_syn),$(figure "$LAB_DIR/80.txt" 8302 listener_syn)" \
		"$SENT,$SENT,$SENT" "80x24: nic_syn, tc_syn, listener_syn in the row == SYNs sent"
	t_is "$(figure "$LAB_DIR/80.txt" 8302 established),$(figure "$LAB_DIR/80.txt" 8302 accepted)" \
		"$SENT,$SENT" "80x24: established and accepted, folded under the row == SYNs sent"
	t_ok $(grep -q '^ *port .*established' "$LAB_DIR/80.txt"; echo $((! $?))) \
		"80x24: established does not fit the row, so it is folded"
	# The summary at 80 columns: folded like the live table, not wrapped.
	tm send-keys -t sa C-c
	wait_for 'synacct summary' || { echo "# no summary:"; pane | t_diag; }
	sleep 0.3
	tm capture-pane -p -J -S - -t sa | sed -n '/synacct summary/,$p' >"$LAB_DIR/80-summary.txt"
	t_ok $(( $(widest "$LAB_DIR/80-summary.txt") <= 80 ? 0 : 1 )) \
		"80x24: the summary does not wrap either (widest $(widest "$LAB_DIR/80-summary.txt"))"
	t_is "$(figure "$LAB_DIR/80-summary.txt" 8302 tc_syn),$(figure "$LAB_DIR/80-summary.txt" 8302 established)" \
		"$SENT,$SENT" "80x24: the summary's tc_syn, and established folded under its row == SYNs sent"
	tm_kill
}

# More ports than a 80x24 terminal holds: the table keeps to its height,
# leaving out the ports with the fewest SYNs and saying so.  tmux pads a
# capture of the pane to its 24 lines, so rows are not counted there: a
# table taller than the pane scrolls its title off the top, and in the
# history the rows from the last title to the last one written must be
# at most 24.
sc_height() {
	local p i rows
	for p in 8311 8312 8313 8314 8315 8316 8317 8318; do
		lab_server $p --accept all
	done
	run_table 80 24
	for p in 8311 8312 8313 8314 8315 8316 8317 8318; do
		lab_client --to $SRV_IP4 --port $p --count 1 >/dev/null
	done
	# A redraw after the last client: every port has its SYN.
	for ((i = 0; i < 50; i++)); do
		sleep 0.1
		pane >"$LAB_DIR/height.txt"
		grep -q 'more ports left out' "$LAB_DIR/height.txt" && break
	done
	t_like "$(head -n 1 "$LAB_DIR/height.txt")" "^synacct live" "80x24, 8 ports: the title is the pane's first line (nothing scrolled off)"
	t_like "$(cat "$LAB_DIR/height.txt")" "\(\+[1-7] more ports left out" \
		"80x24, 8 ports: the ports that do not fit are left out, and it says so"
	# The last redraw's rows, from its title on, in the pane's history
	# too (no -J: a wrapped line counts as the rows it takes).
	rows=$(tm capture-pane -p -S - -t sa | awk '/^synacct live/ { start = NR } NF { last = NR }
		END { print start ? last - start + 1 : 0 }')
	t_ok $(( rows > 0 && rows <= 24 ? 0 : 1 )) "80x24: the table keeps to the terminal's height ($rows rows)"
	tm_kill
}

# Resize: the table is redrawn for the new size without waiting.
sc_resize() {
	local i
	servers
	run_table 80 24
	healthy_clients
	sleep 0.8
	tm resize-window -t sa -x 200 -y 50
	# Redrawn at once, but a slow machine (QEMU TCG) may be caught between
	# the new header and the rows under it: wait for the port's row.
	for ((i = 0; i < 50; i++)); do
		sleep 0.1
		pane >"$LAB_DIR/200.txt"
		grep -q '^ *port .*syn_retries$' "$LAB_DIR/200.txt" &&
			[ -n "$(figure "$LAB_DIR/200.txt" 8302 accepted 2>/dev/null)" ] && break
	done
	t_ok $(( $(widest "$LAB_DIR/200.txt") <= 200 ? 0 : 1 )) "200x50 after SIGWINCH: no line wraps"
	t_like "$(grep -m1 '^ *port ' "$LAB_DIR/200.txt")" "established +accepted +syn_queue_len +accept_queue_len +accept_backlog +syn_retries$" \
		"200x50: every column fits the row"
	t_is "$(figure "$LAB_DIR/200.txt" 8302 established),$(figure "$LAB_DIR/200.txt" 8302 accepted)" \
		"$SENT,$SENT" "200x50: established and accepted in their columns == SYNs sent"
	tm_kill
}

# The overflowing port: its verdict, in red on a terminal; Ctrl-C.
sc_loss_verdict() {
	local i
	servers
	run_table 200 50
	overflow_clients
	# One capture for both checks, once a redraw shows the verdict.
	for ((i = 0; i < 50; i++)); do
		sleep 0.1
		tm capture-pane -p -e -J -t sa >"$LAB_DIR/verdict.txt"
		grep -q 'accept queue full' "$LAB_DIR/verdict.txt" && break
	done
	t_like "$(sed 's/\x1b\[[0-9;]*m//g' "$LAB_DIR/verdict.txt")" "=> accept queue full \(backlog 2\)" \
		"the verdict under the overflowing port"
	t_like "$(cat "$LAB_DIR/verdict.txt")" $'\e\\[31m(=> )?accept queue full' "a loss verdict is red on a terminal"
	tm send-keys -t sa C-c
	sleep 0.5
	t_like "$(pane)" "^synacct summary|synacct summary" "Ctrl-C: the summary follows"
	t_ok $(( $(tm capture-pane -p -J -S - -t sa | widest /dev/stdin) <= 200 ? 0 : 1 )) "the summary does not wrap either"
	tm_kill
}

# NO_COLOR: the same loss verdict, without colour.
sc_no_color() {
	local i
	servers
	run_table 80 24 NO_COLOR=1
	overflow_clients
	# One capture for both checks, once it shows the verdict: without
	# the verdict, "no colour" would hold of an empty table.
	for ((i = 0; i < 50; i++)); do
		sleep 0.1
		tm capture-pane -p -e -J -t sa >"$LAB_DIR/nocolor.txt"
		grep -q 'accept queue full' "$LAB_DIR/nocolor.txt" && break
	done
	t_like "$(cat "$LAB_DIR/nocolor.txt")" "=> accept queue full \(backlog 2\)" "NO_COLOR: the loss verdict is shown"
	t_is "$(grep -c $'\e\\[[0-9;]*m' "$LAB_DIR/nocolor.txt")" 0 "NO_COLOR: no colour (no SGR sequence at all)"
	tm send-keys -t sa C-c
	sleep 0.3
	tm_kill
}

# plain: on a terminal (script(1)'s pty) the table is redrawn in place
# (ESC [H ESC [2J) and the loss verdict is red; with TERM=dumb on the same
# pty, and into a file, the same verdict comes with no escape at all.
sc_plain() {
	local mode i pid t0 t1 t2 t3 age
	command -v script >/dev/null ||
		{ t_skip "TERM=dumb and a file: no escape sequence" "tool: script is not installed (util-linux)"; return; }
	servers
	for mode in xterm dumb file; do
		if [ $mode = file ]; then
			t2=$EPOCHREALTIME	# before any reading of this run
			"$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --interval 0.3 --duration 4 \
				>"$LAB_DIR/$mode.txt" 2>"$LAB_DIR/$mode.err" </dev/null &
		else
			TERM=$mode script -qfec "$SYNACCT --netns $SRV --iface $SRV_IF --interval 0.3 --duration 4" \
				"$LAB_DIR/$mode.txt" >/dev/null 2>"$LAB_DIR/$mode.err" </dev/null &
		fi
		pid=$!
		for ((i = 0; i < 50; i++)); do
			grep -q 'synacct live' "$LAB_DIR/$mode.txt" 2>/dev/null && break
			sleep 0.1
		done
		[ "$t0" ] || t0=$EPOCHREALTIME	# before the queue's head connected
		overflow_clients
		[ "$t1" ] || t1=$EPOCHREALTIME	# after: the head is the first run's
		wait $pid
	done
	t3=$EPOCHREALTIME
	# Nobody accepts on 8301: the queue's head waited since the first
	# run; the file run's last line of it, to 0.1 s, lies between the
	# file run's start and its end, counted from the head's connect.
	age=$(sed -n 's/.*accept queue head waited \([0-9.]*\) s.*/\1/p' "$LAB_DIR/file.txt" | tail -1)
	! kernel_hz_known &&
		t_skip "stdout a file: \"accept queue head waited N s\"" "$KERNEL_HZ_UNKNOWN" ||
	t_is "$(awk -v a="$age" -v t0="$t0" -v t1="$t1" -v t2="$t2" -v t3="$t3" 'BEGIN {
		lo = t2 - t1; hi = t3 - t0
		printf "# accept queue head waited %s s, bounds [%.3f, %.3f]\n", a, lo, hi > "/dev/stderr"
		print (a != "" && a >= lo - 0.05 && a <= hi + 0.05) ? "ok" : "\"" a "\" not in [" lo ", " hi "]" }')" ok \
		"stdout a file: \"accept queue head waited N s\" for the port nobody accepts on, N since its first connection"
	t_like "$(cat "$LAB_DIR/xterm.txt")" $'\e\\[H\e\\[2J.*\e\\[31m(=> )?accept queue full' \
		"TERM=xterm on a pty: redrawn in place, the loss verdict in red"
	t_is "$(grep -c $'\e' "$LAB_DIR/dumb.txt"),$(grep -c '=> accept queue full' "$LAB_DIR/dumb.txt" | sed 's/^[1-9][0-9]*$/some/')" \
		"0,some" "TERM=dumb on a pty: the verdict, and no escape sequence (no redraw, no colour)"
	t_is "$(grep -c $'\e' "$LAB_DIR/file.txt"),$(grep -c '=> accept queue full' "$LAB_DIR/file.txt" | sed 's/^[1-9][0-9]*$/some/')" \
		"0,some" "stdout a file: the verdict, and no escape sequence"
}

lab_main "$@"
