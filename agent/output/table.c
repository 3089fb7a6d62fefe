// SPDX-License-Identifier: GPL-2.0
/*
 * table.c - the table people read.  One row per port with the funnel left
 * to right, headed by the same names as the JSON keys; the columns that do
 * not fit the terminal's width are folded under the row as "name value"
 * pairs, followed by SYN-ACKs, drop reasons, cookies and the verdict, all
 * wrapped between words.  Live, the table is redrawn in place and keeps to
 * the terminal's height; the summary is printed once.
 */
#define _GNU_SOURCE
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "escape.h"
#include "pod.h"
#include "table.h"

/* Ports in the table, most SYNs first when there are more: a screenful
 * live, more in the summary; --json always has them all. */
#define SA_TABLE_LIVE_ROWS	12
#define SA_TABLE_SUMMARY_ROWS	50
/* Indent of what is folded under a row. */
#define SA_FOLD_INDENT		7

#define SA_RED		"\033[31m"
#define SA_GREEN	"\033[32m"
#define SA_YELLOW	"\033[33m"
#define SA_BOLD		"\033[1m"
#define SA_RESET	"\033[0m"

void sa_term_size(int *cols, int *rows)
{
	struct winsize ws;

	*cols = *rows = 0;
	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws)) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
}

/* ---- columns ---- */

enum col_needs { NEEDS_NONE, NEEDS_NIC, NEEDS_STACK };

/* A column is a counter, a derived figure or a gauge, by its enum in
 * counters.h: its header is that quantity's JSON key. */
enum col_kind { COL_COUNTER, COL_DERIVED, COL_GAUGE };

struct column {
	enum col_kind kind;
	int which;		/* enum sa_counter, sa_derived or sa_gauge */
	enum col_needs needs;
};

static const char *col_name(const struct column *col)
{
	switch (col->kind) {
	case COL_COUNTER:
		return sa_counters[col->which].key;
	case COL_DERIVED:
		return sa_derived_keys[col->which];
	default:
		return sa_gauge_keys[col->which];
	}
}

static long long derived_value(const struct sa_port_view *pv, enum sa_derived d)
{
	switch (d) {
	case SA_D_stack_drops_total:
		return pv->stack_drops;
	case SA_D_listen_drops_total:
		return pv->listen_drops;
	default:
		return pv->ps->accepted;
	}
}

static unsigned long long gauge_value(const struct sa_listener_gauges *g, enum sa_gauge which)
{
	switch (which) {
#define SA_GAUGE_CASE(name, help) case SA_G_##name: return g->name;
	SA_GAUGES(SA_GAUGE_CASE)
#undef SA_GAUGE_CASE
	default:
		return 0;
	}
}

/* The funnel, left to right. */
static const struct column columns[] = {
	{ COL_COUNTER, SA_C_nic_syn, NEEDS_NIC },
	{ COL_COUNTER, SA_C_tc_syn, NEEDS_NONE },
	{ COL_DERIVED, SA_D_stack_drops_total, NEEDS_STACK },
	{ COL_COUNTER, SA_C_listener_syn, NEEDS_STACK },
	{ COL_COUNTER, SA_C_syn_queued, NEEDS_STACK },
	{ COL_COUNTER, SA_C_syncookies_sent, NEEDS_STACK },
	{ COL_DERIVED, SA_D_listen_drops_total, NEEDS_STACK },
	{ COL_COUNTER, SA_C_established, NEEDS_STACK },
	{ COL_DERIVED, SA_D_accepted, NEEDS_STACK },
	{ COL_GAUGE, SA_G_syn_queue_len, NEEDS_STACK },
	{ COL_GAUGE, SA_G_accept_queue_len, NEEDS_STACK },
	{ COL_GAUGE, SA_G_accept_backlog, NEEDS_STACK },
	/* What the clients saw: their SYNs again (tc/retries/). */
	{ COL_COUNTER, SA_C_syn_retries, NEEDS_NONE },
};
#define N_COLUMNS (sizeof(columns) / sizeof(columns[0]))

static void cell_text(const struct sa_report_ctx *rc, const struct column *col,
		      const struct sa_port_view *pv, char *buf, size_t len)
{
	if ((col->needs == NEEDS_NIC && !rc->m.nic) ||
	    (col->needs == NEEDS_STACK && !rc->m.stack))
		snprintf(buf, len, "-");
	else if (col->kind == COL_COUNTER)
		snprintf(buf, len, "%llu", (unsigned long long)sa_c(pv->ps, col->which));
	else if (col->kind == COL_DERIVED)
		snprintf(buf, len, "%lld", derived_value(pv, col->which));
	else
		snprintf(buf, len, "%llu", gauge_value(sa_g(pv->ps), col->which));
}

/* ---- text that wraps between words ---- */

struct wrap {
	FILE *f;
	int width;	/* 0: no limit */
	int x;		/* current column */
	int min;	/* where the current line's text starts */
	int lines;
};

static void wrap_newline(struct wrap *w)
{
	fputc('\n', w->f);
	w->x = 0;
	w->lines++;
}

/* Start a folded line under the row. */
static void wrap_start(struct wrap *w, const char *lead)
{
	w->x = w->min = fprintf(w->f, "%*s%s", SA_FOLD_INDENT, "", lead);
}

/* A unit that must not be split ("name value"), preceded by a space or
 * two when it is not first on its line. */
static void wrap_unit(struct wrap *w, const char *unit, const char *color)
{
	int len = strlen(unit);
	int gap = w->x > w->min ? 2 : 0;

	if (w->width && w->x + gap + len > w->width && w->x > w->min) {
		wrap_newline(w);
		wrap_start(w, "   ");
		gap = 0;
	}
	w->x += fprintf(w->f, "%*s%s%s%s", gap, "", color ? color : "", unit,
			color ? SA_RESET : "");
}

/* A sentence: wrapped at its spaces. */
static void wrap_words(struct wrap *w, const char *text, const char *color)
{
	char *copy = strdup(text), *save, *word;

	if (!copy)
		return;
	if (color)
		fputs(color, w->f);
	for (word = strtok_r(copy, " ", &save); word; word = strtok_r(NULL, " ", &save)) {
		int len = strlen(word);

		if (w->width && w->x + 1 + len > w->width && w->x > w->min) {
			if (color)
				fputs(SA_RESET, w->f);
			wrap_newline(w);
			wrap_start(w, "   ");
			if (color)
				fputs(color, w->f);
		} else if (w->x > w->min) {
			fputc(' ', w->f);
			w->x++;
		}
		w->x += fprintf(w->f, "%s", word);
	}
	if (color)
		fputs(SA_RESET, w->f);
	free(copy);
}

/* A verdict's colour is its severity's. */
static const char *verdict_color(const struct sa_report_ctx *rc, const struct sa_verdict *v)
{
	static const char *const color[SA_SEV_MAX] = {
		[SA_SEV_OK] = SA_GREEN,
		[SA_SEV_INFO] = NULL,
		[SA_SEV_WARNING] = SA_YELLOW,
		[SA_SEV_CRITICAL] = SA_RED,
	};

	return rc->color ? color[sa_verdict_severity(v)] : NULL;
}

/* ---- layout ---- */

struct layout {
	int width[N_COLUMNS];
	bool in_row[N_COLUMNS];		/* else folded */
	int port_width;
};

/* Column widths from the header names and the values; as many columns,
 * in funnel order, as fit in @cols (0: all). */
static void layout_make(const struct sa_report_ctx *rc, const struct sa_view *v,
			const size_t *rows, size_t n, int cols, struct layout *lo)
{
	int x;

	lo->port_width = 5;
	x = lo->port_width;
	for (size_t c = 0; c < N_COLUMNS; c++) {
		lo->width[c] = strlen(col_name(&columns[c]));
		for (size_t r = 0; r < n; r++) {
			char buf[32];
			int len;

			cell_text(rc, &columns[c], &v->ports[rows[r]], buf, sizeof(buf));
			len = strlen(buf);
			if (len > lo->width[c])
				lo->width[c] = len;
		}
	}
	for (size_t c = 0; c < N_COLUMNS; c++) {
		/* Keep the funnel's order: once one column folds, the rest
		 * fold too. */
		lo->in_row[c] = (!cols || x + 1 + lo->width[c] <= cols) &&
				(c == 0 || lo->in_row[c - 1]);
		if (lo->in_row[c])
			x += 1 + lo->width[c];
	}
}

static void print_header(FILE *f, const struct layout *lo, bool color)
{
	fprintf(f, "%s%*s", color ? SA_BOLD : "", lo->port_width, "port");
	for (size_t c = 0; c < N_COLUMNS; c++)
		if (lo->in_row[c])
			fprintf(f, " %*s", lo->width[c], col_name(&columns[c]));
	fprintf(f, "%s\n", color ? SA_RESET : "");
}

static double syn_rate(const struct sa_report_ctx *rc, __u32 port)
{
	return rc->syn_delta[port] / rc->interval_s;
}

/* Under a port's row: where NAT sends it, and where it is forwarded. */
static void print_path(struct wrap *wp, const struct sa_port_stats *ps)
{
	char dest[64], ifname[IF_NAMESIZE + 16], q[SA_ESC_SIZE(IF_NAMESIZE + 16)];
	char unit[128];

	if (!ps->nat && !ps->fwd_ifindex)
		return;
	wrap_start(wp, "");
	if (ps->nat) {
		sa_nat_dest(ps->nat, dest, sizeof(dest));
		snprintf(unit, sizeof(unit), "mapped to %s", dest);
		wrap_unit(wp, unit, NULL);
	}
	if (sa_fwd_iface(ps, ifname, sizeof(ifname))) {
		/* An interface name is data: nothing a terminal acts on. */
		snprintf(unit, sizeof(unit), "forwarded %llu via %s",
			 (unsigned long long)sa_c(ps, SA_C_forwarded),
			 sa_tty_str(ifname, q, sizeof(q)));
		wrap_unit(wp, unit, NULL);
	}
	wrap_newline(wp);
}

/* The listener stage in the namespace its forwarded SYNs go to. */
static void print_container(struct wrap *wp, const struct sa_report_ctx *rc,
			    const struct sa_port_stats *ps)
{
	const struct sa_pod *pod = sa_follow_of(ps)->pod;
	const char *netns;
	char unit[192];

	if (!rc->m.follow || !sa_follow_of(ps)->cookie)
		return;
	/* Its name was escaped where it entered (follow.c). */
	wrap_start(wp, "");
	netns = sa_follow_of(ps)->netns ? sa_follow_of(ps)->netns : "?";
	snprintf(unit, sizeof(unit), "in netns %.*s port %u:",
		 sa_utf8_cut(netns, 60), netns, sa_follow_of(ps)->port);
	wrap_unit(wp, unit, NULL);
	/* Its pod (escaped where they entered, as its name): namespace/name,
	 * uid, and the container id as short as `docker ps` and `crictl ps`
	 * show it (both take it). */
	if (pod && pod->name[0]) {
		snprintf(unit, sizeof(unit), "pod %.*s/%.*s", sa_utf8_cut(pod->ns, 60), pod->ns,
			 sa_utf8_cut(pod->name, 80), pod->name);
		wrap_unit(wp, unit, NULL);
	}
	if (pod && pod->uid[0]) {
		snprintf(unit, sizeof(unit), "pod_uid %s", pod->uid);
		wrap_unit(wp, unit, NULL);
	}
	if (pod && pod->container_id[0]) {
		snprintf(unit, sizeof(unit), "container_id %.12s", pod->container_id);
		wrap_unit(wp, unit, NULL);
	}
	for (int i = 0; i < SA_C_MAX; i++) {
		if (sa_counters[i].stage != SA_STAGE_CONTAINER ||
		    strcmp(sa_counters[i].group, "container") ||
		    (!sa_c(ps, i) && i != SA_C_ct_listener_syn && i != SA_C_ct_syn_queued &&
		     i != SA_C_ct_established))
			continue;
		snprintf(unit, sizeof(unit), "%s %llu", sa_counters[i].key,
			 (unsigned long long)sa_c(ps, i));
		wrap_unit(wp, unit, NULL);
	}
	snprintf(unit, sizeof(unit), "accepted %lld", (long long)sa_follow_of(ps)->accepted);
	wrap_unit(wp, unit, NULL);
	snprintf(unit, sizeof(unit), "accept_queue %llu/%llu",
		 (unsigned long long)sa_follow_of(ps)->cg.accept_queue_len,
		 (unsigned long long)sa_follow_of(ps)->cg.accept_backlog);
	wrap_unit(wp, unit, NULL);
	wrap_newline(wp);
}

/* The columns that did not fit, then the figures that have no column. */
static void print_extras(struct wrap *wp, const struct sa_report_ctx *rc,
			 const struct layout *lo, const struct sa_port_view *pv, bool live)
{
	const struct sa_port_stats *ps = pv->ps;
	char buf[64], unit[128];

	wrap_start(wp, "");
	for (size_t c = 0; c < N_COLUMNS; c++) {
		if (lo->in_row[c])
			continue;
		cell_text(rc, &columns[c], pv, buf, sizeof(buf));
		snprintf(unit, sizeof(unit), "%s %s", col_name(&columns[c]), buf);
		wrap_unit(wp, unit, NULL);
	}
	snprintf(unit, sizeof(unit), "synack_sent %llu",
		 (unsigned long long)sa_c(ps, SA_C_synack_sent));
	wrap_unit(wp, unit, NULL);
	if (rc->m.stack) {
		snprintf(unit, sizeof(unit), "synack_retrans %llu",
			 (unsigned long long)sa_c(ps, SA_C_synack_retrans));
		wrap_unit(wp, unit, NULL);
		if (sa_c(ps, SA_C_synack_forwarded)) {
			snprintf(unit, sizeof(unit), "synack_forwarded %llu",
				 (unsigned long long)sa_c(ps, SA_C_synack_forwarded));
			wrap_unit(wp, unit, NULL);
		}
	}
	if (live && rc->syn_delta) {
		snprintf(unit, sizeof(unit), "now %.1f SYN/s", syn_rate(rc, pv->port));
		wrap_unit(wp, unit, NULL);
	}
	for (__u32 i = 0; i < ps->n_drops; i++) {
		__u32 r = ps->drops[i].reason;

		if (!ps->drops[i].n)
			continue;
		snprintf(unit, sizeof(unit), "%s%s %llu",
			 r & SA_DROP_SYNACK ? "synack_drops." : "",
			 sa_reason_name(r & ~SA_DROP_SYNACK),
			 (unsigned long long)ps->drops[i].n);
		wrap_unit(wp, unit, NULL);
	}
	if (sa_c(ps, SA_C_synack_retrans_failed)) {
		snprintf(unit, sizeof(unit), "synack_retrans_failed %llu",
			 (unsigned long long)sa_c(ps, SA_C_synack_retrans_failed));
		wrap_unit(wp, unit, NULL);
	}
	wrap_newline(wp);
}

static void print_cookies(struct wrap *wp, const struct sa_port_stats *ps)
{
	char line[256];

	if (!sa_c(ps, SA_C_syncookies_sent) && !sa_c(ps, SA_C_syncookies_recv) &&
	    !sa_c(ps, SA_C_syncookies_failed))
		return;
	snprintf(line, sizeof(line), "cookies: sent %llu, ACKs validated %llu, "
		 "failed %llu, sent to clients without timestamps %llu",
		 (unsigned long long)sa_c(ps, SA_C_syncookies_sent),
		 (unsigned long long)sa_c(ps, SA_C_syncookies_recv),
		 (unsigned long long)sa_c(ps, SA_C_syncookies_failed),
		 (unsigned long long)sa_c(ps, SA_C_syncookies_no_ts));
	wrap_start(wp, "");
	wrap_words(wp, line, NULL);
	wrap_newline(wp);
}

/* An accept queue head that waited this long is worth a line: an
 * application that stopped accepting shows before the queue overflows. */
#define ACCEPT_AGE_NOTE_US 1000000

/* Queue age: the accept queue head's wait past the note's threshold, and
 * the half-open requests by age and SYN-ACK retransmissions, if any. */
static void print_queue_age(struct wrap *wp, const struct sa_port_stats *ps)
{
	static const char *const age_le[] = { "1", "3", "7", "15", "31", "63" };
	const struct sa_queue_age *qa = &sa_g(ps)->qa;
	char unit[96];

	if (qa->accept_queue_oldest_age_us >= ACCEPT_AGE_NOTE_US) {
		snprintf(unit, sizeof(unit), "accept queue head waited %.1f s",
			 qa->accept_queue_oldest_age_us / 1e6);
		wrap_start(wp, "");
		wrap_words(wp, unit, NULL);
		wrap_newline(wp);
	}
	if (!qa->half_open)
		return;
	wrap_start(wp, "");
	snprintf(unit, sizeof(unit), "half-open %llu, since first SYN-ACK:",
		 (unsigned long long)qa->half_open);
	wrap_words(wp, unit, NULL);
	for (int i = 0; i < SA_HALF_OPEN_AGE_N; i++) {
		if (!qa->half_open_age[i])
			continue;
		if (i < SA_HALF_OPEN_AGE_N - 1)
			snprintf(unit, sizeof(unit), "<=%ss %llu", age_le[i],
				 (unsigned long long)qa->half_open_age[i]);
		else
			snprintf(unit, sizeof(unit), ">63s %llu",
				 (unsigned long long)qa->half_open_age[i]);
		wrap_unit(wp, unit, NULL);
	}
	if (qa->half_open_untimed) {
		snprintf(unit, sizeof(unit), "no SYN-ACK yet %llu",
			 (unsigned long long)qa->half_open_untimed);
		wrap_unit(wp, unit, NULL);
	}
	wrap_words(wp, "; SYN-ACK retransmitted:", NULL);
	for (int i = 0; i < SA_HALF_OPEN_RETRANS_N; i++) {
		if (!qa->half_open_retrans[i])
			continue;
		if (i < SA_HALF_OPEN_RETRANS_N - 1)
			snprintf(unit, sizeof(unit), "%dx %llu", i,
				 (unsigned long long)qa->half_open_retrans[i]);
		else
			snprintf(unit, sizeof(unit), ">5x %llu",
				 (unsigned long long)qa->half_open_retrans[i]);
		wrap_unit(wp, unit, NULL);
	}
	wrap_newline(wp);
}

/* One port: its row, then what is folded under it.  Returns the lines. */
static int print_port(FILE *f, const struct sa_report_ctx *rc,
		      const struct layout *lo, const struct sa_port_view *pv,
		      int cols, bool live)
{
	struct wrap w = { .f = f, .width = cols };
	char buf[64];

	fprintf(f, "%*u", lo->port_width, pv->port);
	for (size_t c = 0; c < N_COLUMNS; c++) {
		if (!lo->in_row[c])
			continue;
		cell_text(rc, &columns[c], pv, buf, sizeof(buf));
		fprintf(f, " %*s", lo->width[c], buf);
	}
	wrap_newline(&w);
	print_path(&w, pv->ps);
	print_container(&w, rc, pv->ps);
	print_extras(&w, rc, lo, pv, live);
	print_cookies(&w, pv->ps);
	print_queue_age(&w, pv->ps);
	wrap_start(&w, "=> ");
	wrap_words(&w, pv->verdict.text, verdict_color(rc, &pv->verdict));
	wrap_newline(&w);
	return w.lines;
}

/* Table rows: the ports with the most SYNs when there are more than fit,
 * shown in port order. */
static const struct sa_view *rank_view;

static int by_syns_desc(const void *a, const void *b)
{
	const struct sa_port_view *x = &rank_view->ports[*(const size_t *)a];
	const struct sa_port_view *y = &rank_view->ports[*(const size_t *)b];
	__u64 sx = sa_c(x->ps, SA_C_tc_syn), sy = sa_c(y->ps, SA_C_tc_syn);

	if (sx != sy)
		return sx > sy ? -1 : 1;
	return x->port < y->port ? -1 : 1;
}

static int by_index(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* "(+N more ports left out ...)", wrapped at @cols like the rest; its lines. */
static int print_left_out(FILE *f, size_t n, int cols)
{
	struct wrap w = { .f = f, .width = cols };
	char msg[160];

	snprintf(msg, sizeof(msg), "(+%zu more ports left out, those with the fewest SYNs: "
		 "narrow with --ports, or --json for all of them)", n);
	w.x = w.min = fprintf(f, "   ");
	wrap_words(&w, msg, NULL);
	wrap_newline(&w);
	return w.lines;
}

/*
 * The ports' blocks, busiest first when they do not all fit: at most
 * @max_ports, and on a terminal of @max_lines lines only as many blocks
 * as fit (each is rendered first to count its lines), with room kept for
 * the "left out" line as wrapped at @cols (for the most ports it could
 * name: at 80 columns it takes two lines).
 */
static void print_ports(const struct sa_report_ctx *rc, const struct sa_view *v,
			size_t max_ports, int cols, int max_lines, bool live)
{
	size_t *rows = malloc((v->n_ports ? v->n_ports : 1) * sizeof(*rows));
	size_t n = v->n_ports, shown = 0;
	struct layout lo;
	int used = 1;	/* the header */

	if (!rows)
		return;
	if (max_lines) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		if (f) {
			max_lines -= print_left_out(f, v->n_ports, cols);
			fclose(f);
		}
		free(buf);
		if (max_lines < 1)
			max_lines = 1;
	}
	for (size_t i = 0; i < n; i++)
		rows[i] = i;
	if (n > max_ports) {
		rank_view = v;
		qsort(rows, n, sizeof(*rows), by_syns_desc);
		n = max_ports;
	}
	layout_make(rc, v, rows, n, cols, &lo);
	/* Busiest first decides which fit; port order is how they show. */
	for (size_t i = 0; i < n; i++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		int lines;

		if (!f)
			break;
		lines = print_port(f, rc, &lo, &v->ports[rows[i]], cols, live);
		fclose(f);
		free(buf);
		if (max_lines && used + lines > max_lines)
			break;
		used += lines;
		shown++;
	}
	qsort(rows, shown, sizeof(*rows), by_index);
	print_header(stdout, &lo, rc->color);
	for (size_t i = 0; i < shown; i++)
		print_port(stdout, rc, &lo, &v->ports[rows[i]], cols, live);
	if (!v->n_ports)
		printf("   (no SYNs and no listeners on the selected ports yet)\n");
	else if (v->n_ports > shown)
		print_left_out(stdout, v->n_ports - shown, cols);
	free(rows);
}

static void print_title(const struct sa_report_ctx *rc, const char *what,
			double elapsed_s, int cols)
{
	struct wrap w = { .f = stdout, .width = cols };
	char unit[SA_ESC_SIZE(256) + 16], q[SA_ESC_SIZE(256)];

	/* Whoever created the namespace or interface named it: escaped. */
	w.x = printf("synacct %s", what);
	snprintf(unit, sizeof(unit), "netns %s",
		 rc->netns ? sa_tty_str(rc->netns, q, sizeof(q)) : "(current)");
	wrap_unit(&w, unit, NULL);
	for (int i = 0; i < rc->n_ifaces; i++) {
		snprintf(unit, sizeof(unit), "iface %s",
			 sa_tty_str(rc->ifaces[i], q, sizeof(q)));
		wrap_unit(&w, unit, NULL);
	}
	/* tc mode: no XDP; the NIC stage is TC ingress's first filter. */
	if (rc->m.nic && rc->m.nic_tc)
		snprintf(unit, sizeof(unit), "(nic: tc ingress, first)");
	else
		snprintf(unit, sizeof(unit), "(xdp %s)", rc->m.nic ? rc->xdp_mode : "off");
	wrap_unit(&w, unit, NULL);
	/* Hooks that went from under synacct (agent/cmd/health.c). */
	if (rc->m.lost) {
		snprintf(unit, sizeof(unit), "LOST: %s", sa_tty_str(rc->m.lost, q, sizeof(q)));
		wrap_unit(&w, unit, NULL);
	}
	snprintf(unit, sizeof(unit), "%.0fs", elapsed_s);
	wrap_unit(&w, unit, NULL);
	wrap_unit(&w, "totals since start", NULL);
	putchar('\n');
}

/* Stage 0's verdict, above the funnel: what no port's row can show
 * (xdp/driver/).  Nothing when it saw no drop.  Its lines. */
static int print_driver(const struct sa_report_ctx *rc, const struct sa_view *v, int cols)
{
	struct wrap w = { .f = stdout, .width = cols };

	if (!v->driver.text)
		return 0;
	w.x = w.min = printf("before XDP/TC => ");
	wrap_words(&w, v->driver.text, verdict_color(rc, &v->driver));
	wrap_newline(&w);
	return w.lines;
}

void sa_table_live(const struct sa_report_ctx *rc, const struct sa_view *v,
		   double elapsed_s)
{
	int cols = rc->width, lines = 0;

	if (rc->tty) {
		int c;

		sa_term_size(&c, &lines);
		fputs("\033[H\033[2J", stdout);	/* redraw in place */
		/* Leave the title and the cursor's line (print_ports keeps
		 * the "left out" line's). */
		lines = lines > 4 ? lines - 2 : 0;
	}
	print_title(rc, "live", elapsed_s, cols);
	if (lines) {
		lines -= print_driver(rc, v, cols);
		if (lines < 1)
			lines = 1;
	} else {
		print_driver(rc, v, cols);
	}
	print_ports(rc, v, SA_TABLE_LIVE_ROWS, cols, lines, true);
	if (!rc->tty)
		putchar('\n');
	fflush(stdout);
}

void sa_table_summary(const struct sa_report_ctx *rc, const struct sa_view *v,
		      double elapsed_s)
{
	int cols = rc->width;
	struct wrap w = { .f = stdout, .width = cols };
	char unit[128];

	printf("\n");
	print_title(rc, "summary", elapsed_s, cols);
	print_driver(rc, v, cols);
	print_ports(rc, v, SA_TABLE_SUMMARY_ROWS, cols, 0, false);
	printf("unparsed frames: nic %llu, tc %llu\n",
	       (unsigned long long)v->snap->nic_unparsed,
	       (unsigned long long)v->snap->tc_unparsed);
	if (sa_update_failed(v->snap))
		printf("counter map full: %llu updates lost (nic %llu, tc %llu, stack %llu)\n",
		       (unsigned long long)sa_update_failed(v->snap),
		       (unsigned long long)v->snap->nic_update_failed,
		       (unsigned long long)v->snap->tc_update_failed,
		       (unsigned long long)v->snap->stack_update_failed);
	if (v->snap->missed_runs)
		printf("stack programs missed %llu runs (fired again on a busy CPU): "
		       "counts may be incomplete\n", (unsigned long long)v->snap->missed_runs);
	if (rc->m.stack) {
		w.x = printf("namespace MIBs:");
		for (int i = 0; i < SA_MIB_MAX; i++) {
			snprintf(unit, sizeof(unit), "%s %llu", sa_mib_names[i],
				 (unsigned long long)v->snap->mib[i]);
			wrap_unit(&w, unit, NULL);
		}
		if (v->consistent)
			printf("\n  per-port sums agree with them\n");
		else
			printf("\n  per-port sums DISAGREE on %s (traffic on other "
			       "interfaces of the namespace?)\n", v->inconsistent);
	}
	fflush(stdout);
}
