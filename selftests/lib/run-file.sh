#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-file.sh FILE - run one test file for `make test` (prove --exec, see
# selftests/run.sh), passing its TAP through, and fail it for what a test
# file must not do:
#
#   - hang: after SA_TEST_TIMEOUT seconds (default 900) the file's whole
#     process group is stopped (TERM, so its traps tear the lab down, then
#     KILL) and the run ends with
#       Bail out! FILE hung: timed out after N s (scenario NAME)
#     NAME being the last "# scenario NAME" line it printed (lab_main);
#   - leave something behind, looked at after every file against what was
#     there before it: a network namespace of its own (lab.sh names them
#     sa-PID-..., PID the file's shell), a process it started (its process
#     group, or any process with its SA_RUN_TAG in its environment), a pin
#     under /sys/fs/bpf/synacct, a mount (a private bpffs), a lock file
#     under /run/synacct of a namespace that is gone, a host sysctl
#     (net.*, kernel.bpf*) changed, an XDP program or TC filter on an
#     interface of the host's namespace, or one of synacct's BPF programs
#     (or the lab's other_tool_xdp) still loaded and held by no running
#     process.  Each is a "not ok" line added to the file's TAP; what can
#     be put back safely is (processes stopped, namespaces deleted,
#     sysctls restored), so the next file starts clean;
#   - skip whole (1..0 # SKIP) where selftests/expected-skips does not
#     expect it on the running kernel: a "not ok" line instead.
#
# With SA_RUN_DIR set (selftests/run.sh), each file's TAP is kept there as
# NAME.tap for the skip summary (selftests/lib/skip-summary.sh).
# Run alone: selftests/lib/run-file.sh selftests/t/30-funnel.t [SCENARIO...]

set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH

[ $# -ge 1 ] || { echo "usage: $0 FILE [ARG...]" >&2; exit 2; }
file=$1; shift
name=$(basename "$file")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The lock and saved-values file lab_host_sysctl uses (nothing else of
# lab.sh runs here).
. "$here/lab.sh"
timeout=${SA_TEST_TIMEOUT:-900}
expected=${SA_EXPECTED_SKIPS:-$here/../expected-skips}
kernel=$(uname -r)
tag=synacct-run-$$-$RANDOM$RANDOM
st=$(mktemp -d /tmp/synacct-run.XXXXXX) || exit 1
trap 'rm -rf "$st"' EXIT

# ---- what the host holds ----

# snapshot DIR: the state a test file must leave as it found it.
snapshot() {
	local d=$1 f ifc
	mkdir -p "$d"
	for f in /run/netns/*; do
		[ -e "$f" ] && printf '%q\n' "${f#/run/netns/}"
	done | sort >"$d/netns"
	find /sys/fs/bpf/synacct -mindepth 1 2>/dev/null | sort >"$d/pins"
	# "mount point, type" after the optional fields' " - "; the
	# namespaces' own nsfs mounts are looked at above.
	awk '{ for (i = 7; $i != "-"; i++); if ($(i + 1) != "nsfs") print $5, $(i + 1) }' \
		/proc/self/mountinfo | sort >"$d/mounts"
	ls -1 /run/synacct 2>/dev/null | sort >"$d/locks"
	# Taken under lab_host_sysctl's lock: not in the middle of another
	# run's change.
	mkdir -p "$LAB_HOST_DIR"
	flock -w "$LAB_HOST_LOCK_WAIT" "$LAB_HOST_LOCK" sysctl -a 2>/dev/null |
		grep -E '^(net\.|kernel\.(bpf|unprivileged_bpf))' |
		grep -vE '^net\.netfilter\.nf_conntrack_count ' | sort >"$d/sysctl"
	{
		ip -d -j link show | jq -r '.[] | select(.xdp) | "\(.ifname) xdp \(.xdp | tojson)"'
		for ifc in $(ip -j link show | jq -r '.[].ifname'); do
			for dir in ingress egress; do
				tc -j filter show dev "$ifc" $dir 2>/dev/null |
					jq -r --arg i "$ifc" --arg d "$dir" '.[]? | "\($i) tc \($d) \(tojson)"'
			done
		done
	} | sort >"$d/hooks"
	snapshot_progs "$d"
}

# snapshot_progs DIR: synacct's programs (and the lab's other_tool_xdp)
# by id and name, each with whether a process holds it (a program or link
# descriptor: prog_id in its fdinfo).  One held is a running synacct's,
# maybe another run's; one held by none is pinned or attached.
snapshot_progs() {
	bpftool -j prog show 2>/dev/null | jq -r --arg held " $(grep -hs '^prog_id:' /proc/[0-9]*/fdinfo/* |
		awk '{ print $2 }' | sort -un | tr '\n' ' ')" '.[] | select(.name // "" | test("^(synacct_|other_tool_xdp)")) |
		.id as $id | "\($id) \(.name) \(if ($held | contains(" \($id) ")) then "held" else "" end)"' | sort >"$1/progs"
}

# new KIND: lines of after/KIND that before/KIND does not have.
new() {
	comm -13 "$st/before/$1" "$st/after/$1"
}

# tagged: PIDs of the file's processes still running: its process group,
# and whatever carries its tag (a daemon that left the group: tmux).
tagged() {
	{
		pgrep -g "$pid" 2>/dev/null
		grep -lsz "^SA_RUN_TAG=$tag\$" /proc/[0-9]*/environ | cut -d/ -f3
	} | grep -vx "$$" | sort -un
}

# ---- running the file ----

snapshot "$st/before"
mkfifo "$st/out" || exit 1
set -m	# the file in a process group of its own, so all of it can be stopped
SA_RUN_TAG=$tag bash "$file" "$@" >"$st/out" &
pid=$!
set +m
exec {fd}<"$st/out"

tap=$st/tap
scenario= plan= tests=0 buf= hung= last=0
deadline=$((SECONDS + timeout))

emit() {	# a line of the file's TAP: through, the trailing plan held back
	local line=$1
	printf '%s\n' "$line" >>"$tap"
	# Commentary may follow the plan; anything else after it is the
	# file's (a TAP error prove reports).
	if [ -n "$plan" ] && [[ $line != \#* && -n $line ]]; then
		printf '%s\n' "$plan"
		plan=
	fi
	case $line in
	"# scenario "*)
		scenario=${line#"# scenario "} ;;
	ok\ [0-9]* | not\ ok\ [0-9]*)
		tests=$((tests + 1))
		read -r a b c _ <<<"$line"
		if [ "$a" = not ]; then last=$c; else last=$b; fi ;;
	1..0*)
		plan=$line; return ;;
	1..[0-9]*)
		if [ "$tests" -gt 0 ]; then plan=$line; return; fi ;;
	esac
	printf '%s\n' "$line"
}

exited() {	# the file's shell has exited (a zombie until waited for)
	local s
	read -r _ _ s _ 2>/dev/null <"/proc/$pid/stat" || return 0
	[ "$s" = Z ]
}

while :; do
	IFS= read -r -t 1 -u "$fd" line
	r=$?
	if [ $r -eq 0 ]; then
		emit "$buf$line"
		buf=
		[ $SECONDS -lt $deadline ] || { hung=1; break; }
		continue
	fi
	if [ $r -le 128 ]; then	# end of file
		[ -z "$buf$line" ] || emit "$buf$line"
		break
	fi
	buf+=$line
	[ $SECONDS -lt $deadline ] || { hung=1; break; }
	# A process the file left running may hold the pipe open: the
	# file's end is its shell's exit.
	if exited; then
		while IFS= read -r -t 0.5 -u "$fd" line; do emit "$buf$line"; buf=; done
		[ -z "$buf$line" ] || emit "$buf$line"
		break
	fi
done

if [ -n "$hung" ]; then
	echo "# $name: timed out after $timeout s${scenario:+ in scenario $scenario}: stopping its process group $pid"
	kill -TERM -- -"$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do exited && break; sleep 0.1; done
	# What its traps printed while tearing down, as commentary.
	while IFS= read -r -t 0.2 -u "$fd" line; do printf '# %s\n' "$line"; done
	kill -KILL -- -"$pid" 2>/dev/null
fi
exec {fd}<&-
wait "$pid" 2>/dev/null
rc=$?

# ---- what it left ----

left=()	# one "what: detail" per leftover
# A subshell still on its way out is not left behind: 2 s to go.
for ((i = 0; i < 20; i++)); do [ -z "$(tagged)" ] && break; sleep 0.1; done
procs=$(tagged | paste -sd,)
if [ -n "$procs" ]; then
	left+=("processes still running: $(ps -o pid=,comm= -p "$procs" 2>/dev/null |
		awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }')")
	kill -TERM ${procs//,/ } 2>/dev/null
	for ((i = 0; i < 20; i++)); do [ -z "$(tagged)" ] && break; sleep 0.1; done
	procs=$(tagged)
	[ -z "$procs" ] || kill -KILL $procs 2>/dev/null
fi
# Values lab_host_sysctl saved and the file did not put back (it was
# killed): put back under the lock.
if [ -s "$LAB_HOST_SAVED" ]; then
	exec {lk}>>"$LAB_HOST_LOCK"
	if flock -w "$LAB_HOST_LOCK_WAIT" "$lk"; then
		while read -r p key val; do
			[ "$p" = "$pid" ] && left+=("host sysctl $key not put back to $val (put back now)")
		done <"$LAB_HOST_SAVED"
		lab_host_saved_restore 2>/dev/null
	fi
	exec {lk}>&-
fi
# A program is freed once its last holder is gone, which may take a
# moment after the holder's exit; and one another run on this machine
# pinned for a scenario (75-pin.t) is gone when that scenario ends: up to
# 10 s for those to go.
mkdir -p "$st/after"
for ((i = 0; i < 50; i++)); do
	snapshot_progs "$st/after"
	[ -z "$(awk 'FILENAME == ARGV[1] { had[$1] = 1; next } !($1 in had) && $3 == ""' "$st/before/progs" "$st/after/progs")" ] && break
	sleep 0.2
done
snapshot "$st/after"

while read -r q; do
	eval "ns=$q"
	# The file's own, by its PID; others are another run's.
	case $ns in
	sa-"$pid"-* | *-"$pid" | *-"$pid"-*)
		left+=("network namespace $q (deleted now)")
		ip netns del "$ns" 2>/dev/null ;;
	esac
done < <(new netns)
while read -r l; do left+=("bpffs pin $l"); done < <(new pins)
while read -r l; do left+=("mount $l"); done < <(new mounts)
# A lock file a running synacct holds (flock: /proc/locks, by inode) is
# that synacct's, maybe another run's; one nobody holds was left by a
# synacct that did not exit cleanly.
held=" $(awk '$2 == "FLOCK" { n = split($6, a, ":"); print a[n] }' /proc/locks | tr '\n' ' ') "
while read -r l; do
	ino=$(stat -c %i "/run/synacct/$l" 2>/dev/null) || continue
	[[ $held == *" $ino "* ]] || left+=("lock file /run/synacct/$l, held by no process")
done < <(new locks)
while read -r key eq val; do
	old=$(awk -v k="$key" '$1 == k { $1 = $2 = ""; sub(/^  /, ""); print }' "$st/before/sysctl")
	left+=("host sysctl $key = $val, was $old (put back now)")
	sysctl -qw "$key=$old" >/dev/null 2>&1
done < <(comm -13 "$st/before/sysctl" "$st/after/sysctl" |
	awk -v f="$st/before/sysctl" 'BEGIN { while ((getline l < f) > 0) { split(l, a, " "); b[a[1]] = 1 } }
		$1 in b')
while read -r l; do left+=("on a host interface: $l"); done < <(new hooks)
# others_progs: programs another run's live namespace explains: pinned
# under /sys/fs/bpf/synacct/<its inode>/, or attached to one of its
# interfaces (XDP, TC).  Those of a namespace named with the file's PID
# are the file's own (and the namespace is left behind already).
others_progs() {
	local f ns ino inos=" " ifc
	for f in /run/netns/*; do
		[ -e "$f" ] || continue
		ns=${f#/run/netns/}
		case $ns in sa-"$pid"-* | *-"$pid" | *-"$pid"-*) continue ;; esac
		ino=$(stat -L -c %i "$f" 2>/dev/null) && inos+="$ino "
		ip -n "$ns" -d -j link show 2>/dev/null | jq -r '.[] | .xdp? | .. | .id? // empty'
		for ifc in $(ip -n "$ns" -j link show 2>/dev/null | jq -r '.[].ifname'); do
			for dir in ingress egress; do
				tc -n "$ns" -j filter show dev "$ifc" $dir 2>/dev/null | jq -r '.[]? | .options.prog.id? // empty'
			done
		done
	done
	bpftool -j -f prog show 2>/dev/null | jq -r --arg inos "$inos" '.[] | .id as $id |
		(.pinned // [])[] | select(test("^/sys/fs/bpf/synacct/[0-9]+/")) |
		split("/")[5] as $ino | select($inos | contains(" \($ino) ")) | $id'
}
others=
[ -z "$(awk 'FILENAME == ARGV[1] { had[$1] = 1; next } !($1 in had) && $3 == ""' "$st/before/progs" "$st/after/progs")" ] ||
	others=" $(others_progs | sort -un | tr '\n' ' ') "
while read -r id pname holders; do
	[[ $others == *" $id "* ]] && continue
	[ -z "$holders" ] && left+=("BPF program $id $pname still loaded, held by no process (pinned or attached; another test run on this machine may have loaded it)")
done < <(awk 'FILENAME == ARGV[1] { had[$1] = 1; next } !($1 in had)' "$st/before/progs" "$st/after/progs")

# ---- its TAP, completed ----

# A plan held back (it came last, or the file skipped whole) is printed
# after the lines added here, counting them.
n=$last
if [[ $plan == 1..0* ]] && [ -z "$hung" ]; then
	why=${plan#1..0}; why=${why#*SKIP}; why=${why# }
	ok=
	if [ -r "$expected" ]; then
		while read -r glob f _; do
			[[ -z $glob || $glob == \#* ]] && continue
			# shellcheck disable=SC2053
			[[ $kernel == $glob && $f == "$name" ]] && ok=1
		done <"$expected"
	fi
	if [ -z "$ok" ]; then
		n=$((n + 1))
		echo "not ok $n - $name skipped whole on $kernel, which $(basename "$expected") does not expect: $why"
		echo "# a file may skip whole only where selftests/expected-skips lists it (KERNEL-GLOB FILE)"
	fi
fi
for l in "${left[@]}"; do
	n=$((n + 1))
	if [ -n "$hung" ]; then
		echo "# $name left behind: $l"
	else
		echo "not ok $n - $name left behind: $l"
	fi
done
[ -n "${SA_RUN_DIR:-}" ] && cp "$tap" "$SA_RUN_DIR/$name.tap" 2>/dev/null
if [ -n "$hung" ]; then
	echo "Bail out! $name hung: timed out after $timeout s${scenario:+ (scenario $scenario)}"
	exit 1
fi
if [ -n "$plan" ]; then
	if [ "$n" -eq "$last" ]; then
		echo "$plan"
	else
		[[ $plan != 1..0* ]] || echo "# $plan"
		echo "1..$n"
	fi
fi
# Without a plan held back, the lines added make the file's own plan
# wrong, which fails it too.
[ "$n" -eq "$last" ] || exit 1
exit "$rc"
