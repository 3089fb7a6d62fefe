/* SPDX-License-Identifier: GPL-2.0 */
/*
 * http.h - the --metrics endpoint (libmicrohttpd): its options and the
 * server that hands out the page agent/output/prom.h renders.
 */
#ifndef SYNACCT_HTTP_H
#define SYNACCT_HTTP_H

#include <argp.h>
#include <stdbool.h>
#include <sys/socket.h>
#include "report.h"

#define SA_PROM_DEFAULT_TOP 100

struct sa_prom_opts {
	const char *listen;		/* --metrics as given; NULL: no metrics */
	struct sockaddr_storage addr;	/* ... parsed */
	socklen_t addrlen;
	unsigned int top;		/* --metrics-top */
	const char *web_config;		/* --web-config FILE; NULL: plain, open */
};

/* The argp child with --metrics, --metrics-top and --web-config; its input is
 * a struct sa_prom_opts. */
extern const struct argp sa_prom_argp;

/* "ADDR:PORT", "[ADDR6]:PORT", ":PORT" or "PORT" (127.0.0.1); -EINVAL, or
 * -EDOM for an IPv6 address without brackets (::1:9465 is ambiguous). */
int sa_prom_parse_addr(const char *spec, struct sockaddr_storage *ss, socklen_t *len);

struct sa_prom;

/* Create the listening socket in the caller's network namespace: call it
 * before entering --netns, so that the endpoint stays reachable from
 * where synacct was started.  0, or the exit status after the error. */
int sa_prom_listen(struct sa_prom **out, const struct sa_prom_opts *o);
/* Serve /metrics and /ready from a thread of its own, from before the
 * hooks are attached: until the first update /metrics answers 503, and
 * /ready until sa_prom_ready. */
int sa_prom_start(struct sa_prom *p);
/* /ready answers 200 from now on: every hook is attached and the first
 * reading is on /metrics.  NULL is a no-op. */
void sa_prom_ready(struct sa_prom *p);
/* Render @abs into the page the server hands out (sa_metrics_update);
 * NULL (no --metrics) is a no-op. */
int sa_prom_update(struct sa_prom *p, const struct sa_report_ctx *rc,
		   const struct sa_snapshot *abs, const struct sa_portset *sel,
		   const struct sa_portset *listeners);
/* Stop serving and free; NULL is a no-op. */
void sa_prom_stop(struct sa_prom *p);

#endif /* SYNACCT_HTTP_H */
