// SPDX-License-Identifier: GPL-2.0
/*
 * driver.c - stage 0: what is lost before the NIC stage's hook, and that
 * no port can be charged with.  The driver's side of the NIC stage (hence
 * xdp/driver/): no BPF, the kernel's own counters, read in the watched
 * namespace each interval.
 *
 *   per watched interface   rtnetlink stats64 (IFLA_STATS64): rx_dropped,
 *                           rx_missed_errors, rx_fifo_errors; and the
 *                           driver's per-RX-queue counters that name a
 *                           drop (ethtool ETH_SS_STATS, queue_drop_name)
 *   per CPU                 /proc/net/softnet_stat: dropped (the backlog
 *                           was full) and time_squeeze
 *
 * Where a SYN meets them: a NIC's ring (missed, FIFO) before any hook; the
 * per-CPU backlog (netif_rx: veth, generic receive paths; RPS) before
 * generic XDP and TC, or between native XDP and TC.  The kernel counts
 * every backlog drop twice, in softnet `dropped` and in the device's
 * rx_dropped (enqueue_to_backlog), so the two are never added.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include "log.h"
#include "netlink.h"
#include "snapshot.h"
#include "stage.h"

#define SOFTNET_STAT "/proc/net/softnet_stat"

struct driver_iface {
	int ifindex;
	char name[IF_NAMESIZE];		/* now: an interface may be renamed */
	struct sa_driver_iface last;	/* kept when a reading fails */
	int err;			/* the last reading's, 0: read */
};

struct driver_stage {
	int nl;				/* NETLINK_ROUTE, in the watched namespace */
	int ioc;			/* for SIOCETHTOOL there; -1: none */
	struct driver_iface ifc[SA_MAX_IFACES];
	int n_ifaces;
	/* softnet_stat's counters are 32 bits: the last value seen per CPU
	 * id, and the 64-bit count it extends. */
	__u32 *raw_dropped, *raw_squeeze;
	__u64 *dropped, *squeeze;
	bool *seen;
	__u32 max_cpus;			/* room in the arrays above */
	int columns;			/* of the last softnet_stat line read */
	int softnet_err;		/* the last reading's, 0: read */
	unsigned long reads;		/* readings so far */
};

/*
 * The ethtool counters taken as drops before the hook: a receive queue's
 * ("rx_queue_N_..." as virtio_net and veth name them, "rxN_..." as mlx5),
 * whose rest names a drop, a discard or a miss, and not XDP (an XDP
 * program's own XDP_DROP is after the hook: "rx_queue_0_xdp_drops").
 */
static bool queue_drop_name(const char *s)
{
	const char *p;

	if (!strncmp(s, "rx_queue_", 9))
		p = s + 9;
	else if (!strncmp(s, "rx", 2))
		p = s + 2;
	else
		return false;
	if (!isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p++ != '_' || strstr(p, "xdp"))
		return false;
	return strstr(p, "drop") || strstr(p, "discard") || strstr(p, "miss");
}

/* ---- rtnetlink stats64 ---- */

static int link_reply(struct nlmsghdr *h, void *ctx)
{
	struct driver_iface *d = ctx;
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
	bool stats = false;

	if (h->nlmsg_type != RTM_NEWLINK || len < 0)
		return -EPROTO;
	for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_IFNAME) {
			snprintf(d->name, sizeof(d->name), "%.*s", (int)RTA_PAYLOAD(a),
				 (const char *)RTA_DATA(a));
		} else if (a->rta_type == IFLA_STATS64) {
			struct rtnl_link_stats64 s = { 0 };

			memcpy(&s, RTA_DATA(a), RTA_PAYLOAD(a) < sizeof(s) ?
			       RTA_PAYLOAD(a) : sizeof(s));
			d->last.rx_dropped = s.rx_dropped;
			d->last.rx_missed_errors = s.rx_missed_errors;
			d->last.rx_fifo_errors = s.rx_fifo_errors;
			stats = true;
		}
	}
	return stats ? 0 : -ENODATA;
}

static int read_link(struct driver_stage *st, struct driver_iface *d)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg ifi;
	} req = {
		.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
		.h.nlmsg_type = RTM_GETLINK,
		.h.nlmsg_flags = NLM_F_REQUEST,
		.ifi.ifi_family = AF_UNSPEC,
		.ifi.ifi_index = d->ifindex,
	};

	return sa_nl_talk(st->nl, &req.h, link_reply, d);
}

/* ---- ethtool ---- */

static int ethtool(struct driver_stage *st, const char *name, void *data)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_data = data;
	return ioctl(st->ioc, SIOCETHTOOL, &ifr) ? -errno : 0;
}

/* The driver's queue drop counters into d->last.q; a driver without
 * ethtool statistics has none (not an error). */
static int read_queues(struct driver_stage *st, struct driver_iface *d)
{
	struct ethtool_sset_info *info;
	struct ethtool_gstrings *names = NULL;
	struct ethtool_stats *vals = NULL;
	__u32 n;
	int err;

	d->last.n_q = 0;
	if (st->ioc < 0)
		return 0;
	info = calloc(1, sizeof(*info) + sizeof(__u32));
	if (!info)
		return -ENOMEM;
	info->cmd = ETHTOOL_GSSET_INFO;
	info->sset_mask = 1ULL << ETH_SS_STATS;
	err = ethtool(st, d->name, info);
	n = !err && info->sset_mask ? info->data[0] : 0;
	free(info);
	if (err == -EOPNOTSUPP || !n)
		return 0;
	if (err)
		return err;
	names = calloc(1, sizeof(*names) + (size_t)n * ETH_GSTRING_LEN);
	vals = calloc(1, sizeof(*vals) + (size_t)n * sizeof(__u64));
	err = -ENOMEM;
	if (!names || !vals)
		goto out;
	names->cmd = ETHTOOL_GSTRINGS;
	names->string_set = ETH_SS_STATS;
	names->len = n;
	vals->cmd = ETHTOOL_GSTATS;
	vals->n_stats = n;
	err = ethtool(st, d->name, names);
	if (!err)
		err = ethtool(st, d->name, vals);
	/* The count may have changed in between (queues added). */
	if (!err && (names->len != n || vals->n_stats != n))
		err = -EAGAIN;
	for (__u32 i = 0; !err && i < n && d->last.n_q < SA_DRIVER_QSTATS; i++) {
		char s[ETH_GSTRING_LEN + 1];

		snprintf(s, sizeof(s), "%.*s", ETH_GSTRING_LEN,
			 (const char *)names->data + (size_t)i * ETH_GSTRING_LEN);
		if (!queue_drop_name(s))
			continue;
		snprintf(d->last.q[d->last.n_q].name, SA_DRIVER_QNAME, "%s", s);
		d->last.q[d->last.n_q++].n = vals->data[i];
	}
out:
	free(names);
	free(vals);
	return err;
}

/* ---- softnet_stat ---- */

static int cpus_room(struct driver_stage *st, __u32 cpu)
{
	__u32 n = st->max_cpus;

	if (cpu < n)
		return 0;
	while (n <= cpu)
		n = n ? 2 * n : 64;
#define GROW(a) do {							\
		void *p = realloc(st->a, n * sizeof(*st->a));		\
		if (!p)							\
			return -ENOMEM;					\
		st->a = p;						\
		memset(st->a + st->max_cpus, 0, (n - st->max_cpus) * sizeof(*st->a)); \
	} while (0)
	GROW(raw_dropped);
	GROW(raw_squeeze);
	GROW(dropped);
	GROW(squeeze);
	GROW(seen);
#undef GROW
	st->max_cpus = n;
	return 0;
}

/* Every online CPU's line (sa_softnet_parse: the columns by kernel). */
static int read_softnet(struct driver_stage *st, struct sa_driver *out)
{
	FILE *f = fopen(SOFTNET_STAT, "re");
	char line[512];
	int err = 0;
	__u32 nr = 0;

	if (!f)
		return -errno;
	free(out->cpu);
	out->cpu = NULL;
	out->n_cpus = 0;
	while (!err && fgets(line, sizeof(line), f)) {
		struct sa_softnet_cpu *c;
		__u32 cpu, dropped, squeeze;
		int n = sa_softnet_parse(line, nr++, &cpu, &dropped, &squeeze);

		if (n < 0) {
			err = n;
			break;
		}
		st->columns = n;
		err = cpu >= 1u << 16 ? -EPROTO : cpus_room(st, cpu);
		if (err)
			break;
		if (st->seen[cpu]) {
			/* 32 bits in the kernel: the growth modulo 2^32. */
			st->dropped[cpu] += (__u32)(dropped - st->raw_dropped[cpu]);
			st->squeeze[cpu] += (__u32)(squeeze - st->raw_squeeze[cpu]);
		} else {
			st->dropped[cpu] = dropped;
			st->squeeze[cpu] = squeeze;
			st->seen[cpu] = true;
		}
		st->raw_dropped[cpu] = dropped;
		st->raw_squeeze[cpu] = squeeze;
		c = realloc(out->cpu, (out->n_cpus + 1) * sizeof(*c));
		if (!c) {
			err = -ENOMEM;
			break;
		}
		out->cpu = c;
		c[out->n_cpus++] = (struct sa_softnet_cpu){
			.cpu = cpu, .dropped = st->dropped[cpu], .time_squeeze = st->squeeze[cpu],
		};
	}
	if (!err && ferror(f))
		err = -EIO;
	fclose(f);
	return err;
}

/* The last figures of every CPU seen, when a reading failed. */
static int last_softnet(struct driver_stage *st, struct sa_driver *out)
{
	free(out->cpu);
	out->cpu = NULL;
	out->n_cpus = 0;
	for (__u32 cpu = 0; cpu < st->max_cpus; cpu++) {
		struct sa_softnet_cpu *c;

		if (!st->seen[cpu])
			continue;
		c = realloc(out->cpu, (out->n_cpus + 1) * sizeof(*c));
		if (!c)
			return -ENOMEM;
		out->cpu = c;
		c[out->n_cpus++] = (struct sa_softnet_cpu){
			.cpu = cpu, .dropped = st->dropped[cpu], .time_squeeze = st->squeeze[cpu],
		};
	}
	return 0;
}

/* ---- the stage ---- */

static void driver_close(void *priv)
{
	struct driver_stage *st = priv;

	if (!st)
		return;
	if (st->nl >= 0)
		close(st->nl);
	if (st->ioc >= 0)
		close(st->ioc);
	free(st->raw_dropped);
	free(st->raw_squeeze);
	free(st->dropped);
	free(st->squeeze);
	free(st->seen);
	free(st);
}

static int driver_prereq(const struct sa_stage_cfg *cfg, char *why, size_t len)
{
	(void)cfg;
	if (access(SOFTNET_STAT, R_OK)) {
		snprintf(why, len, "cannot read " SOFTNET_STAT ": %s", sa_strerror(-errno));
		return -ENOENT;
	}
	return 0;
}

/* Opened in the watched namespace (options.c entered it): the sockets
 * stay there, so its interfaces are the ones read. */
static int driver_open(void **out, const struct sa_stage_cfg *cfg)
{
	struct driver_stage *st = calloc(1, sizeof(*st));
	int err;

	if (!st)
		return -ENOMEM;
	st->ioc = -1;
	st->nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (st->nl < 0) {
		err = -errno;
		sa_err("stage driver: cannot open an rtnetlink socket: %s", sa_strerror(err));
		driver_close(st);
		return err;
	}
	/* Without it (no IPv4 in the kernel), no per-queue counters. */
	st->ioc = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	for (int i = 0; i < cfg->n_ifaces; i++) {
		st->ifc[i].ifindex = cfg->ifindex[i];
		snprintf(st->ifc[i].name, sizeof(st->ifc[i].name), "%s", cfg->ifname[i]);
		/* Named as the start record names it, renamed or not: one
		 * name a series. */
		snprintf(st->ifc[i].last.name, sizeof(st->ifc[i].last.name), "%s",
			 cfg->ifname[i]);
	}
	st->n_ifaces = cfg->n_ifaces;
	*out = st;
	return 0;
}

static int driver_attach(void *priv, const struct sa_stage_cfg *cfg)
{
	(void)priv; (void)cfg;	/* counters the kernel keeps: read on demand */
	return 0;
}

/*
 * A figure that cannot be read keeps its last value (an interface being
 * deleted is the XDP and TC stages' to report, their health op); the
 * first failure of each source is said once.
 */
static int driver_read(void *priv, struct sa_snapshot *snap)
{
	struct driver_stage *st = priv;
	struct sa_driver *d = &snap->driver;
	int err;

	for (int i = 0; i < st->n_ifaces; i++) {
		struct driver_iface *ifc = &st->ifc[i];

		err = read_link(st, ifc);
		if (!err)
			err = read_queues(st, ifc);
		if (err == -ENOMEM)
			return err;
		/* Gone (ENODEV): the XDP and TC stages say so, once. */
		if (err && err != -ENODEV && !ifc->err)
			sa_warn("stage driver: cannot read %s's drop counters: %s; its last "
				"figures stay", ifc->name, sa_strerror(err));
		ifc->err = err;
		d->iface[i] = ifc->last;
	}
	d->n_ifaces = st->n_ifaces;
	err = read_softnet(st, d);
	if (err == -ENOMEM)
		return err;
	if (err && !st->softnet_err)
		sa_warn("stage driver: cannot read " SOFTNET_STAT ": %s; the last figures stay",
			sa_strerror(err));
	st->softnet_err = err;
	if (err && last_softnet(st, d))
		return -ENOMEM;
	st->reads++;
	d->read = true;
	return 0;
}

/* Figures with no port: a partial reading reads them whole. */
static int driver_read_ports(void *priv, struct sa_snapshot *snap,
			     const struct sa_snapshot *last, struct sa_portset *ports)
{
	(void)last; (void)ports;
	return driver_read(priv, snap);
}

static int driver_health(void *priv, struct sa_stage_health *h)
{
	struct driver_stage *st = priv;
	int bad = 0;

	for (int i = 0; i < st->n_ifaces; i++)
		bad += st->ifc[i].err != 0;
	h->attached = true;	/* nothing to attach: counters are read */
	if (!st->reads) {
		snprintf(h->detail, sizeof(h->detail), "%d interfaces (stats64%s) and "
			 "softnet_stat, not read yet", st->n_ifaces, st->ioc >= 0 ? ", ethtool" : "");
		return 0;
	}
	snprintf(h->detail, sizeof(h->detail),
		 "%d of %d interfaces read (stats64%s), softnet_stat %s (%d columns)",
		 st->n_ifaces - bad, st->n_ifaces, st->ioc >= 0 ? ", ethtool" : "",
		 st->softnet_err ? "unreadable" : "read", st->columns);
	return 0;
}

const struct sa_stage_ops sa_driver_stage = {
	.name = "driver",
	.prereq = driver_prereq,
	.optional = true,
	.open = driver_open,
	.attach = driver_attach,
	.read = driver_read,
	.read_ports = driver_read_ports,
	.health = driver_health,
	.close = driver_close,
};
