// SPDX-License-Identifier: GPL-2.0
/*
 * build_info.c - synacct's version, the commit it was built from
 * (build_info_gen.h, which the Makefile writes from git: "unknown" when
 * the tree is not a git checkout, e.g. a tarball), and the libraries and
 * kernel it runs with.
 *
 * libbpf says its version at run time; libxdp (1.3 in Debian 12) has no
 * call nor macro for it, so its version is the one pkg-config gave at
 * build time: the same as long as the package is not upgraded under the
 * binary.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <bpf/libbpf.h>
#include "build_info.h"
#include "build_info_gen.h"

const struct sa_build_info *sa_build_info(void)
{
	static char kernel[sizeof(((struct utsname *)0)->release)], libbpf[32];
	static struct sa_build_info b;
	struct utsname u;

	if (b.version)
		return &b;
	if (uname(&u))
		snprintf(kernel, sizeof(kernel), "unknown");
	else
		snprintf(kernel, sizeof(kernel), "%s", u.release);
	snprintf(libbpf, sizeof(libbpf), "%u.%u", libbpf_major_version(),
		 libbpf_minor_version());
	b = (struct sa_build_info){
		.version = SA_VERSION,
		.commit = SA_BUILD_COMMIT,
		.kernel = kernel,
		.libbpf = libbpf,
		.libxdp = SA_BUILD_LIBXDP,
	};
	return &b;
}

void sa_print_version(FILE *f)
{
	const struct sa_build_info *b = sa_build_info();

	fprintf(f, "synacct %s (commit %s)\nlibbpf %s, libxdp %s\n",
		b->version, b->commit, b->libbpf, b->libxdp);
}
