#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - make mutants: every check can fail, and is shown to.
#
#   selftests/mutants/run.sh [ID...]     (root; make mutants MUTANTS="ID...")
#
# Each mutant of selftests/mutants/mutants.txt is one small, named change
# to synacct's source.  The tree as the caller has it (tracked files and
# untracked ones git does not ignore; never the caller's build) is copied
# into a temporary directory and built there once; each mutant gets a
# copy of that build, its change, and a make that rebuilds only what the
# change reaches (the BPF objects only when a .bpf.c or .h changes).  A
# mutant whose text is not found exactly once, or that leaves every built
# file as it was, is an error, never a kill.  Then the mutant's guards run,
# in order, until one fails: killed.  A guard that passes the mutant lets
# it survive; a guard that runs out of time (MUTANT_TIMEOUT, 300 s) or a
# build that fails is an error.  The guards are first run on the unmutated
# copy (MUTANTS_BASELINE=0 to leave that out): a guard that fails there
# kills nothing.  The caller's tree is never written to.
#
# Environment: MUTANT_TIMEOUT (s, per guard), MUTANTS_BASELINE=0,
# MUTANT_JOBS (make -j, 2), MUTANTS_LIST (another list file).
#
# Output: a TAP-like log, then a table: mutant -> killed by (file and
# scenario, first failing check).  Exit 0 only when every mutant was
# killed and every baseline guard passed.

set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
list=${MUTANTS_LIST:-$root/selftests/mutants/mutants.txt}
timeout=${MUTANT_TIMEOUT:-300}
jobs=${MUTANT_JOBS:-2}
# What the guards need: synacct, the lab tools, the BPF and C unit tests.
targets=(synacct selftests/bin/test_parse selftests/bin/test_reasons
	 selftests/bin/test_fuzz selftests/bin/lab_server selftests/bin/lab_client
	 selftests/bin/lab_synflood selftests/bin/lab_probe selftests/bin/xdp_pass.bpf.o
	 selftests/bin/unit)

[ "$(id -u)" -eq 0 ] || { echo "mutants: needs root (run: sudo make mutants)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "mutants: needs python3" >&2; exit 2; }

# ---- the list ----

# Blocks of "key value" lines, separated by blank lines; # starts a
# comment line.  Keys: id, file, what, from, to (may be empty), nth
# (which occurrence of from, when it is not unique), guard (one or more:
# a test file and its arguments, e.g. a scenario).
declare -a M_ID=() M_FILE=() M_WHAT=() M_FROM=() M_TO=() M_NTH=() M_GUARDS=()
parse_list() {
	local line key val n=-1
	while IFS= read -r line || [ -n "$line" ]; do
		[[ $line =~ ^[[:space:]]*# ]] && continue
		if [[ -z ${line//[[:space:]]/} ]]; then
			continue
		fi
		key=${line%%[[:space:]]*}
		val=${line#"$key"}
		val=${val#"${val%%[![:space:]]*}"}
		case $key in
		id)
			n=$((n + 1))
			M_ID[n]=$val M_FILE[n]= M_WHAT[n]= M_FROM[n]= M_TO[n]= M_NTH[n]=0 M_GUARDS[n]= ;;
		file) M_FILE[n]=$val ;;
		what) M_WHAT[n]=$val ;;
		from) M_FROM[n]=$val ;;
		to) M_TO[n]=$val ;;
		nth) M_NTH[n]=$val ;;
		guard) M_GUARDS[n]+="$val"$'\n' ;;
		*) echo "mutants: $list: unknown key '$key'" >&2; exit 2 ;;
		esac
	done <"$list"
	local i
	for i in "${!M_ID[@]}"; do
		[ -n "${M_FILE[i]}" ] && [ -n "${M_FROM[i]}" ] && [ -n "${M_GUARDS[i]}" ] ||
			{ echo "mutants: ${M_ID[i]}: needs file, from and guard" >&2; exit 2; }
	done
}
parse_list

# Which to run: the arguments (ids, spaces or commas), else all.
sel=()
for a in "$@"; do
	for id in ${a//,/ }; do
		found=
		for i in "${!M_ID[@]}"; do
			[ "${M_ID[i]}" = "$id" ] && { sel+=("$i"); found=1; }
		done
		[ -n "$found" ] || { echo "mutants: no mutant '$id' in $list" >&2; exit 2; }
	done
done
[ ${#sel[@]} -gt 0 ] || sel=("${!M_ID[@]}")

# ---- the copy ----

work=$(mktemp -d /tmp/synacct-mutants.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
# Built where each mutant will be built ($work/m), then moved aside: the
# mutants' objects then differ from it only where their code does (debug
# information and BTF name the directory).
base=$work/base
m=$work/m
mkdir -p "$m"
if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$root" && git ls-files -z -co --exclude-standard |
		tar --null -T - -cf - 2>/dev/null) | tar -xf - -C "$m" ||
		{ echo "mutants: cannot copy the tree" >&2; exit 1; }
else
	(cd "$root" && tar --exclude=./build --exclude=./build-san --exclude=./synacct \
		--exclude=./selftests/bin -cf - .) | tar -xf - -C "$m" ||
		{ echo "mutants: cannot copy the tree" >&2; exit 1; }
fi

start=$(date +%s)
echo "# building the unmutated tree in $work"
if ! make -C "$m" -s -j"$jobs" "${targets[@]}" >"$work/base.build" 2>&1; then
	cat "$work/base.build"
	echo "mutants: the unmutated tree does not build" >&2
	exit 1
fi
mv "$m" "$base"
# Later copies must be older than any change made to them.
sleep 1

# run_guard DIR GUARD LOG: GUARD's test file with its arguments, in DIR,
# its output to LOG.  Sets G_RESULT (pass, fail, timeout) and G_FIRST
# (the first failing check, or why).
run_guard() {
	local dir=$1 guard=$2 log=$3 rc
	local -a g
	read -r -a g <<<"$guard"
	(cd "$dir" && env -u SYNACCT -u SA_BIN -u SA_ROOT \
		timeout -k 10 "$timeout" bash "${g[@]}") >"$log" 2>&1
	rc=$?
	G_FIRST=$(grep -m1 -E '^(not ok|Bail out!)' "$log")
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		G_RESULT=timeout G_FIRST="timed out after ${timeout}s"
	elif [ $rc -ne 0 ] || [ -n "$G_FIRST" ]; then
		G_RESULT=fail
		[ -n "$G_FIRST" ] || G_FIRST="exit $rc, no failing check printed"
	else
		G_RESULT=pass
		G_FIRST=$(grep -m1 -E '^1\.\.0' "$log")
	fi
}

declare -A BASE_OK=()
baseline_failed=0
if [ "${MUTANTS_BASELINE:-1}" != 0 ]; then
	declare -A seen=()
	for i in "${sel[@]}"; do
		while IFS= read -r guard; do
			[ -n "$guard" ] && [ -z "${seen[$guard]+x}" ] || continue
			seen[$guard]=1
			t0=$(date +%s)
			run_guard "$base" "$guard" "$work/baseline.log"
			if [ "$G_RESULT" = pass ]; then
				BASE_OK[$guard]=1
				echo "ok - baseline: $guard passes unmutated ($(( $(date +%s) - t0 )) s)"
			else
				baseline_failed=$((baseline_failed + 1))
				echo "not ok - baseline: $guard fails unmutated: $G_FIRST"
				sed 's/^/#   /' "$work/baseline.log" | tail -30
			fi
		done <<<"${M_GUARDS[i]}"
	done
fi

# ---- the mutants ----

# apply FILE NTH: replace the NTH occurrence (0: the only one) of $FROM
# by $TO.  Exit 3: not found, 4: not unique, 5: nothing changed.
apply() {
	FROM=$3 TO=$4 python3 - "$1" "$2" <<'EOF'
import os, sys
path, nth = sys.argv[1], int(sys.argv[2])
src = open(path).read()
frm, to = os.environ["FROM"], os.environ["TO"]
n = src.count(frm)
if n == 0:
    sys.exit(3)
if nth == 0 and n > 1:
    sys.exit(4)
if nth > n:
    sys.exit(3)
at = -1
for _ in range(nth or 1):
    at = src.index(frm, at + 1)
new = src[:at] + to + src[at + len(frm):]
if new == src:
    sys.exit(5)
open(path, "w").write(new)
EOF
}

# obj_sig OBJ OUT: what of OBJ a mutant must change, to OUT.  Debug
# information is left out (a changed line count moves line numbers).  A
# BPF object loses its BTF too, whose line info quotes the source lines:
# its code, relocations, maps' and license's sections remain.  A host
# object that embeds a skeleton (its .d names a .skel.h) is compared by
# its code, relocations and every section but .rodata, where the BPF
# object it embeds (with its DWARF's checksums of the source) lies: that
# object is compared on its own.
obj_sig() {
	local secs
	case $1 in
	*.bpf.o)
		llvm-objcopy --strip-debug --remove-section=.BTF --remove-section=.rel.BTF \
			--remove-section=.BTF.ext --remove-section=.rel.BTF.ext "$1" "$2" ;;
	*)
		if grep -qs '\.skel\.h' "${1%.o}.d"; then
			secs=$(objdump -h "$1" | awk '$1 ~ /^[0-9]+$/ && $2 != ".rodata" &&
				$2 !~ /^\.(debug|comment|note)/ { printf "-j %s ", $2 }')
			{ objdump -d -r "$1" | tail -n +3; objdump -s $secs "$1" | tail -n +3; } >"$2"
		else
			objcopy --strip-debug "$1" "$2"
		fi ;;
	esac
}

# code_changed: some object make rebuilt for the mutant differs from the
# unmutated one (obj_sig).
code_changed() {
	local f rel
	while IFS= read -r -d '' f; do
		rel=${f#"$m"/}
		cmp -s "$f" "$base/$rel" && continue
		obj_sig "$f" "$work/new.sig" && obj_sig "$base/$rel" "$work/old.sig" &&
			cmp -s "$work/new.sig" "$work/old.sig" || return 0
	done < <(find "$m/build" -name '*.o' -print0)
	return 1
}

declare -a R_RESULT=() R_BY=() R_FIRST=() R_TIME=()
for i in "${sel[@]}"; do
	id=${M_ID[i]}
	t0=$(date +%s)
	rm -rf "$m"
	cp -a "$base" "$m"
	res= by= first=
	apply "$m/${M_FILE[i]}" "${M_NTH[i]}" "${M_FROM[i]}" "${M_TO[i]}"
	case $? in
	0) ;;
	3) res=error first="does not apply: '${M_FROM[i]}' not in ${M_FILE[i]}" ;;
	4) res=error first="does not apply: '${M_FROM[i]}' is not unique in ${M_FILE[i]} (give nth)" ;;
	5) res=error first="does not apply: the change leaves ${M_FILE[i]} as it was" ;;
	*) res=error first="does not apply: ${M_FILE[i]} not found" ;;
	esac
	if [ -z "$res" ] && ! make -C "$m" -s -j"$jobs" "${targets[@]}" >"$work/$id.build" 2>&1; then
		res=error first="does not build: $(grep -m1 -E 'error' "$work/$id.build")"
	fi
	if [ -z "$res" ] && ! code_changed; then
		res=error first="no object's code changed (the change is in a comment, or compiles to the same code)"
	fi
	if [ -z "$res" ]; then
		res=survived ran=0
		while IFS= read -r guard; do
			[ -n "$guard" ] || continue
			if [ "${MUTANTS_BASELINE:-1}" != 0 ] && [ -z "${BASE_OK[$guard]+x}" ]; then
				continue	# fails unmutated: proves nothing
			fi
			ran=$((ran + 1))
			run_guard "$m" "$guard" "$work/$id.log"
			case $G_RESULT in
			fail) res=killed by=$guard first=$G_FIRST; break ;;
			timeout) res=error by=$guard first=$G_FIRST ;;
			pass) [ "$res" = survived ] && by="passed: $guard${G_FIRST:+ ($G_FIRST)}" ;;
			esac
		done <<<"${M_GUARDS[i]}"
		[ $ran -gt 0 ] || res=error first="every guard fails unmutated: nothing to kill it"
	fi
	R_RESULT[i]=$res R_BY[i]=$by R_FIRST[i]=$first R_TIME[i]=$(( $(date +%s) - t0 ))
	case $res in
	killed) echo "ok - $id killed by $by: $first (${R_TIME[i]} s)" ;;
	survived) echo "not ok - $id SURVIVED: ${M_WHAT[i]}; $by (${R_TIME[i]} s)" ;;
	error) echo "not ok - $id error: ${by:+$by: }$first (${R_TIME[i]} s)"
	       [ -f "$work/$id.build" ] && grep -m5 -E 'error' "$work/$id.build" | sed 's/^/#   /' ;;
	esac
done

# ---- the table ----

killed=0 survived=0 errors=0
echo
printf '%-35s %-9s %s\n' mutant result "killed by (file scenario: first failing check)"
for i in "${sel[@]}"; do
	case ${R_RESULT[i]} in
	killed) killed=$((killed + 1)) ;;
	survived) survived=$((survived + 1)) ;;
	*) errors=$((errors + 1)) ;;
	esac
	by=${R_BY[i]}
	[ -n "$by" ] && [ -n "${R_FIRST[i]}" ] && by+=": "
	printf '%-35s %-9s %s\n' "${M_ID[i]}" "${R_RESULT[i]}" "$by${R_FIRST[i]}"
done
echo
echo "# ${#sel[@]} mutants: $killed killed, $survived survived, $errors errors;" \
	"$baseline_failed guards failing unmutated; $(( $(date +%s) - start )) s"
[ $survived -eq 0 ] && [ $errors -eq 0 ] && [ $baseline_failed -eq 0 ]
