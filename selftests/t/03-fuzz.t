#!/bin/bash
# Differential fuzz test of the parser: 100 000 random and mutated frames
# through the XDP and both TC programs against a reference parser written
# separately (selftests/test_fuzz.c).  The seed is printed first; rerun a
# failure with FUZZ_SEED=N.
[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP root: loading BPF programs needs root"; exit 0; }
exec "${SA_BIN:-$(dirname "$0")/../bin}/test_fuzz" --frames "${FUZZ_FRAMES:-100000}" \
	${FUZZ_SEED:+--seed "$FUZZ_SEED"}
