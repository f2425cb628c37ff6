/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace shim: an iov_iter over plain memory segments, standing for
 * the user buffers of a read() or write().  fault_at makes the copy stop
 * at that byte, as a copy from an unmapped user page would.
 */
#ifndef _TOOLS_INCLUDE_LINUX_UIO_H
#define _TOOLS_INCLUDE_LINUX_UIO_H

#include <string.h>
#include <sys/uio.h>
#include <linux/types.h>

/**
 * struct iov_iter - segments of a user buffer
 * @iov: the segments
 * @nr_segs: entries in @iov
 * @seg: current segment
 * @seg_off: offset in the current segment
 * @count: bytes left
 * @fault_at: bytes that can be copied before a fault (SIZE_MAX: none)
 * @done: bytes copied so far
 */
struct iov_iter {
	const struct iovec *iov;
	unsigned long nr_segs;
	unsigned long seg;
	size_t seg_off;
	size_t count;
	size_t fault_at;
	size_t done;
};

static inline void fuzz_iov_iter_init(struct iov_iter *i,
				      const struct iovec *iov,
				      unsigned long nr_segs)
{
	unsigned long k;

	memset(i, 0, sizeof(*i));
	i->iov = iov;
	i->nr_segs = nr_segs;
	for (k = 0; k < nr_segs; k++)
		i->count += iov[k].iov_len;
	i->fault_at = (size_t)-1;
}

static inline size_t iov_iter_count(const struct iov_iter *i)
{
	return i->count;
}

static inline size_t fuzz_iov_iter_copy(struct iov_iter *i, void *buf,
					size_t n, bool to_iter)
{
	size_t copied = 0, chunk;
	char *p;

	while (copied < n && i->count && i->done < i->fault_at) {
		const struct iovec *v = &i->iov[i->seg];

		if (i->seg_off == v->iov_len) {
			i->seg++;
			i->seg_off = 0;
			continue;
		}
		chunk = min(n - copied, v->iov_len - i->seg_off);
		chunk = min(chunk, i->fault_at - i->done);
		p = (char *)v->iov_base + i->seg_off;
		if (to_iter)
			memcpy(p, (char *)buf + copied, chunk);
		else
			memcpy((char *)buf + copied, p, chunk);
		copied += chunk;
		i->seg_off += chunk;
		i->count -= chunk;
		i->done += chunk;
	}
	return copied;
}

static inline size_t copy_from_iter(void *to, size_t n, struct iov_iter *i)
{
	return fuzz_iov_iter_copy(i, to, n, false);
}

static inline size_t copy_to_iter(const void *from, size_t n,
				  struct iov_iter *i)
{
	return fuzz_iov_iter_copy(i, (void *)from, n, true);
}

#endif /* _TOOLS_INCLUDE_LINUX_UIO_H */
