// SPDX-License-Identifier: GPL-2.0
/*
 * lab_server.c - the listener at the end of the lab's data path.
 *
 * The tests need a real application behind the SYN and accept queues, one
 * whose accept rate they control: accept everything (the queues stay
 * empty), nothing (the accept queue fills and SYNs are dropped at the
 * listener), or one connection every few milliseconds (a slow application).
 * Accepted connections are drained to EOF and closed, so clients see an
 * ordinary peer.
 *
 * One thread, one epoll set: the listener, a signalfd for SIGTERM/SIGINT and,
 * for --accept slow:MS, a timerfd.  On SIGTERM/SIGINT the accept count is
 * written to --count-file and the server exits 0.
 *
 *   lab_server --port P [--addr ADDR] [--backlog N] [--accept all|none|slow:MS]
 *              [--fastopen QLEN] [--ready-file F] [--count-file F]
 *
 * Exit status: 0 stopped by a signal, 1 runtime failure, 2 usage error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define PROG "lab_server"

#include "lab_common.h"	/* uses PROG in its messages */

enum accept_mode { ACCEPT_ALL, ACCEPT_NONE, ACCEPT_SLOW };

struct server_opts {
	unsigned int port;
	const char *addr;		/* as given, for messages */
	struct sockaddr_storage ss;	/* default [::]: IPv4 and IPv6 */
	socklen_t sslen;
	unsigned int backlog;
	enum accept_mode mode;
	unsigned int slow_ms;
	unsigned int fastopen;		/* TCP_FASTOPEN queue length, 0: off */
	const char *ready_file;
	const char *count_file;
};

static void usage(void)
{
	printf("usage: " PROG " --port P [--addr ADDR] [--backlog N] [--accept MODE]\n"
	       "                  [--fastopen QLEN] [--ready-file F] [--count-file F]\n"
	       "\n"
	       "  --port P        TCP port to listen on (1-65535)\n"
	       "  --addr ADDR     address to bind (default :: with IPV6_V6ONLY=0: IPv4 and IPv6)\n"
	       "  --backlog N     listen(2) backlog (default 128)\n"
	       "  --accept MODE   all (default), none, or slow:MS (one accept every MS ms)\n"
	       "  --fastopen QLEN take Fast Open SYNs (TCP_FASTOPEN, at most QLEN pending)\n"
	       "  --ready-file F  written (\"ready\") once the socket listens\n"
	       "  --count-file F  written with the accept count on SIGTERM/SIGINT\n"
	       "\n"
	       "Exit status: 0 stopped by SIGTERM/SIGINT, 1 runtime failure, 2 usage error.\n");
}

/* Strict unsigned parse: digits only, no sign, no trailing junk. */
/* An IPv4 or IPv6 literal into a sockaddr, port left 0.  0 or -1. */
static int parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		*len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

static void parse_args(int argc, char **argv, struct server_opts *o)
{
	enum { OPT_PORT = 0x100, OPT_ADDR, OPT_BACKLOG, OPT_ACCEPT,
	       OPT_FASTOPEN, OPT_READY, OPT_COUNT };
	static const struct option longopts[] = {
		{ "port",	required_argument, NULL, OPT_PORT },
		{ "addr",	required_argument, NULL, OPT_ADDR },
		{ "backlog",	required_argument, NULL, OPT_BACKLOG },
		{ "accept",	required_argument, NULL, OPT_ACCEPT },
		{ "fastopen",	required_argument, NULL, OPT_FASTOPEN },
		{ "ready-file",	required_argument, NULL, OPT_READY },
		{ "count-file",	required_argument, NULL, OPT_COUNT },
		{ "help",	no_argument,	   NULL, 'h' },
		{ 0 }
	};
	unsigned long v;
	int c;

	*o = (struct server_opts){ .backlog = 128, .mode = ACCEPT_ALL };
	parse_addr("::", &o->ss, &o->sslen);
	opterr = 0;	/* our own one-line messages */
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_PORT:
			if (!parse_uint(optarg, 1, 65535, &v))
				usage_error("--port: '%s' is not a port (1-65535)", optarg);
			o->port = v;
			break;
		case OPT_ADDR:
			o->addr = optarg;
			if (parse_addr(optarg, &o->ss, &o->sslen))
				usage_error("--addr: '%s' is not an IPv4 or IPv6 address", optarg);
			break;
		case OPT_BACKLOG:
			if (!parse_uint(optarg, 0, INT_MAX, &v))
				usage_error("--backlog: '%s' is not a number", optarg);
			o->backlog = v;
			break;
		case OPT_ACCEPT:
			if (!strcmp(optarg, "all")) {
				o->mode = ACCEPT_ALL;
			} else if (!strcmp(optarg, "none")) {
				o->mode = ACCEPT_NONE;
			} else if (!strncmp(optarg, "slow:", 5) &&
				   parse_uint(optarg + 5, 1, 3600 * 1000, &v)) {
				o->mode = ACCEPT_SLOW;
				o->slow_ms = v;
			} else {
				usage_error("--accept: '%s' is not all, none or slow:MS", optarg);
			}
			break;
		case OPT_FASTOPEN:
			if (!parse_uint(optarg, 1, 65535, &v))
				usage_error("--fastopen: '%s' is not a queue length (1-65535)", optarg);
			o->fastopen = v;
			break;
		case OPT_READY:
			o->ready_file = optarg;
			break;
		case OPT_COUNT:
			o->count_file = optarg;
			break;
		case 'h':
			usage();
			exit(0);
		default:
			lab_bad_option(c, argv);
		}
	}
	lab_no_arguments(argc, argv);
	if (!o->port)
		usage_error("--port is required");
	/* Same offset in sockaddr_in and sockaddr_in6. */
	((struct sockaddr_in *)&o->ss)->sin_port = htons(o->port);
}

/*
 * Write a small file whole or not at all: tests poll for it (`[ -s F ]`)
 * and must never read it half written.
 */
static int write_file(const char *path, const char *text)
{
	char tmp[PATH_MAX];
	size_t len = strlen(text);
	ssize_t n;
	int fd, saved;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp)) {
		fprintf(stderr, PROG ": path too long: %s\n", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, PROG ": cannot create %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	n = write(fd, text, len);
	saved = n < 0 ? errno : EIO;	/* a short write has no errno */
	if (close(fd) && n == (ssize_t)len) {
		n = -1;
		saved = errno;
	}
	if (n == (ssize_t)len && !rename(tmp, path))
		return 0;
	if (n == (ssize_t)len)
		saved = errno;
	unlink(tmp);
	fprintf(stderr, PROG ": cannot write %s: %s\n", path, strerror(saved));
	return -1;
}

static int open_listener(const struct server_opts *o)
{
	const char *shown = o->addr ? o->addr : "::";
	int family = o->ss.ss_family, fd, one = 1, zero = 0;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, PROG ": socket: %s\n", strerror(errno));
		return -1;
	}
	/* Tests restart servers on the same port while old connections sit
	 * in TIME_WAIT. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		goto fail;
	/* Explicit, so [::] takes IPv4 too whatever net.ipv6.bindv6only says. */
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)))
		goto fail;
	if (bind(fd, (const struct sockaddr *)&o->ss, o->sslen)) {
		fprintf(stderr, PROG ": cannot bind [%s]:%u: %s\n", shown, o->port,
			strerror(errno));
		close(fd);
		return -1;
	}
	if (o->fastopen &&
	    setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN, &o->fastopen, sizeof(o->fastopen)))
		goto fail;
	if (listen(fd, (int)o->backlog))
		goto fail;
	return fd;

fail:
	fprintf(stderr, PROG ": listener on [%s]:%u: %s\n", shown, o->port, strerror(errno));
	close(fd);
	return -1;
}

/* SIGTERM/SIGINT arrive through a signalfd, in the same loop as sockets. */
static int open_signalfd(void)
{
	sigset_t mask;
	int fd;

	/*
	 * A background job of a non-interactive shell starts with SIGINT
	 * ignored, and an ignored signal is discarded before a signalfd can
	 * see it: restore the default first, then block.
	 */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL)) {
		fprintf(stderr, PROG ": sigprocmask: %s\n", strerror(errno));
		return -1;
	}
	fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		fprintf(stderr, PROG ": signalfd: %s\n", strerror(errno));
	return fd;
}

static int open_timerfd(unsigned int ms)
{
	struct itimerspec its = {
		.it_interval = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L },
	};
	int fd;

	its.it_value = its.it_interval;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0 || timerfd_settime(fd, 0, &its, NULL)) {
		fprintf(stderr, PROG ": timerfd: %s\n", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Hundreds of open connections must not hit the usual soft limit of 1024. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int epoll_add(int ep, int fd, unsigned int events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
		fprintf(stderr, PROG ": epoll_ctl: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

struct server {
	int ep, lfd;
	unsigned long accepted;
	bool accept_all;	/* --accept all: listener lives in the epoll set */
	bool lfd_watched;	/* ...and is there now (not paused) */
	bool out_of_fds;	/* accept paused by EMFILE/ENFILE */
};

/*
 * Accept up to max connections.  Returns 0, or -1 on a runtime failure.
 * Running out of file descriptors pauses accepting until a connection
 * closes; the kernel keeps the rest in the accept queue meanwhile.
 */
static int accept_some(struct server *s, unsigned long max)
{
	while (max--) {
		int cfd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			switch (errno) {
			case EAGAIN:
				return 0;
			case EINTR:
			case ECONNABORTED:	/* reset while queued */
			case EPERM:		/* a firewall verdict */
			case EPROTO:
				continue;
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				if (!s->out_of_fds)
					fprintf(stderr, PROG ": accept: %s; pausing until a "
						"connection closes\n", strerror(errno));
				s->out_of_fds = true;
				if (s->lfd_watched &&
				    !epoll_ctl(s->ep, EPOLL_CTL_DEL, s->lfd, NULL))
					s->lfd_watched = false;
				return 0;
			default:
				fprintf(stderr, PROG ": accept: %s\n", strerror(errno));
				return -1;
			}
		}
		s->accepted++;
		if (epoll_add(s->ep, cfd, EPOLLIN | EPOLLRDHUP)) {
			close(cfd);
			return -1;
		}
	}
	return 0;
}

/* Drain a connection; close it at EOF or on error (a reset is an end too). */
static void drain(struct server *s, int cfd)
{
	static char buf[65536];
	ssize_t n;

	for (;;) {
		n = read(cfd, buf, sizeof(buf));
		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		break;
	}
	close(cfd);	/* also leaves the epoll set */
	if (s->out_of_fds) {
		s->out_of_fds = false;
		if (s->accept_all && !s->lfd_watched &&
		    !epoll_add(s->ep, s->lfd, EPOLLIN))
			s->lfd_watched = true;
	}
}

int main(int argc, char **argv)
{
	struct server_opts o;
	struct server s = { .ep = -1, .lfd = -1 };
	struct epoll_event evs[256];
	int sfd = -1, tfd = -1, err = 1;
	bool running = true;
	char line[32];

	parse_args(argc, argv, &o);
	raise_nofile();

	sfd = open_signalfd();
	if (sfd < 0)
		goto cleanup;
	s.lfd = open_listener(&o);
	if (s.lfd < 0)
		goto cleanup;
	s.ep = epoll_create1(EPOLL_CLOEXEC);
	if (s.ep < 0) {
		fprintf(stderr, PROG ": epoll_create1: %s\n", strerror(errno));
		goto cleanup;
	}
	if (epoll_add(s.ep, sfd, EPOLLIN))
		goto cleanup;
	switch (o.mode) {
	case ACCEPT_ALL:
		if (epoll_add(s.ep, s.lfd, EPOLLIN))
			goto cleanup;
		s.accept_all = s.lfd_watched = true;
		break;
	case ACCEPT_SLOW:
		tfd = open_timerfd(o.slow_ms);
		if (tfd < 0 || epoll_add(s.ep, tfd, EPOLLIN))
			goto cleanup;
		break;
	case ACCEPT_NONE:
		break;	/* the accept queue fills; that is the point */
	}
	if (o.ready_file && write_file(o.ready_file, "ready\n"))
		goto cleanup;

	while (running) {
		int i, n = epoll_wait(s.ep, evs, sizeof(evs) / sizeof(evs[0]), -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, PROG ": epoll_wait: %s\n", strerror(errno));
			goto cleanup;
		}
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == sfd) {
				running = false;
			} else if (fd == s.lfd) {
				if (accept_some(&s, 64))
					goto cleanup;
			} else if (fd == tfd) {
				uint64_t ticks;

				/* One accept per tick, even when ticks were missed:
				 * the rate is what the test asked for. */
				if (read(tfd, &ticks, sizeof(ticks)) == sizeof(ticks) &&
				    !s.out_of_fds && accept_some(&s, 1))
					goto cleanup;
			} else {
				drain(&s, fd);
			}
		}
	}

	snprintf(line, sizeof(line), "%lu\n", s.accepted);
	if (o.count_file && write_file(o.count_file, line))
		goto cleanup;
	err = 0;

cleanup:
	/* Open connections close with the process. */
	if (tfd >= 0)
		close(tfd);
	if (s.ep >= 0)
		close(s.ep);
	if (s.lfd >= 0)
		close(s.lfd);
	if (sfd >= 0)
		close(sfd);
	return err;
}
