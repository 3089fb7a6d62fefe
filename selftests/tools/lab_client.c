// SPDX-License-Identifier: GPL-2.0
/*
 * lab_client.c - real TCP clients for the lab: the SYNs at the start of
 * the data path come from ordinary connect(2) calls, so retransmits,
 * options and handshakes are the kernel's own.
 *
 * Opens --count connections, at most --parallel at a time, each with a
 * non-blocking connect() and --timeout-ms to establish; an established
 * connection optionally sends --send bytes, stays open --hold-ms, then
 * closes.  With --fastopen the SYN carries the first --send bytes (TCP Fast
 * Open; connect(2) returns at once, so "connected" counts clients that
 * got to send).  One summary line on stdout, "connected=X failed=Y"; exit 0 even
 * when some failed, because the tests assert on those numbers.
 *
 * Test traffic stays in the lab: the client refuses targets outside
 * 198.18.0.0/15 and 2001:db8::/32 and refuses to run in a network
 * namespace with a default route (see "Test traffic" in the kernel notes).
 *
 * Exit status: 0 ran (whatever connected), 1 runtime failure or refusal,
 * 2 usage error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROG "lab_client"

#include "lab_common.h"	/* uses PROG in its messages */

struct client_opts {
	const char *to;
	struct sockaddr_storage ss;
	socklen_t sslen;
	unsigned long count;
	unsigned long parallel;		/* 0: all at once */
	unsigned long timeout_ms;
	unsigned long hold_ms;
	unsigned long send_bytes;
	bool fastopen;
};

static void usage(void)
{
	printf("usage: " PROG " --to ADDR --port P --count N [--parallel K] [--timeout-ms T]\n"
	       "                  [--hold-ms H] [--send BYTES] [--fastopen]\n"
	       "\n"
	       "  --to ADDR        server, an IPv4 or IPv6 literal in 198.18.0.0/15 or 2001:db8::/32\n"
	       "  --port P         server port (1-65535)\n"
	       "  --count N        connections to open\n"
	       "  --parallel K     at most K at once (default: all at once)\n"
	       "  --timeout-ms T   time allowed to establish each connection (default 3000)\n"
	       "  --hold-ms H      keep each established connection open H ms (default 0)\n"
	       "  --send BYTES     write BYTES bytes on each established connection (default 0)\n"
	       "  --fastopen       TCP Fast Open: the SYN carries the first bytes of --send\n"
	       "\n"
	       "Prints \"connected=X failed=Y\".  Refuses to run in a network namespace\n"
	       "with a default route.\n"
	       "Exit status: 0 ran, 1 runtime failure or refusal, 2 usage error.\n");
}

static void parse_args(int argc, char **argv, struct client_opts *o)
{
	enum { OPT_TO = 0x100, OPT_PORT, OPT_COUNT, OPT_PARALLEL, OPT_TIMEOUT,
	       OPT_HOLD, OPT_SEND, OPT_FASTOPEN };
	static const struct option longopts[] = {
		{ "to",		required_argument, NULL, OPT_TO },
		{ "port",	required_argument, NULL, OPT_PORT },
		{ "count",	required_argument, NULL, OPT_COUNT },
		{ "parallel",	required_argument, NULL, OPT_PARALLEL },
		{ "timeout-ms",	required_argument, NULL, OPT_TIMEOUT },
		{ "hold-ms",	required_argument, NULL, OPT_HOLD },
		{ "send",	required_argument, NULL, OPT_SEND },
		{ "fastopen",	no_argument,	   NULL, OPT_FASTOPEN },
		{ "help",	no_argument,	   NULL, 'h' },
		{ 0 }
	};
	struct sockaddr_in *sin = (struct sockaddr_in *)&o->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&o->ss;
	unsigned long port = 0, v;
	int c;

	*o = (struct client_opts){ .timeout_ms = 3000 };
	opterr = 0;	/* our own one-line messages */
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_TO:
			o->to = optarg;
			break;
		case OPT_PORT:
			if (!parse_uint(optarg, 1, 65535, &port))
				usage_error("--port: '%s' is not a port (1-65535)", optarg);
			break;
		case OPT_COUNT:
			if (!parse_uint(optarg, 1, 10000000, &o->count))
				usage_error("--count: '%s' is not a number from 1 to 10000000", optarg);
			break;
		case OPT_PARALLEL:
			if (!parse_uint(optarg, 1, 1000000, &o->parallel))
				usage_error("--parallel: '%s' is not a number from 1 to 1000000", optarg);
			break;
		case OPT_TIMEOUT:
			if (!parse_uint(optarg, 1, 86400000, &o->timeout_ms))
				usage_error("--timeout-ms: '%s' is not a number of ms (1-86400000)", optarg);
			break;
		case OPT_HOLD:
			if (!parse_uint(optarg, 0, 86400000, &o->hold_ms))
				usage_error("--hold-ms: '%s' is not a number of ms (0-86400000)", optarg);
			break;
		case OPT_SEND:
			if (!parse_uint(optarg, 0, LONG_MAX, &v))
				usage_error("--send: '%s' is not a number of bytes", optarg);
			o->send_bytes = v;
			break;
		case OPT_FASTOPEN:
			o->fastopen = true;
			break;
		case 'h':
			usage();
			exit(0);
		default:
			lab_bad_option(c, argv);
		}
	}
	lab_no_arguments(argc, argv);
	if (!o->to || !port || !o->count)
		usage_error("--to, --port and --count are required");
	if (o->fastopen && !o->send_bytes)
		usage_error("--fastopen needs --send: the SYN leaves with the first bytes");

	memset(&o->ss, 0, sizeof(o->ss));
	if (inet_pton(AF_INET, o->to, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		o->sslen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, o->to, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		o->sslen = sizeof(*sin6);
	} else {
		usage_error("--to: '%s' is not an IPv4 or IPv6 address", o->to);
	}
	if (!o->parallel || o->parallel > o->count)
		o->parallel = o->count;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

enum conn_state { CONN_FREE, CONN_CONNECTING, CONN_SENDING, CONN_HOLDING };

struct conn {
	int fd;
	enum conn_state state;
	uint64_t deadline;	/* ns, CLOCK_MONOTONIC: end of the current state */
	unsigned long sent;
};

struct run {
	const struct client_opts *o;
	struct conn *conns;	/* o->parallel slots */
	unsigned long started, connected, failed;
};

static void conn_close(struct conn *c)
{
	close(c->fd);
	c->fd = -1;
	c->state = CONN_FREE;
}

/* The next state after establishment: send, hold, or close. */
static void conn_established(struct run *r, struct conn *c, uint64_t now)
{
	r->connected++;
	c->sent = 0;
	if (r->o->send_bytes) {
		/* A peer that never reads must not hang the run. */
		c->state = CONN_SENDING;
		c->deadline = now + r->o->timeout_ms * 1000000ull;
	} else if (r->o->hold_ms) {
		c->state = CONN_HOLDING;
		c->deadline = now + r->o->hold_ms * 1000000ull;
	} else {
		conn_close(c);
	}
}

static void conn_send(struct run *r, struct conn *c, uint64_t now)
{
	static char buf[65536];
	unsigned long left;
	ssize_t n;

	if (!buf[0])
		memset(buf, 'x', sizeof(buf));
	while ((left = r->o->send_bytes - c->sent) > 0) {
		n = send(c->fd, buf, left < sizeof(buf) ? left : sizeof(buf),
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			c->sent += n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		break;	/* reset by the peer: this connection is done */
	}
	if (left == 0 && r->o->hold_ms) {
		c->state = CONN_HOLDING;
		c->deadline = now + r->o->hold_ms * 1000000ull;
	} else {
		conn_close(c);
	}
}

/* Returns 0, or -1 when no socket can be made at all (runtime failure). */
static int conn_start(struct run *r, struct conn *c, uint64_t now)
{
	const struct client_opts *o = r->o;
	int one = 1;

	c->fd = socket(o->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		fprintf(stderr, PROG ": socket: %s%s\n", strerror(errno),
			errno == EMFILE || errno == ENFILE ? "; lower --parallel" : "");
		return -1;
	}
	r->started++;
	/* The SYN waits for the first write, and carries it. */
	if (o->fastopen &&
	    setsockopt(c->fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one, sizeof(one))) {
		fprintf(stderr, PROG ": TCP_FASTOPEN_CONNECT: %s\n", strerror(errno));
		conn_close(c);
		return -1;
	}
	if (!connect(c->fd, (const struct sockaddr *)&o->ss, o->sslen)) {
		conn_established(r, c, now);
	} else if (errno == EINPROGRESS) {
		c->state = CONN_CONNECTING;
		c->deadline = now + o->timeout_ms * 1000000ull;
	} else {
		r->failed++;	/* e.g. ENETUNREACH: counted, like a timeout */
		conn_close(c);
	}
	return 0;
}

/* Runs every connection to its end.  Returns 0 or -1 (runtime failure). */
static int run_all(struct run *r)
{
	const unsigned long k = r->o->parallel;
	struct pollfd *pfds;
	unsigned long i, active;
	int err = -1;

	pfds = calloc(k, sizeof(*pfds));
	if (!pfds) {
		fprintf(stderr, PROG ": out of memory\n");
		return -1;
	}
	for (;;) {
		uint64_t now = now_ns(), next = UINT64_MAX;
		struct timespec ts;

		/* Fill free slots; each start may end at once (refused). */
		active = 0;
		for (i = 0; i < k; i++) {
			struct conn *c = &r->conns[i];

			while (c->state == CONN_FREE && r->started < r->o->count)
				if (conn_start(r, c, now))
					goto out;
			pfds[i].fd = -1;	/* poll ignores it */
			pfds[i].events = POLLOUT;
			pfds[i].revents = 0;
			if (c->state == CONN_FREE)
				continue;
			active++;
			if (c->state != CONN_HOLDING)
				pfds[i].fd = c->fd;
			if (c->deadline < next)
				next = c->deadline;
		}
		if (!active)
			break;

		next = next > now ? next - now : 0;
		ts.tv_sec = next / 1000000000ull;
		ts.tv_nsec = next % 1000000000ull;
		if (ppoll(pfds, k, &ts, NULL) < 0 && errno != EINTR) {
			fprintf(stderr, PROG ": poll: %s\n", strerror(errno));
			goto out;
		}

		now = now_ns();
		for (i = 0; i < k; i++) {
			struct conn *c = &r->conns[i];

			if (c->state == CONN_CONNECTING && pfds[i].revents) {
				int soerr = 0;
				socklen_t len = sizeof(soerr);

				if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len))
					soerr = errno;
				if (!soerr) {
					conn_established(r, c, now);
				} else {
					r->failed++;
					conn_close(c);
				}
			} else if (c->state == CONN_SENDING && pfds[i].revents) {
				conn_send(r, c, now);
			}
			if (c->state != CONN_FREE && now >= c->deadline) {
				if (c->state == CONN_CONNECTING)
					r->failed++;
				conn_close(c);
			}
		}
	}
	err = 0;
out:
	free(pfds);
	return err;
}

int main(int argc, char **argv)
{
	struct client_opts o;
	struct run r = { .o = &o };
	struct rlimit rl;
	unsigned long i;
	int ret;

	parse_args(argc, argv, &o);

	if (o.ss.ss_family == AF_INET ?
	    !lab_addr4(&((struct sockaddr_in *)&o.ss)->sin_addr) :
	    !lab_addr6(&((struct sockaddr_in6 *)&o.ss)->sin6_addr)) {
		fprintf(stderr, PROG ": refusing to send: %s is outside 198.18.0.0/15 "
			"and 2001:db8::/32\n", o.to);
		return 1;
	}
	ret = lab_has_default_route();
	if (ret) {
		if (ret > 0)
			fprintf(stderr, PROG ": refusing to send: this network namespace "
				"has a default route\n");
		return 1;
	}

	/* Hundreds of sockets at once must not hit the usual soft limit. */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	r.conns = calloc(o.parallel, sizeof(*r.conns));
	if (!r.conns) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	for (i = 0; i < o.parallel; i++)
		r.conns[i].fd = -1;

	ret = run_all(&r);
	free(r.conns);	/* sockets still open close with the process */
	if (ret)
		return 1;
	printf("connected=%lu failed=%lu\n", r.connected, r.failed);
	return 0;
}
