#!/bin/bash
# /metrics: usage errors; the endpoint stays in the namespace synacct was
# started in; the page is clean under promtool and lists exactly the
# families of docs/metrics.md; every number of a JSON summary has its
# series on the page of the same run; bounded cardinality (--metrics-top, "other")
# with exact sums; clients that hold connections (slow headers, idle,
# never reading a large page) neither starve a scrape nor cost a page
# each; then a real Prometheus scrapes synacct during an
# accept-queue overflow and its HTTP API, its alert rules and the console
# template give the figures the lab's ground truth and nstat give.  Each
# scenario runs in a lab of its own:
#   selftests/t/60-metrics.t [--list] [SCENARIO...]
. "$(dirname "$0")/../lib/lab.sh"

LAB_SCENARIOS=(usage_errors endpoint scan_page web_config slow_clients alert_rules prometheus)
LAB_REQUIRE=require_tools

require_tools() {
	command -v prometheus >/dev/null && command -v promtool >/dev/null ||
		t_skip_all "tool: Debian's prometheus package is not installed (make deps installs it)"
	command -v curl >/dev/null || t_skip_all "tool: curl is not installed (make deps installs it)"
}

# metric FILE NAME LABELS: the value of one series of a scraped page
# (LABELS exactly as printed, e.g. port="8080",cause="other").
metric() {
	awk -v s="$2{$3} " 'index($0, s) == 1 { print $NF; f = 1 } END { if (!f) print "none" }' "$1"
}

# metric_sum FILE NAME: the sum over every series of a family.
metric_sum() {
	awk -v n="$2" 'index($1, n "{") == 1 { s += $2 } END { print s + 0 }' "$1"
}

# wait_http URL: until it answers 200 (5 s).
wait_http() {
	local i
	for ((i = 0; i < 50; i++)); do
		curl -sf -o /dev/null "$1" && return 0
		sleep 0.1
	done
	return 1
}

# metrics_port: MP, a free port for synacct's --metrics; MURL, its page.
metrics_port() {
	MP=$(lab_free_port) || exit 1
	MURL=http://127.0.0.1:$MP/metrics
}

# start_quiet: a --quiet synacct serving /metrics on :MP, its PID in
# SA_PID; a listener on 8080 first.
start_quiet() {
	lab_server 8080 --accept all
	"$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --metrics ":$MP" --metrics-top 10 \
		--quiet --interval 0.2 >"$LAB_DIR/quiet.out" 2>"$LAB_DIR/quiet.err" &
	SA_PID=$!; LAB_PIDS+=($SA_PID)
}

# console_cell NAME: the total of a cell of CONSOLE_ROW, a port's row of
# the console; console_rate NAME, its rate; console_class NAME, its class.
console_cell() { sed -n "s#.*<td class=\"$1[a-z ]*\"><span class=\"total\">\([^<]*\)</span>.*#\1#p" <<<"$CONSOLE_ROW"; }
console_rate() { sed -n "s#.*<td class=\"$1[a-z ]*\"><span class=\"total\">[^<]*</span><span class=\"rate\">\([^<]*\)/s</span>.*#\1#p" <<<"$CONSOLE_ROW"; }
console_class() { grep -o "<td class=\"$1[a-z ]*\">" <<<"$CONSOLE_ROW" | sed 's/.*class="\([^"]*\)".*/\1/'; }

# in_range V LO HI: V, LO..HI when LO <= V <= HI (awk, floating point).
in_range() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { if (v != "" && v + 0 >= lo && v + 0 <= hi) print lo ".." hi; else print v }'; }

# ---- usage and runtime errors ----

sc_usage_errors() {
	local bad err rc
	for bad in abc 127.0.0.1:0 127.0.0.1:65536 localhost:9464 '[::1]9464' 1.2.3.4.5:80; do
		err=$("$SYNACCT" --iface lo --metrics "$bad" 2>&1 >/dev/null); rc=$?
		t_is "$rc" 2 "--metrics '$bad': usage error, exit 2"
		t_like "$err" "invalid --metrics '.*': expected ADDR:PORT" "--metrics '$bad': says what is expected"
	done
	err=$("$SYNACCT" --iface lo --metrics-top -1 2>&1 >/dev/null); rc=$?
	t_is "$rc" 2 "--metrics-top -1: usage error, exit 2"
}

# ---- the endpoint: --netns, default address, --quiet, the page ----

sc_endpoint() {
	local err rc codes
	metrics_port
	start_quiet
	# /ready from the start: 503 while the hooks attach (BPF loads take
	# long enough to be seen), then 200 with the first page served and
	# both hooks attached on the interface.
	codes=$(for ((i = 0; i < 1000; i++)); do
		c=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MP/ready")
		echo "$c"; [ "$c" = 200 ] && break; sleep 0.01
	done | uniq | paste -sd' ')
	t_like "$codes" '503 200$' "/ready: 503 while attaching, then 200 (codes seen: $codes)"
	t_is "$(curl -s "$MURL" | awk '/^synacct_stage_up\{/ { split($1, l, "\""); s = s l[2] "=" $2 " " } END { print s }')" \
		"xdp=1 tc=1 stack=1 " "... once 200, /metrics serves with the xdp, tc and stack hooks up"
	t_is "$(curl -s "http://127.0.0.1:$MP/ready")" ready "/ready's body: ready"
	wait_http "$MURL"; t_is $? 0 "--netns $SRV --metrics :$MP answers on 127.0.0.1 from the host"
	t_is "$(ss -Hltn "sport = :$MP" | awk '{ print $4 }')" "127.0.0.1:$MP" \
		"':PORT' binds 127.0.0.1 in the namespace synacct was started in"
	t_is "$(ip netns exec "$SRV" ss -Hltn "sport = :$MP" | wc -l)" 0 \
		"... and nothing listens on it inside --netns"

	err=$("$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --metrics "127.0.0.1:$MP" --quiet 2>&1 >/dev/null); rc=$?
	t_is "$rc" 1 "a second synacct on the same --metrics port: runtime error, exit 1"
	t_is "$err" "synacct: cannot listen for --metrics on 127.0.0.1:$MP: Address already in use (another process has it: pick another port)" \
		"... saying which address is taken"
	t_is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MP/nope")" 404 "/nope: 404"
	t_is "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$MURL")" 405 "POST /metrics: 405"
	t_like "$(curl -sI "$MURL" | tr -d '\r' | grep -i '^content-type')" \
		"text/plain; version=0.0.4" "Content-Type of the text format 0.0.4"
	# gzip when asked (Prometheus asks): the same page, compressed; a
	# reading may come between two requests, so the pair is taken again
	# until both show the same reading's stamp.
	local plain gz i first
	for i in 1 2 3 4 5; do
		plain=$(curl -s "$MURL")
		gz=$(curl -s -H 'Accept-Encoding: deflate, gzip' "$MURL" | gzip -dc)
		[ "$(stamp <<<"$plain")" = "$(stamp <<<"$gz")" ] && break
	done
	t_ok $(( ${#plain} > 1000 ? 0 : 1 )) "a page to compare (${#plain} bytes)"
	t_is "$(cksum <<<"$gz")" "$(cksum <<<"$plain")" "Accept-Encoding: gzip: the same page, gzip-compressed"
	# and the next reading's, not the one compressed first
	first=$(stamp <<<"$gz")
	for i in $(seq 50); do
		[ "$(curl -s "$MURL" | stamp)" != "$first" ] && break; sleep 0.1
	done
	gz=$(curl -s -H 'Accept-Encoding: gzip' "$MURL" | gzip -dc)
	t_is "$([ "$(stamp <<<"$gz")" != "$first" ] && echo newer)" newer \
		"... and after the next reading, that reading's page ($first, then $(stamp <<<"$gz"))"
	t_like "$(curl -s -D - -o /dev/null -H 'Accept-Encoding: gzip' "$MURL" | tr -d '\r' | grep -i '^content-encoding')" \
		"gzip" "... with Content-Encoding: gzip"
	t_is "$(curl -s -D - -o /dev/null "$MURL" | tr -d '\r' | grep -ci '^content-encoding'),$(curl -s -D - -o /dev/null -H 'Accept-Encoding: gzip;q=0, identity' "$MURL" | tr -d '\r' | grep -ci '^content-encoding')" \
		"0,0" "not compressed when not asked for, nor with gzip;q=0"
	kill -INT $SA_PID; wait $SA_PID
}

stamp() { awk '$1 == "synacct_last_read_timestamp_seconds" { print $2 }'; }

sc_scan_page() {
	local out rc
	metrics_port
	lab_nstat "$SRV" >"$LAB_DIR/srv.0"
	start_quiet
	wait_http "$MURL" || echo "# synacct does not serve $MURL"
	# A scan: 600 spoofed SYNs over 60 closed ports, 10 each; 10 of them get
	# a label, the other 50 add into port="other".
	out=$(lab_flood --to $SRV_IP4 --port 9000 --port-span 60 --count 600 --src-net $SPOOF_NET4)
	t_is "$out" "sent=600" "the scan sent 600 SYNs"
	metrics_wait_read "$MURL" "$(date +%s.%N)"
	curl -sf "$MURL" >"$LAB_DIR/page"
	lab_nstat "$SRV" >"$LAB_DIR/srv.1"
	# synacct's start as the kernel has it: /proc/PID/stat's starttime
	# (field 22, clock ticks since boot) plus /proc/stat's btime.
	start=$(awk -v hz="$(getconf CLK_TCK)" -v bt="$(awk '/^btime/ { print $2 }' /proc/stat)" \
		'{ sub(/.*\) /, ""); printf "%.2f", bt + $20 / hz }' /proc/$SA_PID/stat)
	t_is "$(awk '$1 == "process_start_time_seconds" { print $2 }' "$LAB_DIR/page")" "$start" \
		"process_start_time_seconds == the kernel's start time of synacct's process"
	kill -INT $SA_PID; wait $SA_PID; rc=$?
	t_is "$rc" 0 "--quiet synacct exits 0 on SIGINT"
	t_is "$(cat "$LAB_DIR/quiet.out")" "" "--quiet writes nothing on stdout"
	t_is "$(cat "$LAB_DIR/quiet.err")" "" "... nor on stderr"
	t_is "$(ss -Hltn "sport = :$MP" | wc -l)" 0 "the metrics socket is closed on exit"

	out=$(promtool check metrics <"$LAB_DIR/page" 2>&1); rc=$?
	t_is "$rc:$out" "0:" "promtool check metrics: clean (no error, no lint)"
	grep -o '^# TYPE [a-z_]* [a-z]*' "$LAB_DIR/page" | awk '{ print $3, $4 }' >"$LAB_DIR/families.page"
	sed -n 's/^| `\(\(synacct\|process\)_[a-z_]*\)` | \([a-z]*\) |.*/\1 \3/p' "$SA_ROOT/docs/metrics.md" >"$LAB_DIR/families.doc"
	t_is "$(diff "$LAB_DIR/families.doc" "$LAB_DIR/families.page" && echo same)" same \
		"docs/metrics.md lists exactly the families of the page, names and types, in order"
	"$SYNACCT" counters | grep -o 'synacct_[a-z_]*' | sort -u >"$LAB_DIR/families.counters"
	t_is "$(awk '{ print $1 }' "$LAB_DIR/families.page" | sort | comm -13 - "$LAB_DIR/families.counters" | tr '\n' ' ')" "" \
		"every metric 'synacct counters' (docs/design.md) names is a family of the page"

	t_is "$(metric_sum "$LAB_DIR/page" synacct_nic_syn_total)" 600 "sum of nic_syn_total over every series == 600 SYNs sent"
	t_is "$(metric_sum "$LAB_DIR/page" synacct_tc_syn_total)" 600 "sum of tc_syn_total == 600"
	t_is "$(metric "$LAB_DIR/page" synacct_stack_drops_total 'port="other",reason="NO_SOCKET"')" 500 \
		"port=\"other\": the 50 ports without a label, 500 SYNs, NO_SOCKET"
	t_is "$(metric_sum "$LAB_DIR/page" synacct_stack_drops_total)" "$(nstat_delta "$LAB_DIR/srv.0" "$LAB_DIR/srv.1" TcpOutRsts)" \
		"sum of stack_drops_total == the RSTs the server sent (nstat TcpOutRsts)"
	t_is "$(grep -c '^synacct_nic_syn_total{port="90[0-5][0-9]"} 10$' "$LAB_DIR/page")" 10 \
		"--metrics-top 10: ten scanned ports with a label, 10 SYNs each"
	t_is "$(grep '^synacct_nic_syn_total{' "$LAB_DIR/page" | wc -l)" 12 \
		"nic_syn_total has 12 series: the listener's port, the top 10, other"
	t_is "$(metric "$LAB_DIR/page" synacct_nic_syn_total 'port="8080"'),$(metric "$LAB_DIR/page" synacct_listeners 'port="8080"')" \
		"0,1" "the listening port 8080 has its series (0 SYNs, 1 listener)"
	# Only synacct_nat_info carries an address: where NAT sends a port (one
	# series per published port), never a client's.
	t_is "$(grep -v '^\(# [A-Z]* \)\?synacct_nat_info' "$LAB_DIR/page" | grep -c 'addr\|198\.1[89]')" 0 \
		"no address on the page outside synacct_nat_info"
	t_like "$(grep '^synacct_info{' "$LAB_DIR/page")" \
		"^synacct_info\{version=\"synacct [0-9.]+\",netns=\"$SRV\",ifaces=\"$SRV_IF\",xdp_mode=\"(skb|native)\"\} 1$" \
		"synacct_info names the namespace, interface and XDP mode"
	t_is "$(metric "$LAB_DIR/page" synacct_hooks_info 'hook="tc_ingress"')" 1 "synacct_hooks_info has tc_ingress"
	# What it is, from outside: git HEAD (-dirty: the tree had changes when
	# it was built, which git cannot tell now), uname, pkg-config.
	local commit
	commit=$(git -C "$SA_ROOT" rev-parse --short=12 HEAD 2>/dev/null) || commit=unknown
	t_like "$(grep '^synacct_build_info{' "$LAB_DIR/page")" \
		"^synacct_build_info\{version=\"0\.1\",commit=\"$commit(-dirty)?\",kernel=\"$(uname -r)\",libbpf=\"$(pkg-config --modversion libbpf | cut -d. -f1,2)\",libxdp=\"$(pkg-config --modversion libxdp)\"\} 1\$" \
		"synacct_build_info: version, git commit, uname -r, libbpf, libxdp"
}

# ---- --web-config: TLS and basic authentication ----

# web_start FILE: a --quiet synacct serving https on :MP with --web-config
# FILE; SA_PID.
web_start() {
	"$SYNACCT" --netns "$SRV" --iface "$SRV_IF" --metrics ":$MP" --web-config "$1" \
		--quiet --interval 0.2 >"$LAB_DIR/quiet.out" 2>"$LAB_DIR/quiet.err" &
	SA_PID=$!; LAB_PIDS+=($SA_PID)
}

sc_web_config() {
	local d=$LAB_DIR/web hash out err rc code i url types_plain
	command -v openssl >/dev/null && command -v htpasswd >/dev/null ||
		{ t_skip "--web-config over TLS with users" "tool: openssl or htpasswd (apache2-utils) is not installed (make deps installs them)"; return; }
	mkdir -p "$d"
	# A CA of the test's own, and a certificate for 127.0.0.1 it signs.
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=synacct-test-ca \
		-keyout "$d/ca.key" -out "$d/ca.crt" 2>"$d/openssl.err" &&
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
		-keyout "$d/synacct.key" -out "$d/synacct.csr" 2>>"$d/openssl.err" &&
	openssl x509 -req -in "$d/synacct.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
		-days 1 -extfile <(echo subjectAltName=IP:127.0.0.1) -out "$d/synacct.crt" 2>>"$d/openssl.err"
	t_is "$?" 0 "openssl: a CA and a certificate for 127.0.0.1 it signs"
	# A bcrypt hash as exporter-toolkit's docs make one.
	hash=$(htpasswd -nbBC 10 prom 's3cret:x' | sed -n 's/^prom://p')
	t_like "$hash" '^\$2y\$10\$' "htpasswd -B: a bcrypt hash"
	# Paths relative to the file's directory, as exporter-toolkit has them.
	cat >"$d/web.yml" <<-EOF
	# synacct --web-config
	tls_server_config:
	  cert_file: synacct.crt
	  key_file: synacct.key
	basic_auth_users:
	  prom: $hash
	EOF

	# The page's shape without TLS or users: its families.
	metrics_port
	start_quiet
	wait_http "$MURL" || echo "# synacct does not serve $MURL"
	types_plain=$(curl -sf "$MURL" | grep '^# TYPE')
	kill -INT $SA_PID; wait $SA_PID

	web_start "$d/web.yml"
	url=https://127.0.0.1:$MP/metrics
	for ((i = 0; i < 50; i++)); do
		code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$d/ca.crt" -u 'prom:s3cret:x' "$url")
		[ "$code" = 200 ] && break
		sleep 0.1
	done
	code=$(curl -s -o "$d/page" -w '%{http_code}' --cacert "$d/ca.crt" -u 'prom:s3cret:x' "$url")
	t_is "$code" 200 "https with the test's CA and the right password: 200"
	out=$(promtool check metrics <"$d/page" 2>&1); rc=$?
	t_is "$rc:$out" "0:" "... a page promtool finds clean"
	t_is "$(grep '^# TYPE' "$d/page")" "$types_plain" "... with the families of the page served without --web-config"
	code=$(curl -s -D "$d/headers" -o "$d/denied" -w '%{http_code}' --cacert "$d/ca.crt" -u 'prom:wrong' "$url")
	t_is "$code,$(tr -d '\r' <"$d/headers" | grep -i '^www-authenticate:')" \
		'401,WWW-Authenticate: Basic realm="synacct"' "a wrong password: 401 with WWW-Authenticate"
	t_is "$(grep -c synacct_ "$d/denied")" 0 "... and no figure"
	code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$d/ca.crt" -u 'nobody:s3cret:x' "$url")
	t_is "$code" 401 "an unknown user with a known password: 401"
	code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$d/ca.crt" "$url")
	t_is "$code" 401 "no credentials: 401"
	curl -s -o /dev/null -u 'prom:s3cret:x' "$url"; rc=$?
	t_is "$rc" 60 "https without the test's CA: curl refuses the certificate (exit 60)"
	code=$(curl -s -o /dev/null -w '%{http_code}' -u 'prom:s3cret:x' --max-time 5 "http://127.0.0.1:$MP/metrics"); rc=$?
	t_is "$((rc != 0)),$code" "1,000" "plain http on the TLS port: no answer (curl exit $rc)"
	kill -INT $SA_PID; wait $SA_PID; rc=$?
	t_is "$rc,$(cat "$LAB_DIR/quiet.err")" "0," "synacct exits 0 on SIGINT, nothing on stderr"

	# Strict: what synacct does not implement is an error naming FILE:LINE.
	printf 'tls_server_config:\n  cert_file: synacct.crt\n  key_file: synacct.key\n  client_auth_type: RequireAndVerifyClientCert\n' >"$d/bad1.yml"
	printf 'basic_auth_users:\n  prom: plaintext\n' >"$d/bad2.yml"
	printf 'http_server_config:\n  http2: false\n' >"$d/bad3.yml"
	printf 'tls_server_config:\n  cert_file: nonexistent.crt\n  key_file: synacct.key\n' >"$d/bad4.yml"
	printf 'basic_auth_users:\n  prom: %s\n  prom: %s\n' "$hash" "$hash" >"$d/bad5.yml"
	printf 'tls_server_config:\n  cert_file: synacct.crt\n' >"$d/bad6.yml"
	printf 'basic_auth_users:\n  prom: %s\n---\nbasic_auth_users: {}\n' "$hash" >"$d/bad7.yml"
	for c in "bad1.yml:4: tls_server_config: unknown or unsupported key 'client_auth_type' (synacct reads cert_file and key_file)" \
		"bad2.yml:2: basic_auth_users: the password of 'prom' is not a bcrypt hash (\$2y\$..., e.g. from htpasswd -nBC 10 \"\")" \
		"bad3.yml:1: unknown or unsupported key 'http_server_config' (synacct reads tls_server_config and basic_auth_users)" \
		"bad4.yml:2: cert_file: cannot open $d/nonexistent.crt: No such file or directory" \
		"bad5.yml:3: basic_auth_users: user 'prom' given twice" \
		"bad6.yml:2: tls_server_config: needs both cert_file and key_file" \
		"bad7.yml:4: a second YAML document: one is expected"; do
		err=$("$SYNACCT" --iface "$SRV_IF" --netns "$SRV" --metrics ":$MP" --web-config "$d/${c%%:*}" 2>&1 >/dev/null); rc=$?
		t_is "$rc,$err" "2,synacct: $d/$c" "--web-config ${c%%:*}: exit 2, FILE:LINE and why"
	done
	err=$("$SYNACCT" --iface "$SRV_IF" --web-config "$d/web.yml" 2>&1 >/dev/null); rc=$?
	t_is "$rc" 2 "--web-config without --metrics: usage error, exit 2"
	t_like "$err" "--web-config needs --metrics" "... saying so"
}

# ---- clients that hold connections ----

# hog ARGS...: lab_http_hog.py in the server's namespace, against :MP
# there; its result in $LAB_DIR/hog.out once it ends, HOG_PID meanwhile.
hog() {
	rm -f "$LAB_DIR/hog.ready"
	ip netns exec "$SRV" python3 "$SA_ROOT/selftests/tools/lab_http_hog.py" \
		--port "$MP" --ready "$LAB_DIR/hog.ready" "$@" >"$LAB_DIR/hog.out" 2>"$LAB_DIR/hog.err" &
	HOG_PID=$!; LAB_PIDS+=($HOG_PID)
	local i
	for ((i = 0; i < 300; i++)); do
		[ -e "$LAB_DIR/hog.ready" ] && return 0
		kill -0 $HOG_PID 2>/dev/null || break
		sleep 0.1
	done
	echo "# lab_http_hog did not open its connections: $(cat "$LAB_DIR/hog.err")"
	return 1
}

# vm_kib FIELD: a /proc/SA_PID/status field of synacct, in KiB (the kernel's
# account of its memory: VmRSS now, VmHWM its peak).
vm_kib() { awk -v f="$1:" '$1 == f { print $2 }' /proc/$SA_PID/status; }

sc_slow_clients() {
	local out rc code size hwm0 hwm1 murl i read_at
	# synacct and every client in the server's namespace: the endpoint's
	# connections stay in the lab.
	MP=9465
	murl="http://127.0.0.1:$MP/metrics"
	lab_server 8080 --accept all
	ip netns exec "$SRV" "$SYNACCT" --iface "$SRV_IF" --metrics "127.0.0.1:$MP" \
		--metrics-top 5000 --quiet --interval 5 >"$LAB_DIR/quiet.out" 2>"$LAB_DIR/quiet.err" &
	SA_PID=$!; LAB_PIDS+=($SA_PID)
	ns_curl() { ip netns exec "$SRV" curl "$@"; }
	for ((i = 0; i < 50; i++)); do ns_curl -sf -o /dev/null "$murl" && break; sleep 0.1; done

	# 256 connections that never finish their headers and 256 that send
	# nothing: the 513th, a scrape, is answered, and synacct closes the
	# 512 (docs/metrics.md: headers within 5 s, 5 s idle).
	hog --slow 256 --idle 256 --wait 20 || return
	t_is "$(cat "$LAB_DIR/hog.ready")" "open slow=256 idle=256 stall=0" \
		"512 connections held open on the endpoint (256 slow headers, 256 idle)"
	code=$(ns_curl -s -o "$LAB_DIR/page.held" -w '%{http_code}' --max-time 2 "$murl")
	t_is "$code,$(grep -c '^synacct_info{' "$LAB_DIR/page.held")" "200,1" \
		"a scrape while they are held: 200 and a whole page"
	t_is "$(ns_curl -s -o /dev/null -o /dev/null -w '%{http_code}:%{num_connects} ' "$murl" "$murl")" "200:1 200:0 " \
		"keep-alive: two scrapes on one connection"
	wait $HOG_PID
	t_like "$(cat "$LAB_DIR/hog.out")" '^slow_closed=256 idle_closed=256 last_close=([0-9]|1[0-2])\.[0-9]$' \
		"synacct closed all 512 within 12 s of their opening (slow headers too: a deadline, not an idle timer)"
	t_is "$(ip netns exec "$SRV" ss -Htn state established "( sport = :$MP )" | wc -l)" 0 \
		"ss in the namespace: no connection to the endpoint left"

	# A large page (5 000 scanned ports, each with a label) and 31 clients
	# that ask for it and never read: memory grows by the page's one
	# shared copy, not one per client.
	out=$(lab_flood --to $SRV_IP4 --port 10000 --port-span 5000 --count 5000 --src-net $SPOOF_NET4)
	t_is "$out" "sent=5000" "the scan sent 5000 SYNs"
	# Until a reading has the whole scan (15 s at most), then until the
	# next reading: the clients below come right after a rendering, so
	# none happens while they are measured (the allocator's reuse of
	# freed pages, ASan's quarantine above all, is not what is measured).
	for ((i = 0; i < 150; i++)); do
		size=$(ns_curl -sf "$murl" | tee "$LAB_DIR/page.big" | wc -c)
		[ "$(metric_sum "$LAB_DIR/page.big" synacct_nic_syn_total)" = 5000 ] && break
		sleep 0.1
	done
	read_at=$(awk '$1 == "synacct_last_read_timestamp_seconds" { print $2 }' "$LAB_DIR/page.big")
	for ((i = 0; i < 70; i++)); do
		[ "$(ns_curl -sf "$murl" | awk '$1 == "synacct_last_read_timestamp_seconds" { print $2 }')" != "$read_at" ] && break
		sleep 0.1
	done
	t_is "$(metric_sum "$LAB_DIR/page.big" synacct_nic_syn_total),$(grep -c '^synacct_nic_syn_total{port="1[0-4][0-9][0-9][0-9]"} 1$' "$LAB_DIR/page.big")" \
		"5000,5000" "the page: 5000 SYNs, one on each of 5000 labelled ports ($size bytes)"
	hwm0=$(vm_kib VmHWM)
	hog --stall 31 --wait 3 || return
	sleep 1
	hwm1=$(vm_kib VmHWM)
	t_is "$(cat "$LAB_DIR/hog.ready")" "open slow=0 idle=0 stall=31" \
		"31 clients asked for the page and do not read it"
	wait $HOG_PID
	t_ok "$(( hwm1 - hwm0 > 2 * size / 1024 + 31 * 256 ))" \
		"31 clients that never read a $((size / 1024)) KiB page: peak RSS grew $((hwm1 - hwm0)) KiB (<= two pages + 256 KiB a client)"
	code=$(ns_curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$murl")
	t_is "$code" 200 "... and the endpoint still answers"
	kill -INT $SA_PID; wait $SA_PID; rc=$?
	t_is "$rc" 0 "synacct exits 0 on SIGINT"
	t_is "$(cat "$LAB_DIR/quiet.err")" "" "... having written nothing on stderr"
}

# ---- alert rules ----

# am_inhibition: a real Alertmanager with configs/alertmanager-synacct.yml
# is sent alerts of three instances; the inhibit rules silence exactly
# what they should: h1's accept-queue alert while h1's synacct is down,
# h2's gap while h2 skipped runs; h3's alone stay active.
am_inhibition() {
	local ap url i a
	ap=$(lab_free_port) || exit 1
	url=http://127.0.0.1:$ap
	mkdir -p "$LAB_DIR/am"
	prometheus-alertmanager --config.file="$SA_ROOT/configs/alertmanager-synacct.yml" \
		--storage.path="$LAB_DIR/am" --web.listen-address="127.0.0.1:$ap" --cluster.listen-address= \
		>"$LAB_DIR/am.log" 2>&1 &
	LAB_PIDS+=($!)
	for ((i = 0; i < 100; i++)); do
		curl -sf -o /dev/null "$url/-/ready" && break
		sleep 0.1
	done
	for a in "SynacctDown instance=h1:9464" "SynacctAcceptQueueFull instance=h1:9464 port=8080" \
		"SynacctMissedRuns instance=h2:9464" "SynacctUnexplainedLoss instance=h2:9464 port=80 gap=at_listener" \
		"SynacctUnexplainedLoss instance=h3:9464 port=80 gap=at_listener" "SynacctAcceptQueueFull instance=h3:9464 port=8080"; do
		set -- $a
		amtool --alertmanager.url="$url" alert add alertname="$1" "${@:2}" >>"$LAB_DIR/am.log" 2>&1
	done
	t_is "$(curl -sf "$url/api/v2/alerts" | jq -r '[.[] | select(.status.state == "suppressed") |
		"\(.labels.alertname)@\(.labels.instance)"] | sort | join(" ")')" \
		"SynacctAcceptQueueFull@h1:9464 SynacctUnexplainedLoss@h2:9464" \
		"a real Alertmanager with the inhibit rules: h1's accept-queue alert silenced while h1's synacct is down, h2's gap while h2 skipped runs; h3's not"
}

sc_alert_rules() {
	local out rc sel f n
	out=$(promtool check rules "$SA_ROOT/configs/synacct-alerts.yml" 2>&1); rc=$?
	t_is "$rc" 0 "promtool check rules configs/synacct-alerts.yml"
	t_like "$out" "SUCCESS: 12 rules found" "... 12 rules"
	out=$(promtool check rules "$SA_ROOT/configs/synacct-rules.yml" 2>&1); rc=$?
	t_like "$rc:$out" "^0:.*SUCCESS: 16 rules found" "promtool check rules configs/synacct-rules.yml: 16 recording rules"
	out=$(promtool test rules "$SA_ROOT/selftests/prometheus/synacct-alerts.test.yml" 2>&1); rc=$?
	t_is "$rc" 0 "promtool test rules: every alert fires for the port that means it, and one incident fires one alert"
	[ $rc = 0 ] || echo "$out" | sed 's/^/# /'
	# The selector the rules' header tells how to add: with one every
	# test series matches (their jobs differ) the same alerts fire; with
	# a job no series has, none (the test then fails).
	mkdir -p "$LAB_DIR/sel/configs" "$LAB_DIR/sel/selftests/prometheus"
	cp "$SA_ROOT/selftests/prometheus/synacct-alerts.test.yml" "$LAB_DIR/sel/selftests/prometheus/"
	for sel in 'instance=~"h[0-9]:9[0-9]+"' 'job="nosuch"'; do
		# The header's sed line, its matcher replaced.
		eval "$(sed -n '/^#   sed -E/,/synacct-alerts.yml$/p' "$SA_ROOT/configs/synacct-alerts.yml" |
			sed 's/^#  *//; s/env="prod"/'"$sel"'/g; s#synacct-alerts.yml$#"$SA_ROOT/configs/synacct-alerts.yml"#')" \
			>"$LAB_DIR/sel/configs/synacct-alerts.yml"
		n=$(grep -oF "$sel" "$LAB_DIR/sel/configs/synacct-alerts.yml" | wc -l)
		promtool test rules "$LAB_DIR/sel/selftests/prometheus/synacct-alerts.test.yml" >/dev/null 2>&1; rc=$?
		if [ "$sel" != 'job="nosuch"' ]; then
			t_is "$rc:$n" "0:23" "the header's sed adds $sel to the rules' 23 selectors: promtool test rules passes"
		else
			t_is "$rc" 1 "... and with $sel, a job no series has, it fails (no alert fires)"
		fi
	done
	# runbook_url: every alert points at a section of docs/runbook.md
	# named after it, and every section is an alert's.
	grep -o 'runbook_url: "[^"]*"' "$SA_ROOT/configs/synacct-alerts.yml" | sed 's/.*#//; s/"$//' >"$LAB_DIR/urls"
	grep '^  - alert: \|^      - alert: ' "$SA_ROOT/configs/synacct-alerts.yml" | sed 's/.*alert: //' | tr 'A-Z' 'a-z' >"$LAB_DIR/alerts"
	sed -n 's/^## \(Synacct[A-Za-z]*\)$/\1/p' "$SA_ROOT/docs/runbook.md" | tr 'A-Z' 'a-z' >"$LAB_DIR/sections"
	t_is "$(paste -sd, "$LAB_DIR/urls")" "$(paste -sd, "$LAB_DIR/alerts")" \
		"every alert has a runbook_url, its anchor the alert's name ($(wc -l <"$LAB_DIR/alerts") alerts)"
	t_is "$(sort "$LAB_DIR/sections" | paste -sd,)" "$(sort "$LAB_DIR/alerts" | paste -sd,)" \
		"docs/runbook.md has one section per alert, no other"
	for f in $(cat "$LAB_DIR/sections"); do
		out=$(awk -v s="## $f" 'tolower($0) == s { on = 1; next } /^## / { on = 0 } on' "$SA_ROOT/docs/runbook.md")
		grep -q '^\*\*Means\.\*\*' <<<"$out" && grep -q '^\*\*Kernel counters\.\*\*' <<<"$out" &&
			grep -q '^\*\*Check\.\*\*' <<<"$out" && grep -q '^\*\*Do\.\*\*' <<<"$out"
		t_is $? 0 "docs/runbook.md, $f: what it means, kernel counters, what to check, what to do"
	done
	if command -v amtool >/dev/null && command -v prometheus-alertmanager >/dev/null; then
		out=$(amtool check-config "$SA_ROOT/configs/alertmanager-synacct.yml" 2>&1); rc=$?
		t_like "$rc:$out" "^0:.* 2 inhibit rules" "amtool check-config configs/alertmanager-synacct.yml: 2 inhibit rules"
		am_inhibition
	else
		for rc in 1 2; do
			T_NUM=$((T_NUM + 1)); echo "ok $T_NUM # SKIP tool: amtool, prometheus-alertmanager are not installed (Debian: prometheus-alertmanager)"
		done
	fi
	out=$(python3 -m json.tool "$SA_ROOT/configs/synacct-dashboard.json" 2>&1 >/dev/null); rc=$?
	t_is "$rc:$out" "0:" "configs/synacct-dashboard.json is valid JSON"
	# Grafana cannot render it here: what it would trip on, checked.
	out=$(python3 "$SA_ROOT/selftests/prometheus/promql-check.py" lint "$SA_ROOT/configs/synacct-dashboard.json" 2>&1)
	t_is "$out" "" "the dashboard: unique panel ids, panels within 24 columns and not over each other, every variable it uses defined"
}

# ---- a real Prometheus ----

# pq EXPR: an instant query's single value ("none" without a result).
pq() {
	curl -sfG "$PURL/api/v1/query" --data-urlencode "query=$1" |
		jq -r 'if .data.result | length == 1 then .data.result[0].value[1] else "none" end'
}

# rate_bound T0 T: how much larger than the exact rate a counter's rate
# at T can be, its series sampled every second from before T0 (the
# scrape interval) and flat since its last change: rate() extrapolates
# from the last sample to T when T is within 1.1 intervals of it, by that
# over the sampled span (1.2 s: a scrape late under load).
rate_bound() {
	awk -v t0="$1" -v t="$2" 'BEGIN { printf "%.6f", 1 + 1.32 / (t - t0 - 1.32) }'
}

# rate_range X: what a recorded rate reads at T for a counter whose rate
# there is X (rate_bound).
rate_range() { awk -v x="$1" -v b="$bound" 'BEGIN { print x ".." x * b }'; }

# promql_expect: what each expression of the rules and the dashboard
# returns at T (promql-check.py's --expect: NAME, MATCH, WANT), from the
# figures checked against the lab's nstat below (P, connected).
# An expression not listed must still return data.
promql_expect() {
	local a f r=$port sent_r conn_r aqf_r ack_r
	sent_r=$(awk -v n="${P[nic_syn]}" 'BEGIN { print n / 300 }')
	conn_r=$(awk -v n="$connected" 'BEGIN { print n / 300 }')
	aqf_r=$(awk -v n="${P[accept_queue_full]}" 'BEGIN { print n / 300 }')
	ack_r=$(awk -v n="${P[ack_dropped]}" 'BEGIN { print n / 300 }')
	# One alert fires: the accept queue's, with SYNs and ACKs dropped
	# (its head waits too, but the stalled alert is silent once it overflows).
	for a in SynQueueOverflow ListenerDropsOther SynCookiesInUse UnexplainedLoss CountsLost Down CountsReset \
		AcceptQueueStalled StageLost; do
		echo "alert:Synacct$a	-	none"
	done
	# Skipped runs depend on the machine's load, not on the lab: what
	# synacct counted by T, M, bounds them.
	# So do the host's backlog drops (softnet_stat is every namespace's):
	# at most what the kernel counted from before synacct started to T.
	local dq
	dq=$(curl -sfG "$PURL/api/v1/query" --data-urlencode "time=$T" --data-urlencode \
		'query=sum(increase(synacct_softnet_dropped_total[5m])) + sum(increase(synacct_driver_rx_missed_errors_total[5m])) + sum(increase(synacct_driver_rx_fifo_errors_total[5m]))' |
		jq -r '.data.result[0].value[1] // 0')
	echo "alert:SynacctDriverDrops (quantity)	-	0..$(awk -v k="$K" -v b="$bound" 'BEGIN { print k * b }')"
	if awk -v q="$dq" 'BEGIN { exit !(q > 0) }'; then
		echo "alert:SynacctDriverDrops	-	0..$(awk -v k="$K" -v b="$bound" 'BEGIN { print k * b }')"
	else
		echo "alert:SynacctDriverDrops	-	none"
	fi
	if [ "$M" = 0 ]; then
		echo "alert:SynacctMissedRuns	-	none"
	else
		echo "alert:SynacctMissedRuns	-	0..$(awk -v m="$M" -v b="$bound" 'BEGIN { print m * b }')"
	fi
	echo "alert:SynacctAcceptQueueFull	port=$r	$((P[accept_queue_full] + P[ack_dropped]))"
	echo "alert:SynacctAcceptQueueFull (quantity)	port=$r	$((P[accept_queue_full] + P[ack_dropped]))"
	# The queue's head waited since the first connection; no gauge where
	# the kernel's HZ is unknown.
	kernel_hz_known || echo "alert:SynacctAcceptQueueStalled (quantity)	-	none"
	for a in SynQueueOverflow ListenerDropsOther SynCookiesInUse UnexplainedLoss; do
		echo "alert:Synacct$a (quantity)	port=$r	0"
	done
	for a in CountsLost CountsReset; do echo "alert:Synacct$a (quantity)	-	0"; done
	echo "alert:SynacctMissedRuns (quantity)	-	0..$(awk -v m="$M" -v b="$bound" 'BEGIN { print m * b }')"
	echo "alert:SynacctDown (quantity)	-	1"
	for f in nic_syn tc_syn listener_syn; do echo "record:synacct:$f:rate5m	port=$r	$sent_r"; done
	for f in syn_queued established synack_sent; do echo "record:synacct:$f:rate5m	port=$r	$conn_r"; done
	for f in syncookies_sent syncookies_recv syncookies_failed accepted counts_lost; do
		echo "record:synacct:$f:rate5m	port=$r	0"
	done
	echo "record:synacct:ack_dropped_accept_full:rate5m	port=$r	$ack_r"
	echo "record:synacct:listen_drops:rate5m	port=$r,cause=accept_queue_full	$aqf_r"
	echo "record:synacct:listen_drops:rate5m	port=$r,cause=syn_queue_full	0"
	echo "record:synacct:listen_drops:rate5m	port=$r,cause=other	0"
	# Port 8199's series appear with its SYNs: the first sample may hold
	# some of the 10 already.
	echo "record:synacct:stack_drops:rate5m	port=8199,reason=NO_SOCKET	0..$(rate_range "$(awk 'BEGIN { print 10 / 300 }')" | sed 's/.*\.\.//')"
	echo "record:synacct:update_failed:rate5m	-	0"
	echo "record:synacct:missed_runs:rate5m	-	0..$(awk -v m="$M" -v b="$bound" 'BEGIN { print m / 300 * b }')"
	echo "var:job	job=lab-synacct	1"
	echo "var:instance	instance=127.0.0.1:$MP	1"
	echo "var:port	port=$r	1"
	for f in A:nic_syn B:tc_syn C:listener_syn; do echo "panel:SYN funnel per port/${f%%:*}	port=$r	$(rate_range "$sent_r")"; done
	for f in D F; do echo "panel:SYN funnel per port/$f	port=$r	$(rate_range "$conn_r")"; done
	for f in E G; do echo "panel:SYN funnel per port/$f	port=$r	0"; done
	echo "panel:Listener drops by cause/A	port=$r,cause=accept_queue_full	$(rate_range "$aqf_r")"
	echo "panel:Listener drops by cause/A	port=$r,cause=syn_queue_full	0"
	echo "panel:Listener drops by cause/A	port=$r,cause=other	0"
	echo "panel:Handshake ACKs dropped (accept queue full)/A	port=$r	$(rate_range "$ack_r")"
	echo "panel:Stack drops by reason/A	port=8199,reason=NO_SOCKET	0..$(rate_range "$(awk 'BEGIN { print 10 / 300 }')" | sed 's/.*\.\.//')"
	echo "panel:Accept queue/A	port=$r	${P[aq]%/*}"
	echo "panel:Accept queue/B	port=$r	${P[aq]#*/}"
	echo "panel:Unexplained gaps/A	port=$r	0"
	for f in A B C; do echo "panel:SYN cookies (per second)/$f	port=$r	0"; done
	echo "panel:Cookie mode/A	port=$r	0"
	echo "panel:Cookie mode/B	-	$(ip netns exec "$SRV" sysctl -n net.ipv4.tcp_syncookies)"
	echo "panel:Counts lost (per second)/A	port=$r	0"
	echo "panel:Counts lost (per second)/B	-	0"
	echo "panel:Missed runs (per second)/A	-	0..$(awk -v m="$M" -v b="$bound" 'BEGIN { print m / 300 * b }')"
	echo "panel:Age of the last reading/A	-	0..2"
	echo "panel:Scraped/A	-	1"
	echo "panel:Hooks/A	-	$(grep -c '^synacct_hooks_info{' "$LAB_DIR/page.run")"
}

sc_prometheus() {
	local name port srv cnt out connected t_end ts ts0 T bound i f c alerts console accepted sent PP PURL
	local got want what down cbound M
	local -A P
	metrics_port
	PP=$(lab_free_port) || exit 1
	PURL=http://127.0.0.1:$PP
	mkdir -p "$LAB_DIR/tsdb" "$LAB_DIR/consolelib"
	cp "$SA_ROOT/configs/synacct-alerts.yml" "$SA_ROOT/configs/synacct-rules.yml" "$LAB_DIR/"
	cat >"$LAB_DIR/prometheus.yml" <<-EOF
	global:
	  scrape_interval: 1s
	  evaluation_interval: 1s
	rule_files: [ synacct-alerts.yml, synacct-rules.yml ]
	scrape_configs:
	  # Not "synacct": the rules and the dashboard must not depend on it.
	  - job_name: lab-synacct
	    static_configs:
	      - targets: [ "127.0.0.1:$MP" ]
	EOF
	prometheus --config.file="$LAB_DIR/prometheus.yml" --storage.tsdb.path="$LAB_DIR/tsdb" \
		--web.listen-address="127.0.0.1:$PP" \
		--web.console.templates="$SA_ROOT/configs/consoles" \
		--web.console.libraries="$LAB_DIR/consolelib" >"$LAB_DIR/prometheus.log" 2>&1 &
	PROM_PID=$!; LAB_PIDS+=($PROM_PID)
	for ((i = 0; i < 100; i++)); do
		curl -sf -o /dev/null "$PURL/-/ready" && break
		sleep 0.1
	done
	t_is "$(curl -s -o /dev/null -w '%{http_code}' "$PURL/-/ready")" 200 "Prometheus is ready"

	name="accept queue overflow"
	port=8101
	lab_server $port --backlog 4 --accept none
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	softnet0=$(perl -ne '$s += hex((split)[1]); END { print $s + 0 }' /proc/net/softnet_stat)
	scenario_begin --metrics "127.0.0.1:$MP" --interval 0.5
	# The port's series from before the first SYN: increase() in the alert
	# rules counts from the first sample Prometheus has.
	for ((i = 0; i < 50; i++)); do
		[ "$(pq "synacct_listener_syn_total{port=\"$port\"}")" = 0 ] && break
		sleep 0.1
	done
	t_is "$(pq "synacct_listener_syn_total{port=\"$port\"}")" 0 "$name: Prometheus has the listening port's series before the first SYN"
	ts0=$(pq "timestamp(synacct_listener_syn_total{port=\"$port\"})")
	# SYNs to a closed port too: the summary then has stack_drops by reason.
	out=$(lab_flood --to $SRV_IP4 --port 8199 --count 10 --src-net $SPOOF_NET4)
	t_is "$out" "sent=10" "$name: 10 SYNs to the closed port 8199"
	out=$(lab_client --to $SRV_IP4 --port $port --count 30 --timeout-ms 2500)
	connected=${out#connected=}; connected=${connected%% *}
	# A sample Prometheus took after synacct's first reading after the clients.
	t_end=$(date +%s.%N)
	for ((i = 0; i < 100; i++)); do
		ts=$(pq "timestamp(synacct_listener_syn_total{port=\"$port\"})")
		[ "$ts" != none ] && awk -v a="$ts" -v b="$t_end" 'BEGIN { exit !(a > b + 0.6) }' && break
		sleep 0.1
	done
	t_is "$(pq 'up{job="lab-synacct"}')" 1 "$name: Prometheus scrapes synacct (up == 1)"
	for f in nic_syn tc_syn listener_syn syn_queued established synack_sent accepted syncookies_sent; do
		P[$f]=$(pq "synacct_${f}_total{port=\"$port\"}")
	done
	for c in accept_queue_full syn_queue_full other; do
		P[$c]=$(pq "synacct_listen_drops_total{port=\"$port\",cause=\"$c\"}")
	done
	P[aq]=$(pq "synacct_accept_queue_len{port=\"$port\"}")/$(pq "synacct_accept_backlog{port=\"$port\"}")
	P[unexplained]=$(pq "sum(abs(synacct_unexplained{port=\"$port\"}))")
	P[mib_overflows]=$(pq 'synacct_mib_total{counter="TcpExtListenOverflows"}')
	P[mib_passive]=$(pq 'synacct_mib_total{counter="TcpPassiveOpens"}')
	P[ack_dropped]=$(pq "synacct_ack_dropped_accept_full_total{port=\"$port\"}")
	# SynacctMissedRuns and SynacctDriverDrops aside: the machine's load
	# (the host's backlogs), not the lab, decides them.
	alerts=$(curl -sf "$PURL/api/v1/alerts" | jq -r \
		'[.data.alerts[] | select(.labels.alertname != "SynacctMissedRuns" and .labels.alertname != "SynacctDriverDrops") |
		  "\(.labels.alertname):\(.labels.port // "")"] | sort | join(",")')
	cbound=$(rate_bound "$ts0" "$(date +%s.%N)")
	console=$(curl -sf "$PURL/consoles/synacct.html")
	# synacct's own page once the lab is quiet and read again (two intervals).
	synacct_wait_quiet
	curl -sf "$MURL" >"$LAB_DIR/page.run"
	# Every expression of the rules and the dashboard, evaluated at T, a
	# sample of the quiet lab.  A counter's rate there is exact (its first
	# sample 0, T its last: no extrapolation); a recorded rate was taken
	# by the rule up to a scrape after its last sample, which rate()
	# extrapolates to (rate_bound).
	sleep 1
	T=$(pq "timestamp(synacct_listener_syn_total{port=\"$port\"})")
	bound=$(rate_bound "$ts0" "$T")
	M=$(curl -sfG "$PURL/api/v1/query" --data-urlencode 'query=sum(synacct_missed_runs_total)' --data-urlencode "time=$T" |
		jq -r '.data.result[0].value[1] // "none"')
	# The lab's veth has no ring to miss frames in: K is the host's
	# backlog drops since before synacct started.
	K=$(( $(perl -ne '$s += hex((split)[1]); END { print $s + 0 }' /proc/net/softnet_stat) - softnet0 ))
	promql_expect >"$LAB_DIR/expect"
	python3 "$SA_ROOT/selftests/prometheus/promql-check.py" check --url "$PURL" --time "$T" \
		--var job=lab-synacct --var instance="127.0.0.1:$MP" --var port=.+ --expect "$LAB_DIR/expect" \
		"$SA_ROOT/configs/synacct-alerts.yml" "$SA_ROOT/configs/synacct-rules.yml" \
		"$SA_ROOT/configs/synacct-dashboard.json" >"$LAB_DIR/promql" 2>&1
	scenario_end
	lab_server_stop $srv $cnt; accepted=$LAB_ACCEPTED
	sent=$(cli_sent)
	check_funnel "$name" $port

	t_is "$connected" 5 "$name: backlog 4 holds 5 connections"
	t_is "${P[nic_syn]},${P[tc_syn]},${P[listener_syn]}" "$sent,$sent,$sent" \
		"$name: Prometheus: nic_syn, tc_syn, listener_syn == SYNs the clients sent (their nstat)"
	t_is "${P[accept_queue_full]}" "$((sent - connected))" \
		"$name: Prometheus: listen_drops{cause=accept_queue_full} == SYNs sent - connections made"
	t_is "${P[accept_queue_full]}" "$(srv_delta TcpExtListenOverflows)" \
		"$name: Prometheus: listen_drops{cause=accept_queue_full} == ListenOverflows (nstat)"
	t_is "${P[syn_queue_full]},${P[other]},${P[syncookies_sent]}" "0,0,0" \
		"$name: Prometheus: no other cause, no cookies"
	t_is "${P[established]},${P[syn_queued]}" "$connected,$connected" \
		"$name: Prometheus: established, syn_queued == connections made"
	t_is "${P[established]}" "$(srv_delta TcpPassiveOpens)" "$name: Prometheus: established == PassiveOpens (nstat)"
	t_is "${P[synack_sent]}" "$connected" "$name: Prometheus: synack_sent == connections made"
	t_is "${P[accepted]}" "$accepted" "$name: Prometheus: accepted == what the server accepted (0)"
	t_is "${P[aq]}" "5/4" "$name: Prometheus: accept queue 5/4"
	t_is "${P[unexplained]}" 0 "$name: Prometheus: nothing unexplained"
	t_is "${P[mib_overflows]},${P[mib_passive]}" \
		"$(nstat_get "$LAB_DIR/srv.1" TcpExtListenOverflows),$(nstat_get "$LAB_DIR/srv.1" TcpPassiveOpens)" \
		"$name: Prometheus: synacct_mib_total == the namespace's nstat (absolute)"
	t_is "$(summary listen_drops.accept_queue_full $port),$(summary nic_syn $port),$(summary established $port)" \
		"${P[accept_queue_full]},${P[nic_syn]},${P[established]}" \
		"$name: Prometheus == synacct's own JSON summary"
	# Every number of the summary record has its series on the page of the
	# same run, with the same value (new maps: the totals are the run's);
	# only the exclusions docs/metrics.md lists have none.
	jq -c 'select(.type == "summary")' "$SA_OUT" >"$LAB_DIR/summary.json"
	out=$(json_metrics_check "$LAB_DIR/summary.json" "$LAB_DIR/page.run")
	t_is "$(grep -v '^checked ' <<<"$out")" "" \
		"$name: every number of the summary has its series on the page, same value ($(sed -n 's/^checked //p' <<<"$out") numbers; docs/metrics.md's exclusions only)"
	t_is "$(summary '.stack_drops.NO_SOCKET' 8199),$(grep -c '^synacct_stack_drops_total{port="8199",reason="NO_SOCKET"} 10$' "$LAB_DIR/page.run")" \
		"10,1" "$name: ... stack_drops.NO_SOCKET of port 8199 among them, 10 on both"
	# The verdict as data, the same on both: reconciled by one function,
	# of the same totals (new maps).
	t_is "$(summary '[.verdict.id, .verdict.severity] | join(" ")' $port)|$(summary '[.verdict.id, .verdict.severity] | join(" ")' 8199)" \
		"accept_queue_full critical|no_listener critical" \
		"$name: JSON verdict.id and verdict.severity: accept_queue_full, no_listener (port 8199), critical"
	t_is "$(grep -c "^synacct_verdict{port=\"$port\",id=\"accept_queue_full\",severity=\"critical\"} 1\$" "$LAB_DIR/page.run"),$(grep -c "^synacct_verdict{port=\"$port\"," "$LAB_DIR/page.run"),$(grep -c '^synacct_verdict{port="8199",id="no_listener",severity="critical"} 1$' "$LAB_DIR/page.run")" \
		"1,1,1" "$name: /metrics: synacct_verdict{port,id,severity} == the JSON's, one series per port"
	t_is "$alerts" "SynacctAcceptQueueFull:$port" \
		"$name: one alert pending, for port $port: SynacctAcceptQueueFull (SynacctMissedRuns aside)"

	# The rules and the dashboard, expression by expression.
	[ -s "$LAB_DIR/promql" ]
	t_ok $? "promql-check.py evaluated the rules and the dashboard ($(grep -c ' returns ' "$LAB_DIR/promql") expressions)"
	while IFS=$'\t' read -r got want what; do
		t_is "$got" "$want" "$name: $what"
	done <"$LAB_DIR/promql"
	# SynacctDown, synacct stopped: up is 0 for a target that served
	# synacct_info (its job is not "synacct").
	for ((i = 0; i < 50; i++)); do
		[ "$(pq 'up{job="lab-synacct"}')" = 0 ] && break
		sleep 0.1
	done
	down=$(python3 "$SA_ROOT/selftests/prometheus/promql-check.py" list "$SA_ROOT/configs/synacct-alerts.yml" |
		awk -F '\t' '$1 == "alert:SynacctDown" { print $2 }')
	t_is "$(pq "$down")" 0 "$name: synacct stopped: SynacctDown's expression returns its target (up 0)"

	# The console's row for the port, cell by cell.
	CONSOLE_ROW=$(tr -d '\n' <<<"$console" | grep -o "<tr class=\"port\" data-instance=\"127.0.0.1:$MP\" data-port=\"$port\">.*" | sed 's#</tr>.*##')
	t_is "$(console_cell nic_syn),$(console_cell tc_syn),$(console_cell listener_syn)" "$sent,$sent,$sent" \
		"$name: console synacct.html: nic_syn, tc_syn, listener_syn == SYNs sent"
	t_is "$(console_cell accept_queue_full),$(console_cell syn_queue_full),$(console_cell syn_queued),$(console_cell established)" \
		"$((sent - connected)),0,$connected,$connected" \
		"$name: console: accept_queue_full, syn_queue_full, syn_queued, established"
	t_is "$(console_cell accept_queue),$(console_cell accepted),$(console_cell unexplained)" "5/4,$accepted,0" \
		"$name: console: accept queue 5/4, accepted, unexplained"
	t_is "$(grep -o '<td class="[^"]*"><span class="total">-<\|<span class="rate">-<' <<<"$CONSOLE_ROW" | tr '\n' ' ')" "" \
		"$name: console: every cell has its total and its rate (no query returned nothing)"
	t_is "$(in_range "$(console_rate accept_queue_full)" "$(awk -v n="${P[accept_queue_full]}" 'BEGIN { print n / 300 * 0.99 }')" \
		"$(awk -v n="${P[accept_queue_full]}" -v cb="$cbound" 'BEGIN { print n / 300 * cb * 1.01 }')")" \
		"$(awk -v n="${P[accept_queue_full]}" -v cb="$cbound" 'BEGIN { print n / 300 * 0.99 ".." n / 300 * cb * 1.01 }')" \
		"$name: console: accept_queue_full's rate now is its total over 5 minutes (extrapolated by at most a scrape)"
	t_is "$(console_rate syn_queue_full),$(console_rate established)" "0,$(awk -v n="$connected" -v r="$(console_rate established)" -v cb="$cbound" \
		'BEGIN { print (r >= n / 300 * 0.99 && r <= n / 300 * cb * 1.01) ? r : "out of range" }')" \
		"$name: console: rates of syn_queue_full (0) and established"
	t_is "$(console_class accept_queue_full),$(console_class syn_queue_full),$(console_class other),$(console_class stack_drops),$(console_class unexplained)" \
		"accept_queue_full loss,syn_queue_full,other,stack_drops,unexplained" \
		"$name: console: only the non-zero loss (accept_queue_full) is marked red"
	# The console fits 1 400 px, an instance named as in a fleet: the
	# width Chromium lays it out in.
	if command -v chromium >/dev/null; then
		{ sed "s/127\.0\.0\.1:$MP/web-frontend-01.example.com:9464/g" <<<"$console"
		  echo '<script>document.title = "width=" + document.documentElement.scrollWidth;</script>'
		} >"$LAB_DIR/console.html"
		out=$(timeout 60 chromium --headless --no-sandbox --disable-gpu --window-size=1400,800 \
			--dump-dom "file://$LAB_DIR/console.html" 2>/dev/null | sed -n 's#.*<title>width=\([0-9]*\)</title>.*#\1#p')
		t_is "$out" 1400 "$name: console: laid out by Chromium in a 1400 px window, it is 1400 px wide (nothing cut)"
	else
		T_NUM=$((T_NUM + 1)); echo "ok $T_NUM # SKIP tool: chromium is not installed (Debian: chromium)"
	fi
}

lab_main "$@"
