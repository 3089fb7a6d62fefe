#!/bin/bash
# The lab's own helpers, on fixed input (no root needed): table_cell finds
# a port's figure by its name in either layout of the table, as a column
# under its header or folded under the row as a "name value" pair, and
# fails rather than guess.
. "$(dirname "$0")/../lib/lab.sh"
FIX=$SA_ROOT/selftests/fixtures

cells() {	# cells FILE PORT NAME...: the figures, space separated
	local f=$1 p=$2 c; shift 2
	for c in "$@"; do table_cell "$f" "$p" "$c" || echo "($c?)"; done | paste -sd' '
}

t=$FIX/table-columns.txt
t_is "$(cells $t 8095 nic_syn tc_syn listener_syn syn_queued established accepted)" "12 12 12 12 12 12" \
	"columns: the summary's row, not the live table's, by column name"
t_is "$(cells $t 8101 stack_drops syncookies_sent listen_drops syn_queue_len accept_queue_len)" "0 0 25 0 5/4" \
	"columns: the older headers answer to their JSON keys"
t_is "$(cells $t 8101 synack_sent)" "5" "columns: synack_sent, folded under the row"
t_is "$(cells $t 8101 TcpPassiveOpens)" "(TcpPassiveOpens?)" "columns: text after the table is not the port's"
t_is "$(cells $t 8102 nic_syn)" "(nic_syn?)" "columns: a port without a row fails"
t_is "$(cells $t 8095 no_such_figure)" "(no_such_figure?)" "columns: an unknown name fails"

t=$FIX/table-folded.txt
t_is "$(cells $t 8095 nic_syn tc_syn stack_drops listener_syn syn_queued)" "12 12 0 12 12" \
	"folded: the columns that fit"
t_is "$(cells $t 8101 syncookies_sent listen_drops established accepted syn_queue_len accept_queue_len synack_sent)" \
	"0 25 5 0 0 5/4 5" "folded: the figures under the row, from the port's own block"
t_is "$(cells $t 8095 syncookies_recv)" "(syncookies_recv?)" "folded: the verdict's words are not figures"
t_is "$(cells $t 8102 nic_syn 2>/dev/null)" "(nic_syn?)" "folded: a row that does not match its header fails"
t_like "$(table_cell $t 8102 nic_syn 2>&1)" "port 8102: 3 cells under 6 headers" "folded: and says why"
t_is "$(table_ports $t | paste -sd' ')" "8095 8101 8102" "table_ports: the ports with a row"
t_is "$(table_ports $FIX/table-columns.txt | paste -sd' ')" "8095 8101" "table_ports: of the last table"

t_done
