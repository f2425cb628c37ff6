// SPDX-License-Identifier: GPL-2.0
/*
 * vmm.c - a tiny test VMM for vhost-net compatible devices. See vmm.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "vmm.h"

#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((size_t)(a) - 1))

/* The vhost-user transport, when vu.c is linked in. */
extern int vmm_vu_open(struct vmm *v, const char *sock_path)
	__attribute__((weak));
extern int vmm_vu_ioctl(struct vmm *v, unsigned long req, void *arg)
	__attribute__((weak));

int vmm_ioctl(struct vmm *v, unsigned long req, void *arg)
{
	if (v->user)
		return vmm_vu_ioctl(v, req, arg);
	return ioctl(v->fd, req, arg) < 0 ? -errno : 0;
}

void vmm_init_closed(struct vmm *v, struct vmm_tap *t)
{
	int i;

	memset(v, 0, sizeof(*v));
	v->fd = -1;
	v->mem_fd = -1;
	v->vu_backend_fd = -1;
	for (i = 0; i < VMM_NVQS; i++) {
		v->vq[i].kick_fd = -1;
		v->vq[i].call_fd = -1;
		v->vq[i].err_fd = -1;
	}
	if (t) {
		memset(t, 0, sizeof(*t));
		t->fd = -1;
		t->pkt_fd = -1;
	}
}

int vmm_open(struct vmm *v, const char *path)
{
	int i;

	memset(v, 0, sizeof(*v));
	for (i = 0; i < VMM_NVQS; i++) {
		v->vq[i].kick_fd = -1;
		v->vq[i].call_fd = -1;
		v->vq[i].err_fd = -1;
		v->vq[i].index = i;
		v->vq[i].v = v;
	}
	v->mem_fd = -1;
	v->vu_backend_fd = -1;
	snprintf(v->path, sizeof(v->path), "%s", path);
	if (!strncmp(path, VMM_VU_PREFIX, strlen(VMM_VU_PREFIX))) {
		if (!vmm_vu_open)
			return -EPROTONOSUPPORT;
		return vmm_vu_open(v, path + strlen(VMM_VU_PREFIX));
	}
	v->fd = open(path, O_RDWR | O_CLOEXEC);
	return v->fd < 0 ? -errno : 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void vmm_close(struct vmm *v)
{
	int i;

	close_fd(&v->fd);
	for (i = 0; i < VMM_NVQS; i++) {
		struct vmm_vq *q = &v->vq[i];

		close_fd(&q->kick_fd);
		close_fd(&q->call_fd);
		close_fd(&q->err_fd);
		free(q->next);
		free(q->chain_len);
		free(q->nsegs);
		free(q->segs);
		q->next = NULL;
		q->chain_len = NULL;
		q->nsegs = NULL;
		q->segs = NULL;
	}
	if (v->mem)
		munmap(v->mem, v->mem_size);
	v->mem = NULL;
	/* only a vhost-user vmm has one: a zeroed struct vmm says fd 0 */
	if (v->user) {
		close_fd(&v->mem_fd);
		close_fd(&v->vu_backend_fd);
	}
}

int vmm_set_owner(struct vmm *v)
{
	return vmm_ioctl(v, VHOST_SET_OWNER, NULL);
}

int vmm_get_features(struct vmm *v, uint64_t *features)
{
	return vmm_ioctl(v, VHOST_GET_FEATURES, features);
}

int vmm_set_features(struct vmm *v, uint64_t features)
{
	int r = vmm_ioctl(v, VHOST_SET_FEATURES, &features);

	if (!r)
		v->features = features;
	return r;
}

/* A vhost-user backend maps guest memory itself: share it through a memfd. */
static void *mem_map_shared(struct vmm *v, size_t size)
{
	void *p;

	v->mem_fd = memfd_create("ivhost-guest", MFD_CLOEXEC);
	if (v->mem_fd < 0)
		return MAP_FAILED;
	if (ftruncate(v->mem_fd, size) < 0)
		return MAP_FAILED;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, v->mem_fd, 0);
	return p;
}

int vmm_mem_init(struct vmm *v, size_t size, uint64_t gpa)
{
	void *p;

	if (v->user)
		p = mem_map_shared(v, size);
	else
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	v->mem = p;
	v->mem_size = size;
	v->mem_gpa = gpa;
	v->mem_used = 0;
	return 0;
}

int vmm_set_mem_table(struct vmm *v)
{
	struct {
		struct vhost_memory hdr;
		struct vhost_memory_region r[1];
	} m;

	memset(&m, 0, sizeof(m));
	m.hdr.nregions = 1;
	m.r[0].guest_phys_addr = v->mem_gpa;
	m.r[0].memory_size = v->mem_size;
	m.r[0].userspace_addr = (uintptr_t)v->mem;
	return vmm_ioctl(v, VHOST_SET_MEM_TABLE, &m);
}

void *vmm_alloc(struct vmm *v, size_t size, size_t align)
{
	size_t off = ALIGN_UP(v->mem_used, align);

	if (off + size > v->mem_size)
		return NULL;
	v->mem_used = off + size;
	return v->mem + off;
}

uint64_t vmm_gpa(struct vmm *v, const void *hva)
{
	return v->mem_gpa + (uint64_t)((const uint8_t *)hva - v->mem);
}

void *vmm_hva(struct vmm *v, uint64_t gpa)
{
	if (gpa < v->mem_gpa || gpa - v->mem_gpa >= v->mem_size)
		return NULL;
	return v->mem + (gpa - v->mem_gpa);
}

/* A split ring's three areas, or the packed ring's (vmm_packed.c). */
static int rings_alloc(struct vmm *v, struct vmm_vq *q)
{
	if (v->features & VMM_F_RING_PACKED)
		return vmm_packed_init(q);
	if (q->num & (q->num - 1))
		return -EINVAL;
	q->packed = 0;
	q->desc = vmm_alloc(v, 16 * q->num, 4096);
	q->avail = vmm_alloc(v, 6 + 2 * q->num, 4096);
	q->used = vmm_alloc(v, 6 + 8 * q->num, 4096);
	return q->desc && q->avail && q->used ? 0 : -ENOMEM;
}

int vmm_vq_init(struct vmm *v, unsigned int index, unsigned int num)
{
	struct vmm_vq *q = &v->vq[index];
	unsigned int i;
	int r;

	if (index >= VMM_NVQS || !num || num > 32768)
		return -EINVAL;
	q->num = num;
	r = rings_alloc(v, q);
	if (r)
		return r;
	q->slab = vmm_alloc(v, (size_t)num * VMM_SLOT_SIZE, 4096);
	q->indirect = vmm_alloc(v, (size_t)num * VMM_MAX_SEGS * 16, 4096);
	if (!q->slab || !q->indirect)
		return -ENOMEM;
	q->next = calloc(num, sizeof(*q->next));
	q->chain_len = calloc(num, sizeof(*q->chain_len));
	if (!q->next || !q->chain_len)
		return -ENOMEM;
	for (i = 0; i < num; i++)
		q->next[i] = (i + 1) % num;
	q->free_head = 0;
	q->num_free = num;
	q->avail_idx = 0;
	q->used_idx = 0;
	if (q->packed)
		vmm_packed_reset(q, 0);
	if (q->kick_fd < 0)
		q->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->call_fd < 0)
		q->call_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->err_fd < 0)
		q->err_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->kick_fd < 0 || q->call_fd < 0 || q->err_fd < 0)
		return -errno;
	return 0;
}

void vmm_vq_reset(struct vmm_vq *q)
{
	unsigned int i;

	if (q->packed) {
		vmm_packed_reset(q, 0);
		return;
	}
	memset(q->desc, 0, 16 * (size_t)q->num);
	memset(q->avail, 0, 6 + 2 * (size_t)q->num);
	memset(q->used, 0, 6 + 8 * (size_t)q->num);
	for (i = 0; i < q->num; i++) {
		q->next[i] = (i + 1) % q->num;
		q->chain_len[i] = 0;
	}
	q->free_head = 0;
	q->num_free = q->num;
	q->avail_idx = 0;
	q->used_idx = 0;
}

int vmm_vq_set_num(struct vmm *v, unsigned int index, unsigned int num)
{
	struct vhost_vring_state s = { .index = index, .num = num };

	return vmm_ioctl(v, VHOST_SET_VRING_NUM, &s);
}

int vmm_vq_set_base(struct vmm *v, unsigned int index, unsigned int base)
{
	struct vhost_vring_state s = { .index = index, .num = base };

	return vmm_ioctl(v, VHOST_SET_VRING_BASE, &s);
}

int vmm_vq_get_base(struct vmm *v, unsigned int index, unsigned int *base)
{
	struct vhost_vring_state s = { .index = index, .num = 0 };
	int r = vmm_ioctl(v, VHOST_GET_VRING_BASE, &s);

	if (!r)
		*base = s.num;
	return r;
}

int vmm_vq_set_addr(struct vmm *v, unsigned int index)
{
	struct vmm_vq *q = &v->vq[index];
	struct vhost_vring_addr a = {
		.index = index,
		.flags = 0,
		/* ring addresses are user addresses (no ACCESS_PLATFORM) */
		.desc_user_addr = (uintptr_t)q->desc,
		.used_user_addr = (uintptr_t)q->used,
		.avail_user_addr = (uintptr_t)q->avail,
		.log_guest_addr = 0,
	};

	return vmm_ioctl(v, VHOST_SET_VRING_ADDR, &a);
}

int vmm_vq_set_file(struct vmm *v, unsigned long req, unsigned int index,
		    int fd)
{
	struct vhost_vring_file f = { .index = index, .fd = fd };

	return vmm_ioctl(v, req, &f);
}

int vmm_set_backend(struct vmm *v, unsigned int index, int fd)
{
	return vmm_vq_set_file(v, VHOST_NET_SET_BACKEND, index, fd);
}

int vmm_vq_setup(struct vmm *v, unsigned int index, uint16_t base)
{
	struct vmm_vq *q = &v->vq[index];
	int r;

	if (q->packed) {
		vmm_packed_reset(q, base);
	} else {
		q->avail_idx = base;
		q->used_idx = base;
		q->kick_pos = base;
		q->avail->idx = base;
		q->used->idx = base;
	}
	r = vmm_vq_set_num(v, index, q->num);
	if (!r)
		r = vmm_vq_set_base(v, index, vmm_vq_base_encode(q, base));
	if (!r)
		r = vmm_vq_set_addr(v, index);
	if (!r)
		r = vmm_vq_set_file(v, VHOST_SET_VRING_KICK, index, q->kick_fd);
	if (!r)
		r = vmm_vq_set_file(v, VHOST_SET_VRING_CALL, index, q->call_fd);
	if (!r)
		r = vmm_vq_set_file(v, VHOST_SET_VRING_ERR, index, q->err_fd);
	return r;
}

int vmm_desc_alloc(struct vmm_vq *q, unsigned int ndesc)
{
	uint16_t head = q->free_head, last = head;
	unsigned int i;

	if (q->packed)
		return vmm_packed_desc_alloc(q, ndesc);
	if (!ndesc || q->num_free < ndesc)
		return -ENOSPC;
	for (i = 1; i < ndesc; i++)
		last = q->next[last];
	q->free_head = q->next[last];
	q->num_free -= ndesc;
	q->chain_len[head] = ndesc;
	return head;
}

static void desc_free(struct vmm_vq *q, uint16_t head)
{
	uint16_t last = head;
	unsigned int i, n = q->chain_len[head];

	for (i = 1; i < n; i++)
		last = q->next[last];
	q->next[last] = q->free_head;
	q->free_head = head;
	q->num_free += n;
	q->chain_len[head] = 0;
}

void vmm_publish(struct vmm_vq *q, uint16_t head)
{
	if (q->packed) {
		vmm_packed_publish(q, head);
		return;
	}
	q->avail->ring[q->avail_idx % q->num] = head;
	q->avail_idx++;
	__atomic_store_n(&q->avail->idx, q->avail_idx, __ATOMIC_RELEASE);
}

unsigned int vmm_inflight(struct vmm_vq *q)
{
	return (uint16_t)(q->avail_idx - q->used_idx);
}

/* Copy the byte stream hdr||data starting at stream offset off, n bytes. */
static void stream_copy(uint8_t *dst, const uint8_t *hdr, size_t hdr_len,
			const uint8_t *data, size_t off, size_t n)
{
	while (n) {
		size_t c;

		if (off < hdr_len) {
			c = hdr_len - off < n ? hdr_len - off : n;
			memcpy(dst, hdr + off, c);
		} else {
			c = n;
			memcpy(dst, data + (off - hdr_len), c);
		}
		dst += c;
		off += c;
		n -= c;
	}
}

/*
 * Lay out one buffer of @total bytes in the slot of a fresh head: one
 * descriptor (VMM_DIRECT), a chain of @nseg, or one indirect table of @nseg,
 * the pieces VMM_SPLIT_GAP apart.  @flags goes on every piece.  A driver
 * buffer (no VRING_DESC_F_WRITE) is filled from the stream hdr||data; a
 * device buffer is poisoned with VMM_RX_POISON.  Publishes the head.
 */
void vmm_post_seg(struct vmm_vq *q, struct vring_desc *d,
		  enum vmm_post_mode mode, uint16_t *idx, unsigned int i,
		  unsigned int nseg, uint64_t addr, uint32_t len,
		  uint16_t flags)
{
	struct vring_desc *e;

	if (q->packed) {
		vmm_packed_post_seg(q, d, mode, idx, i, nseg, addr, len, flags);
		return;
	}
	if (mode == VMM_INDIRECT) {
		e = &d[i];
		e->next = i + 1;
	} else {
		e = &q->desc[*idx];
		e->next = q->next[*idx];
	}
	e->addr = addr;
	e->len = len;
	e->flags = flags | (i + 1 < nseg ? VRING_DESC_F_NEXT : 0);
	if (i + 1 >= nseg)
		e->next = 0;
	if (mode != VMM_INDIRECT)
		*idx = q->next[*idx];
}

int vmm_post_finish(struct vmm_vq *q, int head, enum vmm_post_mode mode,
		    unsigned int nseg, uint64_t ind_addr)
{
	if (mode == VMM_INDIRECT && q->packed) {
		vmm_packed_finish_indirect(q, nseg, ind_addr);
	} else if (mode == VMM_INDIRECT) {
		q->desc[head].addr = ind_addr;
		q->desc[head].len = nseg * sizeof(struct vring_desc);
		q->desc[head].flags = VRING_DESC_F_INDIRECT;
		q->desc[head].next = 0;
	}
	vmm_publish(q, head);
	return head;
}

uint16_t vmm_post_start(struct vmm_vq *q, int head)
{
	return q->packed ? q->head_pos : head;
}

int vmm_post_nseg(size_t total, enum vmm_post_mode mode, unsigned int nseg)
{
	if (mode == VMM_DIRECT || nseg < 1)
		nseg = 1;
	if (nseg > VMM_MAX_SEGS)
		nseg = VMM_MAX_SEGS;
	if (nseg > total && total)
		nseg = total;
	if (total + nseg * VMM_SPLIT_GAP > VMM_SLOT_SIZE)
		return -EMSGSIZE;
	return nseg;
}

static int post_layout(struct vmm_vq *q, size_t total, enum vmm_post_mode mode,
		       unsigned int nseg, uint16_t flags, const void *hdr,
		       size_t hdr_len, const void *data)
{
	struct vmm *v = q->v;
	size_t off = 0, slot_off = 0;
	struct vring_desc *d;
	unsigned int i, n;
	uint8_t *slot;
	int head;
	uint16_t idx;

	head = vmm_post_nseg(total, mode, nseg);
	if (head < 0)
		return head;
	nseg = head;

	head = vmm_desc_alloc(q, mode == VMM_CHAIN ? nseg : 1);
	if (head < 0)
		return head;
	slot = q->slab + (size_t)head * VMM_SLOT_SIZE;
	d = mode == VMM_INDIRECT ? q->indirect + (size_t)head * VMM_MAX_SEGS
				 : NULL;
	idx = vmm_post_start(q, head);
	for (i = 0; i < nseg; i++) {
		n = total / nseg + (i < total % nseg);
		if (flags & VRING_DESC_F_WRITE)
			memset(slot + slot_off, VMM_RX_POISON, n);
		else
			stream_copy(slot + slot_off, hdr, hdr_len, data, off, n);
		vmm_post_seg(q, d, mode, &idx, i, nseg,
			     vmm_gpa(v, slot + slot_off), n, flags);
		off += n;
		slot_off += n + VMM_SPLIT_GAP;
	}
	return vmm_post_finish(q, head, mode, nseg, vmm_gpa(v, d));
}

int vmm_post_tx(struct vmm_vq *q, const void *hdr, size_t hdr_len,
		const void *data, size_t len, enum vmm_post_mode mode,
		unsigned int nseg)
{
	return post_layout(q, hdr_len + len, mode, nseg, 0, hdr, hdr_len, data);
}

int vmm_kick(struct vmm_vq *q)
{
	uint64_t one = 1;

	q->kick_pos = q->packed ? q->avail_pos : q->avail_idx;
	q->kick_wrap = q->avail_wrap;
	return write(q->kick_fd, &one, sizeof(one)) == sizeof(one) ? 0 : -errno;
}

uint16_t vmm_used_idx(struct vmm_vq *q)
{
	if (q->packed)
		return vmm_packed_used_idx(q);
	return __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
}

int vmm_reap(struct vmm_vq *q, uint32_t *id, uint32_t *len)
{
	struct vring_used_elem e;

	if (q->packed)
		return vmm_packed_reap(q, id, len);
	if (vmm_used_idx(q) == q->used_idx)
		return 0;
	e = q->used->ring[q->used_idx % q->num];
	q->used_idx++;
	if (id)
		*id = e.id;
	if (len)
		*len = e.len;
	if (e.id >= q->num || !q->chain_len[e.id])
		return -EIO;
	desc_free(q, e.id);
	return 1;
}

int vmm_poll_fd(int efd)
{
	uint64_t val;

	return read(efd, &val, sizeof(val)) == sizeof(val);
}

int vmm_wait_fd(int efd, int timeout_ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	int r = poll(&p, 1, timeout_ms);

	if (r < 0)
		return -errno;
	if (r == 0)
		return 0;
	return vmm_poll_fd(efd);
}

size_t vmm_net_hdr_len(uint64_t features)
{
	if (features & ((1ULL << VIRTIO_F_VERSION_1) |
			(1ULL << VIRTIO_NET_F_MRG_RXBUF)))
		return sizeof(struct virtio_net_hdr_mrg_rxbuf);
	return sizeof(struct virtio_net_hdr);
}

int vmm_bringup(struct vmm *v, const char *path, uint64_t want_features,
		unsigned int num, size_t mem_size)
{
	uint64_t offered, bf;
	int r, i;

	r = vmm_open(v, path);
	if (r)
		return r;
	if (vmm_ring_packed_wanted()) {
		/* packed rings are a virtio 1 feature: no legacy devices */
		if (!(want_features & (1ULL << VIRTIO_F_VERSION_1)))
			return -EPROTONOSUPPORT;
		want_features |= VMM_F_RING_PACKED;
	}
	r = vmm_set_owner(v);
	if (!r)
		r = vmm_get_features(v, &offered);
	if (!r)
		r = vmm_set_features(v, want_features & offered);
	if (!r && (want_features & ~offered & VMM_F_RING_PACKED))
		r = -EPROTONOSUPPORT;
	if (r)
		return r;
	if (!vmm_ioctl(v, VHOST_GET_BACKEND_FEATURES, &bf)) {
		bf &= 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2;
		r = vmm_ioctl(v, VHOST_SET_BACKEND_FEATURES, &bf);
		if (r)
			return r;
	}
	if (!mem_size)
		mem_size = 2 * (size_t)num * (VMM_SLOT_SIZE + VMM_MAX_SEGS * 16)
			   + (4 << 20);
	r = vmm_mem_init(v, mem_size, VMM_GPA_BASE);
	if (!r)
		r = vmm_set_mem_table(v);
	for (i = 0; !r && i < VMM_NVQS; i++) {
		r = vmm_vq_init(v, i, num);
		if (!r)
			r = vmm_vq_setup(v, i, 0);
	}
	return r;
}

int vmm_reown(struct vmm *v)
{
	int r, i;

	r = vmm_set_owner(v);
	if (!r)
		r = vmm_set_features(v, v->features);
	if (!r)
		r = vmm_set_mem_table(v);
	for (i = 0; !r && i < VMM_NVQS; i++) {
		vmm_vq_reset(&v->vq[i]);
		r = vmm_vq_setup(v, i, 0);
	}
	return r;
}

/* ---- tap ---- */

static int ifreq_ioctl(unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (s < 0)
		return -errno;
	if (ioctl(s, req, ifr) < 0)
		r = -errno;
	close(s);
	return r;
}

static char tap_use_name[IFNAMSIZ];

void vmm_tap_use(const char *name)
{
	snprintf(tap_use_name, sizeof(tap_use_name), "%s", name ? name : "");
}

/* Someone else's tap: only the name, and a stand-in fd that is no tap. */
static int tap_attach(struct vmm_tap *t)
{
	memcpy(t->name, tap_use_name, IFNAMSIZ);
	t->fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return t->fd < 0 ? -errno : 0;
}

int vmm_tap_open(struct vmm_tap *t, int vnet_hdr_len)
{
	struct sockaddr_ll sll;
	struct ifreq ifr;
	char path[128];
	int r, fd, size = 64 << 20;

	memset(t, 0, sizeof(*t));
	t->pkt_fd = -1;
	t->vnet_hdr_len = vnet_hdr_len;
	if (tap_use_name[0]) {
		if (tap_attach(t))
			goto err;
		goto up;
	}
	t->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (t->fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "ivtap%%d");
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet_hdr_len ? IFF_VNET_HDR : 0);
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0)
		goto err;
	memcpy(t->name, ifr.ifr_name, IFNAMSIZ);
	if (vnet_hdr_len && ioctl(t->fd, TUNSETVNETHDRSZ, &vnet_hdr_len) < 0)
		goto err;
up:
	/* keep the host stack quiet on this interface */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 t->name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) < 0)
			(void)0;
		close(fd);
	}

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, t->name, IFNAMSIZ);
	r = ifreq_ioctl(SIOCGIFFLAGS, &ifr);
	if (r)
		goto err_r;
	ifr.ifr_flags |= IFF_UP;
	r = ifreq_ioctl(SIOCSIFFLAGS, &ifr);
	if (r)
		goto err_r;
	r = ifreq_ioctl(SIOCGIFINDEX, &ifr);
	if (r)
		goto err_r;
	t->ifindex = ifr.ifr_ifindex;

	t->pkt_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (t->pkt_fd < 0)
		goto err;
	if (setsockopt(t->pkt_fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
		       sizeof(size)) < 0)
		setsockopt(t->pkt_fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = t->ifindex;
	if (bind(t->pkt_fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		goto err;
	return 0;
err:
	r = -errno;
err_r:
	vmm_tap_close(t);
	return r;
}

void vmm_tap_close(struct vmm_tap *t)
{
	close_fd(&t->pkt_fd);
	close_fd(&t->fd);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

ssize_t vmm_tap_recv(struct vmm_tap *t, void *buf, size_t size,
		     int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;

	for (;;) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		struct pollfd p = { .fd = t->pkt_fd, .events = POLLIN };
		ssize_t n;
		long long left;

		n = recvfrom(t->pkt_fd, buf, size, MSG_TRUNC | MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fl);
		if (n >= 0) {
			if (from.sll_pkttype == PACKET_OUTGOING)
				continue;
			return n;
		}
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		left = deadline - now_ms();
		if (left <= 0)
			return -EAGAIN;
		poll(&p, 1, (int)left);
	}
}

int vmm_tap_stats(struct vmm_tap *t, unsigned int *packets,
		  unsigned int *drops)
{
	struct tpacket_stats st;
	socklen_t l = sizeof(st);

	if (getsockopt(t->pkt_fd, SOL_PACKET, PACKET_STATISTICS, &st, &l) < 0)
		return -errno;
	if (packets)
		*packets = st.tp_packets;
	if (drops)
		*drops = st.tp_drops;
	return 0;
}

void vmm_gen_frame(uint32_t seq, void *buf, size_t len)
{
	static const uint8_t eth[14] = {
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01,	/* dst: not the tap */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02,	/* src */
		0x88, 0xb5,				/* local experimental */
	};
	uint64_t x = seq * 0x9E3779B97F4A7C15ULL + len + 1;
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		if ((i & 7) == 0) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		p[i] = (uint8_t)(x >> ((i & 7) * 8));
	}
	if (len >= sizeof(eth))
		memcpy(p, eth, sizeof(eth));
	if (len >= sizeof(eth) + 4) {
		p[14] = seq >> 24;
		p[15] = seq >> 16;
		p[16] = seq >> 8;
		p[17] = seq;
	}
}

uint32_t vmm_seq_hash(uint32_t seq)
{
	uint32_t h = seq * 0x9e3779b1u;

	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	return h;
}

int vmm_idle_step(struct vmm_vq *q, int event_idx, int progressed,
		  long long *progress, int idle_ms, int wait_ms)
{
	if (progressed) {
		*progress = now_ms();
		return 0;
	}
	if (now_ms() - *progress > idle_ms)
		return -ETIMEDOUT;
	vmm_event_arm(q, event_idx);
	if (vmm_used_idx(q) != q->used_idx)
		return 0;
	return vmm_wait_fd(q->call_fd, wait_ms) > 0;
}

long long vmm_now_ms(void)
{
	return now_ms();
}

unsigned int vmm_tx_nseg(uint32_t seq)
{
	return 2 + (seq * 7919u) % (VMM_MAX_SEGS - 1);
}

static size_t tx_len(const struct vmm_tx_opts *o, uint32_t seq)
{
	return o->len_of ? o->len_of(seq) : o->fixed_len;
}

int vmm_tx_stream(struct vmm *v, struct vmm_tap *t,
		  const struct vmm_tx_opts *o, struct vmm_tx_stats *st)
{
	return vmm_tx_stream_via(v, t, o, st, NULL, NULL);
}

int vmm_tx_stream_via(struct vmm *v, struct vmm_tap *t,
		      const struct vmm_tx_opts *o, struct vmm_tx_stats *st,
		      vmm_tx_post_fn post, void *ctx)
{
	struct vmm_vq *q = &v->vq[VMM_TX];
	uint8_t hdr[32] = { 0 };
	uint8_t *frame = malloc(70000), *rbuf = malloc(70000);
	uint32_t *expect = malloc(sizeof(uint32_t) * (o->count + 1));
	int event_idx = !!(v->features & (1ULL << VIRTIO_RING_F_EVENT_IDX));
	unsigned int i, next = 0, nexp = 0, pos = 0;
	long long start = now_ms(), progress = start;
	unsigned int drops = 0;

	memset(st, 0, sizeof(*st));
	if (!frame || !rbuf || !expect || o->hdr_len > sizeof(hdr)) {
		st->error = -ENOMEM;
		goto out;
	}
	for (i = 0; i < o->count; i++)
		if (tx_len(o, o->first_seq + i) >= o->min_arrive)
			expect[nexp++] = o->first_seq + i;
	st->expected = nexp;
	st->not_arriving = o->count - nexp;
	vmm_tap_stats(t, NULL, NULL);	/* reset counters */

	while (st->reaped < o->count || pos < nexp) {
		unsigned int posted = 0;
		int progressed = 0;
		uint32_t id;
		ssize_t n;
		int r;

		while (next < o->count) {
			uint32_t seq = o->first_seq + next;
			size_t len = tx_len(o, seq);
			int mode = o->mode >= 0 ? o->mode : (int)(seq % 3);

			if (q->num_free < (mode == VMM_CHAIN ? VMM_MAX_SEGS : 1))
				break;
			vmm_gen_frame(seq, frame, len);
			if (post)
				r = post(ctx, q, hdr, o->hdr_len, frame, len,
					 mode, vmm_tx_nseg(seq));
			else
				r = vmm_post_tx(q, hdr, o->hdr_len, frame, len,
						mode, vmm_tx_nseg(seq));
			if (r < 0) {
				st->error = r;
				snprintf(st->msg, sizeof(st->msg),
					 "post seq %u len %zu: %s", seq, len,
					 strerror(-r));
				goto out;
			}
			st->posted++;
			st->bytes_posted += len;
			next++;
			posted++;
		}
		if (posted) {
			vmm_kick(q);
			st->kicks++;
		}
		while ((r = vmm_reap(q, &id, NULL)) == 1) {
			st->reaped++;
			progressed = 1;
		}
		if (r < 0) {
			st->error = r;
			snprintf(st->msg, sizeof(st->msg),
				 "bad used id %u after %u reaped", id,
				 st->reaped);
			goto out;
		}
		while ((n = vmm_tap_recv(t, rbuf, 70000, 0)) >= 0) {
			size_t len;

			progressed = 1;
			if (pos >= nexp) {
				st->error = -EBADMSG;
				snprintf(st->msg, sizeof(st->msg),
					 "unexpected extra frame of %zd bytes",
					 n);
				goto out;
			}
			len = tx_len(o, expect[pos]);
			vmm_gen_frame(expect[pos], frame, len);
			if ((size_t)n != len || memcmp(frame, rbuf, len)) {
				st->error = -EBADMSG;
				snprintf(st->msg, sizeof(st->msg),
					 "frame #%u: expected seq %u len %zu, got len %zd%s",
					 pos, expect[pos], len, n,
					 (size_t)n == len ? " (content differs)" : "");
				goto out;
			}
			pos++;
			st->received++;
			st->bytes_received += n;
		}
		if (progressed) {
			progress = now_ms();
			continue;
		}
		if (now_ms() - progress > o->idle_timeout_ms) {
			st->error = -ETIMEDOUT;
			snprintf(st->msg, sizeof(st->msg),
				 "stalled: posted %u reaped %u received %u/%u",
				 st->posted, st->reaped, pos, nexp);
			goto out;
		}
		vmm_event_arm(q, event_idx);
		if (vmm_used_idx(q) != q->used_idx)
			continue;
		{
			struct pollfd p[2] = {
				{ .fd = q->call_fd, .events = POLLIN },
				{ .fd = t->pkt_fd, .events = POLLIN },
			};

			poll(p, 2, 20);
			if (p[0].revents & POLLIN)
				st->calls += vmm_poll_fd(q->call_fd);
		}
	}
	/* anything extra arriving late? */
	if (vmm_tap_recv(t, rbuf, 70000, 20) >= 0) {
		st->error = -EBADMSG;
		snprintf(st->msg, sizeof(st->msg), "extra frame after the stream");
	}
out:
	vmm_tap_stats(t, NULL, &drops);
	st->drops = drops;
	st->elapsed_ms = now_ms() - start;
	free(frame);
	free(rbuf);
	free(expect);
	return st->error;
}

/* ---- RX side ---- */

int vmm_post_rx(struct vmm_vq *q, size_t len, enum vmm_post_mode mode,
		unsigned int nseg)
{
	return post_layout(q, len, mode, nseg, VRING_DESC_F_WRITE, NULL, 0,
			   NULL);
}

size_t vmm_rx_copy(struct vmm_vq *q, uint16_t head, void *dst, size_t size)
{
	struct vring_desc *table = q->desc, *e;
	unsigned int i = head, steps = 0, max = q->num;
	uint8_t *out = dst;
	size_t done = 0;

	if (head >= q->num)
		return 0;
	if (q->packed)
		return vmm_rx_copy_segs(q, head, dst, size);
	if (q->desc[head].flags & VRING_DESC_F_INDIRECT) {
		table = vmm_hva(q->v, q->desc[head].addr);
		max = q->desc[head].len / sizeof(*table);
		i = 0;
		if (!table)
			return 0;
	}
	while (done < size && i < max && steps++ < max) {
		uint8_t *p;
		size_t c;

		e = &table[i];
		p = vmm_hva(q->v, e->addr);
		c = e->len < size - done ? e->len : size - done;
		if (!p)
			break;
		memcpy(out + done, p, c);
		done += c;
		if (!(e->flags & VRING_DESC_F_NEXT))
			break;
		i = e->next;
	}
	return done;
}

ssize_t vmm_rx_frame(struct vmm_vq *q, int mrg, void *buf, size_t size,
		     unsigned int *nbufs, int timeout_ms)
{
	return vmm_rx_frame_via(q, mrg, buf, size, nbufs, timeout_ms, NULL,
				NULL);
}

ssize_t vmm_rx_frame_via(struct vmm_vq *q, int mrg, void *buf, size_t size,
			 unsigned int *nbufs, int timeout_ms,
			 vmm_rx_copy_fn copy, void *ctx)
{
	long long end = now_ms() + timeout_ms;
	uint8_t *out = buf;
	unsigned int nb = 1, i;
	size_t total = 0, got = 0;
	uint32_t id, len;
	int r;

	*nbufs = 0;
	for (i = 0; i < nb; i++) {
		if (i && vmm_used_idx(q) == q->used_idx) {
			if (now_ms() > end)
				return -ETIMEDOUT;
			usleep(100);
			i--;
			continue;
		}
		/* Read the descriptors before vmm_reap() frees them. */
		if (!vmm_used_peek(q, &id, &len))
			return 0;
		if (id < q->num && q->chain_len[id] && got < size)
			got += copy ? copy(ctx, q, id, out + got,
					   len < size - got ? len :
					   size - got) :
				vmm_rx_copy(q, id, out + got,
					    len < size - got ? len : size - got);
		r = vmm_reap(q, &id, &len);
		if (r < 0)
			return r;
		(*nbufs)++;
		total += len;
		if (!i && mrg) {
			if (got < 12)
				return -EBADMSG;
			nb = out[10] | out[11] << 8;
			if (!nb || nb > q->num)
				return -EBADMSG;
		}
	}
	return total;
}

int vmm_inject_open(int ifindex, int vnet_hdr)
{
	struct sockaddr_ll sll;
	int fd, size = 16 << 20;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (vnet_hdr && setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &vnet_hdr,
				   sizeof(vnet_hdr)) < 0)
		goto err;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = 0;
	sll.sll_ifindex = ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		goto err;
	return fd;
err:
	size = -errno;
	close(fd);
	return size;
}

int vmm_inject(int fd, const void *buf, size_t len)
{
	ssize_t n = send(fd, buf, len, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int vmm_if_set_txqlen(const char *name, int len)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	ifr.ifr_qlen = len;
	return ifreq_ioctl(SIOCSIFTXQLEN, &ifr);
}

int vmm_if_set_mtu(const char *name, int mtu)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	ifr.ifr_mtu = mtu;
	return ifreq_ioctl(SIOCSIFMTU, &ifr);
}

long long vmm_if_stat(const char *name, const char *stat)
{
	char path[160], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", name,
		 stat);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	return atoll(buf);
}

int vmm_read_sysfs(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	if (size < 2)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	return 0;
}

int vmm_macvtap_open(const char *ifname, char *node, size_t nodesize)
{
	char path[160], buf[32];
	unsigned int maj, min;
	int ifindex, fd;

	snprintf(path, sizeof(path), "/sys/class/net/%s/ifindex", ifname);
	if (vmm_read_sysfs(path, buf, sizeof(buf)))
		return -ENODEV;
	ifindex = atoi(buf);
	snprintf(node, nodesize, "/dev/tap%d", ifindex);
	fd = open(node, O_RDWR | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : -errno;
	/* no udev: make our own node from the major:minor sysfs reports */
	snprintf(path, sizeof(path), "/sys/class/net/%s/macvtap/tap%d/dev",
		 ifname, ifindex);
	if (vmm_read_sysfs(path, buf, sizeof(buf)) ||
	    sscanf(buf, "%u:%u", &maj, &min) != 2)
		return -ENODEV;
	snprintf(node, nodesize, "/tmp/ivhost-%s-tap%d", ifname, ifindex);
	unlink(node);
	if (mknod(node, S_IFCHR | 0600, makedev(maj, min)))
		return -errno;
	fd = open(node, O_RDWR | O_CLOEXEC);
	return fd >= 0 ? fd : -errno;
}
