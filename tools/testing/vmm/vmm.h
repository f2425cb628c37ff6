/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmm.h - a tiny test VMM for vhost-net compatible devices.
 *
 * It plays the role QEMU plays for /dev/vhost-net: it owns the device fd,
 * provides "guest memory" (an anonymous mapping registered with
 * VHOST_SET_MEM_TABLE at a guest-physical base that differs from its user
 * address), builds split virtqueues in that memory, plays the guest driver
 * (posting buffers, kicking, reaping used entries) and attaches a tap as the
 * backend, with an AF_PACKET socket to see what the device transmitted.
 *
 * Conventions: functions return 0 (or a count) on success and -errno on
 * failure; they never print and never exit.
 */
#ifndef IVHOST_VMM_H
#define IVHOST_VMM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <net/if.h>
#include <linux/vhost.h>
#include <linux/virtio_ring.h>

#define VMM_RX 0
#define VMM_TX 1
#define VMM_NVQS 2

/* Default guest-physical base of the guest memory region. */
#define VMM_GPA_BASE 0x40000000ULL

/* Size of the per-head data slot used by vmm_post_tx(). */
#define VMM_SLOT_SIZE (72 * 1024)
/* Gap (bytes) between pieces of a split frame inside a slot. */
#define VMM_SPLIT_GAP 64
/* Most descriptors one posted chain may use (direct or indirect). */
#define VMM_MAX_SEGS 16

enum vmm_post_mode {
	VMM_DIRECT = 0,		/* one descriptor */
	VMM_CHAIN = 1,		/* several descriptors linked with F_NEXT */
	VMM_INDIRECT = 2,	/* one F_INDIRECT descriptor -> table */
};

struct vmm;

/* One piece of a posted buffer, as the driver posted it (packed rings
 * keep these, since the device overwrites ring descriptors when used). */
struct vmm_seg {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;		/* VRING_DESC_F_WRITE */
};

struct vmm_vq {
	struct vmm *v;
	unsigned int index;
	unsigned int num;
	struct vring_desc *desc;	/* all three in guest memory */
	struct vring_avail *avail;
	struct vring_used *used;
	int kick_fd, call_fd, err_fd;	/* eventfds */
	uint16_t avail_idx;		/* shadow of avail->idx */
	uint16_t used_idx;		/* next used entry to reap */
	uint16_t free_head;
	unsigned int num_free;
	uint16_t *next;			/* driver-private free list / chains */
	uint16_t *chain_len;		/* per head: table descriptors used */
	uint8_t *slab;			/* per head data slot (guest memory) */
	struct vring_desc *indirect;	/* per head table (guest memory) */
	/*
	 * Packed layout (VIRTIO_F_RING_PACKED negotiated at vmm_vq_init()):
	 * desc, avail and used then point at the descriptor ring and the
	 * driver and device event suppression areas (pdesc, driver_event,
	 * device_event); head indexes are buffer IDs, taken from the free
	 * list in next[], and num_free counts free ring slots.  avail_idx
	 * and used_idx count buffers posted and reaped (vmm_packed.c).
	 */
	int packed;
	struct vring_packed_desc *pdesc;
	struct vring_packed_desc_event *driver_event, *device_event;
	uint16_t avail_pos, used_pos;	/* next ring slot to fill / to read */
	uint8_t avail_wrap, used_wrap;	/* the driver's wrap counters */
	uint16_t posting_id;		/* ID of the chain being posted, */
	uint16_t head_pos;		/* ... its first slot, */
	uint16_t head_flags;		/* ... and that slot's flags */
	uint16_t kick_pos;		/* avail_pos at the last kick ... */
	uint8_t kick_wrap;		/* ... and its wrap counter */
	unsigned int ids_free;		/* buffer IDs left in next[] */
	uint16_t *nsegs;		/* per ID: pieces in segs */
	struct vmm_seg *segs;		/* per ID: VMM_MAX_SEGS pieces */
};

struct vmm {
	int fd;			/* device fd, or the vhost-user socket */
	int user;		/* 1: vhost-user transport (vu.c) */
	int mem_fd;		/* memfd behind mem (vhost-user), or -1 */
	uint64_t vu_offered;	/* vhost-user: GET_FEATURES at connect */
	uint64_t vu_protocol;	/* vhost-user: acked protocol features */
	unsigned int vu_queues;	/* vhost-user: GET_QUEUE_NUM (1 without MQ) */
	unsigned int vu_kicked;	/* vhost-user: vqs given a kick fd, a bit each */
	unsigned int vu_stopped; /* ... and stopped since by GET_VRING_BASE */
	int vu_kick_fd[VMM_NVQS]; /* ... that fd, sent again at attach */
	int vu_backend_fd;	/* vhost-user: our end of the backend channel */
	pthread_mutex_t vu_lock; /* vhost-user: one request and its reply */
	char path[256];
	uint64_t features;		/* negotiated */
	uint8_t *mem;			/* guest memory, user address */
	uint64_t mem_gpa;		/* its guest-physical base */
	size_t mem_size;
	size_t mem_used;		/* bump allocator */
	struct vmm_vq vq[VMM_NVQS];
};

struct vmm_tap {
	int fd;			/* /dev/net/tun fd (the backend) */
	int pkt_fd;		/* AF_PACKET socket bound to the tap */
	int ifindex;
	int vnet_hdr_len;	/* 0: no IFF_VNET_HDR */
	char name[IFNAMSIZ];
};

/* Device */
/* Prefix of a vmm_open() path that names a vhost-user socket. */
#define VMM_VU_PREFIX "vhost-user:"
/* Zero @v (and @t unless NULL) with every fd set to -1, so that the close
 * functions are safe on a device that was never opened. */
void vmm_init_closed(struct vmm *v, struct vmm_tap *t);
/* @path: a vhost device node, or VMM_VU_PREFIX and a unix socket where a
 * vhost-user backend listens (vu.c must be linked in for that). */
int vmm_open(struct vmm *v, const char *path);
void vmm_close(struct vmm *v);	/* closes fd, eventfds, unmaps memory */
int vmm_ioctl(struct vmm *v, unsigned long req, void *arg);	/* -errno */
int vmm_set_owner(struct vmm *v);
int vmm_get_features(struct vmm *v, uint64_t *features);
int vmm_set_features(struct vmm *v, uint64_t features);

/* Guest memory: mmap size bytes, registered at guest-physical gpa. */
int vmm_mem_init(struct vmm *v, size_t size, uint64_t gpa);
int vmm_set_mem_table(struct vmm *v);
void *vmm_alloc(struct vmm *v, size_t size, size_t align);
uint64_t vmm_gpa(struct vmm *v, const void *hva);
void *vmm_hva(struct vmm *v, uint64_t gpa);

/*
 * Ring layout: vmm_ring_use(1) makes vmm_bringup() ask for
 * VIRTIO_F_RING_PACKED (and fail with -EPROTONOSUPPORT when the device
 * does not offer it, or the features asked for lack VIRTIO_F_VERSION_1:
 * packed rings are not for legacy devices); 0 goes back to split rings.  Each vq's layout
 * follows v->features when vmm_vq_init() runs.
 */
void vmm_ring_use(int packed);
int vmm_ring_packed_wanted(void);
#define VMM_F_RING_PACKED (1ULL << 34)	/* VIRTIO_F_RING_PACKED */

/* Virtqueues: allocate rings + slots in guest memory, create eventfds. */
int vmm_vq_init(struct vmm *v, unsigned int index, unsigned int num);
/* Back to the state vmm_vq_init() left (rings zeroed, all descriptors
 * free), keeping its memory and eventfds; e.g. after VHOST_RESET_OWNER. */
void vmm_vq_reset(struct vmm_vq *q);
/* Bytes of ring area 0 (descriptors), 1 (avail / driver event area) or
 * 2 (used / device event area) of @q in its layout. */
size_t vmm_ring_bytes(struct vmm_vq *q, int area);
/* The VHOST_SET_VRING_BASE value of a vq starting at @base: as is for a
 * split ring; a packed ring starts at slot @base % num with both wrap
 * counters 1 (bits 0-14 avail, 15 its wrap, 16-30 used, 31 its wrap). */
unsigned int vmm_vq_base_encode(struct vmm_vq *q, unsigned int base);
/* SET_VRING_NUM/BASE/ADDR/KICK/CALL/ERR for one vq (base = starting index). */
int vmm_vq_setup(struct vmm *v, unsigned int index, uint16_t base);
int vmm_vq_set_num(struct vmm *v, unsigned int index, unsigned int num);
int vmm_vq_set_base(struct vmm *v, unsigned int index, unsigned int base);
int vmm_vq_get_base(struct vmm *v, unsigned int index, unsigned int *base);
int vmm_vq_set_addr(struct vmm *v, unsigned int index);
int vmm_vq_set_file(struct vmm *v, unsigned long req, unsigned int index, int fd);
int vmm_set_backend(struct vmm *v, unsigned int index, int fd);

/*
 * Post one TX buffer: hdr (may be NULL / 0) followed by data, split into
 * nseg pieces for VMM_CHAIN / VMM_INDIRECT. Returns the head index or
 * -ENOSPC when the ring has no room.
 */
int vmm_post_tx(struct vmm_vq *q, const void *hdr, size_t hdr_len,
		const void *data, size_t len, enum vmm_post_mode mode,
		unsigned int nseg);
/* The segments a buffer of @total bytes posted in @mode gets when @nseg
 * are asked for, or -EMSGSIZE if they do not fit a data slot. */
int vmm_post_nseg(size_t total, enum vmm_post_mode mode, unsigned int nseg);
/* Fill segment @i of @nseg of a chain being posted: in the indirect
 * table @d, or at q->desc[*idx] (then *idx moves on along q->next). */
void vmm_post_seg(struct vmm_vq *q, struct vring_desc *d,
		  enum vmm_post_mode mode, uint16_t *idx, unsigned int i,
		  unsigned int nseg, uint64_t addr, uint32_t len,
		  uint16_t flags);
/* The ring slot where the chain of fresh @head starts (the *idx of
 * vmm_post_seg()): @head itself in a split ring. */
uint16_t vmm_post_start(struct vmm_vq *q, int head);
/* Point an indirect @head at its table (@ind_addr), publish @head and
 * return it. */
int vmm_post_finish(struct vmm_vq *q, int head, enum vmm_post_mode mode,
		    unsigned int nseg, uint64_t ind_addr);
/* The one descriptor of fresh @head (just taken with vmm_desc_alloc(q,
 * 1)): @addr, @len, @flags, in either layout; vmm_publish() next. */
void vmm_put_desc(struct vmm_vq *q, int head, uint64_t addr, uint32_t len,
		  uint16_t flags);
/* Take ndesc descriptors from the free list (linked through q->next). */
int vmm_desc_alloc(struct vmm_vq *q, unsigned int ndesc);
/* Publish a head in the avail ring (release ordering). */
void vmm_publish(struct vmm_vq *q, uint16_t head);
/* Number of buffers posted and not yet reaped. */
unsigned int vmm_inflight(struct vmm_vq *q);
int vmm_kick(struct vmm_vq *q);
/* 1: used entry reaped (id/len filled, descriptors freed), 0: none. */
int vmm_reap(struct vmm_vq *q, uint32_t *id, uint32_t *len);
/* The next used entry, not reaped: 1 (@id, @len filled), 0 if none. */
int vmm_used_peek(struct vmm_vq *q, uint32_t *id, uint32_t *len);
/* Device-written used->idx (acquire); packed: used_idx plus the used
 * buffers waiting in order at the driver's used position. */
uint16_t vmm_used_idx(struct vmm_vq *q);
/* Wait for an eventfd; 1 signalled (counter consumed), 0 timeout, -errno. */
int vmm_wait_fd(int efd, int timeout_ms);
/* Nonblocking: 1 if the eventfd was signalled (consumed), 0 if not. */
int vmm_poll_fd(int efd);

/*
 * Before waiting for used buffers: ask for a call at the next one to be
 * used (split with EVENT_IDX: used_event = used_idx; packed: driver area
 * DESC at the next used slot with EVENT_IDX, ENABLE without).
 */
void vmm_event_arm(struct vmm_vq *q, int event_idx);
/* Whether the device asked for a kick for the buffers posted since the
 * last vmm_kick() (split: used->flags / avail_event; packed: the device
 * event suppression area). */
int vmm_kick_needed(struct vmm_vq *q);
/* The pieces of the buffer of @head as posted (direct, chained or in its
 * indirect table), at most @max: their number, or -EINVAL. */
int vmm_chain_segs(struct vmm_vq *q, unsigned int head, struct vmm_seg *out,
		   unsigned int max);

/* vmm_rx_copy() from the pieces kept for a buffer (packed rings). */
size_t vmm_rx_copy_segs(struct vmm_vq *q, uint16_t head, void *dst,
			size_t size);

/* ---- packed ring driver (vmm_packed.c); vmm.c dispatches to these ---- */
int vmm_packed_init(struct vmm_vq *q);
void vmm_packed_reset(struct vmm_vq *q, unsigned int base);
int vmm_packed_desc_alloc(struct vmm_vq *q, unsigned int ndesc);
void vmm_packed_post_seg(struct vmm_vq *q, struct vring_desc *d,
			 enum vmm_post_mode mode, uint16_t *idx,
			 unsigned int i, unsigned int nseg, uint64_t addr,
			 uint32_t len, uint16_t flags);
void vmm_packed_finish_indirect(struct vmm_vq *q, unsigned int nseg,
				uint64_t ind_addr);
void vmm_packed_publish(struct vmm_vq *q, uint16_t head);
int vmm_packed_reap(struct vmm_vq *q, uint32_t *id, uint32_t *len);
/* The used buffer at the driver's used position: 1 (id, len), 0 none. */
int vmm_packed_peek(struct vmm_vq *q, uint32_t *id, uint32_t *len);
uint16_t vmm_packed_used_idx(struct vmm_vq *q);
/* The ring state (GET_VRING_BASE's encoding) with both positions where
 * the used buffers seen so far end. */
unsigned int vmm_packed_used_state(struct vmm_vq *q);
void vmm_packed_event_arm(struct vmm_vq *q, int event_idx);
void vmm_packed_no_interrupt(struct vmm_vq *q, int on);
int vmm_packed_notify_off(struct vmm_vq *q);
int vmm_packed_kick_needed(struct vmm_vq *q);
/* Flags a packed descriptor at a slot of wrap counter @wrap gets to be
 * available: AVAIL = wrap, USED = !wrap. */
static inline uint16_t vmm_packed_avail_flags(int wrap)
{
	return wrap ? 1 << VRING_PACKED_DESC_F_AVAIL
		    : 1 << VRING_PACKED_DESC_F_USED;
}

/* What GET_VRING_BASE gives for a stopped queue that consumed exactly
 * the buffers it used: split, vmm_used_idx(); packed, both positions
 * at the end of the used buffers seen, with their wrap counters. */
static inline unsigned int vmm_vq_used_base(struct vmm_vq *q)
{
	return q->packed ? vmm_packed_used_state(q) : vmm_used_idx(q);
}
/* The guest's "no interrupts" (split: VRING_AVAIL_F_NO_INTERRUPT;
 * packed: the driver area's DISABLE), @on or off (ENABLE). */
static inline void vmm_no_interrupt(struct vmm_vq *q, int on)
{
	if (q->packed)
		vmm_packed_no_interrupt(q, on);
	else
		__atomic_store_n(&q->avail->flags,
				 on ? VRING_AVAIL_F_NO_INTERRUPT : 0,
				 __ATOMIC_SEQ_CST);
}
/* The device asks for no kicks (split: VRING_USED_F_NO_NOTIFY; packed:
 * the device area's DISABLE). */
static inline int vmm_notify_off(struct vmm_vq *q)
{
	if (q->packed)
		return vmm_packed_notify_off(q);
	return !!(__atomic_load_n(&q->used->flags, __ATOMIC_ACQUIRE) &
		  VRING_USED_F_NO_NOTIFY);
}

/* Layout helpers for EVENT_IDX. */
static inline uint16_t *vmm_used_event(struct vmm_vq *q)
{
	return &q->avail->ring[q->num];
}
static inline uint16_t *vmm_avail_event(struct vmm_vq *q)
{
	return (uint16_t *)&q->used->ring[q->num];
}

/* Virtio-net header length the guest uses for the negotiated features. */
size_t vmm_net_hdr_len(uint64_t features);

/*
 * The QEMU-like bring-up: SET_OWNER, GET_FEATURES, SET_FEATURES(wanted &
 * offered), backend features, guest memory + SET_MEM_TABLE, both vqs with
 * num entries, NUM/BASE/ADDR/KICK/CALL/ERR. Backend not attached.
 */
int vmm_bringup(struct vmm *v, const char *path, uint64_t want_features,
		unsigned int num, size_t mem_size);
/*
 * After VHOST_RESET_OWNER: SET_OWNER again, replay the negotiated features
 * and the memory table, and reset and set up every vq from index 0 (rings
 * emptied, same eventfds). Backends not attached. 0 or the first -errno.
 */
int vmm_reown(struct vmm *v);

/* Tap */
/*
 * vmm_tap_open() makes a fresh tap for the test to attach as the backend.
 * A vhost-user backend has its own tap; after vmm_tap_use(NAME),
 * vmm_tap_open() instead binds its AF_PACKET socket to the existing
 * interface NAME and sets t->fd to a stand-in descriptor that is not a
 * tap (vmm_set_backend() on a vhost-user vmm only enables the ring).
 * NULL goes back to fresh taps.
 */
void vmm_tap_use(const char *name);
int vmm_tap_open(struct vmm_tap *t, int vnet_hdr_len);
void vmm_tap_close(struct vmm_tap *t);
/* Receive one frame seen on the tap (not our own outgoing), -EAGAIN on
 * timeout. Returns the full frame length (may exceed size: truncated). */
ssize_t vmm_tap_recv(struct vmm_tap *t, void *buf, size_t size,
		     int timeout_ms);
int vmm_tap_stats(struct vmm_tap *t, unsigned int *packets,
		  unsigned int *drops);

/* Deterministic test frames: Ethernet header (ethertype 0x88b5) and a
 * payload derived from seq. Frames shorter than 14 bytes are just bytes. */
void vmm_gen_frame(uint32_t seq, void *buf, size_t len);

/*
 * Transmit a stream of generated frames through the TX queue and verify
 * that each one that should arrive (len >= min_arrive) is seen on the tap
 * byte-exact and in order. The device must be fully set up with t->fd as
 * the TX backend. hdr_len: virtio-net header bytes prepended by the guest
 * (zeroed). Frames are generated by vmm_gen_frame(seq, ...).
 */
struct vmm_tx_opts {
	uint32_t first_seq;
	unsigned int count;
	size_t (*len_of)(uint32_t seq);	/* NULL: fixed_len */
	size_t fixed_len;
	int mode;		/* enum vmm_post_mode, or -1: rotate by seq */
	size_t hdr_len;
	size_t min_arrive;	/* shorter frames are consumed but not seen */
	int idle_timeout_ms;	/* give up after this long without progress */
};

struct vmm_tx_stats {
	unsigned int posted, reaped, expected, received, kicks, calls;
	unsigned int drops, not_arriving;
	unsigned long long bytes_posted, bytes_received;
	long long elapsed_ms;
	int error;		/* 0, -ETIMEDOUT, -EBADMSG (mismatch), ... */
	char msg[256];		/* what went wrong */
};

int vmm_tx_stream(struct vmm *v, struct vmm_tap *t,
		  const struct vmm_tx_opts *o, struct vmm_tx_stats *st);
/* Number of segments vmm_tx_stream uses for a seq in split modes. */
/* How vmm_tx_stream_via() posts one TX buffer (as vmm_post_tx(), with
 * @ctx passed through); NULL: vmm_post_tx(). */
typedef int (*vmm_tx_post_fn)(void *ctx, struct vmm_vq *q, const void *hdr,
			      size_t hdr_len, const void *data, size_t len,
			      enum vmm_post_mode mode, unsigned int nseg);
int vmm_tx_stream_via(struct vmm *v, struct vmm_tap *t,
		      const struct vmm_tx_opts *o, struct vmm_tx_stats *st,
		      vmm_tx_post_fn post, void *ctx);
unsigned int vmm_tx_nseg(uint32_t seq);
long long vmm_now_ms(void);
/* A well-mixed hash of a frame's seq, for picking test frame lengths. */
uint32_t vmm_seq_hash(uint32_t seq);
/* The end of one round of a guest loop: if it @progressed, restart the
 * idle clock *@progress (0); else -ETIMEDOUT once idle for over @idle_ms,
 * or publish used_event (with @event_idx) and, unless used entries are
 * pending, wait up to @wait_ms for a call: 1 if called, 0 otherwise. */
int vmm_idle_step(struct vmm_vq *q, int event_idx, int progressed,
		  long long *progress, int idle_ms, int wait_ms);

/* ---- RX side (the guest's receive queue) ---- */

/*
 * Post one writable RX buffer of len bytes in the head's data slot, split
 * into nseg pieces for VMM_CHAIN / VMM_INDIRECT.  The bytes are poisoned
 * with VMM_RX_POISON first.  Returns the head index or -ENOSPC / -EMSGSIZE.
 */
#define VMM_RX_POISON 0xa5
int vmm_post_rx(struct vmm_vq *q, size_t len, enum vmm_post_mode mode,
		unsigned int nseg);
/* Copy the first size bytes of the buffer behind head (its descriptors,
 * direct, chained or indirect, are read back).  Returns bytes copied. */
size_t vmm_rx_copy(struct vmm_vq *q, uint16_t head, void *dst, size_t size);
/*
 * Reap one received frame: its first used entry and, with mrg, the further
 * num_buffers - 1 entries (read from the 12-byte header), waiting at most
 * timeout_ms for them.  Copies header and frame (at most size bytes) to buf.
 * Returns the total bytes the device reported, 0 if no used entry is
 * there, -ETIMEDOUT if a merged frame's entries did not all come, -EIO on
 * a bad used entry, -EBADMSG on a bad num_buffers.  *nbufs: entries taken.
 */
ssize_t vmm_rx_frame(struct vmm_vq *q, int mrg, void *buf, size_t size,
		     unsigned int *nbufs, int timeout_ms);
/* As vmm_rx_frame(), reading the buffers with @copy (as vmm_rx_copy(),
 * @ctx passed through); NULL: vmm_rx_copy(). */
typedef size_t (*vmm_rx_copy_fn)(void *ctx, struct vmm_vq *q, uint16_t head,
				 void *dst, size_t size);
ssize_t vmm_rx_frame_via(struct vmm_vq *q, int mrg, void *buf, size_t size,
			 unsigned int *nbufs, int timeout_ms,
			 vmm_rx_copy_fn copy, void *ctx);
/* A send-only AF_PACKET socket bound to ifindex; vnet_hdr: PACKET_VNET_HDR
 * (each send starts with a struct virtio_net_hdr). */
int vmm_inject_open(int ifindex, int vnet_hdr);
/* Send one frame out of the interface (into the tap's queue). */
int vmm_inject(int fd, const void *buf, size_t len);
/* Interface settings by name: txqueuelen, MTU; a statistics counter from
 * /sys/class/net/<name>/statistics/<stat>. */
int vmm_if_set_txqlen(const char *name, int len);
int vmm_if_set_mtu(const char *name, int mtu);
long long vmm_if_stat(const char *name, const char *stat);

/* Read a small sysfs file into buf, NUL-terminated: 0 or -errno. */
int vmm_read_sysfs(const char *path, char *buf, size_t size);
/* Open the character device of macvtap @ifname (/dev/tapN, or a node made
 * under /tmp if udev did not make one), its path in @node: fd or -errno. */
int vmm_macvtap_open(const char *ifname, char *node, size_t nodesize);

/* ---- vhost-user transport (vu.c) ---- */

enum {
	VMM_VU_GET_FEATURES = 1, VMM_VU_SET_FEATURES = 2,
	VMM_VU_SET_OWNER = 3, VMM_VU_RESET_OWNER = 4,
	VMM_VU_SET_MEM_TABLE = 5, VMM_VU_SET_LOG_BASE = 6,
	VMM_VU_SET_LOG_FD = 7, VMM_VU_SET_VRING_NUM = 8,
	VMM_VU_SET_VRING_ADDR = 9, VMM_VU_SET_VRING_BASE = 10,
	VMM_VU_GET_VRING_BASE = 11, VMM_VU_SET_VRING_KICK = 12,
	VMM_VU_SET_VRING_CALL = 13, VMM_VU_SET_VRING_ERR = 14,
	VMM_VU_GET_PROTOCOL_FEATURES = 15, VMM_VU_SET_PROTOCOL_FEATURES = 16,
	VMM_VU_GET_QUEUE_NUM = 17, VMM_VU_SET_VRING_ENABLE = 18,
	VMM_VU_SEND_RARP = 19, VMM_VU_NET_SET_MTU = 20,
	VMM_VU_SET_BACKEND_REQ_FD = 21, VMM_VU_IOTLB_MSG = 22,
	VMM_VU_GET_MAX_MEM_SLOTS = 36, VMM_VU_GET_STATUS = 40,
};

/* Protocol feature bits; NEGOTIATED is ours: SET_PROTOCOL_FEATURES done. */
#define VMM_VU_PROTOCOL_F_MQ		0
#define VMM_VU_PROTOCOL_F_LOG_SHMFD	1
#define VMM_VU_PROTOCOL_F_REPLY_ACK	3
#define VMM_VU_PROTOCOL_F_NET_MTU	4
#define VMM_VU_PROTOCOL_F_BACKEND_REQ	5
#define VMM_VU_PROTOCOL_NEGOTIATED	63
/* Backend-channel request: an IOTLB message (MISS, ACCESS_FAIL). */
#define VMM_VU_BACKEND_IOTLB_MSG	1
/* VIRTIO_F_IOMMU_PLATFORM (= VIRTIO_F_ACCESS_PLATFORM) */
#define VMM_VU_F_IOMMU_PLATFORM		33
/* Most fds one message carries (and regions one SET_MEM_TABLE has). */
#define VMM_VU_MAX_FDS			8

struct vmm_vu_hdr {
	uint32_t request, flags, size;
} __attribute__((packed));

/* vmm_open() of a VMM_VU_PREFIX path: connect and vmm_vu_handshake(). */
int vmm_vu_open(struct vmm *v, const char *sock_path);
/* What vmm_ioctl() does on a vhost-user vmm (see vu.c). */
int vmm_vu_ioctl(struct vmm *v, unsigned long req, void *arg);
/* Connected unix socket fd, or -errno (-ENOENT: no socket there). */
int vmm_vu_connect(const char *path);
/* QEMU's connect sequence: features, protocol features, queue number. */
int vmm_vu_handshake(struct vmm *v);
/* One message: header, payload and fds in one sendmsg. 0 or -errno. */
int vmm_vu_send(int sock, uint32_t req, uint32_t flags, const void *payload,
		uint32_t size, const int *fds, unsigned int nfds);
/* One message: payload bytes read (-EMSGSIZE: longer than @size, read
 * and dropped), -ECONNRESET at end of stream, -ETIMEDOUT. */
int vmm_vu_recv(int sock, struct vmm_vu_hdr *h, void *payload, size_t size,
		int timeout_ms);
/* 1 if the peer closed the connection within @timeout_ms. */
int vmm_vu_peer_closed(int sock, int timeout_ms);
/* Send @req; read a reply of exactly @reply_size into @reply, or with
 * REPLY_ACK the ack (non-zero: -EIO).  -EPROTO: a malformed reply. */
int vmm_vu_call(struct vmm *v, uint32_t req, const void *payload,
		uint32_t size, const int *fds, unsigned int nfds,
		void *reply, uint32_t reply_size);
/* SET_VRING_ENABLE; NET_SET_MTU (-EOPNOTSUPP unless NET_MTU was acked). */
int vmm_vu_enable(struct vmm *v, unsigned int index, int enable);
int vmm_vu_set_mtu(struct vmm *v, unsigned int mtu);
/*
 * SET_LOG_BASE with LOG_SHMFD: the log is @size bytes at @offset of @fd;
 * 0 once the backend replied (empty, or u64 0), -EIO for a non-zero u64,
 * -EOPNOTSUPP without LOG_SHMFD.
 */
int vmm_vu_set_log_base(struct vmm *v, int fd, uint64_t size,
			uint64_t offset);
/*
 * The device IOTLB over vhost-user (the backend offered IOMMU_PLATFORM
 * and acked REPLY_ACK and BACKEND_REQ at connect; else -EOPNOTSUPP).
 * vmm_vu_iotlb_send(): one VHOST_USER_IOTLB_MSG with NEED_REPLY, 0 once
 * the backend acked it with 0, -EIO for a non-zero ack.  Safe from any
 * thread (vu_lock).
 * vmm_vu_iotlb_recv(): one BACKEND_IOTLB_MSG from the backend channel,
 * waiting up to @timeout_ms: 1 (*@need_reply: the backend waits for
 * vmm_vu_backend_reply()), 0 on timeout, -errno; a backend request of
 * another kind is answered 1 (unsupported) and skipped.
 */
int vmm_vu_iotlb_send(struct vmm *v, const struct vhost_iotlb_msg *m);
int vmm_vu_iotlb_recv(struct vmm *v, struct vhost_iotlb_msg *m,
		      int *need_reply, int timeout_ms);
int vmm_vu_backend_reply(struct vmm *v, uint32_t req, uint64_t val);

#endif
