/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ivhost's extensions to the vhost userspace ABI.
 *
 * Everything else ivhost speaks is <linux/vhost.h>, unchanged.  The ioctls
 * here use the vhost magic (VHOST_VIRTIO, 0xAF) with numbers from 0xE0
 * up, clear of the ranges vhost, vhost-scsi, vhost-vsock and vhost-vdpa
 * use (0x00-0x30, 0x40-0x44, 0x60-0x61, 0x70-0x80).
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

/**
 * struct ivhost_iotlb_stats - device IOTLB counters of one device
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
 */
struct ivhost_iotlb_stats {
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

/* Read the device IOTLB counters; any process holding the fd may. */
#define IVHOST_GET_IOTLB_STATS	_IOR(VHOST_VIRTIO, 0xE0, \
				     struct ivhost_iotlb_stats)

#endif /* _UAPI_LINUX_IVHOST_H */
