// SPDX-License-Identifier: GPL-2.0
/*
 * test_ports.c - --ports parsing (agent/core/ports.c sa_portset_parse): lists,
 * ranges, duplicates, the 0..65535 bounds, and every kind of garbage, each
 * refused with -EINVAL.  The set parsed is compared whole, as a list.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "ports.h"
#include "tap.h"

/* The set as "lo-hi,p,...", ranges merged: exact and readable. */
static void portset_str(const struct sa_portset *ps, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (__u32 p = 0; p < SA_MAX_PORTS; p++) {
		__u32 hi = p;

		if (!sa_portset_has(ps, p))
			continue;
		while (hi + 1 < SA_MAX_PORTS && sa_portset_has(ps, hi + 1))
			hi++;
		off += snprintf(buf + off, off < len ? len - off : 0, "%s%u",
				off ? "," : "", p);
		if (hi > p)
			off += snprintf(buf + off, off < len ? len - off : 0, "-%u", hi);
		p = hi;
	}
}

static size_t portset_count(const struct sa_portset *ps)
{
	size_t n = 0;

	for (size_t i = 0; i < SA_MAX_PORTS / 64; i++)
		n += __builtin_popcountll(ps->bits[i]);
	return n;
}

static const struct {
	const char *spec;
	const char *want;	/* the set, as portset_str prints it */
	size_t count;
} good[] = {
	{ "80", "80", 1 },
	{ "80,443", "80,443", 2 },
	{ "443,80", "80,443", 2 },
	{ "8000-8003", "8000-8003", 4 },
	{ "80,8000-8002,443", "80,443,8000-8002", 5 },
	{ "7-7", "7", 1 },
	/* duplicates and overlaps count once */
	{ "80,80", "80", 1 },
	{ "80-82,81", "80-82", 3 },
	{ "10-20,15-25", "10-25", 16 },
	/* the bounds */
	{ "0", "0", 1 },
	{ "65535", "65535", 1 },
	{ "65534-65535", "65534-65535", 2 },
	{ "0-65535", "0-65535", 65536 },
	/* leading zeros are still decimal */
	{ "080", "80", 1 },
};

static const char *const bad[] = {
	"", ",", ",80", "80,", "80,,81", "-", "80-", "-80", "90-80",
	"65536", "70000", "0-65536", "4294967376", "99999999999999999999",
	"abc", "80a", "a80", "80 ", " 80", "80, 81", "+80", "0x50", "80-90-100",
	"80-+90", "80--90", "80;81", "8 0", "\xe2\x82\xac",
};

void suite_ports(void)
{
	struct sa_portset ps;
	char buf[256];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int err = sa_portset_parse(&ps, good[i].spec);

		is_int(err, 0, "ports '%s': accepted", good[i].spec);
		portset_str(&ps, buf, sizeof(buf));
		is_str(buf, good[i].want, "ports '%s': the set", good[i].spec);
		is_int(portset_count(&ps), good[i].count, "ports '%s': %zu ports",
		       good[i].spec, good[i].count);
		ok(!ps.any, "ports '%s': not 'every port'", good[i].spec);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(sa_portset_parse(&ps, bad[i]), -EINVAL,
		       "ports '%s': refused with -EINVAL", bad[i]);

	/* A new parse starts from an empty set. */
	sa_portset_parse(&ps, "1-100");
	sa_portset_parse(&ps, "200");
	portset_str(&ps, buf, sizeof(buf));
	is_str(buf, "200", "a second parse replaces the first set");
}
