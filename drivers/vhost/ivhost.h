/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ivhost core: devices, virtqueues, the worker and guest memory access.
 *
 * Lock order, outermost first:
 *
 *	ivhost_dev.mutex  ->  ivhost_vq.mutex
 *
 * The device mutex serialises configuration ioctls.  A vq's mutex covers
 * everything in the vq and is held by the worker for a whole processing
 * round, so a configuration change made under it is never seen half-way
 * by a round, and once an ioctl has taken and dropped the mutex no round
 * still uses what the ioctl replaced.
 */
#ifndef _IVHOST_H
#define _IVHOST_H

#include <linux/eventfd.h>
#include <linux/llist.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/uio.h>
#include <linux/virtio_byteorder.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <linux/vhost_types.h>

#include "chain_packed.h"
#include "devtlb.h"
#include "memtable.h"

/* Most userspace segments one descriptor chain may translate to. */
#define IVHOST_IOV_MAX		UIO_MAXIOV

/* Backend features every ivhost device offers. */
#define IVHOST_BACKEND_FEATURES	(BIT_ULL(VHOST_BACKEND_F_IOTLB_MSG_V2) | \
				 BIT_ULL(VHOST_BACKEND_F_IOTLB_BATCH))

/*
 * Largest ring accepted by VHOST_SET_VRING_NUM: split rings are a power of
 * two up to it, packed rings any size up to it.
 */
#define IVHOST_VRING_NUM_MAX	32768U

/*
 * What one frame (a TX chain, or the chains one RX frame fills) may take.
 * A frame stepping into more device IOTLB entries is malformed and stops
 * its queue: the frames in progress on every queue of a device, with the
 * rings, always fit in the cache's minimum size together.  A frame
 * walking more descriptors cannot be received (dropped, like a frame no
 * buffer can hold); the longest legal chain, a full ring ending in the
 * largest indirect table, stays below it.
 */
#define IVHOST_FRAME_MAX_ENTRIES	512U
#define IVHOST_FRAME_MAX_DESCS	(IVHOST_VRING_NUM_MAX + 1024U)

/*
 * Packed ring: chains taken and neither used nor given back yet (their
 * ring-descriptor counts are kept to give them back); a frame wanting
 * more gets -ENOBUFS, as one out of segments does.
 */
#define IVHOST_PACKED_TAKEN_MAX	UIO_MAXIOV

/* Longest busy poll, whatever VHOST_SET_VRING_BUSYLOOP_TIMEOUT asked. */
#define IVHOST_BUSYLOOP_MAX_US	1000U

struct ivhost_dev;
struct ivhost_vq;
struct ivhost_work;

typedef void (*ivhost_work_fn_t)(struct ivhost_work *work);

/**
 * struct ivhost_work - an item the device's worker runs
 * @node: link in &ivhost_dev.work_list
 * @flags: %IVHOST_WORK_QUEUED while on the list
 * @fn: what to run
 */
struct ivhost_work {
	struct llist_node node;
	unsigned long flags;
	ivhost_work_fn_t fn;
};

#define IVHOST_WORK_QUEUED	0

/**
 * struct ivhost_poll - queue a work item whenever a file becomes ready
 * @table: used once, to hook @wait into the file's wait queue
 * @wqh: the wait queue @wait is on, or NULL when not polling
 * @wait: our entry on @wqh
 * @work: queued on the device when the file reports an event in @mask
 * @mask: events of interest
 * @dev: device whose worker runs @work
 */
struct ivhost_poll {
	poll_table table;
	wait_queue_head_t *wqh;
	wait_queue_entry_t wait;
	struct ivhost_work work;
	__poll_t mask;
	struct ivhost_dev *dev;
};

/**
 * struct ivhost_vq - one virtqueue, split or packed (VIRTIO_F_RING_PACKED)
 * @dev: owning device
 * @mutex: protects everything below; held by the worker for a round
 * @index: position in &ivhost_dev.vqs
 * @num: ring size (a power of two if split, checked when the ring is
 *	started), or 0 before VHOST_SET_VRING_NUM
 * @desc_addr: descriptor table (packed: descriptor ring) address from
 *	VHOST_SET_VRING_ADDR
 * @avail_addr: available ring (packed: driver event suppression area)
 *	address from VHOST_SET_VRING_ADDR
 * @used_addr: used ring (packed: device event suppression area) address
 *	from VHOST_SET_VRING_ADDR
 * @addr_set: the three addresses were given
 * @desc: descriptor table (userspace address) while @rings_valid
 * @pdesc: the same storage: the packed descriptor ring
 * @avail: available ring (userspace address) while @rings_valid
 * @driver_event: the same storage: the packed driver area
 * @used: used ring (userspace address) while @rings_valid
 * @device_event: the same storage: the packed device area
 * @addr_flags: VHOST_SET_VRING_ADDR flags
 * @log_addr: guest-physical address of the used ring (packed: of the
 *	device area), for dirty logging
 * @last_avail_idx: next avail ring entry the device will consume (split)
 * @avail_idx: avail->idx as last read (split)
 * @last_used_idx: used->idx as last written; packed: used buffers
 *	published, modulo 2^16 (it changes whenever buffers are used)
 * @signalled_used: @last_used_idx when the driver was last signalled
 * @signalled_used_valid: @signalled_used (packed: @signalled_pos) may be
 *	used for EVENT_IDX
 * @used_flags: used->flags (packed: the device area's flags) as last
 *	written
 * @avail_pos: packed: ring position of the next chain to take
 * @seen_ahead: packed: descriptors from @avail_pos on the device has seen
 *	available (chains it took and gave back)
 * @used_pos: packed: ring position of the next used descriptor
 * @signalled_pos: packed: @used_pos when the driver was last signalled
 * @unsignalled: packed: ring descriptors used since then
 * @ntaken: packed: chains taken and neither used nor given back
 * @taken: packed: the ring-descriptor count of each of them, oldest first
 * @taken_slots: packed: the sum of @taken (at most the ring size)
 * @broken: a malformed ring stopped the queue; cleared by reconfiguration
 * @features: negotiated features, for the worker
 * @mem: memory table of the device, for the worker
 * @kick: eventfd file the driver kicks, or NULL
 * @call_ctx: eventfd signalled on used buffers, or NULL
 * @err_ctx: eventfd signalled on a ring error, or NULL
 * @kick_poll: runs @handle_kick when @kick fires
 * @handle_kick: the device's processing function for this vq
 * @backend: the device's backend (a socket for net), or NULL when stopped
 * @log_base: the dirty log bitmap while logging is on, else NULL
 * @log_ctx: eventfd signalled after the log was written, or NULL
 * @busyloop_timeout: microseconds to poll before waiting for a kick, as
 *	set (polls are capped at %IVHOST_BUSYLOOP_MAX_US)
 * @rings_valid: @desc, @avail and @used are usable; with the device
 *	IOTLB they are translations, dropped when a change touches them
 * @ring_split: with the device IOTLB, a bit per enum ivhost_ring_area
 *	whose area is in several pieces of userspace: its pointer is the
 *	first piece's, and every access is translated (vring_access.h)
 * @ring_iova: the IOVA of each area as it was translated, by
 *	enum ivhost_ring_area
 * @tlbq: with the device IOTLB, the translation used last (reused
 *	without the IOTLB's lock; dropped when a change touches it) and the
 *	frame's entry budget
 * @span_hits: translations served from @tlbq's span (IOTLB hits too)
 * @frame_descs: descriptors the frame in progress may still walk
 * @walked: descriptors walked since the round began
 * @waiters: tasks other than the worker waiting for @mutex (a barrier,
 *	an ioctl, a release); a round that sees one ends early
 * @need_start: a backend was attached with the device IOTLB on; the
 *	first round picks up the ring state once the rings translate
 * @iov: segments of the chain being processed
 */
struct ivhost_vq {
	struct ivhost_dev *dev;
	struct mutex mutex;	/* see the lock order above */
	unsigned int index;

	u32 num;
	u64 desc_addr;
	u64 avail_addr;
	u64 used_addr;
	bool addr_set;
	union {
		struct vring_desc __user *desc;
		struct vring_packed_desc __user *pdesc;
	};
	union {
		struct vring_avail __user *avail;
		struct vring_packed_desc_event __user *driver_event;
	};
	union {
		struct vring_used __user *used;
		struct vring_packed_desc_event __user *device_event;
	};
	u32 addr_flags;
	u64 log_addr;

	u16 last_avail_idx;
	u16 avail_idx;
	u16 last_used_idx;
	u16 signalled_used;
	bool signalled_used_valid;
	u16 used_flags;
	struct ivhost_packed_pos avail_pos;
	struct ivhost_packed_pos used_pos;
	struct ivhost_packed_pos signalled_pos;
	u32 seen_ahead;
	u32 unsignalled;
	u16 ntaken;
	u16 taken[IVHOST_PACKED_TAKEN_MAX];
	u32 taken_slots;
	bool broken;

	u64 features;
	const struct ivhost_memtable *mem;

	struct file *kick;
	struct eventfd_ctx *call_ctx;
	struct eventfd_ctx *err_ctx;
	struct ivhost_poll kick_poll;
	ivhost_work_fn_t handle_kick;

	void *backend;
	u8 __user *log_base;
	struct eventfd_ctx *log_ctx;
	u32 busyloop_timeout;
	bool rings_valid;
	u8 ring_split;
	u64 ring_iova[3];
	struct ivhost_devtlb_vq tlbq;
	u64 span_hits;
	unsigned int frame_descs;
	unsigned int walked;
	atomic_t waiters;
	bool need_start;
	struct iovec *iov;
};

/**
 * struct ivhost_dev - one vhost device instance (one open file)
 * @mutex: serialises configuration; see the lock order above
 * @mm: the owner's address space, or NULL before VHOST_SET_OWNER
 * @worker: the thread that runs work items, or NULL without an owner;
 *	written under @mutex, read under RCU (worker.c)
 * @work_list: work items waiting for @worker
 * @vqs: the device's virtqueues
 * @nvqs: number of entries in @vqs
 * @features: features acknowledged with VHOST_SET_FEATURES
 * @mem: current memory table, or NULL
 * @max_regions: limit on VHOST_SET_MEM_TABLE regions, fixed at init
 * @log_base: VHOST_SET_LOG_BASE's bitmap address, or NULL
 * @log_ctx: VHOST_SET_LOG_FD's eventfd, or NULL
 * @backend_features: acknowledged VHOST_SET_BACKEND_FEATURES bits
 * @tlb: the device IOTLB, used while VIRTIO_F_ACCESS_PLATFORM is on
 * @debugfs: the device's debugfs directory, or NULL or an error pointer
 */
struct ivhost_dev {
	struct mutex mutex;	/* see the lock order above */
	struct mm_struct *mm;
	struct task_struct __rcu *worker;
	struct llist_head work_list;
	struct ivhost_vq **vqs;
	unsigned int nvqs;
	u64 features;
	struct ivhost_memtable *mem;
	u32 max_regions;
	u8 __user *log_base;
	struct eventfd_ctx *log_ctx;
	u64 backend_features;
	struct ivhost_devtlb tlb;
	struct dentry *debugfs;
};

/**
 * struct ivhost_buf - a descriptor chain translated to userspace segments
 * @head: index of the chain's head descriptor (packed: its ring slot)
 * @id: the buffer ID to publish it with: @head (split), or the ID of the
 *	chain's last ring descriptor (packed)
 * @count: ring descriptors the chain took (split: 1)
 * @iov: the chain's userspace segments
 * @max: capacity of @iov
 * @out: number of readable segments, at the start of @iov
 * @in: number of writable segments, following them
 * @out_len: bytes in the readable segments
 * @in_len: bytes in the writable segments
 */
struct ivhost_buf {
	u16 head;
	u16 id;
	u16 count;
	struct iovec *iov;
	unsigned int max;
	unsigned int out;
	unsigned int in;
	size_t out_len;
	size_t in_len;
};

/**
 * struct ivhost_used - a used ring entry, in CPU byte order
 * @id: the chain's &ivhost_buf.id
 * @len: bytes the device wrote into it
 * @count: the chain's &ivhost_buf.count (packed rings only)
 */
struct ivhost_used {
	u32 id;
	u32 len;
	u16 count;
};

/* core.c */
int ivhost_dev_init(struct ivhost_dev *dev, struct ivhost_vq **vqs,
		    unsigned int nvqs);
void ivhost_dev_cleanup(struct ivhost_dev *dev);
void ivhost_dev_free(struct ivhost_dev *dev);
bool ivhost_vq_access_ok(struct ivhost_vq *vq);
int ivhost_dev_check_owner(struct ivhost_dev *dev);
long ivhost_dev_ioctl(struct ivhost_dev *dev, unsigned int cmd,
		      void __user *argp);
int ivhost_dev_check_layout(struct ivhost_dev *dev, u64 features);
int ivhost_dev_set_features(struct ivhost_dev *dev, u64 features);

/* debugfs.c */
void ivhost_debugfs_add(struct ivhost_dev *dev);
void ivhost_debugfs_remove(struct ivhost_dev *dev);
void ivhost_debugfs_init(void);
void ivhost_debugfs_exit(void);

/* worker.c */
void ivhost_work_queue(struct ivhost_dev *dev, struct ivhost_work *work);
int ivhost_worker_start(struct ivhost_dev *dev);
void ivhost_worker_stop(struct ivhost_dev *dev);
void ivhost_poll_init(struct ivhost_poll *poll, ivhost_work_fn_t fn,
		      __poll_t mask, struct ivhost_dev *dev);
int ivhost_poll_start(struct ivhost_poll *poll, struct file *file);
void ivhost_poll_stop(struct ivhost_poll *poll);

/* vring.c */
int ivhost_vq_start(struct ivhost_vq *vq);
int ivhost_vq_get_buf(struct ivhost_vq *vq, struct ivhost_buf *buf,
		      struct iovec *iov, unsigned int max);
void ivhost_vq_unget_bufs(struct ivhost_vq *vq, unsigned int n);
int ivhost_vq_add_used_n(struct ivhost_vq *vq,
			 const struct ivhost_used *heads, unsigned int n);
int ivhost_vq_add_used(struct ivhost_vq *vq, const struct ivhost_buf *buf,
		       u32 len);
void ivhost_vq_signal(struct ivhost_vq *vq);
void ivhost_vq_disable_notify(struct ivhost_vq *vq);
bool ivhost_vq_avail_empty(struct ivhost_vq *vq);
bool ivhost_vq_enable_notify(struct ivhost_vq *vq);
void ivhost_vq_fail(struct ivhost_vq *vq, int err);
void ivhost_vq_set_rings(struct ivhost_vq *vq);
int ivhost_vq_prepare(struct ivhost_vq *vq);
int ivhost_vq_count_desc(struct ivhost_vq *vq);
int ivhost_buf_append(struct ivhost_vq *vq, struct ivhost_buf *buf,
		      const struct ivhost_desc *d);

/* vring_packed.c: the packed versions of vring.c's functions */
int ivhost_packed_start(struct ivhost_vq *vq);
int ivhost_packed_write_device_flags(struct ivhost_vq *vq, u16 flags);
int ivhost_packed_get_buf(struct ivhost_vq *vq, struct ivhost_buf *buf,
			  struct iovec *iov, unsigned int max);
void ivhost_packed_unget_bufs(struct ivhost_vq *vq, unsigned int n);
int ivhost_packed_add_used_n(struct ivhost_vq *vq,
			     const struct ivhost_used *heads, unsigned int n);
bool ivhost_packed_need_signal(struct ivhost_vq *vq);
void ivhost_packed_disable_notify(struct ivhost_vq *vq);
bool ivhost_packed_avail_empty(struct ivhost_vq *vq);
bool ivhost_packed_enable_notify(struct ivhost_vq *vq);
void ivhost_packed_ask_ahead(struct ivhost_vq *vq);

/* log.c */

/* Guest memory covered by one bit of the dirty log. */
#define IVHOST_LOG_PAGE		0x1000ULL

int ivhost_log_write(struct ivhost_vq *vq, const struct iovec *iov,
		     unsigned int niov, size_t len);
void ivhost_log_done(struct ivhost_vq *vq);

/* access.c */
int ivhost_translate(struct ivhost_vq *vq, u64 addr, u64 len, u8 perm,
		     struct iovec *iov, unsigned int max);
int ivhost_copy_from_guest(struct ivhost_vq *vq, void *dst, u64 addr,
			   size_t len);

/* vq_iotlb.c: the device IOTLB's side of devices and vqs */
void ivhost_dev_tlb_init(struct ivhost_dev *dev);
void ivhost_dev_tlb_flush(struct ivhost_dev *dev);
void ivhost_vq_tlb_forget_misses(struct ivhost_vq *vq);
int ivhost_vq_tlb_translate(struct ivhost_vq *vq, u64 addr, u64 len, u8 perm,
			    struct iovec *iov, unsigned int max);
void ivhost_vq_tlb_ask_ahead(struct ivhost_vq *vq);
void ivhost_vq_tlb_ask(struct ivhost_vq *vq, u64 addr, u64 len, u8 perm);
int ivhost_vq_tlb_map_rings(struct ivhost_vq *vq);
void ivhost_vq_tlb_touch(struct ivhost_vq *vq);
int ivhost_dev_set_backend_features(struct ivhost_dev *dev, u64 features);
ssize_t ivhost_dev_read_iter(struct ivhost_dev *dev, struct iov_iter *to,
			     bool nonblock);
ssize_t ivhost_dev_write_iter(struct ivhost_dev *dev, struct iov_iter *from);
__poll_t ivhost_dev_poll(struct ivhost_dev *dev, struct file *file,
			 poll_table *wait);
void ivhost_dev_iotlb_stats(struct ivhost_dev *dev,
			    struct ivhost_iotlb_stats *st);
long ivhost_dev_unlocked_ioctl(struct ivhost_dev *dev, unsigned int cmd,
			       void __user *argp);

/**
 * ivhost_vq_lock() - take a vq's mutex from outside the worker
 * @vq: the vq
 *
 * A round in progress sees the wait and ends early (it queues itself
 * again), so a barrier or an ioctl waits for one frame, not one round.
 *
 * Context: process context; not the worker.
 */
static inline void ivhost_vq_lock(struct ivhost_vq *vq)
	__acquires(&vq->mutex)
{
	atomic_inc(&vq->waiters);
	mutex_lock(&vq->mutex);
	atomic_dec(&vq->waiters);
}

/* Someone other than the worker waits for the vq's mutex. */
static inline bool ivhost_vq_contended(struct ivhost_vq *vq)
{
	return atomic_read(&vq->waiters);
}

/* A new frame begins: renew what one frame may take. */
static inline void ivhost_vq_frame_begin(struct ivhost_vq *vq)
{
	vq->tlbq.budget = IVHOST_FRAME_MAX_ENTRIES;
	vq->tlbq.nseen = 0;
	vq->frame_descs = IVHOST_FRAME_MAX_DESCS;
}

static inline bool ivhost_has_feature(const struct ivhost_vq *vq, int bit)
{
	return vq->features & BIT_ULL(bit);
}

/* The ring is packed (VIRTIO_F_RING_PACKED). */
static inline bool ivhost_vq_packed(const struct ivhost_vq *vq)
{
	return ivhost_has_feature(vq, VIRTIO_F_RING_PACKED);
}

/* Guest addresses are IOVAs, translated by the device IOTLB. */
static inline bool ivhost_vq_iotlb(const struct ivhost_vq *vq)
{
	return ivhost_has_feature(vq, VIRTIO_F_ACCESS_PLATFORM);
}

static inline bool ivhost_vq_is_le(const struct ivhost_vq *vq)
{
	return ivhost_has_feature(vq, VIRTIO_F_VERSION_1) ||
	       virtio_legacy_is_little_endian();
}

static inline u16 ivhost16_to_cpu(const struct ivhost_vq *vq, __virtio16 v)
{
	return __virtio16_to_cpu(ivhost_vq_is_le(vq), v);
}

static inline __virtio16 cpu_to_ivhost16(const struct ivhost_vq *vq, u16 v)
{
	return __cpu_to_virtio16(ivhost_vq_is_le(vq), v);
}

static inline u32 ivhost32_to_cpu(const struct ivhost_vq *vq, __virtio32 v)
{
	return __virtio32_to_cpu(ivhost_vq_is_le(vq), v);
}

static inline __virtio32 cpu_to_ivhost32(const struct ivhost_vq *vq, u32 v)
{
	return __cpu_to_virtio32(ivhost_vq_is_le(vq), v);
}

static inline u64 ivhost64_to_cpu(const struct ivhost_vq *vq, __virtio64 v)
{
	return __virtio64_to_cpu(ivhost_vq_is_le(vq), v);
}

#endif /* _IVHOST_H */
