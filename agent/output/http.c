// SPDX-License-Identifier: GPL-2.0
/*
 * http.c - the --metrics endpoint: its options, its listening socket and
 * the libmicrohttpd server that hands out the page agent/output/prom.c renders.
 *
 * The socket is made before synacct enters --netns, so the endpoint stays
 * where synacct was started.  The server runs a thread of its own that
 * only hands out the answer made from the last page (one copy per
 * rendering, made by the main loop): it never touches a snapshot the main
 * loop is changing.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <microhttpd.h>
#include <zlib.h>
#include "http.h"
#include "log.h"
#include "prom.h"
#include "web_config.h"

/* ---- options ---- */

enum {
	OPT_METRICS = 0x300,
	OPT_METRICS_TOP,
	OPT_WEB_CONFIG,
};

static const struct argp_option prom_options[] = {
	{ "metrics", OPT_METRICS, "ADDR:PORT", 0, "Serve Prometheus metrics on http://ADDR:PORT/metrics (ADDR defaults to 127.0.0.1; the socket stays in the namespace synacct was started in)", 0 },
	{ "metrics-top", OPT_METRICS_TOP, "N", 0, "Ports with their own label besides listening ports and --ports: the first N by SYNs (default 100); the rest add into port=\"other\"", 0 },
	{ "web-config", OPT_WEB_CONFIG, "FILE", 0, "TLS and basic authentication for --metrics: a Prometheus exporter-toolkit web config (tls_server_config: cert_file, key_file; basic_auth_users: USER: BCRYPT-HASH)", 0 },
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
			/* ::1:19465 could be [::1]:19465 or [::1:19465] on the
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
				   "[ADDR6]:PORT or PORT, e.g. 127.0.0.1:19464", arg);
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
	case OPT_WEB_CONFIG:
		o->web_config = arg;
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

/* A page's text, shared by its plain answer and by the endpoint (to
 * compress it when a client asks): freed with the last of them. */
struct page {
	int refs;
	size_t len;
	char text[];
};

static void page_put(void *cls)
{
	struct page *pg = cls;

	if (pg && !__atomic_sub_fetch(&pg->refs, 1, __ATOMIC_ACQ_REL))
		free(pg);
}

/*
 * Clients cannot starve the endpoint (docs/metrics.md, "The endpoint"):
 * - one thread and epoll serve up to SA_HTTP_CONNS connections at once;
 * - a request's headers must arrive within SA_HTTP_HEADER_S seconds of
 *   the connection (or of the previous answer on a kept-alive one): a
 *   client sending a byte at a time is cut off, which libmicrohttpd's own
 *   timeout, reset by every byte, would not do; any connection idle
 *   (nothing read, nothing sent) SA_HTTP_IDLE_S is closed;
 * - every answer of a page is the same libmicrohttpd response, counted by
 *   reference: clients that never read hold the page they asked for, not
 *   a copy each, and it is freed with the last of them.
 */
#define SA_HTTP_CONNS		1000
#define SA_HTTP_HEADER_S	5
#define SA_HTTP_IDLE_S		5

/* A connection, for the header deadline. */
struct conn {
	struct conn *prev, *next;
	int fd;
	struct timespec deadline;	/* {0}: its request is being answered */
};

struct sa_prom {
	int fd;
	char where[INET6_ADDRSTRLEN + 16];
	struct MHD_Daemon *d;
	struct sa_metrics *m;	/* renders the page */
	struct sa_web_config wc;	/* --web-config: TLS, users */
	pthread_mutex_t lock;
	struct MHD_Response *resp;	/* the last page's answer; NULL before */
	struct page *page;	/* its text, for ... */
	struct MHD_Response *resp_gz;	/* ... its gzip answer, made on demand */
	bool ready;	/* every hook attached, a page served (sa_prom_ready) */
	/* Connections, and the thread that keeps their header deadline. */
	pthread_mutex_t conns_lock;
	pthread_cond_t stop_cond;
	struct conn conns;	/* list head */
	pthread_t watchdog;
	bool watching, stopping;
};

static void deadline_in(struct timespec *t, int s)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	t->tv_sec += s;
}

static bool past(const struct timespec *t, const struct timespec *now)
{
	return (t->tv_sec || t->tv_nsec) &&
	       (now->tv_sec > t->tv_sec ||
		(now->tv_sec == t->tv_sec && now->tv_nsec >= t->tv_nsec));
}

/* libmicrohttpd tells each connection's start and end; it closes the
 * socket only after the end is told, so a descriptor on the list is the
 * connection's own while the list's lock is held. */
static void notify_conn(void *cls, struct MHD_Connection *c, void **socket_ctx,
			enum MHD_ConnectionNotificationCode code)
{
	struct sa_prom *p = cls;
	struct conn *k = *socket_ctx;
	const union MHD_ConnectionInfo *ci;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		k = calloc(1, sizeof(*k));
		if (!k || !ci) {	/* untracked: only the idle timeout applies */
			free(k);
			return;
		}
		k->fd = ci->connect_fd;
		deadline_in(&k->deadline, SA_HTTP_HEADER_S);
		pthread_mutex_lock(&p->conns_lock);
		k->next = p->conns.next;
		k->prev = &p->conns;
		k->next->prev = k;
		p->conns.next = k;
		pthread_mutex_unlock(&p->conns_lock);
		*socket_ctx = k;
	} else if (k) {
		pthread_mutex_lock(&p->conns_lock);
		k->prev->next = k->next;
		k->next->prev = k->prev;
		pthread_mutex_unlock(&p->conns_lock);
		free(k);
		*socket_ctx = NULL;
	}
}

/* Headers complete (@start: the answer begins) or the answer sent (the
 * next request's headers have SA_HTTP_HEADER_S again). */
static void conn_deadline(struct sa_prom *p, struct MHD_Connection *c, bool start)
{
	const union MHD_ConnectionInfo *ci;
	struct conn *k;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	k = ci ? ci->socket_context : NULL;
	if (!k)
		return;
	pthread_mutex_lock(&p->conns_lock);
	if (start)
		k->deadline = (struct timespec){ 0 };
	else
		deadline_in(&k->deadline, SA_HTTP_HEADER_S);
	pthread_mutex_unlock(&p->conns_lock);
}

static void request_done(void *cls, struct MHD_Connection *c, void **req,
			 enum MHD_RequestTerminationCode code)
{
	(void)req; (void)code;
	conn_deadline(cls, c, false);
}

/* Once a second: shut down the connections past their header deadline;
 * libmicrohttpd then sees the end of the stream and closes them. */
static void *watchdog(void *arg)
{
	struct sa_prom *p = arg;
	struct timespec now, wake;

	pthread_mutex_lock(&p->conns_lock);
	while (!p->stopping) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		for (struct conn *k = p->conns.next; k != &p->conns; k = k->next) {
			if (past(&k->deadline, &now)) {
				shutdown(k->fd, SHUT_RDWR);
				k->deadline = (struct timespec){ 0 };
			}
		}
		wake = now;
		wake.tv_sec++;
		pthread_cond_timedwait(&p->stop_cond, &p->conns_lock, &wake);
	}
	pthread_mutex_unlock(&p->conns_lock);
	return NULL;
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned int status,
			      const char *type, const char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* 401 with WWW-Authenticate: Basic realm="synacct". */
static enum MHD_Result deny(struct MHD_Connection *c)
{
	static const char body[] = "Unauthorized\n";
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body,
					    MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	ret = MHD_queue_basic_auth_fail_response(c, "synacct", r);
	MHD_destroy_response(r);
	return ret;
}

/* Does the request's Accept-Encoding take gzip (not with q=0)? */
static bool wants_gzip(struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_ACCEPT_ENCODING);

	while (h && *h) {
		size_t n;

		h += strspn(h, " \t,");
		n = strcspn(h, " \t,;");
		if (n == 4 && !strncasecmp(h, "gzip", 4)) {
			const char *q = h + n + strspn(h + n, " \t");

			if (*q != ';')
				return true;
			q += 1 + strspn(q + 1, " \t");
			return strncasecmp(q, "q=", 2) || strtod(q + 2, NULL) > 0;
		}
		h += strcspn(h, ",");
	}
	return false;
}

/* The page's gzip answer: a scrape of 1 000 listening ports is 1.7 MB of
 * text and about 0.1 MB compressed (docs/deploy.md).  Made on the first
 * request that asks, not at every reading: a page nobody scrapes with
 * gzip costs nothing. */
static struct MHD_Response *gzip_answer(const struct page *pg)
{
	struct MHD_Response *r;
	z_stream z = { 0 };
	uLong cap;
	Bytef *out;

	if (!pg || deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	cap = deflateBound(&z, pg->len);
	out = malloc(cap);
	if (!out) {
		deflateEnd(&z);
		return NULL;
	}
	z.next_in = (Bytef *)pg->text;
	z.avail_in = pg->len;
	z.next_out = out;
	z.avail_out = cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(out);
		return NULL;
	}
	deflateEnd(&z);
	r = MHD_create_response_from_buffer(z.total_out, out, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(out);
		return NULL;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	return r;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version,
			      const char *upload, size_t *upload_size, void **req)
{
	static const char text[] = "text/plain; charset=utf-8";
	static int headers_seen;
	struct sa_prom *p = cls;
	enum MHD_Result ret;
	bool gzip;

	(void)version; (void)upload;
	/* The first call has the headers; answering then would leave a body
	 * unread, and libmicrohttpd would close the connection after the
	 * answer.  The second, with the request whole, keeps it alive. */
	if (!*req) {
		*req = &headers_seen;
		conn_deadline(p, c, true);
		return MHD_YES;
	}
	if (*upload_size) {	/* a body: not ours to read */
		*upload_size = 0;
		return MHD_YES;
	}
	if (p->wc.n_users) {
		char *pass = NULL, *user = MHD_basic_auth_get_username_password(c, &pass);
		bool known = sa_web_config_check(&p->wc, user, pass);

		if (pass) {
			explicit_bzero(pass, strlen(pass));
			MHD_free(pass);
		}
		MHD_free(user);
		if (!known)
			return deny(c);
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, text, "GET only\n", 9);
	if (!strcmp(url, "/"))
		return answer(c, MHD_HTTP_OK, text, "synacct: metrics at /metrics\n", 29);
	/* A readiness probe's: 200 from the moment synacct would tell a
	 * service manager READY=1, 503 while it still attaches. */
	if (!strcmp(url, "/ready")) {
		bool ready;

		pthread_mutex_lock(&p->lock);
		ready = p->ready;
		pthread_mutex_unlock(&p->lock);
		return ready ? answer(c, MHD_HTTP_OK, text, "ready\n", 6) :
			       answer(c, MHD_HTTP_SERVICE_UNAVAILABLE, text,
				      "not ready: attaching\n", 21);
	}
	if (strcmp(url, "/metrics"))
		return answer(c, MHD_HTTP_NOT_FOUND, text, "not found: try /metrics\n", 24);

	gzip = wants_gzip(c);
	pthread_mutex_lock(&p->lock);
	if (p->resp && gzip && !p->resp_gz)
		p->resp_gz = gzip_answer(p->page);
	if (p->resp && gzip && p->resp_gz)
		ret = MHD_queue_response(c, MHD_HTTP_OK, p->resp_gz);
	else if (p->resp)
		ret = MHD_queue_response(c, MHD_HTTP_OK, p->resp);
	else
		ret = answer(c, MHD_HTTP_SERVICE_UNAVAILABLE, text,
			     "no reading yet\n", 15);
	pthread_mutex_unlock(&p->lock);
	return ret;
}

/* The answer for every scrape from now on: one copy of the page just
 * rendered; the answer before is freed when the last client reading it
 * is done. */
static int publish(const char *page, size_t len, void *ctx)
{
	struct sa_prom *p = ctx;
	struct MHD_Response *r, *old, *old_gz;
	struct page *pg, *old_pg;

	if (!page)
		return 0;
	pg = malloc(sizeof(*pg) + len);
	if (!pg)
		return -ENOMEM;
	pg->refs = 2;	/* the answer's and the endpoint's */
	pg->len = len;
	memcpy(pg->text, page, len);
	r = MHD_create_response_from_buffer_with_free_callback_cls(len, pg->text, page_put, pg);
	if (!r) {
		free(pg);
		return -ENOMEM;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	pthread_mutex_lock(&p->lock);
	old = p->resp;
	old_gz = p->resp_gz;
	old_pg = p->page;
	p->resp = r;
	p->resp_gz = NULL;
	p->page = pg;
	pthread_mutex_unlock(&p->lock);
	if (old)
		MHD_destroy_response(old);
	if (old_gz)
		MHD_destroy_response(old_gz);
	page_put(old_pg);
	return 0;
}

/* Room for SA_HTTP_CONNS connections besides the maps and links: raise
 * the soft limit on descriptors towards the hard one. */
static void room_for_conns(void)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) || r.rlim_cur >= 2 * SA_HTTP_CONNS)
		return;
	r.rlim_cur = r.rlim_max < 2 * SA_HTTP_CONNS ? r.rlim_max : 2 * SA_HTTP_CONNS;
	setrlimit(RLIMIT_NOFILE, &r);
}

int sa_prom_listen(struct sa_prom **out, const struct sa_prom_opts *o)
{
	const struct sockaddr *sa = (const struct sockaddr *)&o->addr;
	pthread_condattr_t ca;
	struct sa_prom *p;
	char host[INET6_ADDRSTRLEN];
	int one = 1, port;

	*out = NULL;
	/* Checked here, not by argp: --config feeds its keys one by one. */
	if (!o->listen && o->web_config) {
		sa_err("--web-config needs --metrics");
		return SA_EXIT_USAGE;
	}
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
	p->fd = -1;
	if (o->web_config) {
		int err = sa_web_config_load(o->web_config, &p->wc);

		if (!err && p->wc.cert && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			sa_err("--web-config %s asks for TLS: this libmicrohttpd has none",
			       o->web_config);
			err = SA_EXIT_RUNTIME;
		}
		if (err) {
			sa_metrics_free(p->m);
			free(p);
			return err;
		}
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->conns_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->stop_cond, &ca);
	pthread_condattr_destroy(&ca);
	p->conns.next = p->conns.prev = &p->conns;
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
	    bind(p->fd, sa, o->addrlen) || listen(p->fd, 128)) {
		sa_err("cannot listen for --metrics on %s: %s%s", p->where, strerror(errno),
		       errno == EADDRINUSE ? " (another process has it: pick another port)" :
		       errno == EADDRNOTAVAIL ? " (no interface has that address here)" : "");
		sa_prom_stop(p);
		return SA_EXIT_RUNTIME;
	}
	room_for_conns();
	*out = p;
	return 0;
}

int sa_prom_start(struct sa_prom *p)
{
	struct MHD_OptionItem tls[] = {
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, p ? p->wc.key : NULL },
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, p ? p->wc.cert : NULL },
		{ MHD_OPTION_END, 0, NULL },
	};
	sigset_t block, old;

	if (!p)
		return 0;
	/* Signals are the main loop's: the server threads inherit a mask
	 * that blocks them, so they always interrupt the main loop's sleep. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGWINCH);
	sigaddset(&block, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	p->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
				(p->wc.cert ? MHD_USE_TLS : 0),
				0, NULL, NULL, handle, p,
				/* the TLS items, or none */
				MHD_OPTION_ARRAY, p->wc.cert ? tls : tls + 2,
				MHD_OPTION_LISTEN_SOCKET, p->fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)SA_HTTP_CONNS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)SA_HTTP_IDLE_S,
				MHD_OPTION_NOTIFY_CONNECTION, notify_conn, p,
				MHD_OPTION_NOTIFY_COMPLETED, request_done, p,
				MHD_OPTION_END);
	if (p->d)
		p->watching = !pthread_create(&p->watchdog, NULL, watchdog, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!p->d) {
		sa_err("cannot serve --metrics on %s (libmicrohttpd failed to start%s)", p->where,
		       p->wc.cert ? "; with TLS: is key_file the key of cert_file?" : "");
		return -EIO;
	}
	if (!p->watching) {
		sa_err("cannot serve --metrics on %s (no thread for its timeouts)", p->where);
		return -EIO;
	}
	return 0;
}

void sa_prom_stop(struct sa_prom *p)
{
	if (!p)
		return;
	if (p->watching) {
		pthread_mutex_lock(&p->conns_lock);
		p->stopping = true;
		pthread_cond_signal(&p->stop_cond);
		pthread_mutex_unlock(&p->conns_lock);
		pthread_join(p->watchdog, NULL);
	}
	if (p->d)
		MHD_stop_daemon(p->d);	/* closes the listening socket */
	else if (p->fd >= 0)
		close(p->fd);
	if (p->resp)
		MHD_destroy_response(p->resp);
	if (p->resp_gz)
		MHD_destroy_response(p->resp_gz);
	page_put(p->page);
	pthread_cond_destroy(&p->stop_cond);
	pthread_mutex_destroy(&p->conns_lock);
	pthread_mutex_destroy(&p->lock);
	sa_metrics_free(p->m);
	sa_web_config_free(&p->wc);
	free(p);
}

void sa_prom_ready(struct sa_prom *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->ready = p->resp != NULL;
	pthread_mutex_unlock(&p->lock);
}

int sa_prom_update(struct sa_prom *p, const struct sa_report_ctx *rc,
		   const struct sa_snapshot *abs, const struct sa_portset *sel,
		   const struct sa_portset *listeners)
{
	int err;

	if (!p)
		return 0;
	err = sa_metrics_update(p->m, rc, abs, sel, listeners);
	if (!err)
		err = sa_metrics_with_page(p->m, publish, p);
	if (err)
		sa_err("cannot serve the metrics page: %s", strerror(-err));
	return err;
}
