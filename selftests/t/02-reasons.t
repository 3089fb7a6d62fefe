#!/bin/bash
# Subsystem drop reasons (>= 1 << 16) are named from the subsystems' BTF
# enums, not skipped (selftests/test_reasons.c).
exec "${SA_BIN:-$(dirname "$0")/../bin}/test_reasons"
