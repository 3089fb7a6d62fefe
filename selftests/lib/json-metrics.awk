# json-metrics.awk - every number of a JSON record against the series of a
# /metrics page of the same run (lab.sh: json_metrics_check).
#
# Input, three files: docs/metrics.md, the page, and the record's numbers
# as "PATH<TAB>VALUE<TAB>PORT" (PATH like .ports[].listen_drops.other,
# PORT the port of a number under .ports[], else empty).
#
# A number maps to a series by the rules docs/metrics.md states: key K is
# synacct_K_total or synacct_K; K inside object G is synacct_G_total or
# synacct_G with K as a label value, or synacct_G_K(_total);
# container.K is the series of K, container.listen_drops.K that of
# listen_drops with cause K, with a netns label (and a pod's labels); a number under .ports[] is in the series with port="PORT".  A family whose row
# in the table says "JSON `X`" holds X (for an _info family, as a label
# value).  The section "What a JSON record has and the page has not"
# lists what has no series.  The MIBs are compared by name only: the
# page's are since the namespace was created, the record's since synacct
# started (docs/metrics.md).
#
# missed_runs only may be larger in the record than on the page (below).
#
# Output: "no metric: PATH = VALUE" or "value: PATH json VALUE page
# VALUE" per number that fails, a line for an input that gave nothing to
# check (no number in the record, no series on the page, no exclusion
# list in docs/metrics.md: a check of nothing must not pass), then
# "checked N".

BEGIN { FS = "\t" }
# Which input by name, not by count: an empty file has no first line.
{ file = FILENAME == ARGV[1] ? 1 : FILENAME == ARGV[2] ? 2 : 3 }

# ---- docs/metrics.md ----

file == 1 && /^## / { excl_section = ($0 ~ /^## What a JSON record has and the page has not/) }
file == 1 && excl_section && /^- `/ {
	head = $0
	if (index(head, ": "))
		head = substr(head, 1, index(head, ": ") - 1)
	while (match(head, /`[^`]*`/)) {
		excluded[++n_excl] = substr(head, RSTART + 1, RLENGTH - 2)
		head = substr(head, RSTART + RLENGTH)
	}
}
file == 1 && /^\| `synacct_[a-z_]*` \|/ && index($0, "JSON `") {
	fam = $0
	sub(/^\| `/, "", fam)
	sub(/`.*/, "", fam)
	rest = substr($0, index($0, "JSON `"))
	while (match(rest, /`[^`]*`/)) {
		n_alias++
		alias_key[n_alias] = substr(rest, RSTART + 1, RLENGTH - 2)
		alias_fam[n_alias] = fam
		rest = substr(rest, RSTART + RLENGTH)
	}
}

# ---- the page: name{label="value",...} value ----

file == 2 && /^synacct_/ {
	n_series++
	line = $0
	name = line
	sub(/[{ ].*/, "", name)
	s_name[n_series] = name
	s_value[n_series] = line
	sub(/.* /, "", s_value[n_series])
	s_nlab[n_series] = 0
	if (index(line, "{")) {
		labels = substr(line, index(line, "{") + 1)
		while (match(labels, /^[a-z_]+="([^"\\]|\\.)*"/)) {
			pair = substr(labels, 1, RLENGTH)
			k = substr(pair, 1, index(pair, "=") - 1)
			v = substr(pair, index(pair, "=") + 2)
			v = substr(v, 1, length(v) - 1)
			s_nlab[n_series]++
			s_lab[n_series, k] = v
			s_labv[n_series, s_nlab[n_series]] = v
			s_labk[n_series, s_nlab[n_series]] = k
			labels = substr(labels, RLENGTH + 1)
			sub(/^,/, "", labels)
		}
	}
}

# Does series s carry port P (or no port label at all when P is empty)?
function on_port(s, p) {
	if (p == "")
		return !((s, "port") in s_lab)
	return ((s, "port") in s_lab) && s_lab[s, "port"] == p
}

# A label of series s other than port whose value is v, or "".
function label_with(s, v,    i) {
	for (i = 1; i <= s_nlab[s]; i++)
		if (s_labk[s, i] != "port" && s_labv[s, i] == v)
			return s_labk[s, i]
	return ""
}

# The series named n on port p with no label but port, or 0.
function plain(n, p,    s) {
	for (s = 1; s <= n_series; s++)
		if (s_name[s] == n && on_port(s, p) && s_nlab[s] == (p != ""))
			return s
	return 0
}

# The series named n on port p with one more label valued v, or 0.
function labeled(n, p, v,    s) {
	for (s = 1; s <= n_series; s++)
		if (s_name[s] == n && on_port(s, p) && s_nlab[s] == (p != "") + 1 &&
		    label_with(s, v) != "")
			return s
	return 0
}

# How many of a pod's labels series s carries (after netns: pod_uid,
# and pod_namespace and pod where the pod's name is known).
function pod_labels(s) {
	return ((s, "pod_uid") in s_lab) + ((s, "pod_namespace") in s_lab) + ((s, "pod") in s_lab)
}

# The series named n on port p with a netns label (a followed
# namespace's, and its pod's labels) and, when lk is given, label lk
# valued lv; or 0.
function in_netns(n, p, lk, lv,    s) {
	for (s = 1; s <= n_series; s++)
		if (s_name[s] == n && on_port(s, p) && ((s, "netns") in s_lab) &&
		    s_nlab[s] == (p != "") + 1 + (lk != "") + pod_labels(s) &&
		    (lk == "" || ((s, lk) in s_lab) && s_lab[s, lk] == lv))
			return s
	return 0
}

function is_excluded(path,    i, e) {
	for (i = 1; i <= n_excl; i++) {
		e = "." excluded[i]
		if (path == e || index(path, e ".") == 1 || index(path, e "[") == 1)
			return 1
	}
	return 0
}

# ---- the record's numbers ----

file == 3 {
	path = $1; value = $2; port = $3
	if (is_excluded(path))
		next
	checked++
	rel = path
	if (port != "")
		sub(/^\.ports\[\]\./, "", rel)
	else
		sub(/^\./, "", rel)
	n = split(rel, key, ".")
	found = 0
	compare = path !~ /^\.mib\./
	if (port != "" && rel == "port") {
		for (s = 1; s <= n_series && !found; s++)
			if (on_port(s, port))
				found = s
		compare = 0
	}
	# A family whose row names this JSON key.
	for (a = 1; a <= n_alias && !found; a++) {
		if (rel != alias_key[a] && index(rel, alias_key[a] ".") != 1)
			continue
		for (s = 1; s <= n_series && !found; s++) {
			if (s_name[s] != alias_fam[a] || !on_port(s, port))
				continue
			if (alias_fam[a] ~ /_info$/) {
				if (label_with(s, value) != "") {
					found = s
					compare = 0
				}
			} else if (s_value[s] + 0 == value + 0) {
				found = s
			}
		}
	}
	if (!found && n == 1) {
		found = plain("synacct_" key[1] "_total", port)
		if (!found)
			found = plain("synacct_" key[1], port)
	}
	# The container's K is the host's family of K with netns; its
	# listen_drops.K the host's listen_drops{cause=K} with netns.
	if (!found && n == 3 && key[1] == "container" && key[2] == "listen_drops")
		found = in_netns("synacct_listen_drops_total", port, "cause", key[3])
	if (!found && n == 2 && key[1] == "container") {
		found = in_netns("synacct_" key[2] "_total", port, "", "")
		if (!found)
			found = in_netns("synacct_" key[2], port, "", "")
	}
	if (!found && n == 2) {
		found = labeled("synacct_" key[1] "_total", port, key[2])
		if (!found)
			found = labeled("synacct_" key[1], port, key[2])
		if (!found)
			found = plain("synacct_" key[1] "_" key[2] "_total", port)
		if (!found)
			found = plain("synacct_" key[1] "_" key[2], port)
	}
	if (!found)
		print "no metric: " path (port != "" ? " (port " port ")" : "") " = " value
	# missed_runs counts the recursion misses of global tracepoints, from
	# traffic anywhere on the host: it may grow between the last scrape
	# and the summary, never shrink.
	else if (compare && path == ".missed_runs" && s_value[found] + 0 <= value + 0)
		;
	else if (compare && s_value[found] + 0 != value + 0)
		print "value: " path (port != "" ? " (port " port ")" : "") " json " value \
			" page " s_value[found]
}

END {
	if (!n_excl)
		print "docs/metrics.md: no list under \"What a JSON record has and the page has not\""
	if (!n_series)
		print "the page has no synacct_ series"
	if (!checked)
		print "the record has no number to check"
	print "checked " checked + 0
}
