/* SPDX-License-Identifier: GPL-2.0 */
/*
 * service.h - synacct under a service manager (agent/sys/service.c): the
 * sd_notify(3) messages of a Type=notify unit.  Without NOTIFY_SOCKET
 * (not started by systemd) every call is a no-op.
 */
#ifndef SYNACCT_SERVICE_H
#define SYNACCT_SERVICE_H

#include <stdbool.h>

/* Started by a service manager that listens (NOTIFY_SOCKET is set). */
bool sa_service_managed(void);
/* READY=1: every hook is attached and /metrics serves. */
void sa_service_ready(void);
/* STATUS=@status, sent only when it differs from the last one sent. */
void sa_service_status(const char *status);
/* RELOADING=1 before a reload, READY=1 after it (whatever its outcome:
 * a refused config leaves the old one running). */
void sa_service_reloading(void);
/* STOPPING=1: the run ends, the hooks go (or stay pinned). */
void sa_service_stopping(void);

#endif /* SYNACCT_SERVICE_H */
