/* SPDX-License-Identifier: GPL-2.0 */
/*
 * options.h - the options every synacct command shares (--netns, --ports,
 * --json, --btf, --verbose), defined once as an argp child, and what
 * follows from them: the privilege check and entering the namespace.
 */
#ifndef SYNACCT_OPTIONS_H
#define SYNACCT_OPTIONS_H

#include <argp.h>
#include <stdbool.h>
#include "ports.h"

#define SA_DEFAULT_BTF "/sys/kernel/btf/vmlinux"

struct sa_common_opts {
	const char *netns;
	struct sa_portset ports;
	bool json;
	bool verbose;
	const char *btf;
};

/* The argp child: a command puts it in its children and passes
 * &opts->common as child_inputs[0] on ARGP_KEY_INIT. */
extern const struct argp sa_common_argp;
/* The same parser with the options each subcommand has, described as it
 * uses them: check (all five), detach (--netns, --verbose). */
extern const struct argp sa_check_common_argp;
extern const struct argp sa_detach_common_argp;

/* Parse @argv with @argp (which has sa_common_argp as a child); usage
 * errors exit 2.  Returns 0 or SA_EXIT_USAGE. */
int sa_parse_args(const struct argp *argp, int argc, char **argv, void *input);

/* Privileges for a command that attaches (@attach: TC, and XDP with @xdp)
 * or only reads (BPF iterator); @who names the command in the message.  0, or the exit
 * status after the one-line error. */
int sa_check_privileges(const struct sa_common_opts *o, bool attach, bool xdp,
			const char *who);
/* --btf FILE (or the kernel's own BTF) is there and, if given, is BTF:
 * 0, or the exit status after the error. */
int sa_check_btf(const char *btf);

/* Limits on the files synacct reads whole (sa_open_regular). */
#define SA_CONFIG_MAX_BYTES	(1 << 20)
#define SA_BTF_MAX_BYTES	(256 << 20)

/*
 * Open @path for reading if it is a regular file of at most @max bytes:
 * never a FIFO (which would block), a device (/dev/zero never ends) or a
 * directory (which reads as empty).  It is stat'ed before it is opened,
 * so no device is ever opened, then opened O_NONBLOCK|O_NOCTTY|O_CLOEXEC
 * and fstat'ed again (the same file, still regular).  The descriptor and
 * its size in *@size, or -1 after the one-line error "cannot read @what
 * @path: ...".
 */
int sa_open_regular(const char *path, const char *what, long long max, long long *size);
/* Enter --netns if given: 0, or the exit status after the error. */
int sa_enter_netns(const struct sa_common_opts *o);
/* Parse seconds for --interval/--duration-like options: positive, finite,
 * at least @min, at most a year; argp_error otherwise. */
/* --iface IFACE (repeatable): a valid name, not given twice, at most
 * SA_MAX_IFACES; added to @ifaces; argp_error otherwise. */
void sa_parse_iface(const char *arg, struct argp_state *state,
		    const char **ifaces, int *n_ifaces);
double sa_parse_seconds(const char *arg, struct argp_state *state,
			const char *what, double min);

/* Subcommands: `synacct NAME ...` runs main(argc, argv) with argv[0]
 * "synacct NAME". */
struct sa_command {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *usage;	/* its arguments, for --help */
	const char *summary;	/* what it does, for --help */
};

int sa_watch_main(int argc, char **argv);	/* agent/cmd/main.c: the default */
int sa_check_main(int argc, char **argv);	/* agent/cmd/check.c */

#endif /* SYNACCT_OPTIONS_H */
