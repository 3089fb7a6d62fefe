#!/bin/bash
# The docs say what the code does: docs/design.md's table of quantities is
# the one `synacct counters` generates from the counter table.  Needs no
# root.
SA_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SYNACCT=${SYNACCT:-$SA_ROOT/synacct}
[ -x "$SYNACCT" ] || { echo "Bail out! $SYNACCT not built"; exit 1; }

n=0 failed=0
ok() {	# ok STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}

doc=$(sed -n '/<!-- synacct counters: begin -->/,/<!-- synacct counters: end -->/p' \
	"$SA_ROOT/docs/design.md" | sed '1d;$d')
gen=$("$SYNACCT" counters)
diff <(echo "$doc") <(echo "$gen") | sed 's/^/# /'
[ "$doc" == "$gen" ]
ok $? "docs/design.md's quantities table == synacct counters"
[ "$(echo "$gen" | wc -l)" -gt 30 ]
ok $? "synacct counters lists every quantity ($(echo "$gen" | wc -l) lines)"
# Every JSON key of a port record is in the table (grouped keys by group).
for key in nic_syn tc_syn synack_sent listener_syn syn_queued syncookies_sent \
	listen_drops.accept_queue_full listen_drops.syn_queue_full listen_drops.other \
	syn_to_request_sock synack_retrans established ack_dropped_accept_full \
	syncookies_recv syncookies_failed syncookies_no_ts accepted listeners \
	syn_queue_len accept_queue_len accept_backlog listener_sk_drops \
	unexplained.nic_to_tc unexplained.tc_to_listener unexplained.at_listener \
	unexplained.synack_sent synack_retrans_failed forwarded synack_forwarded syn_beyond_parser \
	unexplained.to_container unexplained.at_container_listener container.listener_syn \
	container.syn_queued container.syncookies_sent container.accept_queue_full \
	container.syn_queue_full container.listen_drop_other container.syn_to_request_sock \
	container.stack_drops container.established container.ack_dropped_accept_full \
	container.syncookies_recv container.accepted; do
	grep -qF "| \`$key\` |" <<<"$gen"
	ok $? "quantity $key has a row"
done
# The gaps docs/metrics.md names on synacct_unexplained's row are the gap
# table's, in its order.
gaps=$(sed -n 's/^| `unexplained\.\([a-z_]*\)` |.*/\1/p' <<<"$gen" | paste -sd' ')
doc_gaps=$(grep '^| `synacct_unexplained` |' "$SA_ROOT/docs/metrics.md" | sed 's/([^)]*)//g' |
	grep -o '`[a-z_]*`' | tr -d '`' | sed 1d | paste -sd' ')
[ -n "$gaps" ] && [ "$doc_gaps" == "$gaps" ]
ok $? "docs/metrics.md's synacct_unexplained gaps == the gap table's ($gaps)"
"$SYNACCT" counters --bogus >/dev/null 2>&1
ok $(( $? == 2 ? 0 : 1 )) "synacct counters with a bad argument exits 2"
echo "1..$n"
[ "$failed" -eq 0 ]
