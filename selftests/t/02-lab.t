#!/bin/bash
# The lab's own helpers, on fixed input (no root needed): table_cell finds
# a port's figure by its name in either layout of synacct's table (real
# output, selftests/fixtures/): as a column under its header, or folded
# under the row as a "name value" pair when the terminal is narrow; and
# it fails rather than guess.
. "$(dirname "$0")/../lib/lab.sh"
FIX=$SA_ROOT/selftests/fixtures

cells() {	# cells FILE PORT NAME...: the figures, space separated
	local f=$1 p=$2 c; shift 2
	for c in "$@"; do table_cell "$f" "$p" "$c" || echo "($c?)"; done | paste -sd' '
}
ALL="nic_syn tc_syn stack_drops listener_syn syn_queued syncookies_sent listen_drops
     established accepted syn_queue_len accept_queue_len accept_backlog synack_sent synack_retrans"

# No width limit (not a terminal): every column in the row.
t=$FIX/table-columns.txt
t_is "$(cells $t 8095 $ALL)" "12 12 0 12 12 0 0 12 12 0 0 128 12 0" \
	"columns: port 8095, every figure, from the summary (not the live table above it)"
t_is "$(cells $t 8101 $ALL)" "10 10 0 10 5 0 5 5 0 0 5 4 5 0" "columns: port 8101, every figure"
t_is "$(cells $t 8102 $ALL NO_SOCKET)" "3 3 3 0 0 0 0 0 0 0 0 0 0 0 3" \
	"columns: port 8102, every figure and its drop reason"
t_is "$(cells $t 8103 nic_syn)" "(nic_syn?)" "columns: a port without a row fails"
t_is "$(cells $t 8095 no_such_figure)" "(no_such_figure?)" "columns: an unknown name fails"
t_is "$(cells $t 8102 TcpPassiveOpens)" "(TcpPassiveOpens?)" "columns: the text after the table is no port's"

# 80 columns (tmux): the funnel in the row, the rest folded under it.
t=$FIX/table-folded.txt
t_is "$(cells $t 8095 $ALL)" "12 12 0 12 12 0 0 12 12 0 0 128 12 0" "folded: port 8095, every figure"
t_is "$(cells $t 8101 $ALL)" "10 10 0 10 5 0 5 5 0 0 5 4 5 0" "folded: port 8101, every figure"
t_is "$(cells $t 8102 $ALL NO_SOCKET)" "3 3 3 0 0 0 0 0 0 0 0 0 0 0 3" \
	"folded: port 8102, every figure and its drop reason"
t_is "$(cells $t 8101 enough\;)" "(enough;?)" "folded: the verdict's words, over two lines, are not figures"
t_is "$(cells $t 8102 TcpPassiveOpens)" "(TcpPassiveOpens?)" "folded: the text after the table is no port's"

t=$FIX/table-bad.txt
t_is "$(cells $t 8102 nic_syn 2>/dev/null)" "(nic_syn?)" "a row that does not match its header fails"
t_like "$(table_cell $t 8102 nic_syn 2>&1)" "port 8102: 3 cells under 7 headers" "... and says why"
t_is "$(cells $t 8102 established)" "7" "a folded figure of that row is still found"
t_is "$(cells $t 8102 accepted)" "(accepted?)" "the verdict's 'accepted 99' is not a figure"

t_is "$(table_ports $FIX/table-columns.txt | paste -sd' ')" "8095 8101 8102" "table_ports: the summary's ports"
t_is "$(table_ports $FIX/table-folded.txt | paste -sd' ')" "8095 8101 8102" "table_ports: folded layout"

t_done
