/* SPDX-License-Identifier: GPL-2.0 */
/*
 * touched.h - the ports whose figures moved since the last reading: each
 * BPF object marks them in its map ports_touched (include/bpf/count.h);
 * the agent takes the marks, word by word, and reads only those ports
 * again (agent/main.c, docs/design.md "Reading").
 */
#ifndef SYNACCT_TOUCHED_H
#define SYNACCT_TOUCHED_H

#include <linux/types.h>
#include "ports.h"

/* Take (and clear) the marks of map @fd into @out.  The map is mmapped
 * into *@words on first use; an exchange per word that has a mark, so a
 * mark set between the read and the clear is never lost. */
int sa_touched_take(int fd, __u64 **words, struct sa_portset *out);
void sa_touched_unmap(__u64 *words);

#endif /* SYNACCT_TOUCHED_H */
