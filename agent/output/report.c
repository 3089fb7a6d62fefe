// SPDX-License-Identifier: GPL-2.0
/*
 * report.c - the records synacct writes: JSON lines through json-c (one
 * object per record), or the table (table.c) for people.
 *
 * Key names are a public interface and come from the counter table
 * (include/synacct.h, counters.h): the same word names a quantity in the
 * BPF maps, the JSON, the table and the docs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <json-c/json.h>
#include <net/if.h>
#include "escape.h"
#include "pod.h"
#include "report.h"
#include "stage.h"
#include "table.h"

void sa_select_ports(const struct sa_portset *sel, const struct sa_snapshot *s,
		     const struct sa_portset *listeners, struct sa_portset *out)
{
	memset(out, 0, sizeof(*out));
	for (__u32 p = 0; p < SA_MAX_PORTS; p++) {
		bool seen = s->port[p] && !sa_port_stats_zero(s->port[p]);

		if (!sa_portset_has(sel, p))
			continue;
		if (seen || sa_portset_has(listeners, p))
			sa_portset_add(out, p);
	}
}

void sa_now_iso8601(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

static struct json_object *ju64(__u64 v)
{
	return json_object_new_uint64(v);
}

/* ---- JSON ---- */

/* A key read from outside (a drop reason's name, from the kernel's or a
 * module's BTF) escaped as a value is; json-c copies the key. */
static void add_escaped_key(struct json_object *o, const char *key, struct json_object *v)
{
	size_t n = SA_ESC_SIZE(strlen(key));
	char *k = malloc(n);

	if (!k) {
		json_object_put(v);
		return;
	}
	json_object_object_add(o, sa_json_str(key, k, n), v);
	free(k);
}

struct json_object *sa_json_string(const char *s)
{
	char stack[SA_ESC_SIZE(256)], *q = stack;
	size_t n = SA_ESC_SIZE(strlen(s));
	struct json_object *o;

	if (n > sizeof(stack)) {
		q = malloc(n);
		if (!q)
			return NULL;	/* null in the record, never raw bytes */
	}
	o = json_object_new_string(sa_json_str(s, q, n));
	if (q != stack)
		free(q);
	return o;
}

static struct json_object *json_header(const struct sa_report_ctx *rc,
				       const char *type)
{
	struct json_object *o = json_object_new_object();
	struct json_object *ifs = json_object_new_array();
	char ts[64];

	sa_now_iso8601(ts, sizeof(ts));
	json_object_object_add(o, "type", sa_json_string(type));
	json_object_object_add(o, "time", sa_json_string(ts));
	/* Names others chose: valid UTF-8 whatever their bytes. */
	json_object_object_add(o, "netns", rc->netns ? sa_json_string(rc->netns) : NULL);
	for (int i = 0; i < rc->n_ifaces; i++)
		json_object_array_add(ifs, sa_json_string(rc->ifaces[i]));
	json_object_object_add(o, "ifaces", ifs);
	return o;
}

/* Per interface: the XDP mode it got and why ([] with --no-xdp). */
static struct json_object *json_xdp_links(const struct sa_report_ctx *rc)
{
	struct json_object *a = json_object_new_array();

	for (int i = 0; i < rc->n_xdp_links; i++) {
		struct json_object *l = json_object_new_object();

		json_object_object_add(l, "iface", sa_json_string(rc->xdp_links[i].iface));
		json_object_object_add(l, "mode", sa_json_string(rc->xdp_links[i].mode));
		json_object_object_add(l, "reason", sa_json_string(rc->xdp_links[i].reason));
		json_object_array_add(a, l);
	}
	return a;
}

static struct json_object *json_hooks(const struct sa_report_ctx *rc)
{
	struct json_object *a = json_object_new_array();

	for (int i = 0; i < rc->n_hooks; i++)
		json_object_array_add(a, sa_json_string(rc->hooks[i]));
	return a;
}

/* Add @n to key @key of object @group of @o, both created on first use;
 * keys that repeat (the same MSS in the IPv4 and IPv6 tables) add up. */
static void json_group_add(struct json_object *o, const char *group,
			   const char *key, __u64 n)
{
	struct json_object *g, *old;

	if (!json_object_object_get_ex(o, group, &g)) {
		g = json_object_new_object();
		json_object_object_add(o, group, g);
	}
	if (!n && sa_group_sparse(group))
		return;
	if (json_object_object_get_ex(g, key, &old))
		n += json_object_get_uint64(old);
	json_object_object_add(g, key, ju64(n));
}

static void json_counters(struct json_object *o, struct sa_measured m,
			  const struct sa_port_stats *ps, bool grouped)
{
	for (int i = 0; i < SA_C_MAX; i++) {
		const struct sa_counter_def *d = &sa_counters[i];

		if (sa_counter_top_level(i) && !grouped)
			/* Not measured (its stage is off): null, not 0. */
			json_object_object_add(o, d->key, sa_stage_measured(m, d->stage) ?
					       ju64(sa_c(ps, i)) : NULL);
		else if (grouped && !sa_counter_top_level(i) &&
			 strcmp(d->group, "hidden") && d->stage != SA_STAGE_CONTAINER)
			json_group_add(o, d->group, d->key, sa_c(ps, i));
	}
}

/* "198.18.0.1:80" or "[2001:db8::1]:80": where NAT sends a port. */
void sa_nat_addr(const struct sa_nat *nat, char *buf, size_t len)
{
	if (!inet_ntop(nat->family == AF_INET ? AF_INET : AF_INET6, nat->to_addr, buf, len))
		snprintf(buf, len, "?");
}

void sa_nat_dest(const struct sa_nat *nat, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	sa_nat_addr(nat, addr, sizeof(addr));
	snprintf(buf, len, nat->family == AF_INET ? "%s:%u" : "[%s]:%u", addr,
		 nat->to_port);
}

/* The output interface of a port's forwarded SYNs, by name in the
 * watched namespace (the agent is in it), "#IFINDEX" once it is gone;
 * false when the port forwarded nothing. */
bool sa_fwd_iface(const struct sa_port_stats *ps, char *buf, size_t len)
{
	char name[IF_NAMESIZE];

	if (!ps->fwd_ifindex)
		return false;
	if (if_indextoname(ps->fwd_ifindex, name))
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "#%u", ps->fwd_ifindex);
	return true;
}

static struct json_object *json_nat(const struct sa_port_stats *ps)
{
	char addr[INET6_ADDRSTRLEN];
	struct json_object *o;

	if (!ps->nat)
		return NULL;
	sa_nat_addr(ps->nat, addr, sizeof(addr));
	o = json_object_new_object();
	json_object_object_add(o, "to_addr", sa_json_string(addr));
	json_object_object_add(o, "to_port", json_object_new_int(ps->nat->to_port));
	return o;
}

/* A listener's gauges (SA_GAUGES) into @o. */
static void json_gauges(struct json_object *o, const struct sa_listener_gauges *g)
{
#define SA_GAUGE_JSON(name, help) \
	json_object_object_add(o, #name, ju64(g->name));
	SA_GAUGES(SA_GAUGE_JSON)
#undef SA_GAUGE_JSON
}

/* Queue age (kprobe/listeners): the accept queue head's wait, null when
 * not measured (HZ unknown, no listener), and the half-open requests as
 * cumulative histograms keyed by bucket bound, as Prometheus has them:
 * half_open_synack_retrans.count is every request read, and
 * half_open_age_seconds.count those a SYN-ACK was sent for. */
static struct json_object *json_histogram(const __u64 *b, int n, const char *const *le,
					  struct json_object *sum, __u64 count)
{
	struct json_object *o = json_object_new_object(), *bk = json_object_new_object();
	__u64 cum = 0;

	for (int i = 0; i < n; i++) {
		cum += b[i];
		json_object_object_add(bk, le[i], ju64(cum));
	}
	json_object_object_add(o, "buckets", bk);
	json_object_object_add(o, "sum", sum);
	json_object_object_add(o, "count", ju64(count));
	return o;
}

/* Null where the port has no listener and no half-open request, as on
 * the page: a scan's thousands of rows stay small (bounded records). */
static void json_queue_age(struct json_object *o, const struct sa_listener_gauges *g)
{
	const struct sa_queue_age *qa = &g->qa;
	bool any = g->listeners || qa->half_open;
	static const char *const age_le[] = { "1", "3", "7", "15", "31", "63", "+Inf" };
	static const char *const rt_le[] = { "0", "1", "2", "3", "4", "5", "+Inf" };
	_Static_assert(sizeof(age_le) / sizeof(age_le[0]) == SA_HALF_OPEN_AGE_N, "age buckets");
	_Static_assert(sizeof(rt_le) / sizeof(rt_le[0]) == SA_HALF_OPEN_RETRANS_N, "retrans buckets");

	json_object_object_add(o, "accept_queue_oldest_age_seconds", qa->accept_queue_age_known ?
			       json_object_new_double(qa->accept_queue_oldest_age_us / 1e6) : NULL);
	json_object_object_add(o, "half_open_age_seconds", !any ? NULL :
			       json_histogram(qa->half_open_age, SA_HALF_OPEN_AGE_N, age_le,
					      json_object_new_double(qa->half_open_age_sum_us / 1e6),
					      qa->half_open - qa->half_open_untimed));
	json_object_object_add(o, "half_open_synack_retrans", !any ? NULL :
			       json_histogram(qa->half_open_retrans, SA_HALF_OPEN_RETRANS_N, rt_le,
					      ju64(qa->half_open_retrans_sum), qa->half_open));
}

/* A value of the pod's, or null: not known. */
static struct json_object *json_or_null(const char *s)
{
	return s[0] ? sa_json_string(s) : NULL;
}

/* The followed namespace's pod and container (agent/core/pod.h): the
 * same names as the metrics' labels; null where not known. */
static void json_pod(struct json_object *o, const struct sa_pod *pod)
{
	static const struct sa_pod none;

	if (!pod)
		pod = &none;
	json_object_object_add(o, "pod_uid", json_or_null(pod->uid));
	json_object_object_add(o, "pod_namespace", json_or_null(pod->ns));
	json_object_object_add(o, "pod", json_or_null(pod->name));
	json_object_object_add(o, "container_id", json_or_null(pod->container_id));
}

/* The listener stage in the namespace the port's forwarded SYNs reach,
 * or null: none followed (or --no-follow). */
static struct json_object *json_container(const struct sa_report_ctx *rc,
					  const struct sa_port_stats *ps)
{
	struct json_object *o;

	if (!rc->m.follow || !sa_follow_of(ps)->cookie)
		return NULL;
	o = json_object_new_object();
	/* Escaped where it entered (follow.c): the name the verdicts use. */
	json_object_object_add(o, "netns", sa_json_string(
			       sa_follow_of(ps)->netns ? sa_follow_of(ps)->netns : "?"));
	json_pod(o, sa_follow_of(ps)->pod);
	json_object_object_add(o, "port", json_object_new_int(sa_follow_of(ps)->port));
	/* Under the host listener's keys (sa_counter_json_key): the host's
	 * listen_drops object has its twin here. */
	for (int i = 0; i < SA_C_MAX; i++) {
		int twin = sa_container_twin(i);
		struct json_object *in = o;

		if (sa_counters[i].stage != SA_STAGE_CONTAINER ||
		    strcmp(sa_counters[i].group, "container"))
			continue;
		if (twin >= 0 && !sa_counter_top_level(twin)) {
			const char *g = sa_counters[twin].group;

			if (!json_object_object_get_ex(o, g, &in)) {
				in = json_object_new_object();
				json_object_object_add(o, g, in);
			}
			json_object_object_add(in, sa_counters[twin].key, ju64(sa_c(ps, i)));
		} else {
			json_object_object_add(o, sa_counters[i].key, ju64(sa_c(ps, i)));
		}
	}
	json_object_object_add(o, "accepted", json_object_new_int64(sa_follow_of(ps)->accepted));
	json_gauges(o, &sa_follow_of(ps)->cg);
	return o;
}

/* The verdict as data: its stable id, severity and stage, the figure it
 * is about, and the sentence. */
static void json_verdict(struct json_object *o, const struct sa_verdict *v)
{
	const struct sa_verdict_def *d = &sa_verdicts[v->id];
	struct json_object *j = json_object_new_object();

	json_object_object_add(j, "id", sa_json_string(d->id));
	json_object_object_add(j, "severity", sa_json_string(sa_severity_names[d->severity]));
	json_object_object_add(j, "stage", sa_json_string(sa_stage_names[d->stage]));
	json_object_object_add(j, "count", ju64(v->n));
	json_object_object_add(j, "text", sa_json_string(v->text));
	json_object_object_add(o, "verdict", j);
}

static struct json_object *json_port(const struct sa_report_ctx *rc,
				     const struct sa_port_view *pv)
{
	const struct sa_port_stats *ps = pv->ps;
	struct json_object *o = json_object_new_object();
	struct json_object *sd, *un;
	char ifname[IF_NAMESIZE + 16];

	json_object_object_add(o, "port", json_object_new_int(pv->port));
	json_object_object_add(o, "nat", json_nat(ps));
	json_object_object_add(o, "forwarded_via", sa_fwd_iface(ps, ifname, sizeof(ifname)) ?
			       sa_json_string(ifname) : NULL);
	json_counters(o, rc->m, ps, false);
	if (!rc->m.stack) {
		json_verdict(o, &pv->verdict);
		return o;
	}
	json_counters(o, rc->m, ps, true);

	sd = json_object_new_object();
	for (__u32 i = 0; i < ps->n_drops; i++)
		if (ps->drops[i].n && !(ps->drops[i].reason & SA_DROP_SYNACK))
			add_escaped_key(sd, sa_reason_name(ps->drops[i].reason),
					ju64(ps->drops[i].n));
	json_object_object_add(o, "stack_drops", sd);
	sd = json_object_new_object();
	for (__u32 i = 0; i < ps->n_drops; i++)
		if (ps->drops[i].n && (ps->drops[i].reason & SA_DROP_SYNACK))
			add_escaped_key(sd, sa_reason_name(ps->drops[i].reason &
							   ~SA_DROP_SYNACK),
					ju64(ps->drops[i].n));
	json_object_object_add(o, "synack_drops", sd);
	json_object_object_add(o, "container", json_container(rc, ps));

	json_object_object_add(o, "cookie_mode", json_object_new_boolean(pv->cookie_mode));
	json_object_object_add(o, "accepted", json_object_new_int64(ps->accepted));
	json_gauges(o, sa_g(ps));
	json_queue_age(o, sa_g(ps));

	/* Every gap of sa_gaps[]; null when not measured. */
	un = json_object_new_object();
	for (int g = 0; g < SA_GAP_MAX; g++)
		json_object_object_add(un, sa_gaps[g].key, sa_gap_measured(g, rc->m) ?
				       json_object_new_int64(pv->gap[g]) : NULL);
	json_object_object_add(o, "unexplained", un);
	json_verdict(o, &pv->verdict);
	return o;
}

void sa_listener_addr(const struct sa_listener *l, char *buf, size_t len)
{
	if (!inet_ntop(l->family == AF_INET ? AF_INET : AF_INET6, l->addr, buf, len))
		snprintf(buf, len, "?");
}

struct json_object *sa_json_listener(const struct sa_listener *l)
{
	struct json_object *o = json_object_new_object();
	char addr[INET6_ADDRSTRLEN];

	sa_listener_addr(l, addr, sizeof(addr));
	json_object_object_add(o, "addr", sa_json_string(addr));
	json_object_object_add(o, "port", json_object_new_int(l->port));
	json_object_object_add(o, "family", sa_json_string(
			       l->family == AF_INET ? "ipv4" : "ipv6"));
	json_object_object_add(o, "inode", json_object_new_uint64(l->inode));
	json_object_object_add(o, "accept_backlog", json_object_new_int64(l->accept_backlog));
	json_object_object_add(o, "syn_queue_len", json_object_new_int64(l->syn_queue_len));
	json_object_object_add(o, "accept_queue_len", json_object_new_int64(l->accept_queue_len));
	json_object_object_add(o, "listener_sk_drops", json_object_new_int64(l->listener_sk_drops));
	return o;
}

/* The listening sockets of the record's ports, one object each. */
static struct json_object *json_listeners(const struct sa_view *v)
{
	struct json_object *a = json_object_new_array();
	const struct sa_snapshot *s = v->snap;
	struct sa_portset *shown = calloc(1, sizeof(*shown));

	if (!shown)
		return a;
	for (size_t i = 0; i < v->n_ports; i++)
		sa_portset_add(shown, v->ports[i].port);
	for (size_t i = 0; i < s->n_listeners; i++)
		if (sa_portset_has(shown, s->listeners[i].port))
			json_object_array_add(a, sa_json_listener(&s->listeners[i]));
	free(shown);
	return a;
}

/* Counts each stage lost to a full counter map: {"nic":0,"tc":0,"stack":0},
 * null for a stage that is off. */
static struct json_object *json_update_failed(const struct sa_report_ctx *rc,
					      const struct sa_snapshot *s)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "nic", rc->m.nic ? ju64(s->nic_update_failed) : NULL);
	json_object_object_add(o, "tc", ju64(s->tc_update_failed));
	json_object_object_add(o, "stack", rc->m.stack ? ju64(s->stack_update_failed) : NULL);
	return o;
}

static void json_counts(struct json_object *o, const struct sa_report_ctx *rc,
			const struct sa_snapshot *s)
{
	json_object_object_add(o, "tcp_syncookies", s->tcp_syncookies < 0 ? NULL :
			       json_object_new_int(s->tcp_syncookies));
	json_object_object_add(o, "nic_unparsed", rc->m.nic ?
			       json_object_new_uint64(s->nic_unparsed) : NULL);
	json_object_object_add(o, "tc_unparsed",
			       json_object_new_uint64(s->tc_unparsed));
	json_object_object_add(o, "update_failed", json_update_failed(rc, s));
	json_object_object_add(o, "missed_runs", rc->m.stack ? ju64(s->missed_runs) : NULL);
}

/* Stage 0 (xdp/driver/): lost before XDP and TC, no port.  In an
 * interval record what the kernel's counters grew by in it, in the
 * summary since the start; the CPUs listed are those whose figures are
 * not 0.  null while the stage is off. */
static void json_driver(struct json_object *o, const struct sa_view *v)
{
	const struct sa_driver *d = &v->snap->driver;
	struct json_object *j, *sn, *cpus, *ifs;

	if (!d->read) {
		json_object_object_add(o, "driver", NULL);
		return;
	}
	j = json_object_new_object();
	sn = json_object_new_object();
	cpus = json_object_new_array();
	json_object_object_add(sn, "dropped", ju64(sa_softnet_dropped(d)));
	json_object_object_add(sn, "time_squeeze", ju64(sa_softnet_squeezed(d)));
	for (__u32 c = 0; c < d->n_cpus; c++) {
		struct json_object *cj;

		if (!d->cpu[c].dropped && !d->cpu[c].time_squeeze)
			continue;
		cj = json_object_new_object();
		json_object_object_add(cj, "cpu", json_object_new_int64(d->cpu[c].cpu));
		json_object_object_add(cj, "dropped", ju64(d->cpu[c].dropped));
		json_object_object_add(cj, "time_squeeze", ju64(d->cpu[c].time_squeeze));
		json_object_array_add(cpus, cj);
	}
	json_object_object_add(sn, "cpus", cpus);
	json_object_object_add(j, "softnet", sn);
	ifs = json_object_new_array();
	for (int i = 0; i < d->n_ifaces; i++) {
		const struct sa_driver_iface *f = &d->iface[i];
		struct json_object *fj = json_object_new_object(), *q = json_object_new_object();

		json_object_object_add(fj, "iface", sa_json_string(f->name));
		json_object_object_add(fj, "rx_dropped", ju64(f->rx_dropped));
		json_object_object_add(fj, "rx_missed_errors", ju64(f->rx_missed_errors));
		json_object_object_add(fj, "rx_fifo_errors", ju64(f->rx_fifo_errors));
		for (int k = 0; k < f->n_q; k++)
			json_object_object_add(q, f->q[k].name, ju64(f->q[k].n));
		json_object_object_add(fj, "queue_drops", q);
		json_object_array_add(ifs, fj);
	}
	json_object_object_add(j, "ifaces", ifs);
	if (v->driver.text)
		json_verdict(j, &v->driver);
	else
		json_object_object_add(j, "verdict", NULL);
	json_object_object_add(o, "driver", j);
}

static void json_mib(struct json_object *o, const struct sa_report_ctx *rc,
		     const struct sa_view *v)
{
	struct json_object *m = json_object_new_object();

	for (int i = 0; i < SA_MIB_MAX; i++)
		json_object_object_add(m, sa_mib_names[i], ju64(v->snap->mib[i]));
	json_object_object_add(o, "mib", m);
	if (!rc->m.stack)
		return;
	json_object_object_add(o, "consistent", json_object_new_boolean(v->consistent));
	if (!v->consistent)
		json_object_object_add(o, "inconsistent",
				       sa_json_string(v->inconsistent));
}

#define SA_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static void json_emit(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, SA_JSON_FLAGS));
	fflush(stdout);
	json_object_put(o);
}

/* A ports row, as written. */
static size_t port_row_len(const struct sa_report_ctx *rc, const struct sa_port_view *pv)
{
	struct json_object *po = json_port(rc, pv);
	size_t len = strlen(json_object_to_json_string_ext(po, SA_JSON_FLAGS));

	json_object_put(po);
	return len;
}

/* Which rows a bounded record keeps first: a port whose verdict says
 * SYNs were lost or unexplained, then a port with a listener, then the
 * port with more SYNs (the largest of nic_syn, tc_syn, listener_syn, as
 * --metrics-top chooses), then the lower port. */
struct row_rank {
	size_t i;
	int sev;
	bool listener;
	__u64 syns;
	__u32 port;
};

static int rank_cmp(const void *a, const void *b)
{
	const struct row_rank *x = a, *y = b;

	if (x->sev != y->sev)
		return x->sev > y->sev ? -1 : 1;
	if (x->listener != y->listener)
		return x->listener ? -1 : 1;
	if (x->syns != y->syns)
		return x->syns > y->syns ? -1 : 1;
	return x->port < y->port ? -1 : x->port > y->port;
}

/* Room kept for the row "other" and the record's end. */
#define SA_JSON_OTHER_ROOM (16 * 1024)

/*
 * The rows of @v that fit in @room bytes, best ranked first, into @keep;
 * how many.  -ENOMEM: keep them all.
 */
static long rows_kept(const struct sa_report_ctx *rc, const struct sa_view *v,
		      size_t room, bool *keep)
{
	struct row_rank *r = calloc(v->n_ports, sizeof(*r));
	size_t used = 0;
	long n = 0;

	if (!r)
		return -ENOMEM;
	for (size_t i = 0; i < v->n_ports; i++) {
		const struct sa_port_view *pv = &v->ports[i];
		int sev = sa_verdict_severity(&pv->verdict);

		r[i] = (struct row_rank){ i, sev >= SA_SEV_WARNING ? sev : 0,
					  sa_g(pv->ps)->listeners != 0, sa_port_syns(pv->ps), pv->port };
	}
	qsort(r, v->n_ports, sizeof(*r), rank_cmp);
	for (size_t k = 0; k < v->n_ports; k++) {
		size_t len = port_row_len(rc, &v->ports[r[k].i]) + 1;

		if (used + len > room)
			break;
		used += len;
		keep[r[k].i] = true;
		n++;
	}
	free(r);
	return n;
}

/* The row "other": every row of @v not kept, added up (its figures and
 * gaps are those of the sum, reconciled as one port, as --metrics-top's
 * port="other"), with how many ports it holds. */
static struct json_object *json_other(const struct sa_report_ctx *rc,
				      const struct sa_view *v, const bool *keep)
{
	struct sa_port_stats sum = { 0 };
	/* The pods of the ports folded, as their namespaces: "other" for
	 * each field one of them has. */
	struct sa_pod other_pod = { 0 };
	struct sa_port_follow fsum = { .netns = "other" };
	struct sa_port_view pv = { 0 };
	struct json_object *o = NULL;
	size_t folded = 0;
	bool followed = false;

	for (size_t i = 0; i < v->n_ports; i++) {
		const struct sa_port_stats *ps = v->ports[i].ps;

		if (keep[i])
			continue;
		folded++;
		if (sa_port_stats_add(&sum, ps))
			goto out;
		if (ps->follow && ps->follow->cookie) {
			followed = true;
			fsum.cookie = ps->follow->cookie;
			if (ps->follow->pod) {
				const struct sa_pod *pod = ps->follow->pod;

				if (pod->uid[0])
					strcpy(other_pod.uid, "other");
				if (pod->container_id[0])
					strcpy(other_pod.container_id, "other");
				if (pod->name[0]) {
					strcpy(other_pod.ns, "other");
					strcpy(other_pod.name, "other");
				}
				fsum.pod = &other_pod;
			}
			fsum.accepted += ps->follow->accepted;
#define SA_GAUGE_ADD(name, help) fsum.cg.name += ps->follow->cg.name;
			SA_GAUGES(SA_GAUGE_ADD)
#undef SA_GAUGE_ADD
		}
	}
	/* Lent, not owned: the row goes before @fsum does. */
	if (followed)
		sum.follow = &fsum;
	sa_reconcile_port(&sum, v->m, v->snap->tcp_syncookies, &pv);
	pv.ps = &sum;
	o = json_port(rc, &pv);
	json_object_object_add(o, "port", sa_json_string("other"));
	json_object_object_add(o, "ports_folded", json_object_new_int64(folded));
out:
	sum.follow = NULL;
	sa_port_stats_release(&sum);
	return o;
}

/*
 * Emit record @o with its "ports" array written port by port, so that a
 * record for tens of thousands of ports (a scan) never exists as one tree
 * in memory.  With @limit (bytes, 0: none), the record stays within it:
 * the rows that fit, best ranked first (rows_kept), in port order, then
 * one row "other" that adds up the rest, so that every sum over the
 * ports stays exact.
 */
static void json_emit_ports(struct json_object *o, const struct sa_report_ctx *rc,
			    const struct sa_view *v, size_t limit)
{
	const char *head = json_object_to_json_string_ext(o, SA_JSON_FLAGS);
	size_t len = strlen(head), total = len + 16;
	struct json_object *other = NULL;
	bool *keep = NULL;
	bool first = true;

	if (limit && !rc->json_all_ports) {
		for (size_t i = 0; i < v->n_ports && total <= limit; i++)
			total += port_row_len(rc, &v->ports[i]) + 1;
		if (total > limit)
			keep = calloc(v->n_ports ? v->n_ports : 1, sizeof(*keep));
		if (keep) {
			long n = limit >= len + SA_JSON_OTHER_ROOM ?
				 rows_kept(rc, v, limit - len - SA_JSON_OTHER_ROOM, keep) : 0;

			other = n >= 0 ? json_other(rc, v, keep) : NULL;
		}
		/* Without memory for the choice, the record is whole. */
		if (!other) {
			free(keep);
			keep = NULL;
		}
	}
	/* head is "{...}": all but its closing brace, then the ports. */
	fwrite(head, 1, len - 1, stdout);
	fputs(len > 2 ? ",\"ports\":[" : "\"ports\":[", stdout);
	for (size_t i = 0; i < v->n_ports; i++) {
		struct json_object *po;

		if (keep && !keep[i])
			continue;
		po = json_port(rc, &v->ports[i]);
		if (!first)
			putchar(',');
		first = false;
		fputs(json_object_to_json_string_ext(po, SA_JSON_FLAGS), stdout);
		json_object_put(po);
	}
	if (other) {
		if (!first)
			putchar(',');
		fputs(json_object_to_json_string_ext(other, SA_JSON_FLAGS), stdout);
		json_object_put(other);
	}
	fputs("]}\n", stdout);
	fflush(stdout);
	free(keep);
	json_object_put(o);
}

/* ---- records ---- */

void sa_report_start(const struct sa_report_ctx *rc)
{
	struct json_object *o;

	if (!rc->json)
		return;
	o = json_header(rc, "start");
	json_object_object_add(o, "hooks", json_hooks(rc));
	json_object_object_add(o, "xdp", json_xdp_links(rc));
	json_object_object_add(o, "xdp_mode", sa_json_string(rc->xdp_mode));
	json_emit(o);
}

void sa_report_interval(const struct sa_report_ctx *rc, const struct sa_view *v,
			double elapsed_s)
{
	struct json_object *o;

	if (!rc->json) {
		sa_table_live(rc, v, elapsed_s);
		return;
	}
	o = json_header(rc, "interval");
	json_object_object_add(o, "elapsed_s", json_object_new_double(elapsed_s));
	if (rc->m.stack)
		json_object_object_add(o, "listeners", json_listeners(v));
	json_counts(o, rc, v->snap);
	json_driver(o, v);
	json_emit_ports(o, rc, v, SA_JSON_INTERVAL_MAX);
}

void sa_report_summary(const struct sa_report_ctx *rc, const struct sa_view *v,
		       double elapsed_s)
{
	struct json_object *o;

	if (!rc->json) {
		sa_table_summary(rc, v, elapsed_s);
		return;
	}
	o = json_header(rc, "summary");
	json_object_object_add(o, "duration_s", json_object_new_double(elapsed_s));
	json_object_object_add(o, "hooks", json_hooks(rc));
	/* Hooks that went from under synacct (agent/cmd/health.c). */
	if (rc->m.lost)
		json_object_object_add(o, "lost", sa_json_string(rc->m.lost));
	if (rc->m.stack)
		json_object_object_add(o, "listeners", json_listeners(v));
	json_counts(o, rc, v->snap);
	json_driver(o, v);
	json_mib(o, rc, v);
	json_emit_ports(o, rc, v, SA_JSON_SUMMARY_MAX);
}
