#!/bin/bash
# Fleet collection (docs/deploy.md, "Many hosts, many sites"): a
# Prometheus in agent mode scrapes a lab synacct and remote_writes to a
# second Prometheus, the receiver; both are Debian's prometheus, on
# loopback, each with its own port and data directory.  A SYN flood the
# test sent reaches the receiver exactly: its series of synacct's
# counters == the SYNs sent, == synacct's own summary, == the kernel's
# counters; and the receiver holds every series of synacct's page, with
# the labels the page gave and the counters' values.
#   selftests/t/61-fleet.t [--list] [SCENARIO...]
. "$(dirname "$0")/../lib/lab.sh"

LAB_SCENARIOS=(remote_write)
LAB_REQUIRE=require_tools

require_tools() {
	command -v prometheus >/dev/null ||
		t_skip_all "tool: Debian's prometheus package is not installed (make deps installs it)"
	command -v curl >/dev/null && command -v python3 >/dev/null ||
		t_skip_all "tool: curl or python3 is not installed (make deps installs them)"
}

# prom_start NAME PORT ARGS...: a Prometheus on 127.0.0.1:PORT, its log
# in LAB_DIR/NAME.log; lab_teardown stops it (LAB_PIDS) and removes its
# data directory (under LAB_DIR) on every exit path.
prom_start() {
	local name=$1 port=$2; shift 2
	prometheus --web.listen-address="127.0.0.1:$port" "$@" >"$LAB_DIR/$name.log" 2>&1 &
	LAB_PIDS+=($!)
}

# prom_ready PORT: until the Prometheus on PORT is ready (10 s).
prom_ready() {
	local i
	for ((i = 0; i < 100; i++)); do
		curl -sf -o /dev/null "http://127.0.0.1:$1/-/ready" && return 0
		sleep 0.1
	done
	return 1
}

# rq EXPR [TIME]: an instant query of the receiver (at TIME, default
# now), its single value ("none" without exactly one result).
rq() {
	curl -sfG "$RURL/api/v1/query" --data-urlencode "query=$1" ${2:+--data-urlencode "time=$2"} |
		jq -r 'if .data.result | length == 1 then .data.result[0].value[1] else "none" end'
}

# recv_scrape JOB T: the receiver's samples of synacct's series of JOB
# stamped T (one scrape of the agent's: every sample of a scrape has its
# time), from a range query (an instant query would also take older
# samples of series whose sample of T has not arrived yet).  To
# LAB_DIR/receiver.json.
recv_scrape() {
	curl -sfG "$RURL/api/v1/query" --data-urlencode "query={job=\"$1\",__name__=~\"synacct_.+|process_.+\"}[3s]" \
		--data-urlencode "time=$2" >"$LAB_DIR/receiver.json"
}

# page_vs_receiver PAGE JSON T [PORTS]: every series of synacct's page
# (only those whose port label, "" without one, matches the regular
# expression PORTS) against the receiver's samples stamped T (JSON:
# recv_scrape's), less the labels the
# agent added (job, instance, node).  Prints "series N" (the page's),
# "at_t N" (the receiver's) and a line per difference: a series on one
# side only, or a counter (`_total`) whose value differs
# (process_cpu_seconds_total apart: it moves between the two readings).
page_vs_receiver() {
	python3 - "$1" "$2" "$3" "${4:-.*}" <<-'EOF'
	import json, re, sys
	lab = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
	def key(name, labels):
	    return name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
	page = {}
	for line in open(sys.argv[1]):
	    if line.startswith("#") or not line.strip():
	        continue
	    series, value = line.rsplit(" ", 1)
	    name, _, labels = series.partition("{")
	    # the exposition format's escapes, as Prometheus reads them
	    # (a label with an empty value is no label, to Prometheus)
	    labels = {k: v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
	              for k, v in lab.findall(labels) if v}
	    if re.fullmatch(sys.argv[4], labels.get("port", "")):
	        page[key(name, labels)] = float(value)
	t = round(float(sys.argv[3]) * 1000)
	recv = {}
	for r in json.load(open(sys.argv[2]))["data"]["result"]:
	    m = dict(r["metric"])
	    name = m.pop("__name__")
	    for k in ("job", "instance", "node"):
	        m.pop(k, None)
	    for ts, v in r["values"]:
	        if round(ts * 1000) == t:
	            recv[key(name, m)] = float(v)
	print("series", len(page))
	print("at_t", len(recv))
	for k in sorted(set(page) - set(recv)):
	    print("only on the page:", k)
	for k in sorted(set(recv) - set(page)):
	    print("only in the receiver:", k)
	for k in sorted(set(page) & set(recv)):
	    if k.split("{")[0].endswith("_total") and not k.startswith("process_cpu_seconds_total{") \
	       and page[k] != recv[k]:
	        print(f"{k}: page {page[k]:g}, receiver {recv[k]:g}")
	EOF
}

sc_remote_write() {
	local name="agent mode, remote_write" port=8080 idle=8081 n=300 J='job="fleet-synacct"' T2 cmp2 mp ap rp murl aurl srv cnt out
	local i T t_end rx0 rx f cmp code
	local -A R
	mp=$(lab_free_port) && ap=$(lab_free_port) && rp=$(lab_free_port) || exit 1
	murl=http://127.0.0.1:$mp/metrics
	aurl=http://127.0.0.1:$ap
	RURL=http://127.0.0.1:$rp
	# The receiver: no scrape of its own, only what remote_write sends.
	printf 'global:\n  scrape_interval: 1s\n' >"$LAB_DIR/receiver.yml"
	prom_start receiver "$rp" --config.file="$LAB_DIR/receiver.yml" \
		--storage.tsdb.path="$LAB_DIR/receiver-tsdb" --web.enable-remote-write-receiver
	# The agent, as docs/deploy.md configures it: the node's synacct on
	# loopback, a label naming the node, remote_write to the receiver
	# (batches sent within 1 s, not the default 5 s, to keep the test short;
	# at its end it tries to send what it holds for 1 s, not a minute, as
	# lab_teardown stops the receiver at the same time).
	cat >"$LAB_DIR/agent.yml" <<-EOF
	global:
	  scrape_interval: 1s
	  external_labels: { node: lab-node-1 }
	scrape_configs:
	  - job_name: fleet-synacct
	    static_configs: [ { targets: [ "127.0.0.1:$mp" ] } ]
	  # docs/deploy.md's recipe: only the ports a fleet wants (here
	  # $port), "other" and the series without a port.
	  - job_name: fleet-ports
	    static_configs: [ { targets: [ "127.0.0.1:$mp" ] } ]
	    metric_relabel_configs:
	      - { source_labels: [ port ], regex: '|other|$port', action: keep }
	remote_write:
	  - url: $RURL/api/v1/write
	    queue_config: { batch_send_deadline: 1s }
	EOF
	prom_start agent "$ap" --enable-feature=agent --config.file="$LAB_DIR/agent.yml" \
		--storage.agent.path="$LAB_DIR/agent-wal" --storage.remote.flush-deadline=1s
	prom_ready "$rp"
	t_ok $? "$name: the receiving Prometheus is ready (--web.enable-remote-write-receiver, 127.0.0.1:$rp)"
	prom_ready "$ap"
	t_ok $? "$name: the Prometheus agent is ready (--enable-feature=agent, 127.0.0.1:$ap)"
	# An agent keeps no TSDB to query: what the receiver has came through
	# remote_write.
	code=$(curl -s -o /dev/null -w '%{http_code}' "$aurl/api/v1/query?query=up")
	t_is "$([ "$code" != 200 ] && echo refused || echo "answered ($code)")" refused \
		"$name: the agent answers no query (agent mode: HTTP $code)"

	lab_sysctl "$SRV" net.ipv4.tcp_syncookies=2	# every SYN answered with a cookie
	lab_server $port --accept all
	srv=$LAB_SERVER_PID; cnt=$LAB_SERVER_COUNT
	lab_server $idle	# a listening port fleet-ports drops
	rx0=$(lab_link_stat "$SRV" "$SRV_IF" rx packets)
	scenario_begin --metrics "127.0.0.1:$mp" --interval 0.5
	# The port's series reach the receiver before the first SYN.
	for ((i = 0; i < 150; i++)); do
		[ "$(rq "synacct_listener_syn_total{$J,port=\"$port\"}")" = 0 ] && break
		sleep 0.1
	done
	t_is "$(rq "synacct_listener_syn_total{port=\"$port\",job=\"fleet-synacct\",node=\"lab-node-1\"}")" 0 \
		"$name: the receiver has the port's series, job and node labels, before the first SYN"

	out=$(lab_flood --to $SRV_IP4 --port $port --count $n --src-net $SPOOF_NET4)
	t_is "$out" "sent=$n" "$name: $n SYNs to port $port"
	t_end=$(date +%s.%N)
	synacct_wait_quiet
	metrics_wait_read "$murl" "$t_end"
	curl -sf "$murl" >"$LAB_DIR/page"
	# T: the newest scrape in the receiver, once it has one of a page
	# with synacct's reading of the flood (synacct_last_read_timestamp_seconds
	# past its end); then its samples of every series: those of one
	# scrape may come in more than one remote_write batch.
	for ((i = 0; i < 150; i++)); do
		awk -v a="$(rq "synacct_last_read_timestamp_seconds{$J}")" -v b="$t_end" \
			'BEGIN { exit !(a != "none" && a > b) }' && break
		sleep 0.1
	done
	T=$(rq "timestamp(synacct_last_read_timestamp_seconds{$J})")
	awk -v a="$(rq "synacct_last_read_timestamp_seconds{$J}" "$T")" -v b="$t_end" 'BEGIN { exit !(a != "none" && a > b) }'
	t_ok $? "$name: the receiver has a scrape of synacct's reading of the flood (at $T)"
	for ((i = 0; i < 50; i++)); do
		recv_scrape fleet-synacct "$T"
		cmp=$(page_vs_receiver "$LAB_DIR/page" "$LAB_DIR/receiver.json" "$T")
		[ "$(sed -n 's/^at_t //p' <<<"$cmp")" -ge "$(sed -n 's/^series //p' <<<"$cmp")" ] &&
			[ "$(rq 'timestamp(scrape_samples_scraped{job="fleet-synacct"})' "$T")" = "$T" ] && break
		sleep 0.1
	done
	for f in nic_syn tc_syn listener_syn syncookies_sent synack_sent syn_queued; do
		R[$f]=$(rq "synacct_${f}_total{$J,port=\"$port\"}" "$T")
	done
	R[mib]=$(rq "synacct_mib_total{$J,counter=\"TcpExtSyncookiesSent\"}" "$T")
	R[up]=$(rq 'up{job="fleet-synacct"}' "$T")
	R[scraped]=$(rq 'scrape_samples_scraped{job="fleet-synacct"}' "$T")
	# fleet-ports' newest scrape at or after T (a page at least as new),
	# all of it.
	for ((i = 0; i < 50; i++)); do
		T2=$(rq 'timestamp(synacct_last_read_timestamp_seconds{job="fleet-ports"})')
		if awk -v a="$T2" -v b="$T" 'BEGIN { exit !(a != "none" && a >= b) }'; then
			recv_scrape fleet-ports "$T2"
			cmp2=$(page_vs_receiver "$LAB_DIR/page" "$LAB_DIR/receiver.json" "$T2" "|other|$port")
			[ "$(sed -n 's/^at_t //p' <<<"$cmp2")" -ge "$(sed -n 's/^series //p' <<<"$cmp2")" ] && break
		fi
		sleep 0.1
	done
	# The agent's own account of what it sent.
	curl -sf "$aurl/metrics" >"$LAB_DIR/agent.metrics"
	scenario_end
	lab_server_stop $srv $cnt
	rx=$(( $(lab_link_stat "$SRV" "$SRV_IF" rx packets) - rx0 ))
	check_funnel "$name" $port

	t_is "${R[up]}" 1 "$name: receiver: up{job=fleet-synacct} == 1 (the agent's scrape, remote-written)"
	t_is "${R[nic_syn]},${R[tc_syn]},${R[listener_syn]}" "$n,$n,$n" \
		"$name: receiver: nic_syn, tc_syn, listener_syn == SYNs sent ($n)"
	t_is "${R[nic_syn]}" "$rx" "$name: receiver: nic_syn == the server veth's rx packets"
	t_is "${R[syncookies_sent]},${R[synack_sent]},${R[syn_queued]}" "$n,$n,0" \
		"$name: receiver: syncookies_sent, synack_sent == $n, syn_queued == 0 (tcp_syncookies=2)"
	t_is "${R[syncookies_sent]}" "$(srv_delta TcpExtSyncookiesSent)" \
		"$name: receiver: syncookies_sent == SyncookiesSent (nstat)"
	t_is "${R[mib]}" "$(nstat_get "$LAB_DIR/srv.1" TcpExtSyncookiesSent)" \
		"$name: receiver: synacct_mib_total{counter=TcpExtSyncookiesSent} == the namespace's nstat (absolute)"
	t_is "$(summary nic_syn $port),$(summary tc_syn $port),$(summary listener_syn $port),$(summary syncookies_sent $port),$(summary synack_sent $port)" \
		"${R[nic_syn]},${R[tc_syn]},${R[listener_syn]},${R[syncookies_sent]},${R[synack_sent]}" \
		"$name: receiver == synacct's own JSON summary (nic_syn, tc_syn, listener_syn, syncookies_sent, synack_sent)"
	t_is "$(grep -v '^series \|^at_t ' <<<"$cmp")" "" \
		"$name: the receiver holds every series of synacct's page and no other, labels as served, every counter's value ($(sed -n 's/^series //p' <<<"$cmp") series)"
	t_is "$(grep -c "[{,]port=\"$idle\"" "$LAB_DIR/page"),$(grep -v '^series \|^at_t ' <<<"$cmp2")" \
		"$(grep -c "[{,]port=\"$idle\"" "$LAB_DIR/page")," \
		"$name: job fleet-ports (metric_relabel_configs keep port '|other|$port'): exactly the page's series of port $port, other and none, counters' values as served ($(sed -n 's/^series //p' <<<"$cmp2") of $(sed -n 's/^series //p' <<<"$cmp"); port $idle's $(grep -c "[{,]port=\"$idle\"" "$LAB_DIR/page") dropped)"
	t_is "${R[scraped]}" "$(grep -vc '^#' "$LAB_DIR/page")" \
		"$name: receiver: scrape_samples_scraped == the sample lines of synacct's page"
	# One series of each family: the one remote_write queue.
	t_is "$(awk '$1 ~ /^prometheus_remote_storage_samples_(failed|dropped)_total($|{)/ { s += $2; n++ } END { print s + 0 " in " n + 0 " series" }' "$LAB_DIR/agent.metrics")" \
		"0 in 2 series" "$name: the agent failed or dropped no sample (prometheus_remote_storage_samples_{failed,dropped}_total)"
}

lab_main "$@"
