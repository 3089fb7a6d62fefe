// SPDX-License-Identifier: GPL-2.0
/*
 * touched.c - take the ports a BPF object marked touched (touched.h).
 */
#include <errno.h>
#include <stddef.h>
#include <sys/mman.h>
#include "touched.h"

#define SA_TOUCHED_BYTES (SA_PORTS_TOUCHED_WORDS * sizeof(__u64))

int sa_touched_take(int fd, __u64 **words, struct sa_portset *out)
{
	__u64 *w = *words;

	if (!w) {
		void *m = mmap(NULL, SA_TOUCHED_BYTES, PROT_READ | PROT_WRITE,
			       MAP_SHARED, fd, 0);

		if (m == MAP_FAILED)
			return -errno;
		*words = w = m;
	}
	for (unsigned int i = 0; i < SA_PORTS_TOUCHED_WORDS; i++)
		if (__atomic_load_n(&w[i], __ATOMIC_RELAXED))
			out->bits[i] |= __atomic_exchange_n(&w[i], 0, __ATOMIC_SEQ_CST);
	return 0;
}

void sa_touched_unmap(__u64 *words)
{
	if (words)
		munmap(words, SA_TOUCHED_BYTES);
}
