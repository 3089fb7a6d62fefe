// SPDX-License-Identifier: GPL-2.0
/*
 * options.c - the options every command shares, and the steps that
 * follow from them (privileges, the namespace).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "netns.h"
#include "options.h"

enum {
	OPT_BTF = 0x200,
};

static const struct argp_option common_options[] = {
	{ "netns", 'n', "NAME|PATH", 0, "Network namespace: an 'ip netns' name or a path such as /proc/PID/ns/net", 0 },
	{ "ports", 'p', "LIST", 0, "Ports to report, e.g. 80,443,8000-8100 (default: every port that saw SYNs or has a listener)", 0 },
	{ "json", 'j', NULL, 0, "JSON instead of text (one object per line)", 0 },
	{ "btf", OPT_BTF, "FILE", 0, "Kernel BTF to use (default " SA_DEFAULT_BTF ")", 0 },
	{ "verbose", 'v', NULL, 0, "Print libbpf/libxdp debug output and the hooks used", 0 },
	{ 0 }
};

/* The same options, as `synacct check` uses them. */
static const struct argp_option check_options[] = {
	{ "netns", 'n', "NAME|PATH", 0, "Network namespace to audit: an 'ip netns' name or a path such as /proc/PID/ns/net (default: synacct's own)", 0 },
	{ "ports", 'p', "LIST", 0, "Listeners to list and judge, by port, e.g. 80,443,8000-8100 (default: every TCP listener); the sysctls are always reported", 0 },
	{ "json", 'j', NULL, 0, "One JSON object (settings, listeners, findings, status) instead of text", 0 },
	{ "btf", OPT_BTF, "FILE", 0, "Kernel BTF for the TCP iterator that reads the listeners (default " SA_DEFAULT_BTF ")", 0 },
	{ "verbose", 'v', NULL, 0, "Print libbpf debug output", 0 },
	{ 0 }
};

/* `synacct detach` only enters the namespace: no ports, output or BTF. */
static const struct argp_option detach_options[] = {
	{ "netns", 'n', "NAME|PATH", 0, "Network namespace the pinned synacct watched: an 'ip netns' name or a path such as /proc/PID/ns/net", 0 },
	{ "verbose", 'v', NULL, 0, "Print debug output", 0 },
	{ 0 }
};

static error_t common_parse(int key, char *arg, struct argp_state *state)
{
	struct sa_common_opts *o = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		o->ports.any = true;
		break;
	case 'n':
		if (!*arg)
			argp_error(state, "empty --netns");
		o->netns = arg;
		break;
	case 'p':
		if (sa_portset_parse(&o->ports, arg))
			argp_error(state, "invalid port list '%s': expected e.g. 80,443,8000-8100", arg);
		break;
	case 'j':
		o->json = true;
		break;
	case 'v':
		o->verbose = true;
		sa_log_set_level(SA_LOG_DEBUG);
		break;
	case OPT_BTF:
		o->btf = arg;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp sa_common_argp = {
	common_options, common_parse, NULL, NULL, NULL, NULL, NULL
};
const struct argp sa_check_common_argp = {
	check_options, common_parse, NULL, NULL, NULL, NULL, NULL
};
const struct argp sa_detach_common_argp = {
	detach_options, common_parse, NULL, NULL, NULL, NULL, NULL
};

int sa_parse_args(const struct argp *argp, int argc, char **argv, void *input)
{
	/* argp_error exits with argp_err_exit_status: a usage error. */
	argp_err_exit_status = SA_EXIT_USAGE;
	return argp_parse(argp, argc, argv, 0, NULL, input) ? SA_EXIT_USAGE : 0;
}

int sa_check_privileges(const struct sa_common_opts *o, bool attach, bool xdp,
			const char *who)
{
	/* libxdp reads the XDP program's BTF by id, which the kernel allows
	 * only with CAP_SYS_ADMIN (without it libxdp 1.3 crashes). */
	if (sa_have_privileges(attach, o->netns != NULL || xdp))
		return 0;
	if (attach && xdp)
		sa_err("insufficient privileges: %s needs root, or CAP_SYS_ADMIN and "
		       "CAP_NET_ADMIN (with --no-xdp and no --netns: CAP_BPF, CAP_PERFMON "
		       "and CAP_NET_ADMIN)", who);
	else if (attach)
		sa_err("insufficient privileges: %s needs root, or CAP_BPF, "
		       "CAP_PERFMON and CAP_NET_ADMIN (plus CAP_SYS_ADMIN for --netns)", who);
	else
		sa_err("insufficient privileges: %s needs root, or CAP_BPF "
		       "and CAP_PERFMON (CAP_SYS_ADMIN with --netns)", who);
	return SA_EXIT_RUNTIME;
}

static const char *file_kind(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" :
	       S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device" :
	       S_ISSOCK(m) ? "a socket" : "not a regular file";
}

int sa_open_regular(const char *path, const char *what, long long max, long long *size)
{
	struct stat st, fst;
	int fd;

	/* stat first: a device or FIFO is refused without being opened
	 * (opening some devices does something). */
	if (stat(path, &st)) {
		sa_err("cannot read %s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		sa_err("cannot read %s %s: it is %s; give a regular file", what, path,
		       file_kind(st.st_mode));
		return -1;
	}
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		sa_err("cannot read %s %s: %s", what, path, strerror(errno));
		return -1;
	}
	/* Replaced between the two? Judge what was opened. */
	if (fstat(fd, &fst) || !S_ISREG(fst.st_mode)) {
		sa_err("cannot read %s %s: it is %s; give a regular file", what, path,
		       file_kind(fst.st_mode));
		close(fd);
		return -1;
	}
	if (fst.st_size > max) {
		sa_err("cannot read %s %s: %lld bytes, more than the limit of %lld",
		       what, path, (long long)fst.st_size, max);
		close(fd);
		return -1;
	}
	if (size)
		*size = fst.st_size;
	return fd;
}

int sa_check_btf(const char *btf)
{
	struct btf *b;
	int err, fd;

	/* libbpf opens the file itself (here and in each stage's load):
	 * check first that it is a regular file of a sane size, so that a
	 * FIFO does not block and a device is not read forever.  256 MiB:
	 * a kernel's raw BTF is a few MB, a vmlinux ELF with BTF and no
	 * DWARF some tens; libbpf reads it whole into memory.  A file
	 * swapped after this check is its owner's (root's) doing. */
	if (btf) {
		fd = sa_open_regular(btf, "BTF file", SA_BTF_MAX_BYTES, NULL);
		if (fd < 0)
			return SA_EXIT_RUNTIME;
		close(fd);
	}
	if (access(btf ? btf : SA_DEFAULT_BTF, R_OK)) {
		if (btf)
			sa_err("cannot read BTF file %s: %s", btf, strerror(errno));
		else
			sa_err("kernel has no BTF (%s is missing): synacct needs a kernel "
			       "built with CONFIG_DEBUG_INFO_BTF=y, or --btf FILE",
			       SA_DEFAULT_BTF);
		return SA_EXIT_RUNTIME;
	}
	if (!btf)
		return 0;
	/* A file that is not BTF would fail each stage's load with libbpf's
	 * bare error number ("Unknown error 4001"): say which file, once. */
	sa_log_libbpf_mute(true);
	b = btf__parse(btf, NULL);
	err = libbpf_get_error(b);
	sa_log_libbpf_mute(false);
	if (err) {
		char msg[128];

		libbpf_strerror(err, msg, sizeof(msg));
		sa_err("cannot use BTF file %s: it holds no BTF that libbpf can parse "
		       "(%s); give a kernel's BTF, such as a copy of %s",
		       btf, msg, SA_DEFAULT_BTF);
		return SA_EXIT_RUNTIME;
	}
	btf__free(b);
	return 0;
}

int sa_enter_netns(const struct sa_common_opts *o)
{
	char errbuf[512];
	int err;

	if (!o->netns)
		return 0;
	err = sa_netns_enter(o->netns, errbuf, sizeof(errbuf));
	if (!err)
		return 0;
	sa_err("%s", errbuf);
	return err == -ENOENT ? SA_EXIT_USAGE : SA_EXIT_RUNTIME;
}

double sa_parse_seconds(const char *arg, struct argp_state *state,
			const char *what, double min)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < min || v <= 0 ||
	    v > 31536000)
		argp_error(state, "invalid %s '%s': expected seconds, at least %g "
			   "and at most a year", what, arg, min);
	return v;
}

void sa_parse_iface(const char *arg, struct argp_state *state,
		    const char **ifaces, int *n_ifaces)
{
	if (*n_ifaces >= SA_MAX_IFACES)
		argp_error(state, "at most %d interfaces", SA_MAX_IFACES);
	if (!*arg || strlen(arg) >= IF_NAMESIZE)
		argp_error(state, "invalid interface name '%s'", arg);
	/* eth0:1 is an address label (an alias), not an interface: the
	 * kernel refuses ':' in a name (dev_valid_name), and
	 * if_nametoindex("eth0:junk") finds eth0, which synacct would then
	 * watch under a name that is not its own. */
	if (strchr(arg, ':') && arg[0] != ':')
		argp_error(state, "invalid interface name '%s': a name with ':' is an alias "
			   "(an address label), not an interface: give --iface %.*s", arg,
			   (int)strcspn(arg, ":"), arg);
	/* The other names the kernel never gives an interface. */
	if (!strcmp(arg, ".") || !strcmp(arg, "..") || strpbrk(arg, ":/ \t\n\v\f\r"))
		argp_error(state, "invalid interface name '%s': no interface has this name "
			   "(one has no ':', '/' or white space, and is not . or ..)", arg);
	for (int i = 0; i < *n_ifaces; i++)
		if (!strcmp(ifaces[i], arg))
			argp_error(state, "interface %s given twice", arg);
	ifaces[(*n_ifaces)++] = arg;
}
