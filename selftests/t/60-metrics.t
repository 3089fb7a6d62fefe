#!/bin/bash
# /metrics: usage errors; the endpoint stays in the namespace synacct was
# started in; the page is clean under promtool and lists exactly the
# families of docs/metrics.md; every number of a JSON summary has its
# series on the page of the same run; bounded cardinality (--metrics-top, "other")
# with exact sums; then a real Prometheus scrapes synacct during an
# accept-queue overflow and its HTTP API, its alert rules and the console
# template give the figures the lab's ground truth and nstat give.  Each
# scenario runs in a lab of its own:
#   selftests/t/60-metrics.t [--list] [SCENARIO...]
. "$(dirname "$0")/../lib/lab.sh"

LAB_SCENARIOS=(usage_errors endpoint scan_page alert_rules prometheus)
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

# console_cell NAME: a cell of CONSOLE_ROW, a port's row of the console.
console_cell() { sed -n "s#.*<td class=\"$1[a-z ]*\">\([^<]*\)</td>.*#\1#p" <<<"$CONSOLE_ROW"; }

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
	local err rc
	metrics_port
	start_quiet
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
	kill -INT $SA_PID; wait $SA_PID
}

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
	kill -INT $SA_PID; wait $SA_PID; rc=$?
	t_is "$rc" 0 "--quiet synacct exits 0 on SIGINT"
	t_is "$(cat "$LAB_DIR/quiet.out")" "" "--quiet writes nothing on stdout"
	t_is "$(cat "$LAB_DIR/quiet.err")" "" "... nor on stderr"
	t_is "$(ss -Hltn "sport = :$MP" | wc -l)" 0 "the metrics socket is closed on exit"

	out=$(promtool check metrics <"$LAB_DIR/page" 2>&1); rc=$?
	t_is "$rc:$out" "0:" "promtool check metrics: clean (no error, no lint)"
	grep -o '^# TYPE [a-z_]* [a-z]*' "$LAB_DIR/page" | awk '{ print $3, $4 }' >"$LAB_DIR/families.page"
	sed -n 's/^| `\(synacct_[a-z_]*\)` | \([a-z]*\) |.*/\1 \2/p' "$SA_ROOT/docs/metrics.md" >"$LAB_DIR/families.doc"
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
}

# ---- alert rules ----

sc_alert_rules() {
	local out rc
	out=$(promtool check rules "$SA_ROOT/configs/synacct-alerts.yml" 2>&1); rc=$?
	t_is "$rc" 0 "promtool check rules configs/synacct-alerts.yml"
	t_like "$out" "SUCCESS: 9 rules found" "... 9 rules"
	out=$(promtool test rules "$SA_ROOT/selftests/prometheus/synacct-alerts.test.yml" 2>&1); rc=$?
	t_is "$rc" 0 "promtool test rules: every alert fires for the port that means it, and only then"
	[ $rc = 0 ] || echo "$out" | sed 's/^/# /'
}

# ---- a real Prometheus ----

# pq EXPR: an instant query's single value ("none" without a result).
pq() {
	curl -sfG "$PURL/api/v1/query" --data-urlencode "query=$1" |
		jq -r 'if .data.result | length == 1 then .data.result[0].value[1] else "none" end'
}

sc_prometheus() {
	local name port srv cnt out connected t_end ts i f c alerts console accepted sent PP PURL
	local -A P
	metrics_port
	PP=$(lab_free_port) || exit 1
	PURL=http://127.0.0.1:$PP
	mkdir -p "$LAB_DIR/tsdb" "$LAB_DIR/consolelib"
	cp "$SA_ROOT/configs/synacct-alerts.yml" "$LAB_DIR/"
	cat >"$LAB_DIR/prometheus.yml" <<-EOF
	global:
	  scrape_interval: 1s
	  evaluation_interval: 1s
	rule_files: [ synacct-alerts.yml ]
	scrape_configs:
	  - job_name: synacct
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
	scenario_begin --metrics "127.0.0.1:$MP" --interval 0.5
	# The port's series from before the first SYN: increase() in the alert
	# rules counts from the first sample Prometheus has.
	for ((i = 0; i < 50; i++)); do
		[ "$(pq "synacct_listener_syn_total{port=\"$port\"}")" = 0 ] && break
		sleep 0.1
	done
	t_is "$(pq "synacct_listener_syn_total{port=\"$port\"}")" 0 "$name: Prometheus has the listening port's series before the first SYN"
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
	t_is "$(pq "up{job=\"synacct\"}")" 1 "$name: Prometheus scrapes synacct (up == 1)"
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
	alerts=$(curl -sf "$PURL/api/v1/alerts" | jq -r --arg p $port \
		'[.data.alerts[] | select(.labels.port == $p) | .labels.alertname] | sort | join(",")')
	console=$(curl -sf "$PURL/consoles/synacct.html")
	# synacct's own page once the lab is quiet and read again (two intervals).
	synacct_wait_quiet
	curl -sf "$MURL" >"$LAB_DIR/page.run"
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
	t_is "$(summary '[.verdict_id, .severity] | join(" ")' $port)|$(summary '[.verdict_id, .severity] | join(" ")' 8199)" \
		"accept_queue_full critical|no_listener critical" \
		"$name: JSON verdict_id and severity: accept_queue_full, no_listener (port 8199), critical"
	t_is "$(grep -c "^synacct_verdict{port=\"$port\",id=\"accept_queue_full\",severity=\"critical\"} 1\$" "$LAB_DIR/page.run"),$(grep -c "^synacct_verdict{port=\"$port\"," "$LAB_DIR/page.run"),$(grep -c '^synacct_verdict{port="8199",id="no_listener",severity="critical"} 1$' "$LAB_DIR/page.run")" \
		"1,1,1" "$name: /metrics: synacct_verdict{port,id,severity} == the JSON's, one series per port"
	t_is "$alerts" "SynacctAcceptQueueFull,SynacctListenerLosingSyns" \
		"$name: alerts pending for port $port: accept queue full, losing SYNs at the listener"

	# The console's row for the port, cell by cell.
	CONSOLE_ROW=$(tr -d '\n' <<<"$console" | grep -o "<tr class=\"port\" data-instance=\"127.0.0.1:$MP\" data-port=\"$port\">.*" | sed 's#</tr>.*##')
	t_is "$(console_cell nic_syn),$(console_cell tc_syn),$(console_cell listener_syn)" "$sent,$sent,$sent" \
		"$name: console synacct.html: nic_syn, tc_syn, listener_syn == SYNs sent"
	t_is "$(console_cell accept_queue_full),$(console_cell syn_queue_full),$(console_cell syn_queued),$(console_cell established)" \
		"$((sent - connected)),0,$connected,$connected" \
		"$name: console: accept_queue_full, syn_queue_full, syn_queued, established"
	t_is "$(console_cell accept_queue),$(console_cell accepted),$(console_cell unexplained)" "5/4,$accepted,0" \
		"$name: console: accept queue 5/4, accepted, unexplained"
}

lab_main "$@"
