/* SPDX-License-Identifier: GPL-2.0 */
/*
 * follow.h - the container stage's files: follow.c (the stage) and
 * follow_find.c (finding the namespaces it follows).
 */
#ifndef SYNACCT_FOLLOW_H
#define SYNACCT_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>
#include "pod.h"
#include "snapshot.h"

struct followed {
	__u64 cookie;
	int fd;			/* -1: no longer followed, its name kept */
	int nsid;
	unsigned long since;	/* the first reading it was followed for */
	dev_t dev;		/* the namespace's nsfs inode */
	ino_t ino;
	char path[300];		/* where it was found: still there? */
	/* Its name as found ("pid:%.16s %.256s" at most), for stderr
	 * (log.c escapes it there), and escaped as it entered (escape.h
	 * sa_tty_str) for everything else: verdicts, table, JSON, metrics.
	 * Whoever creates a namespace or a cgroup names it. */
	char raw[SA_NETNS_NAME_RAW];
	char name[SA_NETNS_NAME_MAX];
	/* Its pod and container (escaped, as the name), from a process in
	 * it; looked for again at each reading until a process is found. */
	struct sa_pod pod;
	bool pod_looked;
};

struct peers {
	const int *skip;	/* the watched interfaces */
	int n_skip;
	int nsid[SA_MAX_FOLLOW * 4];
	int n;
};

/* The ids of the namespaces at the other end of this namespace's links
 * (rtnetlink socket @nl), but the watched interfaces'. */
int follow_peer_namespaces(int nl, struct peers *p);
/* Open the namespace whose id here is @nsid, and name it (and say where
 * it was found, @where); -ENOENT when no named namespace and no process
 * has it. */
int follow_find_namespace(int nl, int nsid, char *name, size_t len, char *where,
			  size_t where_len);
/* Is @e's namespace still there without us: its name, or a process in
 * it?  Holding it open after its container is gone would keep it, and
 * its veth and addresses, alive. */
bool follow_still_held(struct followed *e);
/* Which pod and container @e is (e->pod), from the cgroup of a process in
 * it, and the pod's namespace and name from @log_dir's
 * "<namespace>_<name>_<uid>"; sets e->pod_looked once a process was
 * found. */
void follow_find_pod(struct followed *e, const char *log_dir);

#endif /* SYNACCT_FOLLOW_H */
