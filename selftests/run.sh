#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh [FILE|DIR...] - the lab suite as make test runs it: prove, each
# file through selftests/lib/run-file.sh (a timeout per file, a check of
# what it left behind, whole-file skips against selftests/expected-skips),
# then the skips by cause.  The last line is prove's own "Result:" line,
# repeated after the summary.  Exit status: prove's.
#
# Environment: SA_TEST_TIMEOUT (seconds per file, default 900),
# SA_EXPECTED_SKIPS (another list), and what lab.sh reads (SYNACCT, SA_BIN).

SA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ $# -gt 0 ] || set -- "$SA_ROOT/selftests/t/"
SA_RUN_DIR=$(mktemp -d /tmp/synacct-tests.XXXXXX) || exit 1
export SA_RUN_DIR
trap 'rm -rf "$SA_RUN_DIR"' EXIT

prove -v --timer --exec "$SA_ROOT/selftests/lib/run-file.sh" "$@" | tee "$SA_RUN_DIR/prove.out"
rc=${PIPESTATUS[0]}
"$SA_ROOT/selftests/lib/skip-summary.sh" "$SA_RUN_DIR"
grep '^Result: ' "$SA_RUN_DIR/prove.out" | tail -n 1
exit "$rc"
