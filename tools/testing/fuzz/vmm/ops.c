// SPDX-License-Identifier: GPL-2.0
/*
 * The operations of the hostile-VMM fuzzer.  See fuzz.h for the
 * memory-safety rules every address below follows.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <linux/if_packet.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "fuzz.h"
#include "../../../../include/uapi/linux/ivhost.h"

#define F(b)		(1ULL << (b))
#define AP		F(VIRTIO_F_ACCESS_PLATFORM)
#define MSG_SIZE	72
#define KERN_BASE	0xffff888000000000ULL
#define TOP_PAGE	0x7ffffffff000ULL
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

const char *fz_kind_name[K_NKINDS] = {
	[K_IOCTL] = "ioctl", [K_SETUP] = "setup", [K_MSG_WRITE] = "msg-write",
	[K_MSG_READ] = "msg-read", [K_SERVE] = "serve", [K_STORM] = "storm",
	[K_BATCH] = "batch", [K_RING] = "ring", [K_KICK] = "kick",
	[K_INJECT] = "inject", [K_DRAIN] = "drain", [K_REAP] = "reap",
	[K_BACKEND] = "backend", [K_FEATURES] = "features",
	[K_CLOSE_BUSY] = "close-busy", [K_RACY_CLOSE] = "racy-close",
	[K_REOPEN] = "reopen", [K_STATS] = "stats", [K_POLL] = "poll",
	[K_BLOCK_READ] = "block-read", [K_FORK] = "fork",
};

/* Relative frequencies; set-up and serving often enough that traffic
 * and the IOTLB paths are reached between the hostile operations.
 */
const unsigned int fz_kind_weight[K_NKINDS] = {
	[K_IOCTL] = 26, [K_SETUP] = 6, [K_MSG_WRITE] = 12, [K_MSG_READ] = 6,
	[K_SERVE] = 14, [K_STORM] = 2, [K_BATCH] = 3, [K_RING] = 20,
	[K_KICK] = 6, [K_INJECT] = 8, [K_DRAIN] = 5, [K_REAP] = 5,
	[K_BACKEND] = 3, [K_FEATURES] = 3, [K_CLOSE_BUSY] = 1,
	[K_RACY_CLOSE] = 1, [K_REOPEN] = 2, [K_STATS] = 2, [K_POLL] = 2,
	[K_BLOCK_READ] = 1, [K_FORK] = 1,
};

static long sys_ret(long r)
{
	return r < 0 ? -errno : r;
}

/* For logs: addresses in the arena as offsets (the same in every run). */
static unsigned long long rel(uint64_t a)
{
	uint64_t b = (uintptr_t)G.arena;

	return a >= b && a - b < FZ_ARENA_SIZE ? a - b : a;
}

static void note(struct fz_thread *t, const char *what, long r)
{
	snprintf(t->last, sizeof(t->last), "%s => %ld", what, r);
	fz_log(t, "%s => %ld", what, r);
}

/* ---- addresses (see fuzz.h) ---- */

/* An address in a range guaranteed unmapped, with room for @len bytes. */
static uint64_t hole_addr(struct fz_rng *r, struct fz_slot *s, uint64_t len)
{
	if (len > 32 * FZ_MB)
		len = 32 * FZ_MB;
	if (fz_one_in(r, 2))
		return (uint64_t)(uintptr_t)(G.arena + FZ_HOLE0 +
				  fz_below(r, FZ_HOLE0_SIZE - len));
	/* just past this slot's guest memory */
	return (uint64_t)(uintptr_t)(s->gm + FZ_GM_SIZE +
				     fz_below(r, 64 * FZ_MB - len));
}

struct urange {
	uint64_t uaddr, size;
	int gm;		/* backed by guest memory */
	const char *kind;
};

/*
 * A user address range for a memory region or an IOTLB entry: into guest
 * memory (possibly running into the hole after it), or entirely inside
 * unmapped, kernel-half, non-user or wrapping-into-page-0 space.
 */
static struct urange pick_urange(struct fz_rng *r, struct fz_slot *s)
{
	struct urange u = { 0, 0, 0, "" };
	uint64_t off, k;

	switch (fz_below(r, 12)) {
	case 0: case 1: case 2: case 3: case 4:	/* guest memory */
		off = fz_below(r, FZ_GM_SIZE / 4096) * 4096;
		if (fz_one_in(r, 4))
			off += fz_below(r, 4096);
		u.uaddr = (uintptr_t)s->gm + off;
		u.size = 1 + fz_below(r, FZ_GM_SIZE - off);
		if (fz_one_in(r, 2))
			u.size = (u.size + 4095) & ~4095ULL;
		if (fz_one_in(r, 8))	/* runs into the hole after it */
			u.size += fz_below(r, FZ_MB);
		u.gm = 1;
		u.kind = "gm";
		break;
	case 5: case 6:
		u.size = fz_one_in(r, 4) ? 0 : 1 + fz_below(r, 16 * FZ_MB);
		u.uaddr = hole_addr(r, s, u.size);
		u.kind = "hole";
		break;
	case 7:
		u.uaddr = KERN_BASE + fz_below(r, 1ULL << 30);
		u.size = fz_below(r, 1ULL << 40);
		u.kind = "kernel";
		break;
	case 8:
		if (G.top_reserved) {
			u.uaddr = TOP_PAGE + fz_below(r, 4096);
			u.size = 1 + fz_below(r, 8192);
		} else {
			u.size = 4096;
			u.uaddr = hole_addr(r, s, u.size);
		}
		u.kind = "top";
		break;
	case 9:
		u.uaddr = fz_below(r, 4096);
		u.size = fz_below(r, 4096);
		u.kind = "low";
		break;
	case 10:	/* wraps past 2^64 into page 0 */
		k = 1 + fz_below(r, 65536);
		u.uaddr = 0 - k;
		u.size = k + fz_below(r, 4096);
		u.kind = "wrap";
		break;
	default:	/* non-canonical */
		u.uaddr = (fz_one_in(r, 2) ? 0x0000800000000000ULL :
			   0x8000000000000000ULL) + fz_below(r, 1ULL << 32);
		u.size = fz_below(r, 1ULL << 32);
		u.kind = "noncanon";
		break;
	}
	return u;
}

/*
 * A guest-physical address or IOVA for a range of @size bytes.  Ranges
 * backed by guest memory stay below FZ_GPA_LIMIT (the dirty log covers
 * them); the others may be anything that cannot log inside our memory:
 * below the limit, at or above 2^62, or wrapping past 2^64.
 */
static uint64_t pick_space(struct fz_rng *r, uint64_t base, uint64_t size,
			   int gm)
{
	switch (fz_below(r, gm ? 4 : 6)) {
	case 0: case 1:
		return base + fz_below(r, FZ_GM_SIZE / 4096) * 4096;
	case 2:
		return fz_below(r, FZ_GPA_LIMIT / 4096) * 4096;
	case 3:
		return fz_below(r, FZ_GPA_LIMIT - FZ_GM_SIZE);
	case 4:
		return (1ULL << 62) + fz_next(r) % (3ULL << 62);
	default:
		return 0 - (size ? fz_below(r, size) : 0) - 1;
	}
}

/* An address the kernel may be asked to read an ioctl argument from or
 * write its result to: mostly the thread's scratch, sometimes a bad one.
 */
static void *arg_ptr(struct fz_rng *r, struct fz_thread *t, size_t need,
		     const char **kind)
{
	switch (fz_below(r, 24)) {
	case 0:
		*kind = "null";
		return NULL;
	case 1:
		*kind = "hole";
		return G.arena + FZ_HOLE0 + fz_below(r, FZ_HOLE0_SIZE - 65536);
	case 2:
		*kind = "kernel";
		return (void *)(uintptr_t)(KERN_BASE + fz_below(r, 1 << 20));
	case 3:		/* straddles the end of scratch */
		*kind = "straddle";
		return t->scratch + FZ_SCR_SIZE - 1 - fz_below(r, need ? : 1);
	case 4:
		*kind = "misaligned";
		return t->scratch + 1 + fz_below(r, 7);
	default:
		*kind = "ok";
		return t->scratch;
	}
}

/* ---- file descriptors ---- */

static int pick_fd(struct fz_rng *r, struct fz_slot *s, int q, int want,
		   const char **kind)
{
	static const char *const names[] = {
		"right", "-1", "kick", "call", "err", "spare-eventfd", "udp",
		"unix", "pipe", "epoll", "null", "closed", "self",
		"other-dev", "tap0", "tap1", "packet", "INT_MAX", "-2",
	};
	unsigned int c = fz_below(r, 3) ? 0 : fz_below(r, 19);

	*kind = names[c];
	switch (c) {
	case 0:
		return want;
	case 1:
		return -1;
	case 2:
		return s->kick[q & 1];
	case 3:
		return s->call[q & 1];
	case 4:
		return s->err[q & 1];
	case 5:
		return G.efd_spare;
	case 6:
		return G.udp_fd;
	case 7:
		return G.unix_fd;
	case 8:
		return G.pipe_fd[fz_below(r, 2)];
	case 9:
		return G.epoll_fd;
	case 10:
		return G.null_fd;
	case 11:
		return G.closed_fd;
	case 12:
		return s->fd;
	case 13:
		return G.slot[(s - G.slot + 1) % FZ_NSLOTS].fd;
	case 14:
		return G.tap[0].fd;
	case 15:
		return G.tap[1].fd;
	case 16:
		return G.tap[fz_below(r, FZ_NTAPS)].pkt_fd;
	case 17:
		return INT_MAX;
	default:
		return -2;
	}
}

static unsigned int pick_index(struct fz_rng *r)
{
	static const unsigned int idx[] = { 2, 3, 255, 256, 0x7fffffff,
					    0x80000000, 0xffffffff };

	if (fz_below(r, 8))
		return fz_below(r, 2);
	return idx[fz_below(r, ARRAY_SIZE(idx))];
}

static uint64_t pick_features(struct fz_rng *r, uint64_t cur)
{
	uint64_t good = F(VIRTIO_F_VERSION_1) | F(VIRTIO_RING_F_INDIRECT_DESC) |
			F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_NET_F_MRG_RXBUF) |
			F(VIRTIO_F_NOTIFY_ON_EMPTY) | F(VHOST_F_LOG_ALL) |
			F(VIRTIO_F_ANY_LAYOUT) | AP;

	switch (fz_below(r, 8)) {
	case 0:
		return cur ^ AP;
	case 1:
		return 0;
	case 2:
		return ~0ULL;
	case 3:
		return fz_next(r);
	case 4:
		return cur | F(fz_below(r, 64));
	default:
		return fz_next(r) & good;
	}
}

/* ---- small helpers on a slot ---- */

static long dev_ioctl(struct fz_slot *s, unsigned long req, void *arg)
{
	return sys_ret(ioctl(s->fd, req, arg));
}

static int slot_ap(struct fz_slot *s)
{
	return !!(__atomic_load_n(&s->features, __ATOMIC_RELAXED) & AP);
}

/* Where the device finds guest-memory offset @off (buffer addresses). */
static uint64_t dma_addr(struct fz_slot *s, uint64_t off)
{
	return (slot_ap(s) ? FZ_IOVA_BASE : FZ_GPA_BASE) + off;
}

/* Ring addresses: user addresses without ACCESS_PLATFORM, IOVAs with. */
static uint64_t ring_addr(struct fz_slot *s, int ap, uint64_t off)
{
	return ap ? FZ_IOVA_BASE + off : (uint64_t)(uintptr_t)(s->gm + off);
}

static size_t fill_msg(uint8_t *buf, int v2, uint8_t type, uint64_t iova,
		       uint64_t size, uint64_t uaddr, uint8_t perm)
{
	struct vhost_iotlb_msg m;
	uint32_t ot = v2 ? VHOST_IOTLB_MSG_V2 : VHOST_IOTLB_MSG;

	memset(buf, 0, MSG_SIZE);
	memset(&m, 0, sizeof(m));
	m.iova = iova;
	m.size = size;
	m.uaddr = uaddr;
	m.perm = perm;
	m.type = type;
	memcpy(buf, &ot, sizeof(ot));
	memcpy(buf + 8, &m, sizeof(m));
	return MSG_SIZE;
}

static int slot_v2(struct fz_slot *s)
{
	return !!(__atomic_load_n(&s->bfeatures, __ATOMIC_RELAXED) &
		  F(VHOST_BACKEND_F_IOTLB_MSG_V2));
}

static long send_msg(struct fz_slot *s, uint8_t type, uint64_t iova,
		     uint64_t size, uint64_t uaddr, uint8_t perm)
{
	uint8_t buf[MSG_SIZE];
	static int row;
	long r;

	if (!row)
		row = fz_row("write(msg,good)");
	fill_msg(buf, slot_v2(s), type, iova, size, uaddr, perm);
	r = sys_ret(write(s->fd, buf, sizeof(buf)));
	fz_count(row, r);
	return r;
}

/* UPDATE the canonical mapping of guest memory [off, off + len). */
static long map_window(struct fz_slot *s, uint64_t off, uint64_t len,
		       uint8_t perm)
{
	if (off >= FZ_GM_SIZE)
		return -EINVAL;
	if (len > FZ_GM_SIZE - off)
		len = FZ_GM_SIZE - off;
	return send_msg(s, VHOST_IOTLB_UPDATE, FZ_IOVA_BASE + off, len,
			(uintptr_t)s->gm + off, perm);
}

void fz_stats_collect(int fd)
{
	struct ivhost_iotlb_stats st = { .size = sizeof(st) };

	if (ioctl(fd, IVHOST_GET_IOTLB_STATS, &st))
		return;
	__atomic_fetch_add(&G.st_hits, st.hits, __ATOMIC_RELAXED);
	__atomic_fetch_add(&G.st_misses, st.misses, __ATOMIC_RELAXED);
	__atomic_fetch_add(&G.st_miss_msgs, st.miss_msgs, __ATOMIC_RELAXED);
	__atomic_fetch_add(&G.st_updates, st.updates, __ATOMIC_RELAXED);
	__atomic_fetch_add(&G.st_inval, st.invalidations, __ATOMIC_RELAXED);
	__atomic_fetch_add(&G.st_evict, st.evictions, __ATOMIC_RELAXED);
	__atomic_fetch_add(&G.st_fails, st.access_fails, __ATOMIC_RELAXED);
	__atomic_fetch_add(&G.st_dropped, st.msgs_dropped, __ATOMIC_RELAXED);
}

/* ---- QEMU-like bring-up, with a random layout ---- */

static void reset_ring_mem(struct fz_slot *s, int q, uint16_t base)
{
	uint8_t *rg = s->gm + FZ_RING_OFF(q);
	struct vring_avail *av = (void *)(rg + FZ_AVAIL_OFF);
	struct vring_used *us = (void *)(rg + FZ_USED_OFF);

	memset(rg, 0, 256 * 1024);
	av->idx = base;
	us->idx = base;
	s->avail_idx[q] = base;
	s->used_seen[q] = base;
}

int fz_slot_setup(struct fz_thread *t, struct fz_slot *s, struct fz_rng *r)
{
	struct {
		struct vhost_memory hdr;
		struct vhost_memory_region reg[1];
	} mt;
	uint64_t offered = 0, want, bf = 0, v;
	int q, fail = 0, ap;
	char what[128];
	long e;

	e = dev_ioctl(s, VHOST_SET_OWNER, NULL);
	fz_count(fz_row("setup:SET_OWNER"), e);
	if (dev_ioctl(s, VHOST_GET_FEATURES, &offered))
		fail++;
	want = F(VIRTIO_F_VERSION_1) | F(VIRTIO_RING_F_INDIRECT_DESC);
	if (fz_one_in(r, 2))
		want |= AP;
	if (fz_one_in(r, 2))
		want |= F(VIRTIO_RING_F_EVENT_IDX);
	if (fz_one_in(r, 2))
		want |= F(VIRTIO_NET_F_MRG_RXBUF);
	if (fz_one_in(r, 2))
		want |= F(VHOST_NET_F_VIRTIO_NET_HDR);
	if (fz_one_in(r, 12))
		want |= F(VHOST_F_LOG_ALL);
	want &= offered;
	e = dev_ioctl(s, VHOST_SET_FEATURES, &want);
	fz_count(fz_row("setup:SET_FEATURES"), e);
	if (!e)
		__atomic_store_n(&s->features, want, __ATOMIC_RELAXED);
	ap = !!(want & AP);
	if (!dev_ioctl(s, VHOST_GET_BACKEND_FEATURES, &bf)) {
		v = 0;
		if (fz_below(r, 4))
			v |= bf & F(VHOST_BACKEND_F_IOTLB_MSG_V2);
		if (fz_one_in(r, 3))
			v |= bf & F(VHOST_BACKEND_F_IOTLB_BATCH);
		if (!dev_ioctl(s, VHOST_SET_BACKEND_FEATURES, &v))
			__atomic_store_n(&s->bfeatures, v, __ATOMIC_RELAXED);
	}
	memset(&mt, 0, sizeof(mt));
	mt.hdr.nregions = 1;
	mt.reg[0].guest_phys_addr = FZ_GPA_BASE;
	mt.reg[0].memory_size = FZ_GM_SIZE;
	mt.reg[0].userspace_addr = (uintptr_t)s->gm;
	e = dev_ioctl(s, VHOST_SET_MEM_TABLE, &mt);
	fz_count(fz_row("setup:SET_MEM_TABLE"), e);
	fail += !!e;
	if (want & F(VHOST_F_LOG_ALL)) {
		int lfd = G.efd_spare;

		v = (uintptr_t)G.log;
		dev_ioctl(s, VHOST_SET_LOG_BASE, &v);
		dev_ioctl(s, VHOST_SET_LOG_FD, &lfd);
	}
	for (q = 0; q < 2; q++) {
		struct vhost_vring_state st;
		struct vhost_vring_addr a;
		struct vhost_vring_file f;
		unsigned int num = 1U << (4 + fz_below(r, 5));
		uint16_t base = fz_one_in(r, 2) ? 0 : fz_next(r);

		if (fz_one_in(r, 10))
			num = FZ_RING_MAXNUM;
		pthread_mutex_lock(&s->mu);
		s->num[q] = num;
		reset_ring_mem(s, q, base);
		pthread_mutex_unlock(&s->mu);
		st.index = q;
		st.num = num;
		fail += !!dev_ioctl(s, VHOST_SET_VRING_NUM, &st);
		st.num = base;
		fail += !!dev_ioctl(s, VHOST_SET_VRING_BASE, &st);
		memset(&a, 0, sizeof(a));
		a.index = q;
		a.desc_user_addr = ring_addr(s, ap, FZ_RING_OFF(q) +
					     FZ_DESC_OFF);
		a.avail_user_addr = ring_addr(s, ap, FZ_RING_OFF(q) +
					      FZ_AVAIL_OFF);
		a.used_user_addr = ring_addr(s, ap, FZ_RING_OFF(q) +
					     FZ_USED_OFF);
		a.log_guest_addr = FZ_GPA_BASE + FZ_RING_OFF(q) + FZ_USED_OFF;
		if (want & F(VHOST_F_LOG_ALL))
			a.flags = 1U << VHOST_VRING_F_LOG;
		fail += !!dev_ioctl(s, VHOST_SET_VRING_ADDR, &a);
		f.index = q;
		f.fd = s->kick[q];
		fail += !!dev_ioctl(s, VHOST_SET_VRING_KICK, &f);
		f.fd = s->call[q];
		fail += !!dev_ioctl(s, VHOST_SET_VRING_CALL, &f);
		f.fd = s->err[q];
		fail += !!dev_ioctl(s, VHOST_SET_VRING_ERR, &f);
	}
	if (ap) {
		if (fz_one_in(r, 2)) {
			map_window(s, 0, FZ_GM_SIZE, VHOST_ACCESS_RW);
		} else {
			for (q = 0; q < 2; q++)
				map_window(s, FZ_RING_OFF(q) + FZ_USED_OFF,
					   64 * 1024, VHOST_ACCESS_RW);
		}
	}
	for (q = 0; q < 2; q++) {
		struct vhost_vring_file f = {
			.index = q,
			.fd = G.tap[fz_below(r, FZ_NTAPS)].fd,
		};

		e = dev_ioctl(s, VHOST_NET_SET_BACKEND, &f);
		fz_count(fz_row("setup:SET_BACKEND"), e);
		fail += !!e;
	}
	snprintf(what, sizeof(what), "setup slot%ld features=%#llx bf=%#llx",
		 (long)(s - G.slot), (unsigned long long)want,
		 (unsigned long long)s->bfeatures);
	note(t, what, -fail);
	return fail;
}

/* ---- ioctls with random and boundary arguments ---- */

struct ioc {
	unsigned long req;
	const char *name;
};

static const struct ioc ioc_table[] = {
	{ VHOST_GET_FEATURES, "GET_FEATURES" },
	{ VHOST_SET_FEATURES, "SET_FEATURES" },
	{ VHOST_SET_OWNER, "SET_OWNER" },
	{ VHOST_RESET_OWNER, "RESET_OWNER" },
	{ VHOST_SET_MEM_TABLE, "SET_MEM_TABLE" },
	{ VHOST_SET_LOG_BASE, "SET_LOG_BASE" },
	{ VHOST_SET_LOG_FD, "SET_LOG_FD" },
	{ VHOST_SET_VRING_NUM, "SET_VRING_NUM" },
	{ VHOST_SET_VRING_ADDR, "SET_VRING_ADDR" },
	{ VHOST_SET_VRING_BASE, "SET_VRING_BASE" },
	{ VHOST_GET_VRING_BASE, "GET_VRING_BASE" },
	{ VHOST_SET_VRING_ENDIAN, "SET_VRING_ENDIAN" },
	{ VHOST_GET_VRING_ENDIAN, "GET_VRING_ENDIAN" },
	{ VHOST_SET_VRING_KICK, "SET_VRING_KICK" },
	{ VHOST_SET_VRING_CALL, "SET_VRING_CALL" },
	{ VHOST_SET_VRING_ERR, "SET_VRING_ERR" },
	{ VHOST_SET_VRING_BUSYLOOP_TIMEOUT, "SET_BUSYLOOP" },
	{ VHOST_GET_VRING_BUSYLOOP_TIMEOUT, "GET_BUSYLOOP" },
	{ VHOST_SET_BACKEND_FEATURES, "SET_BACKEND_FEATURES" },
	{ VHOST_GET_BACKEND_FEATURES, "GET_BACKEND_FEATURES" },
	{ _IOW(VHOST_VIRTIO, 0x26, __u64), "GET_BACKEND_FEATURES(old)" },
	{ VHOST_NET_SET_BACKEND, "NET_SET_BACKEND" },
	{ IVHOST_GET_IOTLB_STATS, "IVHOST_GET_IOTLB_STATS" },
	{ _IOR(VHOST_VIRTIO, 0xE0, __u8[288]), "GET_IOTLB_STATS(old)" },
	{ 0, "unknown" },
};

#define NIOC ARRAY_SIZE(ioc_table)

/* A memory table in @buf: canonical, or overlapping / zero-size /
 * wrapping / unmapped / too many regions.  Returns its region count.
 */
static uint32_t gen_memtable(struct fz_rng *r, struct fz_slot *s, void *buf)
{
	struct vhost_memory *m = buf;
	uint32_t n, fill, i;

	switch (fz_below(r, 8)) {
	case 0:
		n = 0;
		break;
	case 1:
		n = 64 + fz_below(r, 3);	/* around the default limit */
		break;
	case 2:
		n = fz_one_in(r, 2) ? 0xffffffff : 1 + fz_next(r) % 0xffffff;
		break;
	case 3: case 4:
		n = 1;
		break;
	default:
		n = 1 + fz_below(r, 8);
		break;
	}
	fill = n < 70 ? n : 64;
	memset(m, 0, sizeof(*m) + fill * sizeof(m->regions[0]));
	m->nregions = n;
	m->padding = fz_one_in(r, 16) ? fz_next(r) : 0;
	for (i = 0; i < fill; i++) {
		struct vhost_memory_region *g = &m->regions[i];
		struct urange u;

		if (fz_one_in(r, 2)) {	/* the canonical one */
			g->guest_phys_addr = FZ_GPA_BASE;
			g->memory_size = FZ_GM_SIZE;
			g->userspace_addr = (uintptr_t)s->gm;
		} else if (i && fz_one_in(r, 3)) {	/* overlaps the last */
			*g = m->regions[i - 1];
			g->guest_phys_addr += fz_below(r, 2 * 4096);
		} else {
			u = pick_urange(r, s);
			g->userspace_addr = u.uaddr;
			g->memory_size = u.size;
			g->guest_phys_addr = pick_space(r, FZ_GPA_BASE, u.size,
							u.gm);
		}
		if (fz_one_in(r, 20))
			g->flags_padding = fz_next(r);
	}
	return n;
}

static uint64_t pick_log_base(struct fz_rng *r, struct fz_slot *s)
{
	switch (fz_below(r, 8)) {
	case 0:
		return 0;
	case 1:
		return hole_addr(r, s, 4 * FZ_MB);
	case 2:
		return KERN_BASE;
	case 3:
		return G.top_reserved ? TOP_PAGE : 0;
	case 4:
		return (uintptr_t)G.log + 1 + fz_below(r, 7);
	case 5:
		return (uintptr_t)G.log + FZ_MB;
	default:
		return (uintptr_t)G.log;
	}
}

static uint64_t pick_ring_addr(struct fz_rng *r, struct fz_slot *s, int q,
			       uint64_t off)
{
	int ap = slot_ap(s);

	switch (fz_below(r, 10)) {
	case 0:
		return ring_addr(s, !ap, FZ_RING_OFF(q) + off);
	case 1:
		return ring_addr(s, ap, FZ_RING_OFF(q) + off) +
		       1 + fz_below(r, 15);
	case 2:
		return ap ? fz_next(r) : hole_addr(r, s, 1 << 20);
	case 3:
		return ap ? FZ_IOVA_BASE + FZ_GM_SIZE - 8 :
		       KERN_BASE + fz_below(r, 1 << 20);
	case 4:
		return ap ? fz_next(r) : (G.top_reserved ? TOP_PAGE + 4096 - 8 :
					  0);
	default:
		return ring_addr(s, ap, FZ_RING_OFF(q) + off);
	}
}

static uint64_t pick_log_guest_addr(struct fz_rng *r, int q)
{
	switch (fz_below(r, 5)) {
	case 0:
		return fz_below(r, FZ_GPA_LIMIT - FZ_MB);
	case 1:
		return (1ULL << 63) + fz_below(r, 1ULL << 40);
	case 2:
		return ~0ULL - fz_below(r, 4096);
	default:
		return FZ_GPA_BASE + FZ_RING_OFF(q) + FZ_USED_OFF;
	}
}

static uint32_t pick_num(struct fz_rng *r)
{
	static const uint32_t v[] = { 0, 1, 2, 3, 255, 256, 1024, 4096,
				      32768, 65536, 0xffffffff, 0x80000000 };

	if (fz_one_in(r, 3))
		return 1U << fz_below(r, 17);
	return v[fz_below(r, ARRAY_SIZE(v))];
}

static void op_ioctl(struct fz_thread *t, struct fz_rng *r, struct fz_slot *s)
{
	unsigned int i = fz_below(r, NIOC);
	const struct ioc *c = &ioc_table[i];
	unsigned long req = c->req;
	uint8_t *sc = t->scratch;
	const char *ak = "ok";
	char what[160], extra[96] = "";
	void *arg;
	long e;
	int q;

	if (!req) {	/* unknown numbers: vhost magic, near misses, others */
		switch (fz_below(r, 5)) {
		case 0:
			req = _IOC(fz_below(r, 4), VHOST_VIRTIO,
				   fz_below(r, 256), fz_below(r, 512));
			break;
		case 1:	/* a known number with the wrong size */
			req = ioc_table[fz_below(r, NIOC - 1)].req;
			req = (req & ~(_IOC_SIZEMASK << _IOC_SIZESHIFT)) |
			      (fz_below(r, 1024) << _IOC_SIZESHIFT);
			break;
		case 2:	/* a known number with the wrong direction */
			req = ioc_table[fz_below(r, NIOC - 1)].req ^
			      ((uint64_t)(1 + fz_below(r, 3)) << _IOC_DIRSHIFT);
			break;
		case 3:	/* other vhost drivers' and ivhost's future */
			req = _IOWR(VHOST_VIRTIO, 0x40 + fz_below(r, 0xc0),
				    __u64);
			break;
		default:
			req = (uint32_t)fz_next(r);
			break;
		}
	}
	arg = sc;
	memset(sc, 0, 4096);
	switch (i) {
	case 1:		/* SET_FEATURES */
	case 18:	/* SET_BACKEND_FEATURES */
		*(uint64_t *)sc = i == 1 ? pick_features(r, s->features) :
				  (fz_one_in(r, 2) ? fz_below(r, 16) :
				   fz_next(r));
		snprintf(extra, sizeof(extra), " v=%#llx",
			 (unsigned long long)*(uint64_t *)sc);
		break;
	case 4:
		snprintf(extra, sizeof(extra), " n=%u",
			 gen_memtable(r, s, sc));
		break;
	case 5:
		*(uint64_t *)sc = pick_log_base(r, s);
		snprintf(extra, sizeof(extra), " base=%#llx",
			 rel(*(uint64_t *)sc));
		break;
	case 6: {
		const char *k;

		*(int *)sc = pick_fd(r, s, 0, G.efd_spare, &k);
		snprintf(extra, sizeof(extra), " fd=%s", k);
		break;
	}
	case 7: case 9: case 10: case 11: case 12: case 16: case 17: {
		struct vhost_vring_state *st = (void *)sc;

		st->index = pick_index(r);
		st->num = i == 7 ? pick_num(r) :
			  i == 16 ? (fz_one_in(r, 2) ? fz_below(r, 100) :
				     (uint32_t)fz_next(r)) :
			  (fz_one_in(r, 2) ? fz_below(r, 3) :
			   (uint32_t)fz_next(r));
		snprintf(extra, sizeof(extra), " idx=%u num=%u", st->index,
			 st->num);
		break;
	}
	case 8: {
		struct vhost_vring_addr *a = (void *)sc;

		a->index = pick_index(r);
		q = a->index & 1;
		a->flags = fz_below(r, 4) ? 0 : fz_one_in(r, 2) ?
			   1U << VHOST_VRING_F_LOG : (uint32_t)fz_next(r);
		a->desc_user_addr = pick_ring_addr(r, s, q, FZ_DESC_OFF);
		a->avail_user_addr = pick_ring_addr(r, s, q, FZ_AVAIL_OFF);
		a->used_user_addr = pick_ring_addr(r, s, q, FZ_USED_OFF);
		a->log_guest_addr = pick_log_guest_addr(r, q);
		snprintf(extra, sizeof(extra), " idx=%u fl=%#x d=%#llx u=%#llx",
			 a->index, a->flags,
			 rel(a->desc_user_addr), rel(a->used_user_addr));
		break;
	}
	case 13: case 14: case 15: case 21: {
		struct vhost_vring_file *f = (void *)sc;
		const char *k;
		int want;

		f->index = pick_index(r);
		q = f->index & 1;
		want = i == 13 ? s->kick[q] : i == 14 ? s->call[q] :
		       i == 15 ? s->err[q] : G.tap[fz_below(r, FZ_NTAPS)].fd;
		f->fd = pick_fd(r, s, q, want, &k);
		snprintf(extra, sizeof(extra), " idx=%u fd=%s", f->index, k);
		break;
	}
	default:
		if (fz_one_in(r, 4))
			for (q = 0; q < 64; q++)
				sc[q] = fz_next(r);
		break;
	}
	if (fz_one_in(r, 10)) {
		arg = arg_ptr(r, t, _IOC_SIZE(req), &ak);
		if (arg != sc && ak[0] != 'n' && ak[0] != 'h' &&
		    ak[0] != 'k') {
			size_t room = t->scratch + FZ_SCR_SIZE - (uint8_t *)arg;

			memmove(arg, sc, room < 64 ? room : 64);
		}
	} else if (fz_one_in(r, 50)) {
		ak = "raw-int";
		arg = (void *)(uintptr_t)fz_below(r, 4096);
	}
	e = dev_ioctl(s, req, arg);
	if (i == 1 && !e && arg == sc)
		__atomic_store_n(&s->features, *(uint64_t *)sc,
				 __ATOMIC_RELAXED);
	if (i == 18 && !e && arg == sc)
		__atomic_store_n(&s->bfeatures, *(uint64_t *)sc,
				 __ATOMIC_RELAXED);
	if (i == 7 && !e && arg == sc) {
		struct vhost_vring_state *st = (void *)sc;

		pthread_mutex_lock(&s->mu);
		if (st->index < 2 && st->num <= FZ_RING_MAXNUM)
			s->num[st->index] = st->num;
		pthread_mutex_unlock(&s->mu);
	}
	fz_count(fz_row(c->name), e);
	snprintf(what, sizeof(what), "ioctl %s req=%#lx arg=%s%s", c->name,
		 req, ak, extra);
	note(t, what, e);
}

/* ---- IOTLB messages ---- */

static void gen_msg_fields(struct fz_rng *r, struct fz_slot *s, uint8_t *buf,
			   int v2, uint8_t type)
{
	struct urange u = pick_urange(r, s);
	uint64_t iova = pick_space(r, FZ_IOVA_BASE, u.size, u.gm);
	static const uint8_t perms[] = { 1, 2, 3, 3, 3, 0, 4, 0xff };

	if (u.gm && fz_below(r, 3)) {	/* the canonical mapping */
		iova = FZ_IOVA_BASE + (u.uaddr - (uintptr_t)s->gm);
		if (iova + u.size > FZ_GPA_LIMIT)
			u.size = FZ_GPA_LIMIT - iova;
	}
	if (type == VHOST_IOTLB_INVALIDATE && fz_one_in(r, 6)) {
		iova = 0;
		u.size = fz_one_in(r, 2) ? ~0ULL : 0;
	}
	fill_msg(buf, v2, type, iova, u.size, u.uaddr,
		 perms[fz_below(r, sizeof(perms))]);
}

static void op_msg_write(struct fz_thread *t, struct fz_rng *r,
			 struct fz_slot *s)
{
	static const uint8_t types[] = { 2, 2, 2, 3, 3, 1, 4, 5, 6, 0, 7,
					 255 };
	static const size_t lens[] = { 0, 1, 8, 32, 40, 68, 71, 73, 80,
					4096 };
	uint8_t *buf = t->scratch;
	int v2 = fz_below(r, 4) ? slot_v2(s) : !slot_v2(s);
	uint8_t type = types[fz_below(r, sizeof(types))];
	size_t len = MSG_SIZE;
	const char *how = "write";
	char what[160];
	long e;

	memset(buf, 0, 4096);
	gen_msg_fields(r, s, buf, v2, type);
	if (fz_one_in(r, 12)) {		/* outer type / asid garbage */
		uint32_t ot = fz_one_in(r, 2) ? fz_below(r, 5) :
			      (uint32_t)fz_next(r);

		memcpy(buf, &ot, 4);
	}
	if (fz_one_in(r, 12))
		memcpy(buf + 4, &(uint32_t){ fz_below(r, 3) }, 4);
	if (fz_one_in(r, 12))	/* padding after the inner message */
		buf[8 + 26 + fz_below(r, 38)] = fz_next(r);
	if (fz_one_in(r, 6))
		len = lens[fz_below(r, ARRAY_SIZE(lens))];
	switch (fz_below(r, 10)) {
	case 0: {	/* split over iovecs */
		struct iovec iov[3];
		size_t a = fz_below(r, len + 1), b = fz_below(r, len - a + 1);

		iov[0].iov_base = buf;
		iov[0].iov_len = a;
		iov[1].iov_base = buf + a;
		iov[1].iov_len = b;
		iov[2].iov_base = buf + a + b;
		iov[2].iov_len = len - a - b;
		e = sys_ret(writev(s->fd, iov, 3));
		how = "writev";
		break;
	}
	case 1:		/* from an unmapped buffer */
		e = sys_ret(write(s->fd, G.arena + FZ_HOLE0 +
				  fz_below(r, FZ_HOLE0_SIZE / 2), len));
		how = "write(hole)";
		break;
	case 2:		/* straddling the end of scratch */
		memmove(t->scratch + FZ_SCR_SIZE - len / 2, buf, len / 2);
		e = sys_ret(write(s->fd, t->scratch + FZ_SCR_SIZE - len / 2,
				  len));
		how = "write(straddle)";
		break;
	default:
		e = sys_ret(write(s->fd, buf, len));
		break;
	}
	fz_count(fz_row(v2 ? "write(msg v2)" : "write(msg v1)"), e);
	snprintf(what, sizeof(what),
		 "%s v%d type=%u len=%zu iova=%#llx size=%#llx uaddr=%#llx perm=%u",
		 how, v2 + 1, type, len,
		 (unsigned long long)*(uint64_t *)(buf + 8),
		 (unsigned long long)*(uint64_t *)(buf + 16),
		 rel(*(uint64_t *)(buf + 24)), buf[32]);
	note(t, what, e);
}

/* Check a message the device produced; count it.  Returns its type. */
static int check_read_msg(const uint8_t *buf, ssize_t n)
{
	struct vhost_iotlb_msg m;
	int i, bad = 0;

	if (n < 8 + (ssize_t)sizeof(m))
		return -1;
	__atomic_fetch_add(&G.msgs_read, 1, __ATOMIC_RELAXED);
	memcpy(&m, buf + 8, sizeof(m));
	if (m.type != VHOST_IOTLB_MISS) {
		__atomic_fetch_add(&G.msgs_other, 1, __ATOMIC_RELAXED);
		return m.type;
	}
	__atomic_fetch_add(&G.miss_seen, 1, __ATOMIC_RELAXED);
	/* every byte but types, iova and perm must be zero */
	for (i = 4; i < n && i < MSG_SIZE; i++) {
		if (i >= 8 && i < 16)		/* iova */
			continue;
		if (i == 8 + 24 || i == 8 + 25)	/* perm, type */
			continue;
		if (buf[i])
			bad = 1;
	}
	if (bad)
		__atomic_fetch_add(&G.miss_nonzero, 1, __ATOMIC_RELAXED);
	return m.type;
}

/* Answer a MISS for @iova: correctly (the page holding it), or wrongly. */
static void answer_miss(struct fz_rng *r, struct fz_slot *s, uint64_t iova,
			uint8_t perm, int wrong)
{
	uint64_t ps = fz_one_in(r, 8) ? 2 * FZ_MB : 4096, page, off, len;

	page = iova & ~(ps - 1);
	if (page < FZ_IOVA_BASE)
		page = FZ_IOVA_BASE;
	off = page - FZ_IOVA_BASE;
	if (iova < FZ_IOVA_BASE || off >= FZ_GM_SIZE) {
		if (!wrong)
			return;		/* not mapped: no answer */
		off = fz_below(r, FZ_GM_SIZE / 4096) * 4096;
	}
	len = ps;
	if (!wrong) {
		map_window(s, off, len, VHOST_ACCESS_RW);
		__atomic_fetch_add(&G.answers, 1, __ATOMIC_RELAXED);
		return;
	}
	switch (fz_below(r, 7)) {
	case 0:		/* wrong permission */
		map_window(s, off, len, perm == VHOST_ACCESS_RO ?
			   VHOST_ACCESS_WO : VHOST_ACCESS_RO);
		break;
	case 1:		/* just misses it */
		send_msg(s, VHOST_IOTLB_UPDATE, iova + 1, len,
			 (uintptr_t)s->gm + off, VHOST_ACCESS_RW);
		break;
	case 2:		/* to an unmapped address */
		send_msg(s, VHOST_IOTLB_UPDATE, page, len,
			 hole_addr(r, s, len), VHOST_ACCESS_RW);
		break;
	case 3:		/* size 0 */
		send_msg(s, VHOST_IOTLB_UPDATE, iova, 0,
			 hole_addr(r, s, 0), VHOST_ACCESS_RW);
		break;
	case 4:		/* INVALIDATE instead */
		send_msg(s, VHOST_IOTLB_INVALIDATE, page, len, 0, 0);
		break;
	case 5:		/* twice */
		map_window(s, off, len, VHOST_ACCESS_RW);
		map_window(s, off, len, VHOST_ACCESS_RW);
		break;
	default:	/* a MISS back at the device */
		send_msg(s, VHOST_IOTLB_MISS, iova, len,
			 (uintptr_t)s->gm + off, perm);
		break;
	}
}

static int read_one(struct fz_rng *r, struct fz_slot *s, uint8_t *buf,
		    size_t len, int wrong)
{
	ssize_t n = read(s->fd, buf, len);
	struct vhost_iotlb_msg m;
	static int row;

	if (!row)
		row = fz_row("read(msg)");
	fz_count(row, sys_ret(n));
	if (n < 0)
		return -errno;
	if (n == 0)		/* not a device any more (racy close) */
		return -ENODATA;
	if (check_read_msg(buf, n) == VHOST_IOTLB_MISS) {
		memcpy(&m, buf + 8, sizeof(m));
		answer_miss(r, s, m.iova, m.perm, wrong);
	}
	return n;
}

static void op_serve(struct fz_thread *t, struct fz_rng *r,
		     struct fz_slot *s)
{
	int i, n = 0;
	char what[64];

	for (i = 0; i < 64; i++) {
		if (read_one(r, s, t->scratch, MSG_SIZE, fz_one_in(r, 20)) < 0)
			break;
		n++;
	}
	snprintf(what, sizeof(what), "serve slot%ld", (long)(s - G.slot));
	note(t, what, n);
}

static void op_msg_read(struct fz_thread *t, struct fz_rng *r,
			struct fz_slot *s)
{
	static const size_t lens[] = { 0, 1, 32, 40, 67, 68, 71, 72, 73,
				       4096 };
	size_t len = lens[fz_below(r, ARRAY_SIZE(lens))];
	uint8_t *buf = t->scratch;
	const char *how = "read";
	char what[96];
	long e;

	memset(buf, 0x5a, 4096);
	switch (fz_below(r, 6)) {
	case 0:
		buf = G.arena + FZ_HOLE0 + fz_below(r, FZ_HOLE0_SIZE / 2);
		e = sys_ret(read(s->fd, buf, len));
		how = "read(hole)";
		break;
	case 1:
		buf = t->scratch + FZ_SCR_SIZE - len / 2;
		e = sys_ret(read(s->fd, buf, len));
		how = "read(straddle)";
		break;
	case 2: {
		struct iovec iov[2] = {
			{ buf, len / 2 }, { buf + 1024, len - len / 2 },
		};

		e = sys_ret(readv(s->fd, iov, 2));
		how = "readv";
		break;
	}
	default:
		e = read_one(r, s, buf, len, !fz_one_in(r, 3));
		break;
	}
	fz_count(fz_row("read(msg,hostile)"), e);
	snprintf(what, sizeof(what), "%s len=%zu", how, len);
	note(t, what, e);
}

static void kick(struct fz_slot *s, int q);

static void nothing(int sig)
{
	(void)sig;
}

/*
 * A blocking read() on the device (the slot is ours alone for it): a
 * thread-directed timer interrupts it after a few milliseconds, so it
 * must return a message or -EINTR, never hang.
 */
static void op_block_read(struct fz_thread *t, struct fz_rng *r,
			  struct fz_slot *s)
{
	struct sigevent sev;
	struct itimerspec its;
	struct sigaction sa;
	timer_t tm;
	char what[64];
	long e;
	int fl;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = nothing;	/* no SA_RESTART */
	sigaction(SIGUSR1, &sa, NULL);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGUSR1;
	sev._sigev_un._tid = gettid();	/* sigev_notify_thread_id */
	if (timer_create(CLOCK_MONOTONIC, &sev, &tm))
		return;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_nsec = (1 + fz_below(r, 30)) * 1000000;
	its.it_interval.tv_nsec = 50 * 1000000;	/* until it is seen */
	pthread_rwlock_wrlock(&s->rw);
	fl = fcntl(s->fd, F_GETFL);
	fcntl(s->fd, F_SETFL, fl & ~O_NONBLOCK);
	if (fz_one_in(r, 2)) {
		kick(s, 0);
		kick(s, 1);
	}
	timer_settime(tm, 0, &its, NULL);
	if (fz_one_in(r, 4)) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };

		e = sys_ret(poll(&p, 1, 20));
	} else {
		e = read_one(r, s, t->scratch, MSG_SIZE, 0);
	}
	timer_delete(tm);
	fcntl(s->fd, F_SETFL, fl | O_NONBLOCK);
	pthread_rwlock_unlock(&s->rw);
	fz_count(fz_row("read(blocking)"), e);
	snprintf(what, sizeof(what), "block-read");
	note(t, what, e);
}

static void op_storm(struct fz_thread *t, struct fz_rng *r,
		     struct fz_slot *s)
{
	unsigned int i, n = 32 + fz_below(r, 224), ok = 0;
	char what[64];

	/* Without ACCESS_PLATFORM every message is -EFAULT: keep it short. */
	if (!slot_ap(s)) {
		n = 1 + fz_below(r, 8);
	} else if (fz_one_in(r, 6)) {
		/* More single-page entries than the cache holds (2048 by
		 * default), permissions alternating so none can merge:
		 * the eviction path.
		 */
		n = 2048 + fz_below(r, 2048);
		for (i = 0; i < n; i++)
			ok += map_window(s, (uint64_t)(i % 4096) * 4096, 4096,
					 i & 1 ? VHOST_ACCESS_RO :
					 VHOST_ACCESS_RW) < 0;
		snprintf(what, sizeof(what), "storm fill n=%u", n);
		note(t, what, ok);
		return;
	}
	for (i = 0; i < n; i++) {
		uint64_t off = fz_below(r, FZ_GM_SIZE / 4096) * 4096;
		uint64_t len = 4096 * (1 + fz_below(r, 16));

		if (fz_below(r, 3))
			ok += map_window(s, off, len, 1 + fz_below(r, 3)) < 0;
		else
			ok += send_msg(s, VHOST_IOTLB_INVALIDATE,
				       FZ_IOVA_BASE + off +
				       (fz_one_in(r, 4) ? fz_below(r, 4096) :
					0), len, 0, 0) < 0;
	}
	snprintf(what, sizeof(what), "storm n=%u", n);
	note(t, what, ok);
}

static void op_batch(struct fz_thread *t, struct fz_rng *r,
		     struct fz_slot *s)
{
	unsigned int i, n = fz_below(r, 40);
	int end = fz_below(r, 4) != 0;
	char what[64];
	long e;

	e = send_msg(s, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0, 0);
	if (fz_one_in(r, 8))	/* nested begin */
		send_msg(s, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0, 0);
	for (i = 0; i < n; i++) {
		uint64_t off = fz_below(r, FZ_GM_SIZE / 4096) * 4096;

		if (fz_below(r, 4))
			map_window(s, off, 4096 << fz_below(r, 4),
				   VHOST_ACCESS_RW);
		else
			send_msg(s, VHOST_IOTLB_INVALIDATE,
				 FZ_IOVA_BASE + off, 4096, 0, 0);
	}
	if (end)
		send_msg(s, VHOST_IOTLB_BATCH_END, 0, 0, 0, 0);
	snprintf(what, sizeof(what), "batch n=%u end=%d", n, end);
	note(t, what, e);
}

/* ---- ring contents and traffic ---- */

static void write_frame(struct fz_rng *r, uint8_t *p, size_t len)
{
	size_t h = len < 12 ? len : 12;

	memset(p, 0, h);
	if (fz_one_in(r, 16))
		p[fz_below(r, h ? h : 1)] = fz_next(r);
	if (len > h)
		vmm_gen_frame(fz_next(r), p + h, len - h);
}

/*
 * Post chains on vq @q of slot @s: valid ones (direct, chained, indirect)
 * mixed with loops, out-of-range next and len, bad indirect tables, and
 * avail index jumps.  Ring memory is written through the canonical view,
 * whatever the device was told.
 */
static unsigned int post_chains(struct fz_rng *r, struct fz_slot *s, int q,
				unsigned int count, int hostile)
{
	uint8_t *rg = s->gm + FZ_RING_OFF(q);
	struct vring_desc *desc = (void *)(rg + FZ_DESC_OFF);
	struct vring_avail *av = (void *)(rg + FZ_AVAIL_OFF);
	unsigned int num, i, k, nseg, posted = 0;
	uint16_t wflag = q == 0 ? VRING_DESC_F_WRITE : 0;

	pthread_mutex_lock(&s->mu);
	num = s->num[q];
	if (!num || num > FZ_RING_MAXNUM || (num & (num - 1)))
		num = 256;
	for (k = 0; k < count; k++) {
		uint16_t head = fz_below(r, num), idx;
		int kind = hostile ? fz_below(r, 12) : fz_below(r, 3);
		struct vring_desc *ind;
		uint64_t off, len;

		nseg = 1 + fz_below(r, 4);
		switch (kind) {
		case 0:		/* direct */
			len = 14 + 12 + fz_below(r, 1500);
			off = FZ_BUF_OFF + fz_below(r, FZ_BUF_SIZE - len);
			if (!wflag)
				write_frame(r, s->gm + off, len);
			desc[head].addr = dma_addr(s, off);
			desc[head].len = len;
			desc[head].flags = wflag;
			desc[head].next = 0;
			break;
		case 1:		/* chained, consecutive slots */
			idx = head;
			for (i = 0; i < nseg; i++) {
				len = (i ? 1 : 26) + fz_below(r, 700);
				off = FZ_BUF_OFF +
				      fz_below(r, FZ_BUF_SIZE - len);
				if (!wflag)
					write_frame(r, s->gm + off, len);
				desc[idx].addr = dma_addr(s, off);
				desc[idx].len = len;
				desc[idx].flags = wflag |
					(i + 1 < nseg ? VRING_DESC_F_NEXT : 0);
				desc[idx].next = (idx + 1) % num;
				idx = (idx + 1) % num;
			}
			break;
		case 2:		/* indirect */
			ind = (void *)(s->gm + FZ_IND_OFF +
				       (head % (FZ_IND_SIZE / 256)) * 256);
			for (i = 0; i < nseg; i++) {
				len = (i ? 1 : 26) + fz_below(r, 700);
				off = FZ_BUF_OFF +
				      fz_below(r, FZ_BUF_SIZE - len);
				if (!wflag)
					write_frame(r, s->gm + off, len);
				ind[i].addr = dma_addr(s, off);
				ind[i].len = len;
				ind[i].flags = wflag |
					(i + 1 < nseg ? VRING_DESC_F_NEXT : 0);
				ind[i].next = i + 1;
			}
			desc[head].addr = dma_addr(s, (uint8_t *)ind - s->gm);
			desc[head].len = 16 * nseg;
			desc[head].flags = VRING_DESC_F_INDIRECT;
			break;
		case 3:		/* a loop */
			desc[head].addr = dma_addr(s, FZ_BUF_OFF);
			desc[head].len = 64;
			desc[head].flags = wflag | VRING_DESC_F_NEXT;
			desc[head].next = fz_one_in(r, 2) ? head :
					  (head + 1) % num;
			desc[(head + 1) % num].flags = wflag | VRING_DESC_F_NEXT;
			desc[(head + 1) % num].next = head;
			break;
		case 4:		/* next out of range */
			desc[head].flags = wflag | VRING_DESC_F_NEXT;
			desc[head].next = num + fz_below(r, 65536 - num);
			break;
		case 5:		/* huge or zero length */
			desc[head].addr = dma_addr(s, FZ_BUF_OFF +
						   fz_below(r, FZ_BUF_SIZE));
			desc[head].len = fz_one_in(r, 2) ? 0 :
					 0xffffffff - fz_below(r, 4096);
			desc[head].flags = wflag;
			break;
		case 6:		/* random address */
			desc[head].addr = fz_next(r);
			desc[head].len = 1 + fz_below(r, 4096);
			desc[head].flags = wflag;
			break;
		case 7:		/* bad indirect: length, nesting, flags */
			ind = (void *)(s->gm + FZ_IND_OFF +
				       (head % (FZ_IND_SIZE / 256)) * 256);
			for (i = 0; i < 16; i++) {
				ind[i].addr = fz_one_in(r, 2) ?
					dma_addr(s, (uint8_t *)ind - s->gm) :
					dma_addr(s, FZ_BUF_OFF + 4096 * i);
				ind[i].len = fz_below(r, 2000);
				ind[i].flags = fz_next(r) & 7;
				ind[i].next = fz_below(r, 20);
			}
			desc[head].addr = dma_addr(s, (uint8_t *)ind - s->gm);
			desc[head].len = fz_one_in(r, 2) ?
					 16 * nseg + 1 + fz_below(r, 15) :
					 fz_below(r, 1 << 20);
			desc[head].flags = VRING_DESC_F_INDIRECT |
					   (fz_one_in(r, 2) ? VRING_DESC_F_NEXT :
					    0) | (fz_one_in(r, 2) ? wflag : 0);
			break;
		case 8:		/* wrong direction for this queue */
			len = 100 + fz_below(r, 1000);
			desc[head].addr = dma_addr(s, FZ_BUF_OFF +
						   fz_below(r, FZ_MB));
			desc[head].len = len;
			desc[head].flags = wflag ^ VRING_DESC_F_WRITE;
			break;
		case 9:		/* a long chain through every descriptor */
			for (i = 0; i < num; i++) {
				desc[i].addr = dma_addr(s, FZ_BUF_OFF + i * 16);
				desc[i].len = 16;
				desc[i].flags = wflag | VRING_DESC_F_NEXT;
				desc[i].next = (i + 1) % num;
			}
			desc[(head + num - 1) % num].flags = wflag;
			break;
		default:	/* random bytes */
			desc[head].addr = fz_next(r);
			desc[head].len = fz_next(r);
			desc[head].flags = fz_next(r);
			desc[head].next = fz_next(r);
			break;
		}
		if (hostile && fz_one_in(r, 8))
			head = fz_next(r);	/* out-of-range head */
		av->ring[s->avail_idx[q] % num] = head;
		s->avail_idx[q]++;
		posted++;
	}
	if (hostile && fz_one_in(r, 6))	/* the index jumps */
		s->avail_idx[q] += fz_one_in(r, 2) ? num + fz_below(r, 3) :
				   fz_next(r);
	if (fz_one_in(r, 8))		/* used_event */
		av->ring[num] = fz_next(r);
	if (fz_one_in(r, 16))
		av->flags = fz_next(r) & 1;
	__atomic_store_n(&av->idx, s->avail_idx[q], __ATOMIC_RELEASE);
	pthread_mutex_unlock(&s->mu);
	return posted;
}

static void kick(struct fz_slot *s, int q)
{
	uint64_t one = 1;

	if (write(s->kick[q], &one, sizeof(one)) < 0)
		(void)0;
}

static void op_ring(struct fz_thread *t, struct fz_rng *r, struct fz_slot *s)
{
	int q = fz_below(r, 2), hostile = fz_one_in(r, 3);
	unsigned int n = post_chains(r, s, q, 1 + fz_below(r, 16), hostile);
	char what[64];

	if (fz_below(r, 4))
		kick(s, q);
	snprintf(what, sizeof(what), "ring q=%d hostile=%d", q, hostile);
	note(t, what, n);
}

static void op_inject(struct fz_thread *t, struct fz_rng *r)
{
	unsigned int i, n = 1 + fz_below(r, 16), tap = fz_below(r, FZ_NTAPS);
	uint8_t *buf = t->scratch;
	char what[64];
	long e = 0;

	for (i = 0; i < n; i++) {
		size_t len = fz_one_in(r, 16) ? fz_below(r, 14) :
			     14 + fz_below(r, 1501);

		vmm_gen_frame(fz_next(r), buf, len);
		e = vmm_inject(G.inj[tap], buf, len);
		fz_count(fz_row("inject"), e);
		if (!e)
			__atomic_fetch_add(&G.rx_injected, 1,
					   __ATOMIC_RELAXED);
	}
	snprintf(what, sizeof(what), "inject tap%u n=%u", tap, n);
	note(t, what, e);
}

static void op_drain(struct fz_thread *t, struct fz_rng *r)
{
	unsigned int i, tap = fz_below(r, FZ_NTAPS), n = 0;
	uint8_t *buf = t->scratch;
	char what[64];

	for (i = 0; i < 256; i++) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t k = recvfrom(G.tap[tap].pkt_fd, buf, FZ_SCR_SIZE,
				     MSG_DONTWAIT | MSG_TRUNC,
				     (struct sockaddr *)&from, &fl);

		if (k < 0)
			break;
		if (from.sll_pkttype != PACKET_OUTGOING) {
			__atomic_fetch_add(&G.tx_seen, 1, __ATOMIC_RELAXED);
			n++;
		}
	}
	if (fz_one_in(r, 4))	/* steal what the device would receive */
		for (i = 0; i < 8; i++)
			if (read(G.tap[tap].fd, buf, FZ_SCR_SIZE) < 0)
				break;
	snprintf(what, sizeof(what), "drain tap%u", tap);
	note(t, what, n);
}

static void op_reap(struct fz_thread *t, struct fz_rng *r, struct fz_slot *s)
{
	uint64_t v;
	int q;

	(void)r;
	pthread_mutex_lock(&s->mu);
	for (q = 0; q < 2; q++) {
		struct vring_used *us = (void *)(s->gm + FZ_RING_OFF(q) +
						 FZ_USED_OFF);
		uint16_t now = __atomic_load_n(&us->idx, __ATOMIC_ACQUIRE);
		uint16_t d = now - s->used_seen[q];

		if (d <= s->num[q])
			__atomic_fetch_add(&G.used_adv[q], d,
					   __ATOMIC_RELAXED);
		s->used_seen[q] = now;
		if (read(s->call[q], &v, sizeof(v)) < 0)
			(void)0;
		if (read(s->err[q], &v, sizeof(v)) < 0)
			(void)0;
	}
	pthread_mutex_unlock(&s->mu);
	note(t, "reap", 0);
}

static void op_backend(struct fz_thread *t, struct fz_rng *r,
		       struct fz_slot *s)
{
	struct vhost_vring_file f;
	const char *k;
	char what[64];
	long e;

	f.index = pick_index(r);
	f.fd = pick_fd(r, s, f.index, G.tap[fz_below(r, FZ_NTAPS)].fd, &k);
	if (fz_one_in(r, 3))
		post_chains(r, s, 1, 4, 0);	/* traffic in flight */
	e = dev_ioctl(s, VHOST_NET_SET_BACKEND, &f);
	kick(s, 1);
	fz_count(fz_row("NET_SET_BACKEND(swap)"), e);
	snprintf(what, sizeof(what), "backend idx=%u fd=%s", f.index, k);
	note(t, what, e);
}

static void op_features(struct fz_thread *t, struct fz_rng *r,
			struct fz_slot *s)
{
	uint64_t v;
	char what[96];
	long e;

	if (fz_one_in(r, 3)) {
		v = fz_below(r, 2) ? fz_below(r, 16) : fz_next(r);
		e = dev_ioctl(s, VHOST_SET_BACKEND_FEATURES, &v);
		if (!e)
			__atomic_store_n(&s->bfeatures, v, __ATOMIC_RELAXED);
		fz_count(fz_row("SET_BACKEND_FEATURES(mid)"), e);
		snprintf(what, sizeof(what), "backend-features %#llx",
			 (unsigned long long)v);
	} else {
		/* Mostly a valid set with ACCESS_PLATFORM toggled or kept,
		 * mid-traffic: the IOTLB is torn down or replaced.
		 */
		v = s->features;
		if (fz_below(r, 2))
			v ^= AP;
		if (fz_one_in(r, 4))
			v = pick_features(r, v);
		kick(s, 0);
		kick(s, 1);
		e = dev_ioctl(s, VHOST_SET_FEATURES, &v);
		if (!e)
			__atomic_store_n(&s->features, v, __ATOMIC_RELAXED);
		fz_count(fz_row("SET_FEATURES(mid)"), e);
		snprintf(what, sizeof(what), "features %#llx",
			 (unsigned long long)v);
	}
	note(t, what, e);
}

static void reopen(struct fz_thread *t, struct fz_rng *r, struct fz_slot *s)
{
	fz_stats_collect(s->fd);
	close(s->fd);
	s->fd = open(G.dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (s->fd < 0) {
		/* keep the slot usable: any later op just fails */
		fz_count(fz_row("open"), -errno);
		s->fd = dup(G.null_fd);
	}
	s->swapped = 0;
	__atomic_store_n(&s->features, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->bfeatures, 0, __ATOMIC_RELAXED);
	s->opens++;
	__atomic_fetch_add(&G.reopens, 1, __ATOMIC_RELAXED);
	if (fz_below(r, 5))
		fz_slot_setup(t, s, r);
}

static void op_close_busy(struct fz_thread *t, struct fz_rng *r,
			  struct fz_slot *s)
{
	unsigned int i;

	pthread_rwlock_wrlock(&s->rw);
	post_chains(r, s, 1, 8 + fz_below(r, 32), 0);
	post_chains(r, s, 0, 8 + fz_below(r, 32), 0);
	kick(s, 0);
	kick(s, 1);
	for (i = 0; i < 8; i++) {
		vmm_gen_frame(i, t->scratch, 600);
		vmm_inject(G.inj[fz_below(r, FZ_NTAPS)], t->scratch, 600);
	}
	if (fz_one_in(r, 2))
		usleep(fz_below(r, 2000));
	reopen(t, r, s);
	pthread_rwlock_unlock(&s->rw);
	note(t, "close-busy", 0);
}

static void op_reopen(struct fz_thread *t, struct fz_rng *r,
		      struct fz_slot *s)
{
	pthread_rwlock_wrlock(&s->rw);
	reopen(t, r, s);
	pthread_rwlock_unlock(&s->rw);
	note(t, "reopen", 0);
}

/* Drop the fd from the table while other threads may be inside an ioctl
 * or read/write on it: the file is released when the last one returns.
 */
static void op_racy_close(struct fz_thread *t, struct fz_rng *r,
			  struct fz_slot *s)
{
	long e;

	(void)r;
	fz_stats_collect(s->fd);
	e = sys_ret(dup2(G.null_fd, s->fd));
	s->swapped = 1;
	__atomic_fetch_add(&G.racy_closes, 1, __ATOMIC_RELAXED);
	note(t, "racy-close", e);
}

/*
 * Another process on the same fd: a forked child either takes the device
 * over (RESET_OWNER, SET_OWNER and a bring-up with the child's copy of
 * guest memory, then exits, so the device is left owned by a process that
 * is gone while the parent keeps driving it), or tries ioctls and messages
 * as a non-owner.  The child takes no lock and calls nothing that may:
 * other threads may have held one at fork time.
 */
static void child_takeover(struct fz_rng *r, struct fz_slot *s)
{
	struct {
		struct vhost_memory hdr;
		struct vhost_memory_region reg[1];
	} mt;
	struct vhost_vring_state st;
	struct vhost_vring_addr a;
	struct vhost_vring_file f;
	uint64_t v = __atomic_load_n(&s->features, __ATOMIC_RELAXED);
	int q, ap = !!(v & AP);

	ioctl(s->fd, VHOST_RESET_OWNER, NULL);
	ioctl(s->fd, VHOST_SET_OWNER, NULL);
	ioctl(s->fd, VHOST_SET_FEATURES, &v);
	memset(&mt, 0, sizeof(mt));
	mt.hdr.nregions = 1;
	mt.reg[0].guest_phys_addr = FZ_GPA_BASE;
	mt.reg[0].memory_size = FZ_GM_SIZE;
	mt.reg[0].userspace_addr = (uintptr_t)s->gm;
	ioctl(s->fd, VHOST_SET_MEM_TABLE, &mt);
	for (q = 0; q < 2; q++) {
		st.index = q;
		st.num = s->num[q];
		ioctl(s->fd, VHOST_SET_VRING_NUM, &st);
		st.num = s->avail_idx[q];
		ioctl(s->fd, VHOST_SET_VRING_BASE, &st);
		memset(&a, 0, sizeof(a));
		a.index = q;
		a.desc_user_addr = ring_addr(s, ap, FZ_RING_OFF(q));
		a.avail_user_addr = ring_addr(s, ap, FZ_RING_OFF(q) +
					      FZ_AVAIL_OFF);
		a.used_user_addr = ring_addr(s, ap, FZ_RING_OFF(q) +
					     FZ_USED_OFF);
		ioctl(s->fd, VHOST_SET_VRING_ADDR, &a);
		f.index = q;
		f.fd = s->kick[q];
		ioctl(s->fd, VHOST_SET_VRING_KICK, &f);
		f.fd = s->call[q];
		ioctl(s->fd, VHOST_SET_VRING_CALL, &f);
		f.fd = G.tap[fz_below(r, FZ_NTAPS)].fd;
		ioctl(s->fd, VHOST_NET_SET_BACKEND, &f);
	}
	if (ap) {	/* map_window() without its counting (fz_row locks) */
		uint8_t buf[MSG_SIZE];

		fill_msg(buf, slot_v2(s), VHOST_IOTLB_UPDATE, FZ_IOVA_BASE,
			 FZ_GM_SIZE, (uintptr_t)s->gm, VHOST_ACCESS_RW);
		if (write(s->fd, buf, sizeof(buf)) < 0)
			(void)0;
	}
	for (q = 0; q < 2; q++)
		kick(s, q);
}

static void child_meddle(struct fz_rng *r, struct fz_slot *s,
			 struct fz_thread *t)
{
	unsigned int i, n = 1 + fz_below(r, 8);
	uint8_t *buf = t->scratch;

	for (i = 0; i < n; i++) {
		const struct ioc *c = &ioc_table[fz_below(r, NIOC - 1)];
		unsigned int k;

		for (k = 0; k < 64; k++)
			buf[k] = fz_one_in(r, 2) ? 0 : fz_next(r);
		switch (fz_below(r, 3)) {
		case 0:
			ioctl(s->fd, c->req, buf);
			break;
		case 1:
			fill_msg(buf, slot_v2(s), 2 + fz_below(r, 2),
				 FZ_IOVA_BASE, 4096, (uintptr_t)s->gm,
				 VHOST_ACCESS_RW);
			if (write(s->fd, buf, MSG_SIZE) < 0)
				(void)0;
			break;
		default:
			if (read(s->fd, buf, MSG_SIZE) < 0)
				(void)0;
			break;
		}
	}
}

static void op_fork(struct fz_thread *t, struct fz_rng *r, struct fz_slot *s)
{
	int takeover = fz_one_in(r, 2), status = 0;
	char what[64];
	pid_t pid;
	long e;

	pid = fork();
	if (pid == 0) {
		if (takeover)
			child_takeover(r, s);
		else
			child_meddle(r, s, t);
		if (fz_one_in(r, 2))	/* leave the fd to the exit path */
			close(s->fd);
		_exit(0);
	}
	if (pid < 0) {
		e = -errno;
	} else {
		e = sys_ret(waitpid(pid, &status, 0));
		if (e >= 0)
			e = status;
	}
	/* The parent drives the device on: with a gone owner, if taken. */
	post_chains(r, s, fz_below(r, 2), 4, 0);
	kick(s, 0);
	kick(s, 1);
	fz_count(fz_row("fork"), e < 0 ? e : 0);
	snprintf(what, sizeof(what), "fork takeover=%d", takeover);
	note(t, what, e);
}

/* The size an IVHOST_GET_IOTLB_STATS caller claims: its own, an older or
 * newer struct's, too small, or anything.
 */
static uint32_t stats_size(struct fz_rng *r)
{
	switch (fz_below(r, 6)) {
	case 0:
		return IVHOST_IOTLB_STATS_SIZE_VER0;
	case 1:
		return IVHOST_IOTLB_STATS_SIZE_VER0 - 1 - fz_below(r, 8);
	case 2:
		return sizeof(struct ivhost_iotlb_stats) + fz_below(r, 4096);
	case 3:
		return (uint32_t)fz_next(r);
	default:
		return sizeof(struct ivhost_iotlb_stats);
	}
}

static void op_stats(struct fz_thread *t, struct fz_rng *r, struct fz_slot *s)
{
	char path[300], *buf = (char *)t->scratch;
	struct ivhost_ioctl_hdr hdr = {
		.size = stats_size(r),
		.flags = fz_one_in(r, 16) ? (uint32_t)fz_next(r) : 0,
	};
	struct dirent *de;
	long e, n = 0;
	DIR *d;
	int fd;

	memcpy(t->scratch, &hdr, sizeof(hdr));
	e = dev_ioctl(s, IVHOST_GET_IOTLB_STATS, t->scratch);
	fz_count(fz_row("IVHOST_GET_IOTLB_STATS(stats)"), e);
	d = opendir("/sys/kernel/debug/ivhost");
	if (d) {
		unsigned int pick = fz_below(r, 8);

		while ((de = readdir(d))) {
			if (de->d_name[0] == '.' || pick--)
				continue;
			snprintf(path, sizeof(path),
				 "/sys/kernel/debug/ivhost/%s/iotlb",
				 de->d_name);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd >= 0) {
				n = read(fd, buf, 4096);
				close(fd);
			}
			break;
		}
		closedir(d);
	}
	note(t, "stats", e ? e : n > 0);
}

static void op_poll(struct fz_thread *t, struct fz_rng *r, struct fz_slot *s)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN | POLLOUT };
	long e;

	(void)r;
	e = sys_ret(poll(&p, 1, 0));
	fz_count(fz_row("poll"), e);
	note(t, "poll", e > 0 ? p.revents : e);
}

void fz_op(struct fz_thread *t, enum fz_kind k, uint64_t sub)
{
	struct fz_rng r;
	struct fz_slot *s;

	fz_rng_seed(&r, sub, 0);
	s = &G.slot[fz_below(&r, FZ_NSLOTS)];
	fz_log(t, "%s slot%ld sub=%016llx", fz_kind_name[k],
	       (long)(s - G.slot), (unsigned long long)sub);
	/* The fd of a slot closed under the others (racy-close) is /dev/null
	 * now: the next operation on the slot gives it a device again.
	 */
	if (__atomic_load_n(&s->swapped, __ATOMIC_RELAXED))
		k = K_REOPEN;
	switch (k) {
	case K_CLOSE_BUSY:
		op_close_busy(t, &r, s);
		return;
	case K_REOPEN:
		op_reopen(t, &r, s);
		return;
	case K_BLOCK_READ:
		op_block_read(t, &r, s);
		return;
	default:
		break;
	}
	pthread_rwlock_rdlock(&s->rw);
	switch (k) {
	case K_IOCTL:
		op_ioctl(t, &r, s);
		break;
	case K_SETUP:
		fz_slot_setup(t, s, &r);
		break;
	case K_MSG_WRITE:
		op_msg_write(t, &r, s);
		break;
	case K_MSG_READ:
		op_msg_read(t, &r, s);
		break;
	case K_SERVE:
		op_serve(t, &r, s);
		break;
	case K_STORM:
		op_storm(t, &r, s);
		break;
	case K_BATCH:
		op_batch(t, &r, s);
		break;
	case K_RING:
		op_ring(t, &r, s);
		break;
	case K_KICK:
		kick(s, fz_below(&r, 2));
		note(t, "kick", 0);
		break;
	case K_INJECT:
		op_inject(t, &r);
		break;
	case K_DRAIN:
		op_drain(t, &r);
		break;
	case K_REAP:
		op_reap(t, &r, s);
		break;
	case K_BACKEND:
		op_backend(t, &r, s);
		break;
	case K_FEATURES:
		op_features(t, &r, s);
		break;
	case K_RACY_CLOSE:
		op_racy_close(t, &r, s);
		break;
	case K_STATS:
		op_stats(t, &r, s);
		break;
	case K_FORK:
		op_fork(t, &r, s);
		break;
	case K_POLL:
		op_poll(t, &r, s);
		break;
	default:
		break;
	}
	pthread_rwlock_unlock(&s->rw);
}
