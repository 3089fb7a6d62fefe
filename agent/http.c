// SPDX-License-Identifier: GPL-2.0
/*
 * http.c - the --metrics endpoint: its options, its listening socket and
 * the libmicrohttpd server that hands out the page agent/prom.c renders.
 *
 * The socket is made before synacct enters --netns, so the endpoint stays
 * where synacct was started.  The server runs a thread of its own that
 * only copies the last page out (under the renderer's lock): it never
 * touches a snapshot the main loop is changing.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <microhttpd.h>
#include "http.h"
#include "log.h"
#include "prom.h"

/* ---- options ---- */

enum {
	OPT_METRICS = 0x300,
	OPT_METRICS_TOP,
	OPT_PIN,
};

static const struct argp_option prom_options[] = {
	{ "metrics", OPT_METRICS, "ADDR:PORT", 0, "Serve Prometheus metrics on http://ADDR:PORT/metrics (ADDR defaults to 127.0.0.1; the socket stays in the namespace synacct was started in)", 0 },
	{ "metrics-top", OPT_METRICS_TOP, "N", 0, "Ports with their own label besides listening ports and --ports: the first N by SYNs (default 100); the rest add into port=\"other\"", 0 },
	{ "quiet", 'q', NULL, 0, "No table and no JSON (a daemon serving --metrics)", 0 },
	{ "pin", OPT_PIN, NULL, 0, "Keep programs and counters in bpffs (" "/sys/fs/bpf/synacct/NETNS-INODE/IFACE" "): they stay attached and counting after synacct exits, and a restarted synacct continues the same totals; 'synacct detach' removes them", 0 },
	{ 0 }
};

int sa_prom_parse_addr(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char host[INET6_ADDRSTRLEN + 2] = "127.0.0.1";
	const char *colon = strrchr(spec, ':'), *port_s = spec;
	char *end;
	long port;

	if (colon) {
		size_t hl = colon - spec;

		port_s = colon + 1;
		if (hl) {
			/* [v6]:port, or a v4 address / name-less host */
			bool bracketed = spec[0] == '[' && hl >= 2 && spec[hl - 1] == ']';

			if (bracketed) {
				spec++;
				hl -= 2;
			}
			if (hl >= sizeof(host))
				return -EINVAL;
			memcpy(host, spec, hl);
			host[hl] = '\0';
			/* ::1:9465 could be [::1]:9465 or [::1:9465] on the
			 * default port someone forgot: IPv6 in brackets only. */
			if (!bracketed && strchr(host, ':') && !strpbrk(host, "[]"))
				return -EDOM;
		}
	}
	errno = 0;
	port = strtol(port_s, &end, 10);
	if (errno || end == port_s || *end || port < 1 || port > 65535)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		*len = sizeof(*in4);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
	} else {
		return -EINVAL;
	}
	return 0;
}

static error_t prom_parse(int key, char *arg, struct argp_state *state)
{
	struct sa_prom_opts *o = state->input;
	char *end;
	long n;

	switch (key) {
	case ARGP_KEY_INIT:
		o->top = SA_PROM_DEFAULT_TOP;
		break;
	case OPT_METRICS:
		n = sa_prom_parse_addr(arg, &o->addr, &o->addrlen);
		if (n == -EDOM) {
			const char *c = strrchr(arg, ':');

			argp_error(state, "invalid --metrics '%s': an IPv6 address goes in "
				   "brackets, [ADDR6]:PORT: [%.*s]:%s", arg,
				   (int)(c - arg), arg, c + 1);
		} else if (n) {
			argp_error(state, "invalid --metrics '%s': expected ADDR:PORT, "
				   "[ADDR6]:PORT or PORT, e.g. 127.0.0.1:9464", arg);
		}
		o->listen = arg;
		break;
	case OPT_METRICS_TOP:
		errno = 0;
		n = strtol(arg, &end, 10);
		if (errno || end == arg || *end || n < 0 || n > SA_MAX_PORTS)
			argp_error(state, "invalid --metrics-top '%s': expected a number "
				   "of ports, 0 to %d", arg, SA_MAX_PORTS);
		o->top = n;
		break;
	case 'q':
		o->quiet = true;
		break;
	case OPT_PIN:
		o->pin = true;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp sa_prom_argp = {
	prom_options, prom_parse, NULL, NULL, NULL, NULL, NULL
};
/* ---- the server ---- */

struct sa_prom {
	int fd;
	char where[INET6_ADDRSTRLEN + 16];
	struct MHD_Daemon *d;
	struct sa_metrics *m;	/* the page it serves */
};

static enum MHD_Result answer(struct MHD_Connection *c, unsigned int status,
			      const char *type, const char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* The page as last rendered, copied out under the renderer's lock. */
static int serve_page(const char *page, size_t len, void *ctx)
{
	struct MHD_Connection *c = ctx;

	if (!page)
		return answer(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain; charset=utf-8",
			      "no reading yet\n", 15);
	return answer(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
		      page, len);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version,
			      const char *upload, size_t *upload_size, void **req)
{
	static const char text[] = "text/plain; charset=utf-8";
	struct sa_prom *p = cls;

	(void)version; (void)upload; (void)upload_size; (void)req;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, text, "GET only\n", 9);
	if (!strcmp(url, "/"))
		return answer(c, MHD_HTTP_OK, text, "synacct: metrics at /metrics\n", 29);
	if (strcmp(url, "/metrics"))
		return answer(c, MHD_HTTP_NOT_FOUND, text, "not found: try /metrics\n", 24);

	return sa_metrics_with_page(p->m, serve_page, c);
}

int sa_prom_listen(struct sa_prom **out, const struct sa_prom_opts *o)
{
	const struct sockaddr *sa = (const struct sockaddr *)&o->addr;
	struct sa_prom *p;
	char host[INET6_ADDRSTRLEN];
	int one = 1, port;

	*out = NULL;
	if (!o->listen)
		return 0;
	p = calloc(1, sizeof(*p));
	if (p)
		p->m = sa_metrics_new(o->top);
	if (!p || !p->m) {
		free(p);
		sa_err("out of memory");
		return SA_EXIT_RUNTIME;
	}
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof(host));
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
		snprintf(p->where, sizeof(p->where), "%s:%d", host, port);
	} else {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host, sizeof(host));
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
		snprintf(p->where, sizeof(p->where), "[%s]:%d", host, port);
	}
	p->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0 ||
	    setsockopt(p->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(p->fd, sa, o->addrlen) || listen(p->fd, 64)) {
		sa_err("cannot listen for --metrics on %s: %s%s", p->where, strerror(errno),
		       errno == EADDRINUSE ? " (another process has it: pick another port)" :
		       errno == EADDRNOTAVAIL ? " (no interface has that address here)" : "");
		if (p->fd >= 0)
			close(p->fd);
		sa_metrics_free(p->m);
		free(p);
		return SA_EXIT_RUNTIME;
	}
	*out = p;
	return 0;
}

int sa_prom_start(struct sa_prom *p)
{
	sigset_t block, old;

	if (!p)
		return 0;
	/* Signals are the main loop's: the server thread inherits a mask
	 * that blocks them, so they always interrupt the main loop's sleep. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGWINCH);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	p->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL,
				0, NULL, NULL, handle, p,
				MHD_OPTION_LISTEN_SOCKET, p->fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)32,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
				MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!p->d) {
		sa_err("cannot serve --metrics on %s (libmicrohttpd failed to start)", p->where);
		return -EIO;
	}
	return 0;
}

void sa_prom_stop(struct sa_prom *p)
{
	if (!p)
		return;
	if (p->d)
		MHD_stop_daemon(p->d);	/* closes the listening socket */
	else
		close(p->fd);
	sa_metrics_free(p->m);
	free(p);
}

int sa_prom_update(struct sa_prom *p, const struct sa_report_ctx *rc,
		   const struct sa_snapshot *abs, const struct sa_portset *sel,
		   const struct sa_portset *listeners)
{
	return p ? sa_metrics_update(p->m, rc, abs, sel, listeners) : 0;
}

