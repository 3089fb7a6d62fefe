// SPDX-License-Identifier: GPL-2.0
/*
 * service.c - sd_notify(3) for a Type=notify unit (configs/synacct.service):
 * READY=1 once every stage is attached, STATUS= when what synacct watches
 * changes, RELOADING=1 around a SIGHUP reload, STOPPING=1 at the end.
 *
 * The notify socket is a path (/run/systemd/notify): sending to it works
 * from inside --netns too, which changes only the network namespace.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-daemon.h>
#include "log.h"
#include "service.h"

bool sa_service_managed(void)
{
	return getenv("NOTIFY_SOCKET") != NULL;
}

static void notify(const char *msg)
{
	int r;

	if (!sa_service_managed())
		return;
	r = sd_notify(0, msg);
	if (r < 0)
		sa_debug("sd_notify(%s): %s", msg, strerror(-r));
}

void sa_service_ready(void)
{
	notify("READY=1");
}

void sa_service_status(const char *status)
{
	static char last[512];
	char msg[sizeof(last) + 8];

	if (!sa_service_managed() || !strncmp(last, status, sizeof(last) - 1))
		return;
	snprintf(last, sizeof(last), "%s", status);
	snprintf(msg, sizeof(msg), "STATUS=%s", last);
	notify(msg);
}

void sa_service_reloading(void)
{
	struct timespec ts;
	char msg[64];

	/* MONOTONIC_USEC: what systemd 253+ wants with RELOADING=1 (for
	 * Type=notify-reload); 252 ignores it. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000);
	notify(msg);
}

void sa_service_stopping(void)
{
	notify("STOPPING=1");
}
