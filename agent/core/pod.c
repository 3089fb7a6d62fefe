// SPDX-License-Identifier: GPL-2.0
/*
 * pod.c - a followed namespace's pod and container, parsed from a cgroup
 * path and from the pods' log directory names (pod.h).  Nothing here reads
 * a file: agent/sys/pods.c and kprobe/container/follow_find.c do.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include "pod.h"

/* One level of a cgroup path: not NUL-terminated. */
struct level {
	const char *s;
	size_t n;
};

static bool is(struct level l, const char *word)
{
	return l.n == strlen(word) && !memcmp(l.s, word, l.n);
}

static bool ends_with(struct level l, const char *tail)
{
	size_t n = strlen(tail);

	return l.n >= n && !memcmp(l.s + l.n - n, tail, n);
}

/* A container id: 12 to 64 lower-case hex digits (the engines' ids are
 * 64; 12 is the shortest any shows). */
static bool take_id(const char *s, size_t n, char *out)
{
	if (n < 12 || n > SA_CONTAINER_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

/* A pod uid: hex digits and dashes (the systemd driver's '_' for '-'). */
static bool take_uid(const char *s, size_t n, bool systemd, char *out)
{
	if (!n || n > SA_POD_UID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (systemd && c == '_')
			c = '-';
		else if (c == '-' && systemd)
			return false;	/* systemd escapes it: not the kubelet's */
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-'))
			return false;
		out[i] = c;
	}
	out[n] = '\0';
	return true;
}

/* The container engines' prefixes, systemd scopes and cgroupfs levels. */
static const char *const engines[] = { "cri-containerd-", "crio-", "docker-", "libpod-" };

/* A container's level: "<engine>-<id>.scope", "<engine>-<id>", or, with
 * @bare (right under a pod, cgroupfs), "<id>". */
static bool container_level(struct level l, bool bare, char *out)
{
	bool scope = ends_with(l, ".scope");

	if (scope)
		l.n -= 6;
	for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++) {
		size_t n = strlen(engines[i]);

		if (l.n > n && !memcmp(l.s, engines[i], n))
			return take_id(l.s + n, l.n - n, out);
	}
	return bare && !scope && take_id(l.s, l.n, out);
}

/* Is slice name @base (".slice" off) the kubelet's: "kubepods", or a
 * dash-separated word of it ("kubepods-burstable", kind's
 * "kubelet-kubepods")? */
static bool kube_slice(struct level base)
{
	for (size_t i = 0; i + 8 <= base.n; i++)
		if (!memcmp(base.s + i, "kubepods", 8) && (i == 0 || base.s[i - 1] == '-') &&
		    (i + 8 == base.n || base.s[i + 8] == '-'))
			return true;
	return false;
}

/* systemd driver: @l is "<parent without .slice>-pod<uid>.slice" under
 * a kubelet's slice @parent. */
static bool systemd_pod(struct level parent, struct level l, char *uid)
{
	struct level base = { parent.s, parent.n - 6 };

	if (!ends_with(parent, ".slice") || !ends_with(l, ".slice"))
		return false;
	if (!kube_slice(base) || l.n <= base.n + 4 + 6 ||
	    memcmp(l.s, base.s, base.n) || memcmp(l.s + base.n, "-pod", 4))
		return false;
	return take_uid(l.s + base.n + 4, l.n - base.n - 4 - 6, true, uid);
}

/* cgroupfs driver: @l is "pod<uid>" right under kubepods, or under its
 * besteffort or burstable level. */
static bool cgroupfs_pod(struct level gp, struct level parent, struct level l, char *uid)
{
	if (l.n <= 3 || memcmp(l.s, "pod", 3))
		return false;
	if (!is(parent, "kubepods") &&
	    !((is(parent, "besteffort") || is(parent, "burstable")) && is(gp, "kubepods")))
		return false;
	return take_uid(l.s + 3, l.n - 3, false, uid);
}

int sa_pod_parse_cgroup(const char *path, struct sa_pod_id *out)
{
	struct level gp = { "", 0 }, parent = { "", 0 }, l;
	bool pod = false, under_pod = false, docker_dir = false;
	char first_ctr[SA_CONTAINER_ID_MAX + 1] = "";
	const char *p = path;

	memset(out, 0, sizeof(*out));
	while (*p) {
		char id[SA_CONTAINER_ID_MAX + 1];

		if (*p == '/') {
			p++;
			continue;
		}
		l.s = p;
		l.n = strcspn(p, "/");
		p += l.n;
		if (under_pod) {
			/* The pod's container is the level right under it. */
			container_level(l, true, out->container_id);
			return 0;
		}
		if (systemd_pod(parent, l, out->uid) || cgroupfs_pod(gp, parent, l, out->uid)) {
			pod = under_pod = true;
			continue;
		}
		out->uid[0] = '\0';
		/* Outside a pod: the outermost container level (Docker's
		 * and Podman's scopes, Docker's cgroupfs /docker/<id>). */
		if (!first_ctr[0] && (container_level(l, false, id) ||
				      (docker_dir && l.n == 64 && take_id(l.s, l.n, id))))
			memcpy(first_ctr, id, sizeof(id));
		docker_dir = is(l, "docker");
		gp = parent;
		parent = l;
	}
	if (pod)
		return 0;
	if (!first_ctr[0])
		return -ENOENT;
	memcpy(out->container_id, first_ctr, sizeof(first_ctr));
	return 1;
}

int sa_pod_log_entry(const char *entry, const char *uid, char *ns, size_t ns_len,
		     char *name, size_t name_len)
{
	size_t n = strlen(entry), u = strlen(uid);
	const char *sep;
	size_t ln, lp;

	/* "<ns>_<name>_<uid>": at least "a_b_" before the uid. */
	if (!u || n < u + 4 || entry[n - u - 1] != '_' || memcmp(entry + n - u, uid, u))
		return -ENOENT;
	sep = memchr(entry, '_', n - u - 1);
	if (!sep)
		return -ENOENT;
	ln = sep - entry;
	lp = n - u - 1 - ln - 1;
	/* Namespaces and pod names have no '_': the first one ends the
	 * namespace; parts too long are not the kubelet's. */
	if (!ln || !lp || ln > SA_POD_NAMESPACE_MAX || lp > SA_POD_NAME_MAX ||
	    ln >= ns_len || lp >= name_len)
		return -ENOENT;
	memcpy(ns, entry, ln);
	ns[ln] = '\0';
	memcpy(name, sep + 1, lp);
	name[lp] = '\0';
	return 0;
}
