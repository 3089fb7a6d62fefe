/* SPDX-License-Identifier: GPL-2.0 */
/*
 * web_config.h - --web-config FILE: TLS and basic authentication for the
 * --metrics endpoint, in the Prometheus exporter-toolkit's format (YAML:
 * tls_server_config.cert_file / key_file, basic_auth_users: user: bcrypt
 * hash).  agent/http.c serves with it.
 */
#ifndef SYNACCT_WEB_CONFIG_H
#define SYNACCT_WEB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct sa_web_user {
	char *name;
	char *hash;		/* bcrypt: $2a$, $2b$ or $2y$ */
	/* The password that last matched, as a SHA-512 crypt of 1 000
	 * rounds with a salt of this run (NULL: none yet): checked in about
	 * a millisecond where bcrypt takes a fifth of a second. */
	char *fast;
};

struct sa_web_config {
	char *cert, *key;	/* PEM, NUL-terminated; NULL: plain HTTP */
	struct sa_web_user *users;	/* none: no authentication */
	size_t n_users;
};

/* Read @file into @wc: every error is one line naming FILE:LINE (or the
 * file a key names) and is SA_EXIT_USAGE; 0 otherwise. */
int sa_web_config_load(const char *file, struct sa_web_config *wc);
/* Is @pass the password of @user?  Runs bcrypt for an unknown user
 * too, so that the time taken does not tell which users exist; a
 * password that matched before is checked against its fast hash.  One
 * thread at a time (the server's). */
bool sa_web_config_check(struct sa_web_config *wc, const char *user,
			 const char *pass);
/* Wipes the key; @wc may be zeroed. */
void sa_web_config_free(struct sa_web_config *wc);

#endif /* SYNACCT_WEB_CONFIG_H */
