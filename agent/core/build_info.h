/* SPDX-License-Identifier: GPL-2.0 */
/*
 * build_info.h - what this synacct is: its version, the commit it was
 * built from, the libraries it runs with and the kernel it runs on
 * (synacct --version, synacct_build_info).
 */
#ifndef SYNACCT_BUILD_INFO_H
#define SYNACCT_BUILD_INFO_H

#include <stdio.h>

#define SA_VERSION "0.1"

struct sa_build_info {
	const char *version;	/* SA_VERSION */
	const char *commit;	/* git, at build time; "unknown" outside git */
	const char *kernel;	/* uname -r of the running kernel */
	const char *libbpf;	/* libbpf's own, at run time: "1.1" */
	const char *libxdp;	/* libxdp built against (it has no version call) */
};

/* Filled once, from static storage. */
const struct sa_build_info *sa_build_info(void);
/* synacct --version: version and commit, then the libraries. */
void sa_print_version(FILE *f);

#endif /* SYNACCT_BUILD_INFO_H */
