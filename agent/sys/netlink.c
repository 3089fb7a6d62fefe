// SPDX-License-Identifier: GPL-2.0
/*
 * netlink.c - one rtnetlink request and its replies.
 */
#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>
#include "netlink.h"

int sa_nl_talk(int nl, struct nlmsghdr *req,
	       int (*fn)(struct nlmsghdr *h, void *ctx), void *ctx)
{
	static __u32 seq;
	char buf[32768];
	bool dump = req->nlmsg_flags & NLM_F_DUMP;
	int err = 0;

	req->nlmsg_seq = ++seq;
	if (send(nl, req, req->nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t len = recv(nl, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (len == 0)
			return err;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len);
		     h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != req->nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return err;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				return err ? err : e->error;
			}
			/* After an error, the rest of a dump is read and
			 * dropped: the socket stays usable. */
			if (!err)
				err = fn(h, ctx);
			if (!dump)
				return err;
		}
	}
}
