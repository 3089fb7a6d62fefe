// SPDX-License-Identifier: GPL-2.0
/*
 * claim.c - one synacct per interface, and recovery from one that died
 * without detaching (SIGKILL, the OOM killer, a crash).
 *
 * Before it attaches anything to an interface, synacct takes an exclusive
 * flock(2) on /run/synacct/net<netns inode>-if<ifindex>.lock and holds it
 * for the whole run.  The kernel drops the lock when the holder dies,
 * however it dies, so:
 *   - lock busy: a live synacct watches the interface: refuse;
 *   - lock taken: whatever synacct left on the interface (its XDP program,
 *     its TC filters at priority 1 handle 0x5a) belongs to a dead run:
 *     remove it, say so in one line, attach afresh.
 * The file also records whether synacct created the clsact qdisc, so the
 * run that cleans up after a killed one removes that qdisc too (when
 * nothing else is on it).  docs/design.md explains the choice.  An
 * interface without an Ethernet header is refused here too.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <signal.h>
#include "claim.h"
#include "log.h"
#include "pin.h"
#include "stage.h"

#define SA_RUN_DIR "/run/synacct"

struct sa_claim {
	int ifindex;
	int fd;			/* -1: no lock (the directory is not usable) */
	bool clsact_inherited;	/* a dead synacct had created the clsact */
	char path[128];
};

static struct sa_claim claims[SA_MAX_IFACES];
static int n_claims;

static struct sa_claim *claim_of(int ifindex)
{
	for (int i = 0; i < n_claims; i++)
		if (claims[i].ifindex == ifindex)
			return &claims[i];
	return NULL;
}

/* Takes the lock file at @path; 0, -EWOULDBLOCK held by a live process,
 * or another -errno.  A holder that exits unlinks the file while it holds
 * the lock, so a lock won on an unlinked file is retried on a fresh one. */
static int lock_file(const char *path, int *out)
{
	for (int tries = 0; tries < 8; tries++) {
		struct stat a, b;
		int fd, err;

		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			err = -errno;
			close(fd);
			return err;
		}
		if (!fstat(fd, &a) && !stat(path, &b) &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
			*out = fd;
			return 0;
		}
		close(fd);
	}
	return -EAGAIN;
}

/* The file's previous content: "pid N" and, if that run created the
 * clsact qdisc, a line "clsact". */
static void read_owner(int fd, int *pid, bool *clsact)
{
	char buf[128];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	*pid = 0;
	*clsact = false;
	if (n <= 0)
		return;
	buf[n] = '\0';
	sscanf(buf, "pid %d", pid);
	*clsact = strstr(buf, "\nclsact\n") != NULL;
}

static void write_owner(struct sa_claim *c, bool clsact)
{
	char buf[64];
	int n;

	if (c->fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "pid %d\n%s", (int)getpid(),
		     clsact ? "clsact\n" : "");
	if (ftruncate(c->fd, 0) || pwrite(c->fd, buf, n, 0) != n)
		sa_info("cannot write %s: %s", c->path, strerror(errno));
}

/*
 * The XDP and TC programs parse from an Ethernet header.  On an L3 device
 * (tun, WireGuard, ipip, gre, sit: no link-layer header) the first bytes
 * are the IP header and would be misread as MAC addresses: refuse rather
 * than miscount.  Loopback carries an Ethernet header.
 */
static int check_link_type(const char *ifname)
{
	struct ifreq ifr = {};
	const char *what;
	int fd, type;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		int err = -errno;

		close(fd);
		return err == -ENODEV ? 0 : err;	/* said later */
	}
	close(fd);
	type = ifr.ifr_hwaddr.sa_family;
	if (type == ARPHRD_ETHER || type == ARPHRD_LOOPBACK)
		return 0;
	switch (type) {
	case ARPHRD_NONE:	what = "none: tun or WireGuard"; break;
	case ARPHRD_TUNNEL:	what = "ipip"; break;
	case ARPHRD_TUNNEL6:	what = "ip6tnl"; break;
	case ARPHRD_SIT:	what = "sit"; break;
	case ARPHRD_IPGRE:	what = "gre"; break;
	default:		what = NULL; break;
	}
	if (what)
		sa_err("interface %s is not an Ethernet device (link type %s): "
		       "synacct parses Ethernet frames and would miscount it; watch "
		       "the Ethernet interface its traffic arrives on", ifname, what);
	else
		sa_err("interface %s is not an Ethernet device (ARPHRD %d): synacct "
		       "parses Ethernet frames and would miscount it; watch the "
		       "Ethernet interface its traffic arrives on", ifname, type);
	return -EPROTONOSUPPORT;
}

/*
 * A process other than this one with a descriptor for BPF program @prog_id
 * (what a live synacct's skeleton holds), found as /proc/PID/fd/N ->
 * anon_inode:bpf-prog with "prog_id: ID" in its fdinfo; 0 if none.  The
 * lock is the rule; this catches a live synacct that took its lock under
 * another /run (a container's), as long as its processes are visible.
 */
int sa_prog_holder(__u32 prog_id)
{
	struct dirent *pe, *fe;
	int holder = 0;
	DIR *proc;

	proc = opendir("/proc");
	if (!proc)
		return 0;
	while (!holder && (pe = readdir(proc))) {
		char path[300];
		DIR *fds;
		int pid;

		if (!isdigit((unsigned char)pe->d_name[0]))
			continue;
		pid = atoi(pe->d_name);
		if (pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while (!holder && (fe = readdir(fds))) {
			char link[64], line[128];
			unsigned int id;
			ssize_t n;
			FILE *f;

			n = readlinkat(dirfd(fds), fe->d_name, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			if (strcmp(link, "anon_inode:bpf-prog"))
				continue;
			snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", pid, fe->d_name);
			f = fopen(path, "re");
			if (!f)
				continue;
			while (fgets(line, sizeof(line), f))
				if (sscanf(line, "prog_id: %u", &id) == 1 && id == prog_id)
					holder = pid;
			fclose(f);
		}
		closedir(fds);
	}
	closedir(proc);
	return holder;
}

/* A --pin synacct's state for @ifname in this namespace (pin.h): its
 * programs are meant to stay attached and count while no agent runs;
 * the pin code keeps or refuses them, `synacct detach` removes them.
 * State a namespace that had this inode before left is not this one's. */
static bool pinned_here(const char *ifname)
{
	char dir[512];

	return sa_pin_holds(ifname, dir, sizeof(dir));
}

/* The PID holding the flock on @fd's file, as /proc/locks shows it (in
 * this PID namespace; *seen), else what the file says (a PID in the
 * holder's namespace, which may not be this one's). */
static int lock_holder(int fd, bool *seen)
{
	char line[256];
	struct stat st;
	int pid = 0;
	bool clsact;
	FILE *f;

	if (fstat(fd, &st))
		return 0;
	f = fopen("/proc/locks", "re");
	while (f && !pid && fgets(line, sizeof(line), f)) {
		unsigned int maj, min;
		unsigned long ino;
		int p;

		if (sscanf(line, "%*d: FLOCK %*s %*s %d %x:%x:%lu", &p, &maj, &min, &ino) == 4 &&
		    maj == major(st.st_dev) && min == minor(st.st_dev) && ino == st.st_ino)
			pid = p;
	}
	if (f)
		fclose(f);
	*seen = pid > 0;
	if (!pid)
		read_owner(fd, &pid, &clsact);
	return pid;
}

int sa_iface_lock(int ifindex, int *pid, bool stop)
{
	struct sa_claim *c;
	struct stat ns;
	bool seen = false;
	int err, fd;

	*pid = 0;
	if (n_claims >= SA_MAX_IFACES)
		return -E2BIG;
	if (stat("/proc/self/ns/net", &ns))
		return -errno;
	c = &claims[n_claims];
	memset(c, 0, sizeof(*c));
	c->ifindex = ifindex;
	c->fd = -1;
	snprintf(c->path, sizeof(c->path), SA_RUN_DIR "/net%llu-if%d.lock",
		 (unsigned long long)ns.st_ino, ifindex);
	if (mkdir(SA_RUN_DIR, 0755) && errno != EEXIST)
		return -errno;
	err = lock_file(c->path, &c->fd);
	if (err == -EWOULDBLOCK) {
		fd = open(c->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0) {
			*pid = lock_holder(fd, &seen);
			close(fd);
		}
		err = -EBUSY;
	}
	/* --force: the holder is told (SIGUSR1: it says why on stderr,
	 * exits 1, and releases the lock on its way out); only a PID the
	 * kernel names as the holder is signalled. */
	if (err == -EBUSY && stop && seen && !kill(*pid, SIGUSR1)) {
		for (int i = 0; i < 100 && err == -EBUSY; i++) {
			usleep(100 * 1000);
			err = lock_file(c->path, &c->fd);
			if (err == -EWOULDBLOCK)
				err = -EBUSY;
		}
	}
	if (!err)
		n_claims++;	/* released (unlinked) by sa_iface_release_all */
	return err;
}

int sa_iface_claim(int ifindex, const char *ifname)
{
	struct sa_claim *c;
	struct stat ns;
	char stale[160] = "";
	int pid, err, holder = 0;
	bool clsact;

	if (n_claims >= SA_MAX_IFACES)
		return -E2BIG;
	err = check_link_type(ifname);
	if (err) {
		if (err != -EPROTONOSUPPORT)
			sa_err("cannot read the link type of %s: %s", ifname,
			       strerror(-err));
		return err;
	}
	c = &claims[n_claims];
	memset(c, 0, sizeof(*c));
	c->ifindex = ifindex;
	c->fd = -1;
	/* ifindex is unique within a network namespace only. */
	if (stat("/proc/self/ns/net", &ns)) {
		err = -errno;
		sa_err("cannot identify the network namespace: %s", strerror(-err));
		return err;
	}
	snprintf(c->path, sizeof(c->path), SA_RUN_DIR "/net%llu-if%d.lock",
		 (unsigned long long)ns.st_ino, ifindex);

	if (mkdir(SA_RUN_DIR, 0755) && errno != EEXIST)
		err = -errno;
	else
		err = lock_file(c->path, &c->fd);
	if (err == -EWOULDBLOCK) {
		int fd = open(c->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

		pid = 0;
		if (fd >= 0) {
			read_owner(fd, &pid, &clsact);
			close(fd);
		}
		sa_err("interface %s is already watched by a running synacct "
		       "(pid %d, lock %s): stop that one first, or watch another "
		       "interface", ifname, pid, c->path);
		return -EBUSY;
	}
	if (err) {
		/* Without the lock nothing tells a dead synacct's leftovers
		 * from a live one's: attach as before, which refuses to touch
		 * them. */
		sa_info("cannot lock %s (%s): synacct will not recognise what a "
			"killed synacct left on %s", c->path, strerror(-err), ifname);
		n_claims++;
		return 0;
	}
	n_claims++;	/* from here on, release undoes it */

	read_owner(c->fd, &pid, &clsact);
	if (pinned_here(ifname)) {
		write_owner(c, false);
		return 0;
	}
	err = sa_stages_remove_stale(ifindex, stale, sizeof(stale), &holder);
	if (err == -EBUSY) {
		sa_err("interface %s carries synacct's programs and a running process "
		       "holds them (pid %d), though not under this host's lock %s: "
		       "another synacct (in a container?) watches it; stop that one "
		       "first", ifname, holder, c->path);
		return err;
	}
	if (err) {
		sa_err("cannot remove what a synacct that is no longer running left "
		       "on %s: %s", ifname, strerror(-err));
		return err;
	}
	if (stale[0]) {
		char who[32] = "";

		if (pid)
			snprintf(who, sizeof(who), " (pid %d)", pid);
		sa_info("interface %s: replacing what a synacct that is no longer "
			"running%s left attached (%s)", ifname, who, stale);
		/* Only then can the qdisc be the dead run's. */
		c->clsact_inherited = clsact;
	}
	write_owner(c, c->clsact_inherited);
	return 0;
}

bool sa_iface_clsact_inherited(int ifindex)
{
	struct sa_claim *c = claim_of(ifindex);

	return c && c->clsact_inherited;
}

void sa_iface_note_clsact(int ifindex)
{
	struct sa_claim *c = claim_of(ifindex);

	if (c)
		write_owner(c, true);
}

void sa_iface_release_all(void)
{
	for (int i = n_claims - 1; i >= 0; i--) {
		struct sa_claim *c = &claims[i];

		if (c->fd < 0)
			continue;
		/* Unlink while still holding the lock (see lock_file). */
		unlink(c->path);
		close(c->fd);
		c->fd = -1;
	}
	n_claims = 0;
}
