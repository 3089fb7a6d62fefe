#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# skip-summary.sh DIR - what a make test run skipped, by cause: from the
# NAME.tap files run-file.sh keeps in DIR.  A skip reads
# "# SKIP <cause>: <detail>" (cause: kernel, tool, root; anything else is
# counted under "other"); points skipped are counted by cause and detail
# with the files they are in, files skipped whole one line each.  Prints
# only; run-file.sh has already failed the files that must not skip.

dir=$1
[ -d "$dir" ] || exit 0
shopt -s nullglob
taps=("$dir"/*.tap)
[ ${#taps[@]} -gt 0 ] || exit 0
awk '
FNR == 1 { f = FILENAME; sub(/.*\//, "", f); sub(/\.tap$/, "", f) }
function cause(s,   c) {
	sub(/^[^#]*#[ \t]*[Ss][Kk][Ii][Pp][^ \t:]*[ \t]*/, "", s)
	c = "other"
	if (match(s, /^(kernel|tool|root):[ \t]*/)) {
		c = substr(s, 1, RLENGTH); sub(/:[ \t]*$/, "", c)
		s = substr(s, RLENGTH + 1)
	}
	return c "\t" s
}
/^1\.\.0/ && /#[ \t]*[Ss][Kk][Ii][Pp]/ { whole[f] = cause($0); next }
/^ok [0-9]+/ && /#[ \t]*[Ss][Kk][Ii][Pp]/ {
	k = cause($0); n[k]++
	if (index(" " files[k] " ", " " f " ") == 0)
		files[k] = files[k] (files[k] == "" ? "" : " ") f
	total++
}
END {
	printf "# skips, by cause: %d test point%s, %d file%s whole\n", total, total == 1 ? "" : "s",
		length(whole), length(whole) == 1 ? "" : "s"
	for (k in n) {
		split(k, a, "\t")
		printf "#   %-6s %5d  %s (%s)\n", a[1], n[k], a[2], files[k]
	}
	for (f in whole) {
		split(whole[f], a, "\t")
		printf "#   %-6s  file  %s: %s\n", a[1], f, a[2]
	}
}' "${taps[@]}" | { read -r head; echo "$head"; sort -k2,2 -k3,3nr; }
