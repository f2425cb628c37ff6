/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ivhost-user: a vhost-user net backend.  Shared types of the daemon.
 *
 * A device (struct ivu_dev) lives as long as the daemon: its taps stay
 * open, while everything a frontend gave (memory mappings, eventfds, the
 * backend channel, negotiated features, ring state) is dropped by
 * ivu_dev_reset() when the frontend goes away.
 *
 * Threads (main.c, worker.c): the control thread serves the socket, the
 * signals and the backend channel and never runs a ring; the rings run on
 * --threads datapath workers, vq i on worker i % nthreads.
 *
 * Locking, outermost first:
 *   d->lock     a rwlock.  The control thread holds it for writing for
 *               everything it does but waiting (epoll_wait, and the recv
 *               of a message: a frontend stalled mid-message never holds
 *               the datapath); a worker holds it for reading around its
 *               rounds.  So a control message sees no round running, and
 *               a round sees the device as one message left it.
 *   tlb->lock   the IOTLB core's own (drivers/vhost/devtlb.c), a mutex
 *               in userspace (tools/include/linux/spinlock.h): workers
 *               translate concurrently.
 * A ring's state is written by its worker under the read lock, or by the
 * control thread under the write lock; counters that several workers
 * bump are atomics.  A worker never waits for the control thread.
 */
#ifndef _IVU_H
#define _IVU_H

#include <endian.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/uio.h>
#include <linux/types.h>
#include <linux/vhost_types.h>
#include <linux/virtio_ring.h>

#include "memtable.h"
#include "devtlb.h"
#include "chain_packed.h"

#define IVU_MAX_QP		8	/* queue pairs */
#define IVU_MAX_VQ		(2 * IVU_MAX_QP)
#define IVU_MAX_REGIONS		8	/* VHOST_MEMORY_BASELINE_NREGIONS */
#define IVU_MAX_FDS		8
#define IVU_MAX_THREADS		16	/* datapath workers */
#define IVU_RING_MAX		32768U
#define IVU_IOV_MAX		1024	/* UIO_MAXIOV: writev()'s limit */
#define IVU_RX_BUF		(65536 + 256)
/* Chains whose first buffer a miss also asks for, as the kernel device. */
#define IVU_ASK_AHEAD		16
/* IOTLB entries one frame may step into (the kernel device's limit). */
#define IVU_FRAME_MAX_ENTRIES	512

/* Per-round weights, as vhost_net's: whichever is reached first. */
#define IVU_WEIGHT_PKTS		256
#define IVU_WEIGHT_BYTES	0x80000

extern int ivu_verbose;

#define ivu_log(fmt, ...)	fprintf(stderr, "ivhost-user: " fmt "\n", \
					##__VA_ARGS__)
#define ivu_dbg(fmt, ...)	do { if (ivu_verbose) ivu_log(fmt, \
					##__VA_ARGS__); } while (0)

/**
 * struct ivu_qp_stats - counters of one queue pair
 * @tx_frames: frames taken from the guest's TX ring and written to the tap
 * @tx_bytes: their bytes, without the virtio-net header
 * @tx_drops: TX frames consumed but not delivered (short, tap error,
 *	ring disabled)
 * @rx_frames: frames read from the tap and placed in the guest's RX ring
 * @rx_bytes: their bytes, without the virtio-net header
 * @rx_drops: RX frames read from the tap and not delivered
 */
struct ivu_qp_stats {
	u64 tx_frames, tx_bytes, tx_drops;
	u64 rx_frames, rx_bytes, rx_drops;
};

/**
 * struct ivu_stats - counters of the daemon
 * @qp: per queue pair
 * @connections: frontends served
 * @proto_errors: requests refused (bad size, fds, values, unknown ids)
 * @broken_rings: rings stopped because the guest broke them (atomic)
 * @kicks_eventfd: per vq, kick eventfd reads that found a kick
 * @kicks_doorbell: per vq, kicks seen in its host notifier page
 */
struct ivu_stats {
	struct ivu_qp_stats qp[IVU_MAX_QP];
	u64 connections;
	u64 proto_errors;
	u64 broken_rings;
	u64 kicks_eventfd[IVU_MAX_VQ];
	u64 kicks_doorbell[IVU_MAX_VQ];
};

/* A ring's three areas: descriptor table, avail ring, used ring. */
#define IVU_RING_AREAS		3

/**
 * struct ivu_alias - a contiguous local view of a ring in pieces (alias.c)
 * @base: the mapping, or NULL when the ring is used in place
 * @len: its length
 */
struct ivu_alias {
	void *base;
	size_t len;
};

/**
 * struct ivu_packed - the state of a packed virtqueue (vring_packed.c)
 * @avail: ring position of the next descriptor to take
 * @used: ring position of the next used descriptor to write
 * @signalled: @used at the last look at the driver's event suppression
 *	area (EVENT_IDX)
 * @unsignalled: ring positions @used moved on by since then
 * @unpublished: ring positions @used moved on by since the last flush
 * @first: ring slot of the first used descriptor not yet published: its
 *	flags are written last (ivu_pk_flush())
 * @first_flags: those flags
 * @npop: chains taken since the frame began (ivu_pk_unpop())
 */
struct ivu_packed {
	struct ivhost_packed_pos avail;
	struct ivhost_packed_pos used;
	struct ivhost_packed_pos signalled;
	u32 unsignalled;
	u32 unpublished;
	u16 first;
	u16 first_flags;
	u32 npop;
};

/**
 * struct ivu_vring - one split virtqueue (or packed: @packed)
 * @index: global vq index (2 * pair for RX, + 1 for TX)
 * @num: ring size
 * @addr: the addresses from SET_VRING_ADDR (frontend virtual addresses)
 * @addr_set: @addr is valid
 * @desc: the descriptor table, mapped locally, or NULL
 * @avail: the avail ring, mapped locally
 * @used: the used ring, mapped locally
 * @alias: per area, the alias it is read and written through when it is
 *	in several pieces of local memory (alias.c)
 * @last_avail: next avail entry to take
 * @last_used: next used entry to fill
 * @published_used: used index last made visible to the guest
 * @signalled_used: used index at the last interrupt (EVENT_IDX)
 * @signalled_valid: @signalled_used means something
 * @kick_fd: eventfd the guest kicks, -1 if none
 * @call_fd: eventfd to interrupt the guest, -1 if none
 * @err_fd: eventfd to report a broken ring, -1 if none
 * @tlbq: with the IOTLB, what the frame in progress took of it (its
 *	entry budget, ivu_vring_frame_begin())
 * @used_idx_unread: with the IOTLB, the rings were started but never
 *	translated yet: the used index is read at the first translation
 * @started: a kick fd arrived and GET_VRING_BASE has not stopped it
 * @enabled: SET_VRING_ENABLE state
 * @broken: the guest broke the ring; nothing more is done until restart
 * @err_due: broken with chains pushed but not yet published, or by the
 *	control thread: the error eventfd is signalled by the ring's worker
 *	once they are (ivu_vring_flush()), even if the ring restarted since
 * @more: a round ended on its weight, or something woke the ring: its
 *	worker runs another round
 * @packed: the ring was started with VIRTIO_F_RING_PACKED: @desc, @avail
 *	and @used are its descriptor ring and its driver and device event
 *	suppression areas (vring_packed.c), @pk holds its positions, and
 *	@last_used / @published_used count used descriptors
 * @pk: packed: the ring's positions
 */
struct ivu_vring {
	int index;
	u32 num;
	struct vhost_vring_addr addr;
	bool addr_set;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	struct ivu_alias alias[IVU_RING_AREAS];
	u16 last_avail;
	u16 last_used;
	u16 published_used;
	u16 signalled_used;
	bool signalled_valid;
	int kick_fd, call_fd, err_fd;
	struct ivhost_devtlb_vq tlbq;
	bool used_idx_unread;
	bool started, enabled, broken, err_due, more;
	bool packed;
	struct ivu_packed pk;
};

/**
 * struct ivu_buf - one descriptor chain, translated
 * @head: the chain's head index (packed: its buffer ID)
 * @ndesc: packed: ring descriptors the chain took
 * @iov: the chain's readable segments, then its writable ones
 * @n_out: readable segments (device reads: TX)
 * @n_in: writable segments (device writes: RX)
 * @out_len: bytes readable
 * @in_len: bytes writable
 */
struct ivu_buf {
	u16 head;
	u16 ndesc;
	struct iovec iov[IVU_IOV_MAX];
	unsigned int n_out, n_in;
	u64 out_len, in_len;
};

/**
 * struct ivu_mem - the frontend's memory table, mapped
 * @n: regions
 * @map: each region's mapping (from its fd's offset 0)
 * @map_len: each mapping's length
 * @by_gpa: guest-physical address to local address (descriptors)
 * @by_qva: frontend virtual address to local address (ring addresses)
 */
struct ivu_mem {
	u32 n;
	void *map[IVU_MAX_REGIONS];
	size_t map_len[IVU_MAX_REGIONS];
	struct ivhost_memtable *by_gpa;
	struct ivhost_memtable *by_qva;
};

/**
 * struct ivu_qp - one queue pair and its tap queue
 * @tap_fd: this pair's tap queue
 * @tap_armed: @tap_fd is watched for readability
 * @rx_len: bytes of a frame read from the tap and not yet delivered
 *	(0: none); it waits in @rx_buf for guest buffers, across a
 *	detach and reattach of the ring, as it would in the tap
 * @rx_features: the acked features it was read with (the tap's header
 *	size and offloads follow them)
 * @rx_buf: that frame, virtio-net header first
 */
struct ivu_qp {
	int tap_fd;
	bool tap_armed;
	size_t rx_len;
	u64 rx_features;
	unsigned char *rx_buf;
};

/**
 * struct ivu_iotlb - the device IOTLB and its transport
 * @tlb: the shared IOTLB core (drivers/vhost/devtlb.c, devtlb_msg.c)
 * @out: a backend-channel message the socket took only part of
 * @out_len: its size, 0 if none
 * @out_off: bytes of it already sent
 * @out_watched: the backend channel is watched for room (EPOLLOUT)
 * @span_hits: per vq, translations served from its own copy of the entry
 *	it used last (&ivu_vring.tlbq.span), without the core; each written
 *	by the vq's worker, read by the control thread under d->lock
 */
struct ivu_iotlb {
	struct ivhost_devtlb tlb;
	unsigned char out[12 + sizeof(struct vhost_iotlb_msg)];
	size_t out_len;
	size_t out_off;
	bool out_watched;
	u64 span_hits[IVU_MAX_VQ];
};

/**
 * struct ivu_nb_vq - one vq's host notifier (notifier.c)
 * @want: the message it wants sent: none, register or withdraw
 * @armed: its page is polled
 * @sent: a registration went out since the ring started
 * @gen: bumped at every stop: an answer for an older one is stale
 * @busy_until: CLOCK_MONOTONIC ns until which the loop busy-polls
 */
struct ivu_nb_vq {
	u8 want;
	bool armed, sent;
	u32 gen;
	u64 busy_until;
};

/**
 * struct ivu_nb_wait - a registration waiting for its answer
 * @vq: its vq
 * @gen: the vq's generation when it was sent
 */
struct ivu_nb_wait {
	u32 vq;
	u32 gen;
};

/**
 * struct ivu_notifier - host notifiers (--host-notifier, notifier.c)
 * @enabled: offered (--host-notifier)
 * @memfd: the doorbell pages, one per vq, for the daemon's life
 * @pages: them, mapped
 * @refused: the frontend refused one: eventfd kicks for this connection
 * @reading: answers are due on the backend channel: it is read
 * @vq: per vq
 * @wait: registrations waiting for their answers, oldest first
 * @wait_head: index of the oldest
 * @nwait: how many
 * @in: an answer being read
 * @in_len: bytes of it read
 * @out: a message being sent
 * @out_len: its size, 0 if none
 * @out_off: bytes of it sent
 * @out_fd: it carries the memfd (with its first byte)
 * @registered: registrations sent
 * @mapped: registrations answered 0
 * @refusals: registrations answered non-zero
 * @withdrawn: withdrawals sent
 */
struct ivu_notifier {
	bool enabled;
	int memfd;
	unsigned char *pages;
	bool refused, reading;
	struct ivu_nb_vq vq[IVU_MAX_VQ];
	struct ivu_nb_wait wait[64];
	unsigned int wait_head, nwait;
	unsigned char in[12 + 8];
	size_t in_len;
	unsigned char out[12 + 24];
	size_t out_len, out_off;
	bool out_fd;
	u64 registered, mapped, refusals, withdrawn;
};

/**
 * struct ivu_dirty - the dirty log for live migration (log.c)
 * @map: the log's mapping, from the page of its first byte, or NULL
 * @map_len: the mapping's length
 * @bits: the log's first byte: bit n stands for guest page n
 * @size: the log's size in bytes (SET_LOG_BASE's mmap_size)
 * @efd: SET_LOG_FD's eventfd, valid if @efd_set
 * @efd_set: @efd is ours to signal and close
 * @marked: pages were marked since @efd was last signalled
 * @pages: pages marked, over the daemon's life
 * @failures: writes that could not be marked (their ring stopped)
 */
struct ivu_dirty {
	void *map;
	size_t map_len;
	u8 *bits;
	u64 size;
	int efd;
	bool efd_set;
	bool marked;
	u64 pages, failures;
};

struct ivu_dev;

/**
 * struct ivu_worker - a datapath thread (worker.c)
 * @d: its device
 * @id: its number: it serves the vqs whose index is @id modulo the count
 * @th: the thread
 * @epfd: its epoll: its rings' kick fds and taps, and @wake_fd
 * @wake_fd: eventfd the control thread writes after a message
 * @fault_gen: the SIGBUS count its rings were last stopped for
 * @idle_ticks: polls since one of its doorbells last rang (notifier.c)
 * @missed: a round queued IOTLB messages for the control thread to send
 */
struct ivu_worker {
	struct ivu_dev *d;
	unsigned int id;
	pthread_t th;
	int epfd;
	int wake_fd;
	unsigned int fault_gen;
	unsigned int idle_ticks;
	bool missed;
};

/**
 * struct ivu_dev - the device a frontend drives
 * @queues: queue pairs (--queues)
 * @tap_name: the tap's name
 * @epfd: the control thread's epoll
 * @lock: see the top of this file
 * @nthreads: datapath workers (--threads)
 * @w: them
 * @ctl_fd: eventfd a worker writes to wake the control thread (IOTLB
 *	messages to send, a tap gone)
 * @stopping: the daemon ends: workers return (atomic)
 * @tap_gone: a worker found a tap queue gone (atomic)
 * @conn_fd: the frontend's socket, -1 if none
 * @backend_fd: the backend channel (SET_BACKEND_REQ_FD), -1 if none
 * @owner: SET_OWNER was received
 * @features: acked virtio features
 * @protocol: acked protocol features
 * @hdr_len: virtio-net header size for these features
 * @mtu: NET_SET_MTU value, 0 if none
 * @mem: the memory table
 * @vq: the virtqueues
 * @qp: the queue pairs
 * @iotlb: the device IOTLB (used with VIRTIO_F_IOMMU_PLATFORM)
 * @notifier: host notifiers
 * @dirty: the dirty log (SET_LOG_BASE, VHOST_F_LOG_ALL)
 * @stats: counters
 */
struct ivu_dev {
	unsigned int queues;
	const char *tap_name;
	int epfd;
	pthread_rwlock_t lock;
	unsigned int nthreads;
	struct ivu_worker w[IVU_MAX_THREADS];
	int ctl_fd;
	bool stopping;
	bool tap_gone;
	int conn_fd;
	int backend_fd;
	bool owner;
	u64 features;
	u64 protocol;
	unsigned int hdr_len;
	unsigned int mtu;
	struct ivu_mem mem;
	struct ivu_vring vq[IVU_MAX_VQ];
	struct ivu_qp qp[IVU_MAX_QP];
	struct ivu_iotlb iotlb;
	struct ivu_notifier notifier;
	struct ivu_dirty dirty;
	struct ivu_stats stats;
};

/* epoll tags: the kind in the high 32 bits, an index in the low ones. */
enum ivu_ev {
	IVU_EV_SIGNAL = 1,
	IVU_EV_LISTEN,
	IVU_EV_CONN,
	IVU_EV_TIMER,
	IVU_EV_KICK,
	IVU_EV_TAP,
	IVU_EV_BACKEND,
	IVU_EV_WAKE,		/* a worker's wake_fd, or the control's ctl_fd */
};

#define IVU_TAG(kind, idx)	(((u64)(kind) << 32) | (u32)(idx))

/*
 * Ring accesses: the guest writes its rings while we read them, so each
 * field is loaded or stored once, whole; the fences order them against
 * the guest's (another process: TSan does not see them).
 */
#define ivu_rmb()	__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define ivu_wmb()	__atomic_thread_fence(__ATOMIC_RELEASE)
#define ivu_mb()	__atomic_thread_fence(__ATOMIC_SEQ_CST)

static inline u16 ivu_rd16(const void *p)
{
	return le16toh(__atomic_load_n((const u16 *)p, __ATOMIC_RELAXED));
}

static inline void ivu_wr16(void *p, u16 v)
{
	__atomic_store_n((u16 *)p, htole16(v), __ATOMIC_RELAXED);
}

/* main.c */
void ivu_watch(struct ivu_dev *d, int fd, u32 events, u64 tag);
void ivu_unwatch(struct ivu_dev *d, int fd);
void ivu_close(int *fd);

/* worker.c */
int ivu_workers_start(struct ivu_dev *d);
void ivu_workers_stop(struct ivu_dev *d);
struct ivu_worker *ivu_vq_worker(struct ivu_dev *d, unsigned int vq);
void ivu_ctl_lock(struct ivu_dev *d);
void ivu_ctl_unlock(struct ivu_dev *d);
void ivu_ctl_unlock_marked(struct ivu_dev *d);
void ivu_ctl_wake(struct ivu_dev *d);
bool ivu_on_worker(void);

/* proto.c */
int ivu_proto_handle(struct ivu_dev *d);
void ivu_dev_reset(struct ivu_dev *d);
u64 ivu_proto_features(const struct ivu_dev *d);

/* mem.c */
int ivu_mem_init(void);
unsigned int ivu_mem_faults(void);
int ivu_mem_set(struct ivu_mem *m, const void *payload, u32 size,
		const int *fds, unsigned int nfds);
void ivu_mem_free(struct ivu_mem *m);
void *ivu_mem_qva(const struct ivu_mem *m, u64 qva, u64 len);
int ivu_mem_gpa_iov(const struct ivu_mem *m, u64 gpa, u64 len,
		    struct iovec *iov, unsigned int max);
void *ivu_mem_gpa(const struct ivu_mem *m, u64 gpa, u64 len);
void ivu_mem_track(void *base, size_t len, void *old);
void ivu_mem_track_alias(unsigned int slot, void *base, size_t len);
int ivu_mem_qva_iov(const struct ivu_mem *m, u64 qva, u64 len,
		    struct iovec *iov, unsigned int max);

/* alias.c */
int ivu_alias_map(const struct iovec *seg, unsigned int n, unsigned int slot,
		  struct ivu_alias *a, void **ptr);
void ivu_alias_unmap(struct ivu_alias *a, unsigned int slot);
int ivu_alias_ring(struct ivu_vring *vq, unsigned int area,
		   const struct iovec *seg, unsigned int n, void **ptr);

/* vring.c */
void ivu_vring_init(struct ivu_vring *vq, int index);
int ivu_vring_start(struct ivu_dev *d, struct ivu_vring *vq);
void ivu_vring_stop(struct ivu_dev *d, struct ivu_vring *vq);
void ivu_vring_unmap_rings(struct ivu_vring *vq);
void ivu_vring_clear(struct ivu_dev *d, struct ivu_vring *vq);
bool ivu_vring_ready(const struct ivu_dev *d, const struct ivu_vring *vq);
int ivu_vring_rings(struct ivu_dev *d, struct ivu_vring *vq);
void ivu_vring_frame_begin(struct ivu_vring *vq);
int ivu_vring_pop(struct ivu_dev *d, struct ivu_vring *vq,
		  struct ivu_buf *b);
void ivu_vring_unpop(struct ivu_vring *vq, unsigned int n);
void ivu_vring_push(struct ivu_vring *vq, u16 head, u16 ndesc, u32 len);
void ivu_vring_flush(struct ivu_dev *d, struct ivu_vring *vq);
void ivu_vring_notify(struct ivu_dev *d, struct ivu_vring *vq, bool on);
void ivu_vring_notify_at(struct ivu_dev *d, struct ivu_vring *vq, u16 idx);
bool ivu_vring_has_avail(struct ivu_vring *vq);
u16 ivu_vring_avail_pos(struct ivu_vring *vq);
bool ivu_vring_avail_since(struct ivu_vring *vq, u16 pos);
void ivu_vring_break(struct ivu_dev *d, struct ivu_vring *vq,
		     const char *why, long arg);
bool ivu_vring_aligned(const void *desc, const void *avail, const void *used);
void *ivu_vring_qva(struct ivu_dev *d, struct ivu_vring *vq,
		    unsigned int area, u64 qva, u64 len);
int ivu_vring_area(struct ivu_dev *d, struct ivu_vring *vq, unsigned int area,
		   u64 iova, u64 len, u8 perm, void **ptr);
int ivu_vring_map(struct ivu_dev *d, struct ivu_vring *vq, struct ivu_buf *b,
		  const struct ivhost_desc *desc);
int ivu_vring_indirect(struct ivu_dev *d, struct ivu_vring *vq,
		       const struct ivhost_desc *desc,
		       const unsigned char **table);
bool ivu_vring_event_idx(const struct ivu_dev *d);
void ivu_vring_pop_failed(struct ivu_dev *d, struct ivu_vring *vq, int err,
			  u16 head);

/* vring_packed.c: the packed counterparts, called by vring.c's */
int ivu_pk_start(struct ivu_dev *d, struct ivu_vring *vq);
int ivu_pk_rings(struct ivu_dev *d, struct ivu_vring *vq);
bool ivu_pk_has_avail(struct ivu_vring *vq);
bool ivu_pk_avail_since(struct ivu_vring *vq, u16 pos);
int ivu_pk_pop(struct ivu_dev *d, struct ivu_vring *vq, struct ivu_buf *b);
void ivu_pk_unpop(struct ivu_vring *vq, unsigned int n);
void ivu_pk_push(struct ivu_vring *vq, u16 id, u16 ndesc, u32 len);
void ivu_pk_flush(struct ivu_dev *d, struct ivu_vring *vq);
void ivu_pk_notify(struct ivu_dev *d, struct ivu_vring *vq, bool on);
void ivu_pk_notify_at(struct ivu_dev *d, struct ivu_vring *vq, u16 pos);

/* net.c */
void ivu_net_kick(struct ivu_dev *d, struct ivu_vring *vq);
void ivu_net_tap_ready(struct ivu_dev *d, unsigned int qp);
void ivu_net_round(struct ivu_dev *d, struct ivu_vring *vq);
void ivu_net_rearm(struct ivu_dev *d, unsigned int qp);
void ivu_net_purge(struct ivu_dev *d);

/* tap.c */
int ivu_tap_open(const char *name, unsigned int queues, int *fds);
int ivu_tap_configure(const char *name, int fd, unsigned int hdr_len,
		      u64 features);
int ivu_tap_set_mtu(const char *name, unsigned int mtu);

/* iotlb.c */
void ivu_iotlb_init(struct ivu_dev *d);
bool ivu_iotlb_on(const struct ivu_dev *d);
int ivu_iotlb_msg(struct ivu_dev *d, const struct vhost_iotlb_msg *msg);
void ivu_iotlb_flush(struct ivu_dev *d);
void ivu_iotlb_send(struct ivu_dev *d);
void ivu_iotlb_queued(void);
void ivu_iotlb_backend_closed(struct ivu_dev *d);
int ivu_iotlb_iov(struct ivu_dev *d, struct ivu_vring *vq, u64 iova, u64 len,
		  u8 perm, struct iovec *iov, unsigned int max);
int ivu_iotlb_ptr(struct ivu_dev *d, struct ivu_vring *vq, u64 iova, u64 len,
		  u8 perm, bool frame, void **ptr);
int ivu_iotlb_local(struct ivu_dev *d, struct ivu_vring *vq, u64 iova,
		    u64 len, u8 perm, struct iovec *iov, unsigned int max);
int ivu_iotlb_ring(struct ivu_dev *d, struct ivu_vring *vq, unsigned int area,
		   u64 iova, u64 len, u8 perm, void **ptr);

/* notifier.c */
int ivu_notifier_init(struct ivu_dev *d);
u64 ivu_notifier_protocol(const struct ivu_dev *d);
void ivu_notifier_start(struct ivu_dev *d, struct ivu_vring *vq);
void ivu_notifier_stop(struct ivu_dev *d, struct ivu_vring *vq);
void ivu_notifier_reset(struct ivu_dev *d);
int ivu_notifier_out(struct ivu_dev *d);
void ivu_notifier_read(struct ivu_dev *d);
void ivu_notifier_poll(struct ivu_dev *d, struct ivu_worker *w);
int ivu_notifier_timeout(struct ivu_dev *d, struct ivu_worker *w);
void ivu_notifier_stats(struct ivu_dev *d, FILE *f);
void ivu_backend_watch(struct ivu_dev *d);
void ivu_backend_close(struct ivu_dev *d);
/* log.c */
bool ivu_dirty_on(const struct ivu_dev *d);
void ivu_dirty_reset(struct ivu_dev *d);
int ivu_dirty_set_base(struct ivu_dev *d, const void *payload, int fd);
void ivu_dirty_set_fd(struct ivu_dev *d, int fd);
int ivu_dirty_buf(struct ivu_dev *d, struct ivu_vring *vq,
		  const struct ivu_buf *b, size_t len);
int ivu_dirty_mem(struct ivu_dev *d, struct ivu_vring *vq, const void *p,
		  size_t len);
void ivu_dirty_used(struct ivu_dev *d, struct ivu_vring *vq, const void *p,
		    size_t len);
void ivu_dirty_used_elems(struct ivu_dev *d, struct ivu_vring *vq, u16 from,
			  u16 n);
void ivu_dirty_ring(struct ivu_dev *d, struct ivu_vring *vq,
		    unsigned int area, const void *p, size_t len);
void ivu_dirty_done(struct ivu_dev *d);
int ivu_dirty_check_addr(const struct vhost_vring_addr *a);
void ivu_dirty_stats(const struct ivu_dev *d, FILE *f);

/* rarp.c */
int ivu_rarp_send(struct ivu_dev *d, const u8 *mac);

/* access.c */
#define IVU_ACCESS_MAX		16	/* --allow-uid, --allow-gid each */

/**
 * struct ivu_access - who may connect (--socket-mode, --allow-uid/gid)
 * @mode: the listening socket file's mode
 * @uids: uids allowed besides root and the daemon's effective uid
 * @n_uids: how many
 * @gids: groups whose members (primary or supplementary) are allowed
 * @n_gids: how many
 */
struct ivu_access {
	u32 mode;
	u32 uids[IVU_ACCESS_MAX];
	unsigned int n_uids;
	u32 gids[IVU_ACCESS_MAX];
	unsigned int n_gids;
};

struct sockaddr_un;
int ivu_access_mode(struct ivu_access *a, const char *s);
int ivu_access_allow_uid(struct ivu_access *a, const char *s);
int ivu_access_allow_gid(struct ivu_access *a, const char *s);
int ivu_access_bind(const struct ivu_access *a, int fd,
		    const struct sockaddr_un *addr);
bool ivu_access_peer(const struct ivu_access *a, int fd, const char *what);

/* stats.c */
void ivu_stats_print(struct ivu_dev *d, FILE *f);

#endif /* _IVU_H */
