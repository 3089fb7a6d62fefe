#!/bin/bash
# Differential fuzz test of the parser and the counter maps: 100 000 random
# and mutated frames through the XDP and both TC programs against a
# reference parser written separately, counters read raw from the maps
# (selftests/test_fuzz.c).  Two seeds: a pinned one, the same on every run,
# and a random one, each printed first; rerun a failure with FUZZ_SEED=N
# (that seed only).
[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP root: loading BPF programs needs root"; exit 0; }
bin="${SA_BIN:-$(dirname "$0")/../bin}/test_fuzz"
frames="${FUZZ_FRAMES:-100000}"
pinned=1919
if [ -n "$FUZZ_SEED" ]; then
	seeds=$FUZZ_SEED
else
	seeds="$pinned $(od -An -N8 -tu8 /dev/urandom | tr -d ' ')"
fi
# One TAP stream: each run's plan line dropped, its points renumbered.
n=0 rc=0
for seed in $seeds; do
	out=$("$bin" --frames "$frames" --seed "$seed"); r=$?
	[ $r -eq 0 ] || rc=1
	while IFS= read -r line; do
		case $line in
		1..*) ;;
		"ok "*|"not ok "*)
			n=$((n + 1))
			echo "$line" | sed -E "s/^(not )?ok [0-9]+/\1ok $n/; s/ - / - seed $seed: /" ;;
		"Bail out!"*) echo "$line"; exit 1 ;;
		*) echo "$line" ;;
		esac
	done <<< "$out"
	# A run that printed no plan did not finish.
	grep -q '^1\.\.' <<< "$out" || { echo "Bail out! test_fuzz --seed $seed did not finish (exit $r)"; exit 1; }
done
echo "1..$n"
exit $rc
