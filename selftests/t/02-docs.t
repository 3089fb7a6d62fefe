#!/bin/bash
# The docs say what the code does: docs/design.md's table of quantities is
# the one `synacct counters` generates from the counter table, and
# docs/verdicts.md's the one `synacct verdicts` generates from the verdict
# table; every option is in the man page and the bash completion.  Needs
# no root.
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

# docs/verdicts.md's table is the one `synacct verdicts` generates from
# SA_VERDICTS, and it has a row per verdict with a fix.
doc=$(sed -n '/<!-- synacct verdicts: begin -->/,/<!-- synacct verdicts: end -->/p' \
	"$SA_ROOT/docs/verdicts.md" | sed '1d;$d')
gen=$("$SYNACCT" verdicts)
diff <(echo "$doc") <(echo "$gen") | sed 's/^/# /'
[ -n "$gen" ] && [ "$doc" == "$gen" ]
ok $? "docs/verdicts.md's table == synacct verdicts"
ids=$(sed -n 's/^	X(\([a-z_]*\),.*/\1/p' "$SA_ROOT/agent/analysis/reconcile.h")
rows=$(awk -F' [|] ' 'NR > 2 && $6 != "" && $6 != " |" { gsub(/[` |]/, "", $1); print $1 }' <<<"$gen")
[ -n "$ids" ] && [ "$ids" == "$rows" ]
ok $? "synacct verdicts: one row with a fix per verdict of SA_VERDICTS ($(wc -w <<<"$ids"))"

# Each command's options, from its --help (the option lines only).
opts_of() {	# opts_of [COMMAND]
	"$SYNACCT" $1 --help | grep -oE '^ +(-[^ -], )?--[a-z-]+' | grep -oE -- '--[a-z-]+' | sort
}
for cmd in "" check counters detach verdicts; do
	help=$("$SYNACCT" $cmd --help 2>&1); rc=$?
	[ $rc -eq 0 ] && [[ $help == "Usage: synacct${cmd:+ $cmd} "* ]]
	ok $? "synacct${cmd:+ $cmd} --help: usage on stdout, exit 0"
done
# The man page documents every option of every command.
man=$(sed 's/\\-/-/g; s/\\f[BIRP]//g' "$SA_ROOT/docs/synacct.8")
missing=
for cmd in "" check detach; do
	for o in $(opts_of "$cmd"); do
		case $o in --help|--usage|--version) continue ;; esac
		grep -qE -- "(^|[^a-z-])$o([^a-z-]|$)" <<<"$man" || missing="$missing ${cmd:-synacct}:$o"
	done
done
[ -z "$missing" ]
ok $? "docs/synacct.8 documents every option of synacct, check and detach${missing:+ (missing:$missing)}"
for cmd in check counters detach verdicts "--pin"; do
	sed -n '/^\.SH SYNOPSIS/,/^\.SH /p' "$SA_ROOT/docs/synacct.8" | sed 's/\\-/-/g; s/\\f[BIRP]//g' |
		grep -qE -- "(^|[^a-z-])$cmd([^a-z-]|$)"
	ok $? "docs/synacct.8's SYNOPSIS names $cmd"
done
# The bash completion offers exactly each command's options.
for cmd in "" check counters detach verdicts; do
	comp=$(bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _synacct
		printf "%s\n" "${COMPREPLY[@]}"' - "$SA_ROOT/configs/synacct.bash-completion" \
		synacct $cmd -- | sort)
	[ -n "$comp" ] && [ "$comp" == "$(opts_of "$cmd")" ]
	ok $? "bash completion of 'synacct${cmd:+ $cmd} --': the options of its --help"
done
comp=$(bash -c '. "$1"; COMP_WORDS=(synacct ""); COMP_CWORD=1; _synacct
	printf "%s\n" "${COMPREPLY[@]}"' - "$SA_ROOT/configs/synacct.bash-completion" | paste -sd' ')
subs=$("$SYNACCT" --help | sed -n '/^ *-.*--/q; s/^  synacct \([a-z]*\).*/\1/p' | paste -sd' ')
[ -n "$subs" ] && [ "$comp" == "$subs" ]
ok $? "bash completion of 'synacct ': the subcommands of --help ($subs)"
echo "1..$n"
[ "$failed" -eq 0 ]
