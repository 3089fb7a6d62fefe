// SPDX-License-Identifier: GPL-2.0
/*
 * test_mib.c - the /proc/net/netstat and /proc/net/snmp parser
 * (agent/core/mib.c sa_mib_parse): real files of Linux 6.18 with known values
 * for the counters synacct reads, and malformed content, which must be
 * refused rather than read out of step.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mib.h"
#include "tap.h"

#define UNSET 0xdeadULL	/* a counter the input did not set keeps this */

static int parse_fixture(const char *name, __u64 *mib)
{
	char path[PATH_MAX];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "%s/%s", fixture_dir(), name);
	f = fopen(path, "re");
	if (!f) {
		diag("cannot open fixture %s: %s", path, strerror(errno));
		return -errno;
	}
	err = sa_mib_parse(f, mib);
	fclose(f);
	return err;
}

static void mib_reset(__u64 *mib)
{
	for (int i = 0; i < SA_MIB_MAX; i++)
		mib[i] = UNSET;
}

static int mib_index(const char *name)
{
	for (int i = 0; i < SA_MIB_MAX; i++)
		if (!strcmp(sa_mib_names[i], name))
			return i;
	return -1;
}

static __u64 mib_get(const __u64 *mib, const char *name)
{
	int i = mib_index(name);

	return i < 0 ? UNSET - 1 : mib[i];
}

static void real_files(void)
{
	static const struct {
		const char *name;
		__u64 want;
	} want[] = {
		{ "TcpExtListenOverflows", 1101 },
		{ "TcpExtListenDrops", 1102 },
		{ "TcpExtSyncookiesSent", 1103 },
		{ "TcpExtSyncookiesRecv", 1104 },
		{ "TcpExtSyncookiesFailed", 1105 },
		{ "TcpExtTCPReqQFullDrop", 1106 },
		{ "TcpExtTCPReqQFullDoCookies", 1107 },
		{ "TcpExtTCPSynRetrans", 18446744073709551615ULL },
		{ "TcpPassiveOpens", 1109 },
	};
	__u64 mib[SA_MIB_MAX];

	is_int(SA_MIB_MAX, sizeof(want) / sizeof(want[0]),
	       "every MIB counter synacct reads is checked here");
	mib_reset(mib);
	is_int(parse_fixture("netstat-6.18", mib), 0, "netstat of Linux 6.18: parsed");
	is_int(parse_fixture("snmp-6.18", mib), 0, "snmp of Linux 6.18: parsed");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ok(mib_get(mib, want[i].name) == want[i].want,
		   "Linux 6.18 files: %s == %llu (got %llu)", want[i].name,
		   (unsigned long long)want[i].want,
		   (unsigned long long)mib_get(mib, want[i].name));

	/* netstat alone: Tcp's PassiveOpens is in snmp, so it stays. */
	mib_reset(mib);
	parse_fixture("netstat-6.18", mib);
	ok(mib_get(mib, "TcpPassiveOpens") == UNSET,
	   "netstat alone leaves TcpPassiveOpens (an snmp counter) alone");
}

static void by_name(void)
{
	__u64 mib[SA_MIB_MAX];

	mib_reset(mib);
	is_int(parse_fixture("mib-reordered", mib), 0, "fields in another order: parsed");
	is_int(mib_get(mib, "TcpExtListenOverflows"), 21, "by name: ListenOverflows");
	is_int(mib_get(mib, "TcpExtListenDrops"), 22, "by name: ListenDrops");
	is_int(mib_get(mib, "TcpPassiveOpens"), 23,
	       "by group and name: Tcp PassiveOpens, not TcpExt's decoy");
	ok(mib_get(mib, "TcpExtSyncookiesSent") == UNSET,
	   "a counter the file lacks is left as it was");

	mib_reset(mib);
	is_int(parse_fixture("mib-empty", mib), 0, "empty file: no error");
	ok(mib_get(mib, "TcpExtListenDrops") == UNSET, "empty file: nothing set");
}

static void malformed(void)
{
	static const char *const files[] = {
		"mib-truncated",	/* names without values */
		"mib-group-mismatch",	/* TcpExt names, IpExt values */
		"mib-few-values",
		"mib-extra-values",
		"mib-not-a-number",
		"mib-overflow",		/* 2^64 */
		"mib-no-colon",
		"mib-trailing-garbage",
	};
	__u64 mib[SA_MIB_MAX];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		mib_reset(mib);
		is_int(parse_fixture(files[i], mib), -EINVAL, "%s: refused with -EINVAL", files[i]);
		ok(mib_get(mib, "TcpExtSyncookiesSent") == UNSET &&
		   mib_get(mib, "TcpExtListenOverflows") == UNSET,
		   "%s: no value of the bad pair is taken", files[i]);
	}
}

/* A line longer than any fixed buffer: 3000 fields before ours. */
static void long_line(void)
{
	size_t len = 0, cap = 64 * 1024;
	char *buf = malloc(cap);
	__u64 mib[SA_MIB_MAX];
	FILE *f;

	if (!ok(buf != NULL, "long line: buffer"))
		return;
	len += snprintf(buf + len, cap - len, "TcpExt:");
	for (int i = 0; i < 3000; i++)
		len += snprintf(buf + len, cap - len, " Field%d", i);
	len += snprintf(buf + len, cap - len, " ListenDrops\nTcpExt:");
	for (int i = 0; i < 3000; i++)
		len += snprintf(buf + len, cap - len, " %d", i);
	len += snprintf(buf + len, cap - len, " 4242\n");
	diag("long line: %zu bytes", len);
	f = fmemopen(buf, len, "r");
	mib_reset(mib);
	is_int(f ? sa_mib_parse(f, mib) : -errno, 0, "a %zu-byte pair: parsed", len);
	is_int(mib_get(mib, "TcpExtListenDrops"), 4242, "a %zu-byte pair: the last field read", len);
	if (f)
		fclose(f);
	free(buf);
}

/* This machine's own files, in the reader's namespace: the format the
 * running kernel writes is accepted. */
static void live(void)
{
	__u64 mib[SA_MIB_MAX];

	is_int(sa_mib_read(mib), 0, "sa_mib_read on this kernel's /proc/net: 0");
}

void suite_mib(void)
{
	real_files();
	by_name();
	malformed();
	long_line();
	live();
}
