// SPDX-License-Identifier: GPL-2.0
/*
 * caps.c - does synacct have what it needs?  Checked up front so that a
 * missing capability is one clear line, not a failure halfway through
 * attaching.
 */
#include <unistd.h>
#include <cap-ng.h>
#include <linux/capability.h>
#include "log.h"
#include "netns.h"

/*
 * Loading BPF programs that read kernel memory needs CAP_BPF and
 * CAP_PERFMON; attaching XDP and TC needs CAP_NET_ADMIN (@net_admin);
 * entering another namespace, and libxdp reading a program's BTF by id,
 * need CAP_SYS_ADMIN (@sys_admin), which also covers CAP_BPF and
 * CAP_PERFMON.
 */
bool sa_have_privileges(bool net_admin, bool sys_admin)
{
	if (capng_get_caps_process())
		return geteuid() == 0;
	if (net_admin && !capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_ADMIN))
		return false;
	if (capng_have_capability(CAPNG_EFFECTIVE, CAP_SYS_ADMIN))
		return true;
	return !sys_admin &&
	       capng_have_capability(CAPNG_EFFECTIVE, CAP_BPF) &&
	       capng_have_capability(CAPNG_EFFECTIVE, CAP_PERFMON);
}

bool sa_have_cap(int cap)
{
	if (capng_get_caps_process())
		return geteuid() == 0;
	return capng_have_capability(CAPNG_EFFECTIVE, cap);
}
