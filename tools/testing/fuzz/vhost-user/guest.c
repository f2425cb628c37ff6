// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-vu: the hostile guest.  One memfd of guest memory per connection,
 * rings for every vq at fixed offsets, and a thread that writes them
 * while the daemon serves: chains of plausible and broken descriptors,
 * indirect tables, avail indexes that step, jump or go back, scribbles
 * over the used ring, and kicks.  Frames may be injected on the tap (the
 * RX side) from inside the daemon's network namespace.
 *
 * The thread holds c->mu while it touches guest memory or a kick fd; the
 * connection's thread takes it to shrink the memfd (c->mem_len bounds
 * every write, so the fuzzer never faults) or to replace a kick fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "fuzz-vu.h"

/**
 * fv_guest_init() - guest memory for a connection
 * @c: the connection
 *
 * Return: 0 or -1.
 */
int fv_guest_init(struct fv_conn *c)
{
	unsigned int i;

	for (i = 0; i < FV_MAX_VQ; i++) {
		c->kick[i] = -1;
		c->num[i] = FV_RING_NUM;
	}
	c->backend = -1;
	c->logfd = -1;
	pthread_mutex_init(&c->mu, NULL);
	c->memfd = memfd_create("ivu-fuzz-guest", MFD_CLOEXEC);
	if (c->memfd < 0 || ftruncate(c->memfd, FV_MEM_SIZE))
		return -1;
	c->mem = mmap(NULL, FV_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      c->memfd, 0);
	if (c->mem == MAP_FAILED) {
		c->mem = NULL;
		return -1;
	}
	c->mem_len = FV_MEM_SIZE;
	return 0;
}

/**
 * fv_guest_fini() - stop the ring thread, drop the guest and our fds
 * @c: the connection
 */
void fv_guest_fini(struct fv_conn *c)
{
	unsigned int i;

	fv_ring_stop(c);
	if (c->mem)
		munmap(c->mem, FV_MEM_SIZE);
	c->mem = NULL;
	if (c->memfd >= 0)
		close(c->memfd);
	for (i = 0; i < FV_MAX_VQ; i++)
		if (c->kick[i] >= 0)
			close(c->kick[i]);
	if (c->backend >= 0)
		close(c->backend);
	if (c->logfd >= 0)
		close(c->logfd);
	pthread_mutex_destroy(&c->mu);
}

/**
 * fv_guest_addr() - SET_VRING_ADDR's payload for a vq's rings
 * @c: the connection (IOVAs with the IOTLB, else frontend addresses)
 * @vq: the vq
 * @payload40: 40 bytes to fill
 */
void fv_guest_addr(struct fv_conn *c, unsigned int vq, void *payload40)
{
	uint64_t base = (c->iotlb ? FV_IOVA : FV_QVA) + vq * FV_VQ_STRIDE;
	uint64_t gpa = (c->iotlb ? FV_IOVA : FV_GPA) + vq * FV_VQ_STRIDE;
	bool log = c->features & (1ULL << FV_F_LOG_ALL);
	struct {
		uint32_t index, flags;
		uint64_t desc, used, avail, log;
	} __attribute__((packed)) a = {
		vq, log, base, base + 0x2000, base + 0x1000,
		log ? gpa + 0x2000 : 0,
	};

	memcpy(payload40, &a, sizeof(a));
}

/* Guest memory writes, dropped past what the memfd still holds. */
static void fv_w(struct fv_conn *c, size_t off, uint64_t v, unsigned int n)
{
	if (off + n <= c->mem_len)
		memcpy(c->mem + off, &v, n);
}

static uint16_t fv_r16(struct fv_conn *c, size_t off)
{
	uint16_t v = 0;

	if (off + 2 <= c->mem_len)
		memcpy(&v, c->mem + off, 2);
	return v;
}

static void fv_desc(struct fv_conn *c, struct fz_rng *r, size_t off,
		    bool write, bool more, uint16_t next)
{
	uint64_t base = c->iotlb ? FV_IOVA : FV_GPA;
	uint64_t addr = base + FV_BUF_OFF + (fz_below(r, 0x70000) & ~15ULL);
	uint32_t len = 14 + fz_below(r, 2048);
	uint16_t flags = (write ? 2 : 0) | (more ? 1 : 0);

	if (fz_one_in(r, 10 * c->calm))
		addr = fz_one_in(r, 2) ? fz_next(r) : base + fz_below(r, 2 * FV_MEM_SIZE);
	if (fz_one_in(r, 10 * c->calm))
		len = fz_one_in(r, 2) ? (uint32_t)fz_next(r) : fz_below(r, 16);
	if (fz_one_in(r, 12 * c->calm))
		flags = fz_below(r, 8);
	if (fz_one_in(r, 12 * c->calm))
		next = fz_next(r);
	fv_w(c, off, addr, 8);
	fv_w(c, off + 8, len, 4);
	fv_w(c, off + 12, flags, 2);
	fv_w(c, off + 14, next, 2);
	/* TX: a virtio-net header of zeros, then a broadcast frame. */
	if (!write && addr >= base + FV_BUF_OFF && addr - base + 32 <= c->mem_len) {
		memset(c->mem + (addr - base), 0, 12);
		memset(c->mem + (addr - base) + 12, 0xff, 6);
	}
}

/* An indirect table of @n entries; the head's address and length. */
static void fv_indirect(struct fv_conn *c, struct fz_rng *r, unsigned int vq,
			size_t head_off)
{
	size_t tab = FV_IND_OFF + vq * FV_VQ_STRIDE + fz_below(r, 32) * 256;
	unsigned int n = 1 + fz_below(r, 16), i;
	uint64_t base = c->iotlb ? FV_IOVA : FV_GPA;
	uint32_t len = n * 16;

	for (i = 0; i < n; i++)
		fv_desc(c, r, tab + 16 * i, !(vq & 1), i + 1 < n, i + 1);
	if (fz_one_in(r, 8 * c->calm))
		len = fz_one_in(r, 2) ? fz_below(r, 4096) : (uint32_t)fz_next(r);
	fv_w(c, head_off, base + tab, 8);
	fv_w(c, head_off + 8, len, 4);
	fv_w(c, head_off + 12, fz_one_in(r, 10 * c->calm) ? 5 : 4, 2);
}

/* One chain posted on @vq's avail ring, or some mischief. */
static void fv_ring_step(struct fv_conn *c, struct fz_rng *r, unsigned int vq)
{
	uint32_t num = c->num[vq] && c->num[vq] <= FV_RING_NUM ?
		       c->num[vq] : FV_RING_NUM;
	size_t ring = (size_t)vq * FV_VQ_STRIDE, avail = ring + 0x1000;
	uint16_t idx = fv_r16(c, avail + 2), head = fz_below(r, num);
	unsigned int k = 1 + fz_below(r, 4), j;

	if (fz_one_in(r, 12 * c->calm)) {	/* scribble over any of the three rings */
		fv_w(c, ring + fz_below(r, 0x3000), fz_next(r),
		     1 << fz_below(r, 4));
		return;
	}
	if (fz_one_in(r, 5)) {
		fv_indirect(c, r, vq, ring + 16 * head);
	} else {
		for (j = 0; j < k; j++)
			fv_desc(c, r, ring + 16 * ((head + j) % num), !(vq & 1),
				j + 1 < k, (head + j + 1) % num);
	}
	fv_w(c, avail + 4 + 2 * (idx % num), head, 2);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (fz_one_in(r, 25 * c->calm))
		idx += fz_next(r);	/* a jump, or a step back */
	else
		idx++;
	fv_w(c, avail + 2, idx, 2);
	if (fz_one_in(r, 20 * c->calm))	/* flags, used_event */
		fv_w(c, avail + (fz_one_in(r, 2) ? 0 : 4 + 2 * num),
		     fz_below(r, 0x10000), 2);
}

static void *fv_ring_thread(void *arg)
{
	struct fv_conn *c = arg;
	unsigned int nvq = 2 * G.queues, vq;
	uint64_t one = 1;
	struct fz_rng r;

	fz_rng_seed(&r, G.seed ^ 0x72696e67ULL, c->idx);
	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		vq = fz_below(&r, nvq);
		pthread_mutex_lock(&c->mu);
		fv_ring_step(c, &r, vq);
		if (c->kick[vq] >= 0 && !fz_one_in(&r, 4))
			if (write(c->kick[vq], &one, sizeof(one)) < 0)
				(void)0;
		pthread_mutex_unlock(&c->mu);
		usleep(50 + fz_below(&r, 1000));
	}
	return NULL;
}

/**
 * fv_ring_start() - start the ring thread, if not running
 * @c: the connection
 */
void fv_ring_start(struct fv_conn *c)
{
	if (c->ring_on || !c->mem)
		return;
	c->stop = 0;
	c->ring_on = !pthread_create(&c->ring_thr, NULL, fv_ring_thread, c);
}

/**
 * fv_ring_stop() - stop the ring thread, if running
 * @c: the connection
 */
void fv_ring_stop(struct fv_conn *c)
{
	if (!c->ring_on)
		return;
	__atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
	pthread_join(c->ring_thr, NULL);
	c->ring_on = false;
}

/**
 * fv_guest_truncate() - shrink the guest memfd, or the dirty log's, under
 *	the daemon
 * @c: the connection; the daemon must catch its SIGBUS
 */
void fv_guest_truncate(struct fv_conn *c)
{
	static const size_t sizes[] = { 0, 4096, FV_VQ_STRIDE + 100,
					FV_BUF_OFF, FV_MEM_SIZE - 4096 };
	size_t sz = sizes[fz_below(&c->r, FV_ARRAY_SIZE(sizes))];

	if (c->logfd >= 0 && fz_one_in(&c->r, 2)) {
		if (ftruncate(c->logfd, fz_below(&c->r, 2) * 4096))
			(void)0;
		return;
	}
	pthread_mutex_lock(&c->mu);
	if (sz < c->mem_len && !ftruncate(c->memfd, sz))
		c->mem_len = sz;
	pthread_mutex_unlock(&c->mu);
}

/**
 * fv_kick_all() - write every kick eventfd we hold
 * @c: the connection
 */
void fv_kick_all(struct fv_conn *c)
{
	uint64_t one = 1;
	unsigned int i;

	pthread_mutex_lock(&c->mu);
	for (i = 0; i < FV_MAX_VQ; i++)
		if (c->kick[i] >= 0 && write(c->kick[i], &one, 8) < 0)
			(void)0;
	pthread_mutex_unlock(&c->mu);
}

/**
 * fv_inject() - frames sent out of the daemon's tap, for its RX rings
 * @c: the connection (its PRNG)
 *
 * Needs --tap and the fuzzer in the daemon's namespace; else nothing.
 */
void fv_inject(struct fv_conn *c)
{
	static int fd = -2;
	static struct sockaddr_ll a;
	unsigned char f[1514];
	unsigned int n = 1 + fz_below(&c->r, 8), i, len;

	if (fd == -2) {
		fd = -1;
		a.sll_family = AF_PACKET;
		a.sll_ifindex = G.tap ? if_nametoindex(G.tap) : 0;
		a.sll_protocol = htons(ETH_P_ALL);
		if (a.sll_ifindex)
			fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	}
	if (fd < 0)
		return;
	for (i = 0; i < n; i++) {
		len = 60 + fz_below(&c->r, sizeof(f) - 60);
		memset(f, 0xff, 6);
		memset(f + 6, 0x02, 6);
		f[12] = 0x08;
		f[13] = 0x00;
		memset(f + 14, (int)fz_next(&c->r), len - 14);
		a.sll_halen = 6;
		memcpy(a.sll_addr, f, 6);
		if (sendto(fd, f, len, MSG_DONTWAIT, (struct sockaddr *)&a,
			   sizeof(a)) < 0)
			break;
	}
}
