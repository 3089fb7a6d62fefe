#!/bin/bash
# BPF unit tests: crafted frames through the XDP and TC programs with
# BPF_PROG_TEST_RUN (selftests/test_parse.c).
[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP root: loading BPF programs needs root"; exit 0; }
exec "${SA_BIN:-$(dirname "$0")/../bin}/test_parse"
