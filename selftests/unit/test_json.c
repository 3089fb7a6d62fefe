// SPDX-License-Identifier: GPL-2.0
/*
 * test_json.c - every JSON record synacct writes (agent/output/report.c: start,
 * interval, summary) with hostile names in every string it carries (the
 * namespace, the interfaces, the XDP links' interface, mode and reason,
 * the hooks, a followed namespace's name, a drop reason's name as a
 * key): each line must be one JSON
 * object that json-c's strict parser, validating UTF-8, reads back, and
 * the names must read as sa_json_str writes them (invalid bytes as the
 * text \xNN, valid UTF-8 and controls as they are: JSON escapes those).
 * The oracle is json-c's parser, not synacct's escaper.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "escape.h"
#include "pod.h"
#include "ports.h"
#include "reconcile.h"
#include "report.h"
#include "stage.h"
#include "tap.h"

static void do_start(const void *rc, const void *v)
{
	(void)v;
	sa_report_start(rc);
}

static void do_interval(const void *rc, const void *v)
{
	sa_report_interval(rc, v, 1.0);
}

static void do_summary(const void *rc, const void *v)
{
	sa_report_summary(rc, v, 2.0);
}

/* @out as one JSON object (one line), strictly parsed with UTF-8
 * validation; NULL, said, if it is not. */
static struct json_object *parse_strict(const char *what, const char *out)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;
	size_t len = out ? strlen(out) : 0;

	if (!tok || !out) {
		diag("%s: no output", what);
		json_tokener_free(tok);
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	/* One line: the object and its newline, nothing after. */
	if (!len || out[len - 1] != '\n' || memchr(out, '\n', len - 1)) {
		diag("%s: not one line: '%s'", what, out);
		json_tokener_free(tok);
		return NULL;
	}
	o = json_tokener_parse_ex(tok, out, len - 1);
	if (!o || json_tokener_get_error(tok) != json_tokener_success) {
		diag("%s: json-c: %s", what,
		     json_tokener_error_desc(json_tokener_get_error(tok)));
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* The string at @path ("a.0.b": keys and array indexes) of @o, or "". */
static const char *str_at(struct json_object *o, const char *path)
{
	char buf[128], *save, *k;

	snprintf(buf, sizeof(buf), "%s", path);
	for (k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save)) {
		if (json_object_is_type(o, json_type_array))
			o = json_object_array_get_idx(o, atoi(k));
		else if (!json_object_object_get_ex(o, k, &o))
			o = NULL;
	}
	return o && json_object_is_type(o, json_type_string) ? json_object_get_string(o) : "";
}

/* The hostile name: invalid bytes, ESC, a C1 control in UTF-8, a quote,
 * a backslash, a newline, bidi override, é. */
#define HOSTILE		"x\xff\xfe\x1b[2J\xc2\x9b\"\\\n\xe2\x80\xae\xc3\xa9\xc0\xaf"
/* As sa_json_str writes it, as json-c reads it back. */
#define HOSTILE_JSON	"x\\xff\\xfe\x1b[2J\xc2\x9b\"\\\n\xe2\x80\xae\xc3\xa9\\xc0\\xaf"

/* A record too long for its bound folds the ports beyond into "other":
 * that row's followed namespace and pod are "other" too, never one
 * folded port's. */
static void folded_pods(void)
{
	static struct sa_pod pod = { .uid = "0b7a9c4e-5f1d-4c1a-9e8b-2a3c4d5e6f70",
				     .container_id = "3f2a1b0c9d8e", .ns = "shop", .name = "web-0" };
	struct sa_report_ctx rc = { .json = true, .interval_s = 1,
				    .m = { .nic = true, .stack = true, .follow = true } };
	struct sa_snapshot *s = sa_snapshot_new();
	struct sa_view v = { 0 };
	struct sa_portset shown;
	struct json_object *o, *ports = NULL, *last;
	char *out;
	int n = 0;

	/* 600 followed ports: over 256 KiB of rows. */
	for (__u32 port = 20000; s && port < 20600; port++) {
		struct sa_port_stats *ps = sa_snapshot_port(s, port);
		struct sa_port_follow *fw = ps ? sa_port_follow(ps) : NULL;

		if (!fw)
			break;
		sa_c_set(ps, SA_C_nic_syn, port);
		sa_c_set(ps, SA_C_tc_syn, port);
		sa_c_set(ps, SA_C_forwarded, port);
		sa_c_set(ps, SA_C_ct_listener_syn, port);
		fw->cookie = port;
		fw->netns = "cni-5a1e";
		fw->pod = &pod;
		fw->port = 80;
		n++;
	}
	sa_portset_parse(&shown, "20000-20599");
	if (!ok(n == 600 && sa_view_build(&v, s, rc.m, &shown, false) == 0,
		"600 ports followed into a pod's namespace"))
		goto cleanup;
	out = tap_capture(do_interval, &rc, &v);
	o = parse_strict("interval", out);
	if (o)
		json_object_object_get_ex(o, "ports", &ports);
	last = ports ? json_object_array_get_idx(ports, json_object_array_length(ports) - 1) : NULL;
	ok(out && strlen(out) <= 256 * 1024 && ports && json_object_array_length(ports) < 600,
	   "the interval record is bounded: fewer rows than ports");
	is_str(str_at(last, "port"), "other", "its last row is port \"other\"");
	is_str(str_at(last, "container.netns"), "other", "... whose container.netns is \"other\"");
	is_str(str_at(last, "container.pod_uid"), "other", "... container.pod_uid \"other\"");
	is_str(str_at(last, "container.pod"), "other", "... container.pod \"other\"");
	is_str(str_at(json_object_array_get_idx(ports, 0), "container.pod"), "web-0",
	       "a row kept: its pod");
	json_object_put(o);
	free(out);
cleanup:
	sa_view_free(&v);
	sa_snapshot_free(s);
}

void suite_json(void)
{
	static const char *const ifaces[] = { "eth0", HOSTILE };
	static const char *const hooks[] = { "xdp", HOSTILE };
	const struct sa_xdp_link links[] = {
		{ .iface = HOSTILE, .mode = HOSTILE, .reason = HOSTILE },
	};
	struct sa_report_ctx rc = {
		.netns = HOSTILE, .ifaces = ifaces, .n_ifaces = 2, .json = true,
		.m = { .nic = true, .stack = true, .follow = true },
		.xdp_mode = HOSTILE, .xdp_links = links, .n_xdp_links = 1,
		.hooks = hooks, .n_hooks = 2, .interval_s = 1,
	};
	struct sa_snapshot *s = sa_snapshot_new();
	struct sa_portset shown;
	struct sa_port_stats *ps;
	struct sa_port_follow *fw;
	struct sa_view v = { 0 };
	char esc[SA_ESC_SIZE(sizeof(HOSTILE))];
	/* Its pod, named by a hostile log directory: escaped where it
	 * entered (follow_find.c), as the namespace's name. */
	static struct sa_pod pod = { .uid = "0b7a9c4e-5f1d-4c1a-9e8b-2a3c4d5e6f70",
				     .container_id = "3f2a1b0c9d8e" };
	struct json_object *o;
	char *out, *reason3 = sa_reason_names[3];
	__u64 *drop;

	ps = s ? sa_snapshot_port(s, 8081) : NULL;
	fw = ps ? sa_port_follow(ps) : NULL;
	if (!ok(fw != NULL, "a snapshot with port 8081, followed into a namespace"))
		goto cleanup;
	sa_c_set(ps, SA_C_nic_syn, 3);
	sa_c_set(ps, SA_C_tc_syn, 3);
	/* A drop reason named by a module's BTF: a key of stack_drops. */
	drop = sa_port_drop(ps, 3);
	if (!ok(drop != NULL, "a drop reason on 8081"))
		goto cleanup;
	*drop = 2;
	sa_reason_names[3] = (char *)HOSTILE;	/* put back at the end */
	fw->cookie = 1;
	/* follow.c keeps a followed namespace's name escaped for the table. */
	fw->netns = sa_tty_str(HOSTILE, esc, sizeof(esc));
	fw->port = 80;
	sa_tty_str(HOSTILE, pod.ns, sizeof(pod.ns));
	sa_tty_str(HOSTILE, pod.name, sizeof(pod.name));
	fw->pod = &pod;
	sa_portset_parse(&shown, "8081");
	if (!ok(sa_view_build(&v, s, rc.m, &shown, false) == 0 && v.n_ports == 1,
		"a view of it"))
		goto cleanup;

	out = tap_capture(do_start, &rc, NULL);
	o = parse_strict("start", out);
	ok(o != NULL, "start record: strict JSON, valid UTF-8 (json-c)");
	is_str(str_at(o, "netns"), HOSTILE_JSON, "start: netns, invalid bytes as \\xNN");
	is_str(str_at(o, "ifaces.1"), HOSTILE_JSON, "start: ifaces[1]");
	is_str(str_at(o, "xdp.0.iface"), HOSTILE_JSON, "start: xdp[0].iface");
	is_str(str_at(o, "xdp.0.mode"), HOSTILE_JSON, "start: xdp[0].mode");
	is_str(str_at(o, "xdp.0.reason"), HOSTILE_JSON, "start: xdp[0].reason");
	is_str(str_at(o, "hooks.1"), HOSTILE_JSON, "start: hooks[1]");
	is_str(str_at(o, "xdp_mode"), HOSTILE_JSON, "start: xdp_mode");
	json_object_put(o);
	free(out);

	out = tap_capture(do_interval, &rc, &v);
	o = parse_strict("interval", out);
	ok(o != NULL, "interval record: strict JSON, valid UTF-8 (json-c)");
	is_str(str_at(o, "netns"), HOSTILE_JSON, "interval: netns");
	is_str(str_at(o, "ifaces.1"), HOSTILE_JSON, "interval: ifaces[1]");
	is_str(str_at(o, "ports.0.container.netns"), esc,
	       "interval: ports[0].container.netns, the table's escaping");
	is_str(str_at(o, "ports.0.container.pod_uid"), pod.uid, "interval: container.pod_uid");
	is_str(str_at(o, "ports.0.container.container_id"), pod.container_id,
	       "interval: container.container_id");
	is_str(str_at(o, "ports.0.container.pod_namespace"), esc,
	       "interval: container.pod_namespace, the table's escaping");
	is_str(str_at(o, "ports.0.container.pod"), esc, "interval: container.pod, the same");
	json_object_put(o);
	free(out);

	out = tap_capture(do_summary, &rc, &v);
	o = parse_strict("summary", out);
	ok(o != NULL, "summary record: strict JSON, valid UTF-8 (json-c)");
	is_str(str_at(o, "netns"), HOSTILE_JSON, "summary: netns");
	is_str(str_at(o, "hooks.1"), HOSTILE_JSON, "summary: hooks[1]");
	is_str(str_at(o, "ports.0.container.netns"), esc, "summary: ports[0].container.netns");
	is_str(str_at(o, "ports.0.container.pod"), esc, "summary: container.pod");
	{
		struct json_object *sd = NULL, *p = NULL;

		if (json_object_object_get_ex(o, "ports", &p) &&
		    json_object_is_type(p, json_type_array))
			json_object_object_get_ex(json_object_array_get_idx(p, 0),
						  "stack_drops", &sd);
		ok(sd && json_object_object_get_ex(sd, HOSTILE_JSON, NULL),
		   "summary: a drop reason's name, as a key, escaped too");
	}
	json_object_put(o);
	free(out);

	/* A namespace that is no pod's: the four are null. */
	pod.uid[0] = pod.container_id[0] = pod.ns[0] = pod.name[0] = '\0';
	fw->pod = NULL;
	out = tap_capture(do_summary, &rc, &v);
	o = parse_strict("summary", out);
	{
		struct json_object *p = NULL, *c = NULL;
		int nulls = 0;

		if (o && json_object_object_get_ex(o, "ports", &p))
			json_object_object_get_ex(json_object_array_get_idx(p, 0), "container", &c);
		for (int i = 0; c && i < 4; i++) {
			static const char *const keys[] = { "pod_uid", "pod_namespace", "pod",
							    "container_id" };
			struct json_object *k = NULL;

			nulls += json_object_object_get_ex(c, keys[i], &k) && !k;
		}
		is_int(nulls, 4, "no pod: container.pod_uid, pod_namespace, pod, container_id null");
	}
	json_object_put(o);
	free(out);

	folded_pods();
cleanup:
	sa_reason_names[3] = reason3;
	sa_view_free(&v);
	sa_snapshot_free(s);
}
