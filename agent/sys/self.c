// SPDX-License-Identifier: GPL-2.0
/*
 * self.c - synacct's own CPU time, resident memory and start time, from
 * /proc/self/stat and /proc/stat (proc(5)), as the process_* metrics of
 * Prometheus' client libraries define them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "self.h"

/* The boot time, Unix seconds (/proc/stat's btime). */
static int boot_time(double *out)
{
	char line[256];
	FILE *f = fopen("/proc/stat", "re");
	int ret = -ENOENT;
	unsigned long long btime;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %llu", &btime) == 1) {
			*out = (double)btime;
			ret = 0;
			break;
		}
	fclose(f);
	return ret;
}

int sa_self_read(struct sa_self *s)
{
	static double boot;
	unsigned long long utime, stime, start;
	long rss, hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	char buf[1024], *p;
	FILE *f;
	size_t n;
	int err;

	if (hz <= 0 || page <= 0)
		return -EINVAL;
	f = fopen("/proc/self/stat", "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The fields after the command name, which may hold spaces and
	 * parentheses: from the last ')'.  utime is field 14, stime 15,
	 * starttime 22, rss 24 (proc(5)); after ')' comes field 3. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			 "%llu %llu %*d %*d %*d %*d %*d %*d %llu %*u %ld",
			 &utime, &stime, &start, &rss) != 4)
		return -EINVAL;
	/* The boot time does not change: /proc/stat (a line per CPU) is
	 * read once, not at every page. */
	if (!boot && (err = boot_time(&boot)))
		return err;
	s->cpu_seconds = (double)(utime + stime) / hz;
	s->resident_bytes = (unsigned long long)rss * page;
	s->start_time = boot + (double)start / hz;
	return 0;
}
