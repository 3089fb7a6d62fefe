// SPDX-License-Identifier: GPL-2.0
/*
 * web_config.c - --web-config FILE, the Prometheus exporter-toolkit's web
 * configuration, so that one file serves synacct as it serves
 * node_exporter:
 *
 *     tls_server_config:
 *       cert_file: synacct.crt     # relative to FILE's directory
 *       key_file: synacct.key
 *     basic_auth_users:
 *       prometheus: $2y$10$...     # bcrypt (htpasswd -nBC 10 "")
 *
 * Read with libyaml's document loader; strict where exporter-toolkit is
 * lenient: a key synacct does not implement (client_auth_type,
 * min_version, http_server_config, ...) is an error naming FILE:LINE, not
 * a setting silently ignored.  Passwords are checked with libcrypt's
 * bcrypt (crypt_r), which is what exporter-toolkit accepts; as there, a
 * password that matched is remembered so that each scrape does not cost
 * a bcrypt (here as a fast salted hash, never as itself).
 */
#define _GNU_SOURCE
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <yaml.h>
#include "log.h"
#include "web_config.h"

/* A certificate or key file is a few KiB; more is not one. */
#define SA_WEB_FILE_MAX (1 << 20)
/* bcrypt's output: $2b$NN$ + 22 characters of salt + 31 of hash. */
#define SA_BCRYPT_LEN 60

struct loader {
	const char *file;
	char *dir;		/* FILE's directory, for relative paths */
	yaml_document_t doc;
	struct sa_web_config *wc;
};

static int fail(const struct loader *l, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(const struct loader *l, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sa_err("%s:%zu: %s", l->file, n->start_mark.line + 1, msg);
	return SA_EXIT_USAGE;
}

static const char *scalar(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A file a key names: regular, at most SA_WEB_FILE_MAX, NUL-terminated. */
static int read_named(const struct loader *l, const yaml_node_t *n, const char *key,
		      char **out)
{
	const char *name = scalar(n);
	char *path = NULL, *buf = NULL;
	struct stat st;
	ssize_t got = 0, r;
	int fd = -1, err = SA_EXIT_USAGE;

	if (!name || !*name)
		return fail(l, n, "%s: expected a file name", key);
	if (*out)
		return fail(l, n, "%s given twice", key);
	if (asprintf(&path, "%s%s%s", *name == '/' ? "" : l->dir,
		     *name == '/' ? "" : "/", name) < 0) {
		sa_err("out of memory");
		return SA_EXIT_RUNTIME;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		fail(l, n, "%s: cannot open %s: %s", key, path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > SA_WEB_FILE_MAX) {
		fail(l, n, "%s: %s is not a regular file of at most 1 MiB", key, path);
		goto out;
	}
	buf = malloc(st.st_size + 1);
	if (!buf) {
		sa_err("out of memory");
		err = SA_EXIT_RUNTIME;
		goto out;
	}
	while (got < st.st_size && (r = read(fd, buf + got, st.st_size - got)) > 0)
		got += r;
	if (got != st.st_size) {
		fail(l, n, "%s: cannot read %s", key, path);
		explicit_bzero(buf, st.st_size);
		free(buf);
		goto out;
	}
	buf[got] = '\0';
	*out = buf;
	err = 0;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return err;
}

/* A pair of a mapping: its key's text (NULL: not a scalar) and nodes. */
#define FOR_PAIRS(l, map, p)						\
	for (yaml_node_pair_t *p = (map)->data.mapping.pairs.start;	\
	     p < (map)->data.mapping.pairs.top; p++)

static yaml_node_t *node(const struct loader *l, int id)
{
	return yaml_document_get_node((yaml_document_t *)&l->doc, id);
}

static int load_tls(struct loader *l, yaml_node_t *map)
{
	int err;

	if (map->type != YAML_MAPPING_NODE)
		return fail(l, map, "tls_server_config: expected cert_file and key_file");
	FOR_PAIRS(l, map, p) {
		yaml_node_t *k = node(l, p->key), *v = node(l, p->value);
		const char *key = scalar(k);

		if (key && !strcmp(key, "cert_file"))
			err = read_named(l, v, "cert_file", &l->wc->cert);
		else if (key && !strcmp(key, "key_file"))
			err = read_named(l, v, "key_file", &l->wc->key);
		else
			err = fail(l, k, "tls_server_config: unknown or unsupported key '%s' "
				   "(synacct reads cert_file and key_file)", key ? key : "?");
		if (err)
			return err;
	}
	if (!l->wc->cert || !l->wc->key)
		return fail(l, map, "tls_server_config: needs both cert_file and key_file");
	return 0;
}

/* Is @hash a bcrypt hash libcrypt takes? */
static bool bcrypt_hash(const char *hash)
{
	struct crypt_data *cd;
	const char *r;
	bool valid;

	if (strlen(hash) != SA_BCRYPT_LEN ||
	    (strncmp(hash, "$2a$", 4) && strncmp(hash, "$2b$", 4) && strncmp(hash, "$2y$", 4)))
		return false;
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return false;
	/* The setting alone is checked: a cost of at most 31, a salt of
	 * bcrypt's alphabet.  libcrypt's failure token starts with '*'. */
	r = crypt_r("", hash, cd);
	valid = r && !strncmp(r, hash, 29) && strlen(r) == SA_BCRYPT_LEN;
	free(cd);
	return valid;
}

static int load_users(struct loader *l, yaml_node_t *map)
{
	struct sa_web_config *wc = l->wc;
	size_t n;

	if (map->type != YAML_MAPPING_NODE)
		return fail(l, map, "basic_auth_users: expected user: bcrypt hash pairs");
	n = map->data.mapping.pairs.top - map->data.mapping.pairs.start;
	wc->users = calloc(n ? n : 1, sizeof(*wc->users));
	if (!wc->users) {
		sa_err("out of memory");
		return SA_EXIT_RUNTIME;
	}
	FOR_PAIRS(l, map, p) {
		yaml_node_t *k = node(l, p->key), *v = node(l, p->value);
		const char *user = scalar(k), *hash = scalar(v);

		if (!user || !*user || strchr(user, ':'))
			return fail(l, k, "basic_auth_users: a user name is a string without ':'");
		for (size_t i = 0; i < wc->n_users; i++)
			if (!strcmp(wc->users[i].name, user))
				return fail(l, k, "basic_auth_users: user '%s' given twice", user);
		if (!hash || !bcrypt_hash(hash))
			return fail(l, v, "basic_auth_users: the password of '%s' is not a bcrypt "
				    "hash ($2y$..., e.g. from htpasswd -nBC 10 \"\")", user);
		wc->users[wc->n_users].name = strdup(user);
		wc->users[wc->n_users].hash = strdup(hash);
		if (!wc->users[wc->n_users].name || !wc->users[wc->n_users].hash) {
			free(wc->users[wc->n_users].name);
			free(wc->users[wc->n_users].hash);
			sa_err("out of memory");
			return SA_EXIT_RUNTIME;
		}
		wc->n_users++;
	}
	return 0;
}

static int load_root(struct loader *l, yaml_node_t *root)
{
	bool tls = false, users = false;
	int err;

	if (root->type != YAML_MAPPING_NODE)
		return fail(l, root, "expected tls_server_config and basic_auth_users");
	FOR_PAIRS(l, root, p) {
		yaml_node_t *k = node(l, p->key), *v = node(l, p->value);
		const char *key = scalar(k);

		if (key && !strcmp(key, "tls_server_config") && !tls) {
			tls = true;
			err = load_tls(l, v);
		} else if (key && !strcmp(key, "basic_auth_users") && !users) {
			users = true;
			err = load_users(l, v);
		} else if (key && (!strcmp(key, "tls_server_config") ||
				   !strcmp(key, "basic_auth_users"))) {
			err = fail(l, k, "%s given twice", key);
		} else {
			err = fail(l, k, "unknown or unsupported key '%s' (synacct reads "
				   "tls_server_config and basic_auth_users)", key ? key : "?");
		}
		if (err)
			return err;
	}
	return 0;
}

int sa_web_config_load(const char *file, struct sa_web_config *wc)
{
	struct loader l = { .file = file, .wc = wc };
	yaml_parser_t parser;
	yaml_document_t more;
	yaml_node_t *root;
	char *copy = NULL;
	FILE *f = NULL;
	struct stat st;
	int err = SA_EXIT_USAGE;
	bool parser_ok, doc_ok = false;

	memset(wc, 0, sizeof(*wc));
	parser_ok = yaml_parser_initialize(&parser);
	f = fopen(file, "re");
	if (!f || fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || st.st_size > SA_WEB_FILE_MAX) {
		sa_err("--web-config %s: %s", file,
		       !f ? strerror(errno) : "not a regular file of at most 1 MiB");
		goto out;
	}
	copy = strdup(file);
	l.dir = copy ? dirname(copy) : NULL;
	if (!parser_ok || !l.dir) {
		sa_err("out of memory");
		err = SA_EXIT_RUNTIME;
		goto out;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &l.doc)) {
		sa_err("%s:%zu: %s", file, parser.problem_mark.line + 1,
		       parser.problem ? parser.problem : "not YAML");
		goto out;
	}
	doc_ok = true;
	root = yaml_document_get_root_node(&l.doc);
	if (root) {	/* an empty file: neither TLS nor users */
		err = load_root(&l, root);
		if (err)
			goto out;
		if (!yaml_parser_load(&parser, &more)) {
			sa_err("%s:%zu: %s", file, parser.problem_mark.line + 1,
			       parser.problem ? parser.problem : "not YAML");
			err = SA_EXIT_USAGE;
			goto out;
		}
		root = yaml_document_get_root_node(&more);
		if (root) {
			sa_err("%s:%zu: a second YAML document: one is expected", file,
			       root->start_mark.line + 1);
			err = SA_EXIT_USAGE;
		}
		yaml_document_delete(&more);
		if (err)
			goto out;
	}
	err = 0;
out:
	if (doc_ok)
		yaml_document_delete(&l.doc);
	if (parser_ok)
		yaml_parser_delete(&parser);
	if (f)
		fclose(f);
	free(copy);
	if (err)
		sa_web_config_free(wc);
	return err;
}

/* crypt_r's result against @want, in a time that depends on their
 * lengths only. */
static bool same(const char *r, const char *want)
{
	size_t n = strlen(want);
	unsigned char diff = 0;

	if (!r || strlen(r) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		diff |= r[i] ^ want[i];
	return !diff;
}

/* Remember @pass of @u as a SHA-512 crypt of 1 000 rounds (libcrypt's
 * least), salted from getrandom: the next scrape with it costs about a
 * millisecond, not a bcrypt. */
static void remember(struct sa_web_user *u, const char *pass, struct crypt_data *cd)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *r;

	if (!crypt_gensalt_rn("$6$", 1000, NULL, 0, setting, sizeof(setting)))
		return;
	r = crypt_r(pass, setting, cd);
	if (!r || *r == '*')
		return;
	free(u->fast);
	u->fast = strdup(r);
}

bool sa_web_config_check(struct sa_web_config *wc, const char *user,
			 const char *pass)
{
	struct sa_web_user *u = NULL;
	struct crypt_data *cd;
	bool match;

	if (!wc->n_users || !user || !pass)
		return false;
	for (size_t i = 0; i < wc->n_users && !u; i++)
		if (!strcmp(wc->users[i].name, user))
			u = &wc->users[i];
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return false;
	if (u && u->fast && same(crypt_r(pass, u->fast, cd), u->fast)) {
		match = true;
	} else {
		/* An unknown user costs the same bcrypt as a known one. */
		const char *hash = u ? u->hash : wc->users[0].hash;

		match = same(crypt_r(pass, hash, cd), hash) && u;
		if (match)
			remember(u, pass, cd);
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return match;
}

void sa_web_config_free(struct sa_web_config *wc)
{
	if (wc->key) {
		explicit_bzero(wc->key, strlen(wc->key));
		free(wc->key);
	}
	free(wc->cert);
	for (size_t i = 0; i < wc->n_users; i++) {
		free(wc->users[i].name);
		free(wc->users[i].hash);
		free(wc->users[i].fast);
	}
	free(wc->users);
	memset(wc, 0, sizeof(*wc));
}
