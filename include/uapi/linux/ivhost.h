/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ivhost's extensions to the vhost userspace ABI.
 *
 * Everything else ivhost speaks is <linux/vhost.h>, unchanged.  The ioctls
 * here have a type of their own, IVHOST_IOCTL_TYPE (0xB9): vhost's magic
 * 0xAF belongs to vhost and its drivers (vhost-scsi, vhost-vsock,
 * vhost-vdpa), and to the Freescale hypervisor's 0x00-0x1F as well, and
 * any number ivhost took there could be claimed by vhost tomorrow.  0xB9
 * is listed in no range of the kernel's
 * Documentation/userspace-api/ioctl/ioctl-number.rst (6.1), and no
 * header of the kernel uses it as an ioctl type.
 */
#ifndef _UAPI_LINUX_IVHOST_H
#define _UAPI_LINUX_IVHOST_H

#include <linux/ioctl.h>
#include <linux/types.h>
#include <linux/vhost.h>

/* Buckets of the miss round-trip histogram: bucket i counts round trips
 * of [2^i, 2^(i+1)) microseconds; the last one everything longer, the
 * first everything shorter than 2 us.
 */
#define IVHOST_RTT_BUCKETS	24

/* ivhost's ioctl type; see the comment at the top. */
#define IVHOST_IOCTL_TYPE	0xB9

/**
 * struct ivhost_ioctl_hdr - the start of every extensible ioctl argument
 * @size: the size of the caller's struct, in bytes; on return the
 *	number of bytes the kernel filled in
 * @flags: must be 0
 *
 * An ioctl whose argument can grow is encoded with this header only, so
 * its number stays the same whatever version of the struct the caller
 * was built with; the struct's real length travels in @size.
 */
struct ivhost_ioctl_hdr {
	__u32 size;
	__u32 flags;
};

/**
 * struct ivhost_iotlb_stats - device IOTLB counters of one device
 * @size: set by the caller to sizeof() its struct; set by the kernel to
 *	the number of bytes it filled (see IVHOST_GET_IOTLB_STATS)
 * @flags: must be 0; the kernel writes back 0
 * @hits: translations served from the cache
 * @misses: translations that found a gap
 * @misses_deduped: misses not sent again because one was outstanding
 * @miss_msgs: MISS messages queued to the VMM
 * @updates: UPDATE messages applied
 * @invalidations: INVALIDATE messages applied
 * @evictions: entries evicted to stay within the entry limit
 * @access_fails: accesses the entry's permissions forbade
 * @msgs_queued: messages waiting to be read now
 * @msgs_dropped: messages not queued because the queue was full or
 *	there was no memory for them
 * @entries: entries in the cache now
 * @miss_wait_ns: total time queues spent waiting for misses
 * @rtt_us: miss round trips (MISS queued to the queue resuming)
 *
 * Starts with the fields of &struct ivhost_ioctl_hdr.  New counters are
 * only ever appended; a field never moves or changes meaning.
 */
struct ivhost_iotlb_stats {
	__u32 size;
	__u32 flags;
	__u64 hits;
	__u64 misses;
	__u64 misses_deduped;
	__u64 miss_msgs;
	__u64 updates;
	__u64 invalidations;
	__u64 evictions;
	__u64 access_fails;
	__u64 msgs_queued;
	__u64 msgs_dropped;
	__u64 entries;
	__u64 miss_wait_ns;
	__u64 rtt_us[IVHOST_RTT_BUCKETS];
};

/* The size of the first version of struct ivhost_iotlb_stats (296): the
 * smallest @size IVHOST_GET_IOTLB_STATS accepts.
 */
#define IVHOST_IOTLB_STATS_SIZE_VER0	296

/**
 * define IVHOST_GET_IOTLB_STATS - read a device's IOTLB counters
 *
 * The argument points to &struct ivhost_iotlb_stats (or to a struct of
 * another version of it) whose @size the caller has set to the size of
 * its struct and whose @flags it has set to 0.  Any process holding the
 * fd may call it.
 *
 * The kernel copies min(@size, the size of the kernel's struct) bytes
 * of its counters to the caller, @size included, which it sets to that
 * number, as sched_getattr() does with &struct sched_attr: a caller
 * built against an older, smaller struct gets the fields it knows and
 * not one byte past them; a caller built against a newer, larger struct
 * learns from @size which fields the kernel filled, and the bytes past
 * @size are left as they were (neither written nor zeroed).  Only the
 * 8-byte header is encoded in the ioctl number, so the number stays the
 * same as the struct grows.
 *
 * Return: 0; -EINVAL if @size is smaller than
 * IVHOST_IOTLB_STATS_SIZE_VER0 or @flags is not 0; -EFAULT if the
 * header cannot be read or the counters cannot be written (the caller's
 * memory may then be partly written).
 */
#define IVHOST_GET_IOTLB_STATS	_IOWR(IVHOST_IOCTL_TYPE, 0x00, \
				      struct ivhost_ioctl_hdr)

#endif /* _UAPI_LINUX_IVHOST_H */
