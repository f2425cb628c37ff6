// SPDX-License-Identifier: GPL-2.0
/*
 * abi_test - the vhost-net device ABI, checked for parity between ivhost
 * and the kernel's vhost_net.
 *
 * Run against the device named by $IVHOST_DEV (see common.h).  Every test
 * not named ivhost_only_* must pass on both /dev/ivhost-net and
 * /dev/vhost-net with the same errno; ivhost_only_* tests cover what
 * ivhost deliberately does differently and skip on any other device.
 *
 * Each test runs in its own process (the harness forks), so fds, taps and
 * mappings a test leaves behind go away when it ends.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "kselftest_harness.h"
#include "harness_filter.h"
#include "common.h"
#include "vmm.h"
#include <linux/ivhost.h>

#ifdef ABI_MEASURE	/* scratch builds: run ivhost_only tests everywhere */
#undef IVHOST_ONLY
#define IVHOST_ONLY() do { } while (0)
#endif

/* Ring size the tests configure. */
#define NUM		64
/* Guest memory: two rings of NUM slots plus room for extra regions. */
#define MEM_SIZE	(2 * NUM * (VMM_SLOT_SIZE + VMM_MAX_SEGS * 16) + \
			 (4 << 20))
/* An aligned address in the kernel half: outside every user mapping. */
#define KERNEL_ADDR	0xffff888000000000ULL
/* Virtio-net header the guest prepends and the tap parses (VERSION_1). */
#define HDR_LEN		sizeof(struct virtio_net_hdr_mrg_rxbuf)
/* An ioctl number no vhost device defines (magic 0xAF, nr 0x7f). */
#define VHOST_UNKNOWN_IOCTL	_IOW(VHOST_VIRTIO, 0x7f, __u64)

/* Features a QEMU-like VMM wants; it negotiates these & offered. */
static const uint64_t want_features =
	(1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_EVENT_IDX) |
	(1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
	(1ULL << VIRTIO_F_NOTIFY_ON_EMPTY) | (1ULL << VIRTIO_NET_F_MRG_RXBUF);

static const char *ename(int r)
{
	const char *s;

	if (!r)
		return "0";
	s = strerrorname_np(r < 0 ? -r : r);
	return s ? s : "?";
}

static int xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

/* Expect an ioctl-style result (0 or -errno); log both by name. */
#define EXPECT_RES(want, expr) do {					\
	int __want = (want), __got = (expr);				\
	EXPECT_EQ(__want, __got)					\
		TH_LOG("%s: got %s, want %s", #expr, ename(__got),	\
		       ename(__want));					\
} while (0)

#define ASSERT_RES(want, expr) do {					\
	int __want = (want), __got = (expr);				\
	ASSERT_EQ(__want, __got)					\
		TH_LOG("%s: got %s, want %s", #expr, ename(__got),	\
		       ename(__want));					\
} while (0)

/* Send frames through TX; on failure say what went wrong. */
#define EXPECT_TX(v, t, first, count) do {				\
	struct vmm_tx_stats __st;					\
	int __r = tx_frames(v, t, first, count, &__st);			\
	EXPECT_EQ(0, __r) TH_LOG("tx: %s: %s", ename(__r), __st.msg);	\
} while (0)

#define ASSERT_TX(v, t, first, count) do {				\
	struct vmm_tx_stats __st;					\
	int __r = tx_frames(v, t, first, count, &__st);			\
	ASSERT_EQ(0, __r) TH_LOG("tx: %s: %s", ename(__r), __st.msg);	\
} while (0)

/* Why the ioctl-ABI tests skip on a vhost-user backend. */
#define ABI_WHY "errno ABI of the vhost ioctls (vhost-user: vu_proto_test)"

static int dev_open(void)
{
	return open(ivhost_dev_path(), O_RDWR | O_CLOEXEC);
}

/* Open the device, skipping the test when it is not there. */
#define OPEN_OR_SKIP(fd) do {						\
	KERNEL_ONLY(ABI_WHY);						\
	(fd) = dev_open();						\
	if ((fd) < 0 && (errno == ENOENT || errno == ENODEV))		\
		SKIP(return, "%s: %s", ivhost_dev_path(),		\
		     strerror(errno));					\
	ASSERT_LE(0, (fd)) TH_LOG("open %s: %m", ivhost_dev_path());	\
} while (0)

/* max_mem_regions of the module behind the device under test. */
static unsigned int max_mem_regions(void)
{
	const char *p = ivhost_dev_is_ivhost() ?
		"/sys/module/ivhost/parameters/max_mem_regions" :
		"/sys/module/vhost/parameters/max_mem_regions";
	unsigned int n = 64;
	FILE *f = fopen(p, "r");

	if (f) {
		if (fscanf(f, "%u", &n) != 1)
			n = 64;
		fclose(f);
	}
	return n;
}

static int set_mem_regions(int fd, const struct vhost_memory_region *r,
			   uint32_t n, uint32_t padding)
{
	struct vhost_memory *m;
	int ret;

	m = calloc(1, sizeof(*m) + (n + 1) * sizeof(*r));
	if (!m)
		return -ENOMEM;
	m->nregions = n;
	m->padding = padding;
	if (n)
		memcpy(m->regions, r, n * sizeof(*r));
	ret = xioctl(fd, VHOST_SET_MEM_TABLE, m);
	free(m);
	return ret;
}

static int set_addr(int fd, unsigned int index, unsigned int flags,
		    uint64_t desc, uint64_t avail, uint64_t used)
{
	struct vhost_vring_addr a = {
		.index = index,
		.flags = flags,
		.desc_user_addr = desc,
		.used_user_addr = used,
		.avail_user_addr = avail,
	};

	return xioctl(fd, VHOST_SET_VRING_ADDR, &a);
}

static int set_file(int fd, unsigned long req, unsigned int index, int efd)
{
	struct vhost_vring_file f = { .index = index, .fd = efd };

	return xioctl(fd, req, &f);
}

static int set_state(int fd, unsigned long req, unsigned int index,
		     unsigned int num)
{
	struct vhost_vring_state s = { .index = index, .num = num };

	return xioctl(fd, req, &s);
}

static int set_u64(int fd, unsigned long req, uint64_t val)
{
	return xioctl(fd, req, &val);
}

/*
 * Owner, features, guest memory and its table, and both vqs' rings
 * allocated in guest memory (no vring ioctl issued yet).
 */
static int device_setup(struct vmm *v)
{
	uint64_t offered;
	int r, i;

	r = vmm_set_owner(v);
	if (!r)
		r = vmm_get_features(v, &offered);
	if (!r)
		r = vmm_set_features(v, want_features & offered);
	if (!r)
		r = vmm_mem_init(v, MEM_SIZE, VMM_GPA_BASE);
	if (!r)
		r = vmm_set_mem_table(v);
	for (i = 0; !r && i < VMM_NVQS; i++)
		r = vmm_vq_init(v, i, NUM);
	return r;
}

FIXTURE(owned) {
	struct vmm v;
};

FIXTURE_SETUP(owned)
{
	int r;

	KERNEL_ONLY_FIXTURE(ABI_WHY);
	r = vmm_open(&self->v, ivhost_dev_path());

	if (r == -ENOENT || r == -ENODEV)
		SKIP(return, "%s: %s", ivhost_dev_path(), strerror(-r));
	ASSERT_RES(0, r);
	ASSERT_RES(0, device_setup(&self->v));
}

FIXTURE_TEARDOWN(owned)
{
	vmm_close(&self->v);
}

/* owned, plus both vqs fully configured and a tap attached to both. */
FIXTURE(running) {
	struct vmm v;
	struct vmm_tap tap;
};

FIXTURE_SETUP(running)
{
	int r, i;

	self->tap.fd = -1;
	self->tap.pkt_fd = -1;
	KERNEL_ONLY_FIXTURE(ABI_WHY);
	r = vmm_open(&self->v, ivhost_dev_path());
	if (r == -ENOENT || r == -ENODEV)
		SKIP(return, "%s: %s", ivhost_dev_path(), strerror(-r));
	ASSERT_RES(0, r);
	ASSERT_RES(0, device_setup(&self->v));
	for (i = 0; i < VMM_NVQS; i++)
		ASSERT_RES(0, vmm_vq_setup(&self->v, i, 0));
	ASSERT_RES(0, vmm_tap_open(&self->tap, HDR_LEN));
	for (i = 0; i < VMM_NVQS; i++)
		ASSERT_RES(0, vmm_set_backend(&self->v, i, self->tap.fd));
}

FIXTURE_TEARDOWN(running)
{
	vmm_close(&self->v);
	vmm_tap_close(&self->tap);
}

/* Send count frames through TX and check they arrive on the tap. */
static int tx_frames(struct vmm *v, struct vmm_tap *t, uint32_t first,
		     unsigned int count, struct vmm_tx_stats *st)
{
	struct vmm_tx_opts o = {
		.first_seq = first,
		.count = count,
		.fixed_len = 128,
		.mode = -1,
		.hdr_len = HDR_LEN,
		.min_arrive = ETH_HLEN,
		.idle_timeout_ms = 5000,
	};
	int r = vmm_tx_stream(v, t, &o, st);

	if (!r && st->error)
		r = st->error;
	if (!r && st->received != count)
		r = -EIO;
	return r;
}

/* ----------------------------------------------------------------------
 * The QEMU start / stop / restart sequence
 */

static void qemu_start(struct __test_metadata *_metadata, struct vmm *v,
		       struct vmm_tap *t, uint16_t rx_base, uint16_t tx_base)
{
	uint64_t offered, bf;
	int i;

	ASSERT_RES(0, vmm_get_features(v, &offered));
	ASSERT_RES(0, vmm_set_features(v, want_features & offered));
	if (!v->user) {	/* vhost-user: protocol features, at connect */
		ASSERT_RES(0, xioctl(v->fd, VHOST_GET_BACKEND_FEATURES, &bf));
		bf &= 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2;
		ASSERT_RES(0, xioctl(v->fd, VHOST_SET_BACKEND_FEATURES, &bf));
	}
	ASSERT_RES(0, vmm_set_mem_table(v));
	for (i = 0; i < VMM_NVQS; i++) {
		struct vmm_vq *q = &v->vq[i];
		uint16_t base = i == VMM_TX ? tx_base : rx_base;

		q->avail_idx = base;
		q->used_idx = base;
		q->avail->idx = base;
		q->used->idx = base;
		ASSERT_RES(0, vmm_vq_set_num(v, i, q->num));
		ASSERT_RES(0, vmm_vq_set_base(v, i, base));
		ASSERT_RES(0, vmm_vq_set_addr(v, i));
		ASSERT_RES(0, vmm_vq_set_file(v, VHOST_SET_VRING_KICK, i,
					      q->kick_fd));
		ASSERT_RES(0, vmm_vq_set_file(v, VHOST_SET_VRING_CALL, i,
					      q->call_fd));
		ASSERT_RES(0, vmm_vq_set_file(v, VHOST_SET_VRING_ERR, i,
					      q->err_fd));
	}
	for (i = 0; i < VMM_NVQS; i++)
		ASSERT_RES(0, vmm_set_backend(v, i, t->fd));
}

/* Stop as QEMU does; returns the TX position through *tx_pos. */
static void qemu_stop(struct __test_metadata *_metadata, struct vmm *v,
		      unsigned int *rx_pos, unsigned int *tx_pos)
{
	int i;

	for (i = 0; i < VMM_NVQS; i++)
		ASSERT_RES(0, vmm_set_backend(v, i, -1));
	ASSERT_RES(0, vmm_vq_get_base(v, VMM_RX, rx_pos));
	ASSERT_RES(0, vmm_vq_get_base(v, VMM_TX, tx_pos));
}

static void qemu_sequence(struct __test_metadata *_metadata, uint16_t base)
{
	struct vmm_tap t;
	unsigned int rx, tx;
	uint64_t offered;
	struct vmm v;
	int r, i;

	r = vmm_open(&v, ivhost_dev_path());
	if (r == -ENOENT || r == -ENODEV)
		SKIP(return, "%s: %s", ivhost_dev_path(), strerror(-r));
	ASSERT_RES(0, r);
	ASSERT_RES(0, vmm_tap_open(&t, HDR_LEN));

	/* Init: owner, features, call (and err) eventfds per vq. */
	ASSERT_RES(0, vmm_set_owner(&v));
	ASSERT_RES(0, vmm_get_features(&v, &offered));
	ASSERT_RES(0, vmm_mem_init(&v, MEM_SIZE, VMM_GPA_BASE));
	for (i = 0; i < VMM_NVQS; i++) {
		ASSERT_RES(0, vmm_vq_init(&v, i, NUM));
		ASSERT_RES(0, vmm_vq_set_file(&v, VHOST_SET_VRING_CALL, i,
					      v.vq[i].call_fd));
		ASSERT_RES(0, vmm_vq_set_file(&v, VHOST_SET_VRING_ERR, i,
					      v.vq[i].err_fd));
	}

	/* Start, run traffic, stop: the position is where TX got to. */
	qemu_start(_metadata, &v, &t, base, base);
	ASSERT_TX(&v, &t, 0, 8);
	qemu_stop(_metadata, &v, &rx, &tx);
	EXPECT_EQ(base, rx);
	EXPECT_EQ((uint16_t)(base + 8), tx);

	/* Restart from the position GET_VRING_BASE gave, and run again. */
	qemu_start(_metadata, &v, &t, rx, tx);
	ASSERT_TX(&v, &t, 8, 8);
	qemu_stop(_metadata, &v, &rx, &tx);
	EXPECT_EQ(base, rx);
	EXPECT_EQ((uint16_t)(base + 16), tx);

	vmm_close(&v);
	vmm_tap_close(&t);
}

TEST(qemu_start_stop_restart)
{
	qemu_sequence(_metadata, 0);
}

/* The same from a base just below 2^16: the position wraps. */
TEST(qemu_start_stop_restart_base_wraps)
{
	qemu_sequence(_metadata, 0xfffa);
}

/* ----------------------------------------------------------------------
 * Ownership
 */

/*
 * Issue req on fd with an argument that would be valid for an owner of a
 * device set up like the owned fixture, so that ownership is the only
 * reason for it to fail.  v supplies memory and eventfds; it may belong to
 * another device than fd.
 */
static int valid_call(int fd, struct vmm *v, unsigned long req)
{
	struct vmm_vq *q = &v->vq[0];
	struct vhost_memory_region reg = {
		.guest_phys_addr = v->mem_gpa,
		.memory_size = v->mem_size,
		.userspace_addr = (uintptr_t)v->mem,
	};
	uint64_t u = 0;
	int i = 0;

	switch (req) {
	case VHOST_GET_FEATURES:
	case VHOST_GET_BACKEND_FEATURES:
		return xioctl(fd, req, &u);
	case VHOST_SET_FEATURES:
	case VHOST_SET_BACKEND_FEATURES:
		return set_u64(fd, req, 0);
	case VHOST_SET_OWNER:
	case VHOST_RESET_OWNER:
		return xioctl(fd, req, NULL);
	case VHOST_SET_MEM_TABLE:
		return set_mem_regions(fd, &reg, 1, 0);
	case VHOST_SET_LOG_BASE:
		return set_u64(fd, req, 0);
	case VHOST_SET_LOG_FD:
		i = -1;
		return xioctl(fd, req, &i);
	case VHOST_SET_VRING_NUM:
		return set_state(fd, req, 0, NUM);
	case VHOST_SET_VRING_BASE:
	case VHOST_GET_VRING_BASE:
	case VHOST_SET_VRING_ENDIAN:
	case VHOST_GET_VRING_ENDIAN:
	case VHOST_SET_VRING_BUSYLOOP_TIMEOUT:
	case VHOST_GET_VRING_BUSYLOOP_TIMEOUT:
		return set_state(fd, req, 0, 0);
	case VHOST_SET_VRING_ADDR:
		return set_addr(fd, 0, 0, (uintptr_t)q->desc,
				(uintptr_t)q->avail, (uintptr_t)q->used);
	case VHOST_SET_VRING_KICK:
		return set_file(fd, req, 0, q->kick_fd);
	case VHOST_SET_VRING_CALL:
		return set_file(fd, req, 0, q->call_fd);
	case VHOST_SET_VRING_ERR:
		return set_file(fd, req, 0, q->err_fd);
	case VHOST_NET_SET_BACKEND:
		return set_file(fd, req, 0, -1);
	}
	return xioctl(fd, req, &u);
}

/* A device fd with no owner, and a vmm (with an owner) for arguments. */
static int unowned_fd(struct vmm *v)
{
	int r = vmm_open(v, ivhost_dev_path());

	if (!r)
		r = device_setup(v);
	if (r)
		return r;
	return dev_open();
}

#define BEFORE_OWNER_TEST(name, req, want)				\
TEST(before_owner_##name)						\
{									\
	struct vmm v;							\
	int fd;								\
									\
	KERNEL_ONLY(ABI_WHY);						\
	fd = unowned_fd(&v);						\
	if (fd == -ENOENT || fd == -ENODEV)				\
		SKIP(return, "%s: no device", ivhost_dev_path());	\
	ASSERT_LE(0, fd) TH_LOG("setup: %s", ename(fd));		\
	EXPECT_RES(want, valid_call(fd, &v, req));			\
	close(fd);							\
	vmm_close(&v);							\
}

BEFORE_OWNER_TEST(get_features_ok, VHOST_GET_FEATURES, 0)
BEFORE_OWNER_TEST(get_backend_features_ok, VHOST_GET_BACKEND_FEATURES, 0)
BEFORE_OWNER_TEST(reset_owner_eperm, VHOST_RESET_OWNER, -EPERM)
BEFORE_OWNER_TEST(set_mem_table_eperm, VHOST_SET_MEM_TABLE, -EPERM)
BEFORE_OWNER_TEST(set_log_base_eperm, VHOST_SET_LOG_BASE, -EPERM)
BEFORE_OWNER_TEST(set_log_fd_eperm, VHOST_SET_LOG_FD, -EPERM)
BEFORE_OWNER_TEST(set_vring_num_eperm, VHOST_SET_VRING_NUM, -EPERM)
BEFORE_OWNER_TEST(set_vring_base_eperm, VHOST_SET_VRING_BASE, -EPERM)
BEFORE_OWNER_TEST(get_vring_base_eperm, VHOST_GET_VRING_BASE, -EPERM)
BEFORE_OWNER_TEST(set_vring_addr_eperm, VHOST_SET_VRING_ADDR, -EPERM)
BEFORE_OWNER_TEST(set_vring_kick_eperm, VHOST_SET_VRING_KICK, -EPERM)
BEFORE_OWNER_TEST(set_vring_call_eperm, VHOST_SET_VRING_CALL, -EPERM)
BEFORE_OWNER_TEST(set_vring_err_eperm, VHOST_SET_VRING_ERR, -EPERM)
BEFORE_OWNER_TEST(net_set_backend_eperm, VHOST_NET_SET_BACKEND, -EPERM)
BEFORE_OWNER_TEST(unknown_ioctl_eperm, VHOST_UNKNOWN_IOCTL, -EPERM)
BEFORE_OWNER_TEST(set_vring_endian_eperm, VHOST_SET_VRING_ENDIAN, -EPERM)
BEFORE_OWNER_TEST(set_vring_busyloop_timeout_eperm,
		  VHOST_SET_VRING_BUSYLOOP_TIMEOUT, -EPERM)

/*
 * vhost_net lets a process that is not the owner set the (backend)
 * features of the device; ivhost requires ownership for every ioctl that
 * changes the device.
 */
#define IVHOST_ONLY_BEFORE_OWNER_TEST(name, req, want)			\
TEST(ivhost_only_before_owner_##name)					\
{									\
	struct vmm v;							\
	int fd;								\
									\
	IVHOST_ONLY();							\
	fd = unowned_fd(&v);						\
	ASSERT_LE(0, fd) TH_LOG("setup: %s", ename(fd));		\
	EXPECT_RES(want, valid_call(fd, &v, req));			\
	close(fd);							\
	vmm_close(&v);							\
}

IVHOST_ONLY_BEFORE_OWNER_TEST(set_features_eperm, VHOST_SET_FEATURES, -EPERM)
IVHOST_ONLY_BEFORE_OWNER_TEST(set_backend_features_eperm,
			      VHOST_SET_BACKEND_FEATURES, -EPERM)

TEST(set_owner_ok)
{
	int fd;

	OPEN_OR_SKIP(fd);
	EXPECT_RES(0, xioctl(fd, VHOST_SET_OWNER, NULL));
	close(fd);
}

TEST_F(owned, set_owner_twice_ebusy)
{
	EXPECT_RES(-EBUSY, xioctl(self->v.fd, VHOST_SET_OWNER, NULL));
}

TEST_F(running, reset_owner_then_set_owner)
{
	struct vmm *v = &self->v;
	int i;

	EXPECT_RES(0, xioctl(v->fd, VHOST_RESET_OWNER, NULL));
	/* No owner now: everything but the three free ioctls is refused. */
	EXPECT_RES(-EPERM, valid_call(v->fd, v, VHOST_SET_VRING_NUM));
	EXPECT_RES(-EPERM, valid_call(v->fd, v, VHOST_RESET_OWNER));
	/* Ownership can be taken again and the device set up anew. */
	ASSERT_RES(0, xioctl(v->fd, VHOST_SET_OWNER, NULL));
	ASSERT_RES(-EBUSY, xioctl(v->fd, VHOST_SET_OWNER, NULL));
	ASSERT_RES(0, vmm_set_features(v, v->features));
	ASSERT_RES(0, vmm_set_mem_table(v));
	for (i = 0; i < VMM_NVQS; i++) {
		ASSERT_RES(0, vmm_vq_setup(v, i, 0));
		ASSERT_RES(0, vmm_set_backend(v, i, self->tap.fd));
	}
	ASSERT_TX(v, &self->tap, 0, 4);
}

TEST_F(running, reset_owner_resets_vring_base)
{
	unsigned int base = 1;
	struct vmm *v = &self->v;

	ASSERT_RES(0, vmm_set_backend(v, VMM_TX, -1));
	ASSERT_RES(0, vmm_vq_set_base(v, VMM_TX, 77));
	ASSERT_RES(0, xioctl(v->fd, VHOST_RESET_OWNER, NULL));
	ASSERT_RES(0, xioctl(v->fd, VHOST_SET_OWNER, NULL));
	EXPECT_RES(0, vmm_vq_get_base(v, VMM_TX, &base));
	EXPECT_EQ(0U, base);
}

TEST_F(owned, unknown_ioctl_enotty)
{
	uint64_t u[8] = { 0 };

	EXPECT_RES(-ENOTTY, xioctl(self->v.fd, VHOST_UNKNOWN_IOCTL, u));
	EXPECT_RES(-ENOTTY, xioctl(self->v.fd, _IO(0x12, 0x34), u));
	EXPECT_RES(-ENOTTY, xioctl(self->v.fd, _IOW(VHOST_VIRTIO, 0x40, int),
				   u));
}

/*
 * vhost_net reads a vring index from the argument of any ioctl it does not
 * know, so an unknown ioctl with an unreadable argument gives EFAULT
 * there; ivhost says ENOTTY whatever the argument.
 */
TEST_F(owned, ivhost_only_unknown_ioctl_bad_pointer_enotty)
{
	IVHOST_ONLY();
	EXPECT_RES(-ENOTTY, xioctl(self->v.fd, _IO(0x12, 0x34), NULL));
	EXPECT_RES(-ENOTTY, xioctl(self->v.fd, VHOST_UNKNOWN_IOCTL, NULL));
}

/* ----------------------------------------------------------------------
 * IVHOST_GET_IOTLB_STATS: an extensible struct (see its kernel-doc in
 * <linux/ivhost.h>).  The kernel fills min(caller's size, its own) bytes,
 * says how many in .size and never touches a byte past that.
 */

#define STATS_CANARY	0xa5
/* Room for a struct a future header might define. */
#define STATS_ROOM	(sizeof(struct ivhost_iotlb_stats) + 64)

/* IVHOST_GET_IOTLB_STATS on @buf (STATS_ROOM bytes, canary-filled) with
 * the header @size, @flags.
 */
static int stats_call(int fd, uint8_t *buf, uint32_t size, uint32_t flags)
{
	struct ivhost_ioctl_hdr hdr = { .size = size, .flags = flags };

	memset(buf, STATS_CANARY, STATS_ROOM);
	memcpy(buf, &hdr, sizeof(hdr));
	return xioctl(fd, IVHOST_GET_IOTLB_STATS, buf);
}

/* The first byte in [from, to) of @buf that is not the canary, or -1. */
static long stats_touched(const uint8_t *buf, size_t from, size_t to)
{
	for (; from < to; from++)
		if (buf[from] != STATS_CANARY)
			return from;
	return -1;
}

/* Each counter in [8, end) of @buf was written: a fresh device's
 * counters are far below the canary pattern 0xa5a5...
 */
static long stats_unwritten(const uint8_t *buf, size_t end)
{
	uint64_t canary, c;
	size_t off;

	memset(&canary, STATS_CANARY, sizeof(canary));
	for (off = sizeof(struct ivhost_ioctl_hdr); off < end; off += 8) {
		memcpy(&c, buf + off, sizeof(c));
		if (c == canary)
			return off;
	}
	return -1;
}

/* A caller built against the first version gets its fields only. */
TEST_F(owned, ivhost_only_iotlb_stats_first_version_size)
{
	uint8_t buf[STATS_ROOM];
	struct ivhost_ioctl_hdr hdr;

	IVHOST_ONLY();
	ASSERT_RES(0, stats_call(self->v.fd, buf,
				 IVHOST_IOTLB_STATS_SIZE_VER0, 0));
	memcpy(&hdr, buf, sizeof(hdr));
	EXPECT_EQ((uint32_t)IVHOST_IOTLB_STATS_SIZE_VER0, hdr.size);
	EXPECT_EQ(0U, hdr.flags);
	EXPECT_EQ(-1, stats_unwritten(buf, IVHOST_IOTLB_STATS_SIZE_VER0));
	EXPECT_EQ(-1, stats_touched(buf, IVHOST_IOTLB_STATS_SIZE_VER0,
				    STATS_ROOM));
}

/* A caller built against a newer, larger struct learns from .size what
 * the kernel filled; its tail is left alone, even unmapped.
 */
TEST_F(owned, ivhost_only_iotlb_stats_larger_struct)
{
	const size_t ksize = sizeof(struct ivhost_iotlb_stats);
	long page = sysconf(_SC_PAGESIZE);
	struct ivhost_ioctl_hdr hdr;
	uint8_t buf[STATS_ROOM];
	uint8_t *map, *end;

	IVHOST_ONLY();
	ASSERT_RES(0, stats_call(self->v.fd, buf, STATS_ROOM, 0));
	memcpy(&hdr, buf, sizeof(hdr));
	EXPECT_EQ(ksize, hdr.size);
	EXPECT_EQ(0U, hdr.flags);
	EXPECT_EQ(-1, stats_unwritten(buf, ksize));
	EXPECT_EQ(-1, stats_touched(buf, ksize, STATS_ROOM));

	/* The struct ends a mapping; the claimed tail is not there. */
	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, munmap(map + page, page));
	end = map + page - ksize;
	hdr.size = ksize + page;
	hdr.flags = 0;
	memcpy(end, &hdr, sizeof(hdr));
	EXPECT_RES(0, xioctl(self->v.fd, IVHOST_GET_IOTLB_STATS, end));
	memcpy(&hdr, end, sizeof(hdr));
	EXPECT_EQ(ksize, hdr.size);
	munmap(map, page);
}

/* Smaller than the first version, or flags set: EINVAL, nothing written. */
TEST_F(owned, ivhost_only_iotlb_stats_bad_header_einval)
{
	static const uint32_t sizes[] = {
		0, 1, sizeof(struct ivhost_ioctl_hdr),
		IVHOST_IOTLB_STATS_SIZE_VER0 - 8,
		IVHOST_IOTLB_STATS_SIZE_VER0 - 1,
	};
	struct ivhost_ioctl_hdr hdr;
	uint8_t buf[STATS_ROOM];
	unsigned int i;

	IVHOST_ONLY();
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		EXPECT_RES(-EINVAL, stats_call(self->v.fd, buf, sizes[i], 0));
		memcpy(&hdr, buf, sizeof(hdr));
		EXPECT_EQ(sizes[i], hdr.size);
		EXPECT_EQ(-1, stats_touched(buf, sizeof(hdr), STATS_ROOM))
			TH_LOG("size %u", sizes[i]);
	}
	EXPECT_RES(-EINVAL, stats_call(self->v.fd, buf, STATS_ROOM, 1));
	EXPECT_RES(-EINVAL, stats_call(self->v.fd, buf, STATS_ROOM,
				       0x80000000U));
	EXPECT_EQ(-1, stats_touched(buf, sizeof(hdr), STATS_ROOM));
}

/* An unreadable header, or counters that cannot all be written: EFAULT. */
TEST_F(owned, ivhost_only_iotlb_stats_bad_pointer_efault)
{
	long page = sysconf(_SC_PAGESIZE);
	struct ivhost_ioctl_hdr hdr = {
		.size = IVHOST_IOTLB_STATS_SIZE_VER0,
	};
	uint8_t *map, *end;

	IVHOST_ONLY();
	EXPECT_RES(-EFAULT, xioctl(self->v.fd, IVHOST_GET_IOTLB_STATS, NULL));
	EXPECT_RES(-EFAULT, xioctl(self->v.fd, IVHOST_GET_IOTLB_STATS,
				   (void *)KERNEL_ADDR));

	/* The header is there; the first version's counters are not. */
	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, munmap(map + page, page));
	end = map + page - sizeof(hdr);
	memcpy(end, &hdr, sizeof(hdr));
	EXPECT_RES(-EFAULT, xioctl(self->v.fd, IVHOST_GET_IOTLB_STATS, end));

	/* Readable but not writable. */
	memcpy(map, &hdr, sizeof(hdr));
	ASSERT_EQ(0, mprotect(map, page, PROT_READ));
	EXPECT_RES(-EFAULT, xioctl(self->v.fd, IVHOST_GET_IOTLB_STATS, map));
	munmap(map, page);
}

/* The number the ioctl had when it borrowed vhost's magic (0xAF, 0xE0,
 * a fixed 288-byte struct) is an unknown ioctl like any other.
 */
TEST_F(owned, ivhost_only_iotlb_stats_old_number_enotty)
{
	uint8_t buf[STATS_ROOM] = { 0 };

	IVHOST_ONLY();
	EXPECT_RES(-ENOTTY, xioctl(self->v.fd,
				   _IOR(VHOST_VIRTIO, 0xE0, uint8_t[288]),
				   buf));
}

/*
 * Debian's vhost is built without cross-endian legacy rings: neither
 * device knows the VRING_ENDIAN ioctls.
 */
TEST_F(owned, vring_endian_enotty)
{
	EXPECT_RES(-ENOTTY, valid_call(self->v.fd, &self->v,
				       VHOST_SET_VRING_ENDIAN));
	EXPECT_RES(-ENOTTY, valid_call(self->v.fd, &self->v,
				       VHOST_GET_VRING_ENDIAN));
}

/* Dirty logging and busy polling are not there yet. */
TEST_F(owned, log_and_busyloop_ioctls_ok)
{
	static const unsigned long reqs[] = {
		VHOST_SET_LOG_BASE, VHOST_SET_LOG_FD,
		VHOST_SET_VRING_BUSYLOOP_TIMEOUT,
		VHOST_GET_VRING_BUSYLOOP_TIMEOUT,
	};
	unsigned int i;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		int r = valid_call(self->v.fd, &self->v, reqs[i]);

		EXPECT_EQ(0, r)
			TH_LOG("ioctl %#lx: got %s", reqs[i], ename(r));
	}
}

/* The unreadable / unwritable argument gives EFAULT, for each kind. */
TEST_F(owned, bad_argument_pointer_efault)
{
	static const unsigned long reqs[] = {
		VHOST_GET_FEATURES, VHOST_SET_FEATURES,
		VHOST_GET_BACKEND_FEATURES, VHOST_SET_BACKEND_FEATURES,
		VHOST_SET_MEM_TABLE, VHOST_SET_VRING_NUM,
		VHOST_SET_VRING_BASE, VHOST_GET_VRING_BASE,
		VHOST_SET_VRING_ADDR, VHOST_SET_VRING_KICK,
		VHOST_SET_VRING_CALL, VHOST_SET_VRING_ERR,
		VHOST_NET_SET_BACKEND,
	};
	unsigned int i;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		int r = xioctl(self->v.fd, reqs[i], (void *)KERNEL_ADDR);

		EXPECT_EQ(-EFAULT, r)
			TH_LOG("ioctl %#lx: got %s", reqs[i], ename(r));
	}
}

/* ----------------------------------------------------------------------
 * Features
 */

TEST_F(owned, get_features_stable)
{
	uint64_t a = 0, b = 0;

	ASSERT_RES(0, vmm_get_features(&self->v, &a));
	ASSERT_RES(0, vmm_get_features(&self->v, &b));
	EXPECT_EQ(a, b);
	EXPECT_NE(0ULL, a & (1ULL << VIRTIO_F_VERSION_1));
}

TEST_F(owned, set_features_offered_ok)
{
	uint64_t offered;

	ASSERT_RES(0, vmm_get_features(&self->v, &offered));
	EXPECT_RES(0, set_u64(self->v.fd, VHOST_SET_FEATURES, offered));
	EXPECT_RES(0, set_u64(self->v.fd, VHOST_SET_FEATURES, 0));
}

TEST_F(owned, set_features_unknown_bits_eopnotsupp)
{
	uint64_t offered;
	int bit;

	ASSERT_RES(0, vmm_get_features(&self->v, &offered));
	EXPECT_RES(-EOPNOTSUPP,
		   set_u64(self->v.fd, VHOST_SET_FEATURES, ~offered));
	for (bit = 0; bit < 64; bit++) {
		uint64_t f = 1ULL << bit;
		int r;

		if (offered & f)
			continue;
		r = set_u64(self->v.fd, VHOST_SET_FEATURES, offered | f);
		EXPECT_EQ(-EOPNOTSUPP, r)
			TH_LOG("bit %d: got %s", bit, ename(r));
	}
}

TEST_F(owned, set_backend_features_offered_ok)
{
	uint64_t offered;

	ASSERT_RES(0, xioctl(self->v.fd, VHOST_GET_BACKEND_FEATURES, &offered));
	EXPECT_RES(0, set_u64(self->v.fd, VHOST_SET_BACKEND_FEATURES, offered));
	EXPECT_RES(0, set_u64(self->v.fd, VHOST_SET_BACKEND_FEATURES, 0));
}

TEST_F(owned, set_backend_features_unknown_bits_eopnotsupp)
{
	uint64_t offered;
	int bit;

	ASSERT_RES(0, xioctl(self->v.fd, VHOST_GET_BACKEND_FEATURES, &offered));
	for (bit = 0; bit < 64; bit++) {
		uint64_t f = 1ULL << bit;
		int r;

		if (offered & f)
			continue;
		r = set_u64(self->v.fd, VHOST_SET_BACKEND_FEATURES, f);
		EXPECT_EQ(-EOPNOTSUPP, r)
			TH_LOG("bit %d: got %s", bit, ename(r));
	}
}

/* ----------------------------------------------------------------------
 * VHOST_SET_MEM_TABLE
 */

/* Fill r[0..n) with page-sized regions carved out of v's memory. */
static void page_regions(struct vmm *v, struct vhost_memory_region *r,
			 unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		r[i].guest_phys_addr = v->mem_gpa + (uint64_t)i * 4096;
		r[i].memory_size = 4096;
		r[i].userspace_addr = (uintptr_t)v->mem + (uint64_t)i * 4096;
		r[i].flags_padding = 0;
	}
}

TEST_F(owned, set_mem_table_max_regions_ok)
{
	unsigned int n = max_mem_regions();
	struct vhost_memory_region *r = calloc(n, sizeof(*r));

	ASSERT_NE(NULL, r);
	ASSERT_GE(self->v.mem_size, (size_t)n * 4096);
	page_regions(&self->v, r, n);
	EXPECT_RES(0, set_mem_regions(self->v.fd, r, n, 0));
	free(r);
}

TEST_F(owned, set_mem_table_too_many_regions_e2big)
{
	struct vhost_memory m = { 0 };
	unsigned int n = max_mem_regions() + 1;
	struct vhost_memory_region *r = calloc(n, sizeof(*r));

	ASSERT_NE(NULL, r);
	ASSERT_GE(self->v.mem_size, (size_t)n * 4096);
	page_regions(&self->v, r, n);
	EXPECT_RES(-E2BIG, set_mem_regions(self->v.fd, r, n, 0));
	/* A huge count is refused before the regions are read. */
	m.nregions = 0xffffffff;
	EXPECT_RES(-E2BIG, xioctl(self->v.fd, VHOST_SET_MEM_TABLE, &m));
	free(r);
}

/* A readable header whose regions are not readable. */
TEST_F(owned, set_mem_table_regions_unreadable_efault)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct vhost_memory *m;
	uint8_t *p;

	p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, mprotect(p + pg, pg, PROT_NONE));
	m = (struct vhost_memory *)(p + pg - sizeof(*m));
	m->nregions = 1;
	m->padding = 0;
	EXPECT_RES(-EFAULT, xioctl(self->v.fd, VHOST_SET_MEM_TABLE, m));
	munmap(p, 2 * pg);
}

TEST_F(owned, set_mem_table_empty_ok)
{
	EXPECT_RES(0, set_mem_regions(self->v.fd, NULL, 0, 0));
}

TEST_F(owned, set_mem_table_padding_eopnotsupp)
{
	struct vhost_memory_region r;

	page_regions(&self->v, &r, 1);
	EXPECT_RES(-EOPNOTSUPP, set_mem_regions(self->v.fd, &r, 1, 1));
	EXPECT_RES(-EOPNOTSUPP, set_mem_regions(self->v.fd, NULL, 0,
						0x80000000));
}

TEST_F(owned, set_mem_table_region_flags_padding_ignored)
{
	struct vhost_memory_region r;

	page_regions(&self->v, &r, 1);
	r.flags_padding = ~0ULL;
	EXPECT_RES(0, set_mem_regions(self->v.fd, &r, 1, 0));
}

TEST_F(owned, set_mem_table_size_zero_efault)
{
	struct vhost_memory_region r[2];

	page_regions(&self->v, r, 2);
	r[1].memory_size = 0;
	EXPECT_RES(-EFAULT, set_mem_regions(self->v.fd, r, 2, 0));
}

TEST_F(owned, set_mem_table_gpa_wrap_efault)
{
	struct vhost_memory_region r;

	page_regions(&self->v, &r, 1);
	r.guest_phys_addr = 0xfffffffffffff000ULL;
	r.memory_size = 0x2000;
	EXPECT_RES(-EFAULT, set_mem_regions(self->v.fd, &r, 1, 0));
}

TEST_F(owned, set_mem_table_gpa_last_page_ok)
{
	struct vhost_memory_region r;

	page_regions(&self->v, &r, 1);
	r.guest_phys_addr = 0xfffffffffffff000ULL;
	EXPECT_RES(0, set_mem_regions(self->v.fd, &r, 1, 0));
}

/*
 * vhost_net checks region user addresses only while a backend is
 * attached (see the running tests below); ivhost checks them always.
 */
TEST_F(owned, ivhost_only_set_mem_table_uaddr_wrap_efault)
{
	struct vhost_memory_region r;

	IVHOST_ONLY();
	page_regions(&self->v, &r, 1);
	r.userspace_addr = 0xfffffffffffff000ULL;
	r.memory_size = 0x2000;
	EXPECT_RES(-EFAULT, set_mem_regions(self->v.fd, &r, 1, 0));
}

TEST_F(owned, ivhost_only_set_mem_table_uaddr_kernel_efault)
{
	struct vhost_memory_region r;

	IVHOST_ONLY();
	page_regions(&self->v, &r, 1);
	r.userspace_addr = KERNEL_ADDR;
	EXPECT_RES(-EFAULT, set_mem_regions(self->v.fd, &r, 1, 0));
}

TEST_F(running, set_mem_table_uaddr_wrap_while_running_efault)
{
	struct vhost_memory_region r;

	page_regions(&self->v, &r, 1);
	r.userspace_addr = 0xfffffffffffff000ULL;
	r.memory_size = 0x2000;
	EXPECT_RES(-EFAULT, set_mem_regions(self->v.fd, &r, 1, 0));
}

TEST_F(running, set_mem_table_uaddr_kernel_while_running_efault)
{
	struct vhost_memory_region r;

	page_regions(&self->v, &r, 1);
	r.userspace_addr = KERNEL_ADDR;
	EXPECT_RES(-EFAULT, set_mem_regions(self->v.fd, &r, 1, 0));
}

/* A failed SET_MEM_TABLE leaves the previous table in place. */
TEST_F(running, set_mem_table_failure_keeps_table)
{
	struct vhost_memory_region r;

	page_regions(&self->v, &r, 1);
	r.userspace_addr = KERNEL_ADDR;
	ASSERT_RES(-EFAULT, set_mem_regions(self->v.fd, &r, 1, 0));
	EXPECT_TX(&self->v, &self->tap, 0, 4);
}

TEST_F(owned, ivhost_only_set_mem_table_overlap_einval)
{
	struct vhost_memory_region r[2];

	IVHOST_ONLY();
	page_regions(&self->v, r, 2);
	r[1].guest_phys_addr = r[0].guest_phys_addr + 2048;
	EXPECT_RES(-EINVAL, set_mem_regions(self->v.fd, r, 2, 0));
	/* The same guest range twice. */
	r[1].guest_phys_addr = r[0].guest_phys_addr;
	EXPECT_RES(-EINVAL, set_mem_regions(self->v.fd, r, 2, 0));
}

/* vhost_net takes gpa 0 + size 0 as a region covering all of 2^64. */
TEST_F(owned, ivhost_only_set_mem_table_size_zero_at_gpa_zero_efault)
{
	struct vhost_memory_region r;

	IVHOST_ONLY();
	page_regions(&self->v, &r, 1);
	r.guest_phys_addr = 0;
	r.memory_size = 0;
	EXPECT_RES(-EFAULT, set_mem_regions(self->v.fd, &r, 1, 0));
}

/* ----------------------------------------------------------------------
 * Vring ioctls
 */

TEST_F(owned, vring_index_out_of_range_enobufs)
{
	static const unsigned long reqs[] = {
		VHOST_SET_VRING_NUM, VHOST_SET_VRING_BASE,
		VHOST_GET_VRING_BASE, VHOST_SET_VRING_ADDR,
		VHOST_SET_VRING_KICK, VHOST_SET_VRING_CALL,
		VHOST_SET_VRING_ERR,
	};
	static const unsigned int idx[] = { VMM_NVQS, 0x80000000, 0xffffffff };
	unsigned int i, j;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		for (j = 0; j < sizeof(idx) / sizeof(idx[0]); j++) {
			/* Every vring argument starts with the index. */
			union {
				struct vhost_vring_state s;
				struct vhost_vring_addr a;
				struct vhost_vring_file f;
			} u;
			int r;

			memset(&u, 0, sizeof(u));
			u.s.index = idx[j];
			if (reqs[i] == VHOST_SET_VRING_NUM)
				u.s.num = NUM;
			if (reqs[i] >= VHOST_SET_VRING_KICK)
				u.f.fd = -1;
			r = xioctl(self->v.fd, reqs[i], &u);
			EXPECT_EQ(-ENOBUFS, r)
				TH_LOG("ioctl %#lx index %#x: got %s",
				       reqs[i], idx[j], ename(r));
		}
	}
}

TEST_F(owned, vring_num_zero_einval)
{
	EXPECT_RES(-EINVAL, set_state(self->v.fd, VHOST_SET_VRING_NUM, 0, 0));
}

TEST_F(owned, vring_num_not_power_of_two_einval)
{
	EXPECT_RES(-EINVAL, set_state(self->v.fd, VHOST_SET_VRING_NUM, 0, 3));
	EXPECT_RES(-EINVAL, set_state(self->v.fd, VHOST_SET_VRING_NUM, 1, 96));
	EXPECT_RES(-EINVAL,
		   set_state(self->v.fd, VHOST_SET_VRING_NUM, 0, 0xffff));
}

TEST_F(owned, vring_num_too_big_einval)
{
	EXPECT_RES(-EINVAL,
		   set_state(self->v.fd, VHOST_SET_VRING_NUM, 0, 65536));
	EXPECT_RES(-EINVAL,
		   set_state(self->v.fd, VHOST_SET_VRING_NUM, 0, 1U << 31));
	EXPECT_RES(-EINVAL,
		   set_state(self->v.fd, VHOST_SET_VRING_NUM, 0, 32769));
}

TEST_F(owned, vring_num_limits_ok)
{
	EXPECT_RES(0, set_state(self->v.fd, VHOST_SET_VRING_NUM, 0, 1));
	EXPECT_RES(0, set_state(self->v.fd, VHOST_SET_VRING_NUM, 1, 32768));
}

TEST_F(running, vring_num_while_backend_ebusy)
{
	EXPECT_RES(-EBUSY,
		   set_state(self->v.fd, VHOST_SET_VRING_NUM, VMM_TX, NUM));
	EXPECT_RES(-EBUSY,
		   set_state(self->v.fd, VHOST_SET_VRING_NUM, VMM_RX, NUM));
	/* Detached, the same call is fine. */
	ASSERT_RES(0, vmm_set_backend(&self->v, VMM_TX, -1));
	EXPECT_RES(0, set_state(self->v.fd, VHOST_SET_VRING_NUM, VMM_TX, NUM));
}

TEST_F(owned, vring_base_too_big_einval)
{
	EXPECT_RES(-EINVAL,
		   set_state(self->v.fd, VHOST_SET_VRING_BASE, 0, 0x10000));
	EXPECT_RES(-EINVAL,
		   set_state(self->v.fd, VHOST_SET_VRING_BASE, 1, 0xffffffff));
}

TEST_F(owned, vring_base_roundtrip)
{
	unsigned int base = 0;

	EXPECT_RES(0, set_state(self->v.fd, VHOST_SET_VRING_BASE, 1, 0xffff));
	EXPECT_RES(0, vmm_vq_get_base(&self->v, 1, &base));
	EXPECT_EQ(0xffffU, base);
	EXPECT_RES(0, set_state(self->v.fd, VHOST_SET_VRING_BASE, 0, 1234));
	EXPECT_RES(0, vmm_vq_get_base(&self->v, 0, &base));
	EXPECT_EQ(1234U, base);
}

TEST_F(running, vring_base_while_backend_ebusy)
{
	EXPECT_RES(-EBUSY, set_state(self->v.fd, VHOST_SET_VRING_BASE,
				     VMM_TX, 0));
	EXPECT_RES(-EBUSY, set_state(self->v.fd, VHOST_SET_VRING_BASE,
				     VMM_RX, 0));
	ASSERT_RES(0, vmm_set_backend(&self->v, VMM_RX, -1));
	EXPECT_RES(0, set_state(self->v.fd, VHOST_SET_VRING_BASE, VMM_RX, 0));
}

TEST_F(running, get_vring_base_while_running_ok)
{
	unsigned int base = 1;

	EXPECT_RES(0, vmm_vq_get_base(&self->v, VMM_TX, &base));
	EXPECT_EQ(0U, base);
}

static int vq_set_addr(struct vmm *v, unsigned int i, unsigned int flags,
		       uint64_t ddelta, uint64_t adelta, uint64_t udelta)
{
	struct vmm_vq *q = &v->vq[i];

	return set_addr(v->fd, i, flags, (uintptr_t)q->desc + ddelta,
			(uintptr_t)q->avail + adelta,
			(uintptr_t)q->used + udelta);
}

TEST_F(owned, vring_addr_ok)
{
	ASSERT_RES(0, set_state(self->v.fd, VHOST_SET_VRING_NUM, 0, NUM));
	EXPECT_RES(0, vq_set_addr(&self->v, 0, 0, 0, 0, 0));
	/* The smallest alignments the ABI allows. */
	EXPECT_RES(0, vq_set_addr(&self->v, 0, 0, 16, 2, 4));
}

TEST_F(owned, vring_addr_bad_flags_eopnotsupp)
{
	unsigned int bit;

	for (bit = 1; bit < 32; bit++) {
		int r = vq_set_addr(&self->v, 0, 1U << bit, 0, 0, 0);

		EXPECT_EQ(-EOPNOTSUPP, r)
			TH_LOG("flag bit %u: got %s", bit, ename(r));
	}
}

/*
 * vhost_net checks the alignment of the avail and used rings (and of the
 * log address) but not of the descriptor table; ivhost enforces the 16
 * bytes the virtio specification requires of it too.
 */
TEST_F(owned, ivhost_only_vring_addr_misaligned_desc_einval)
{
	IVHOST_ONLY();
	EXPECT_RES(-EINVAL, vq_set_addr(&self->v, 0, 0, 8, 0, 0));
	EXPECT_RES(-EINVAL, vq_set_addr(&self->v, 0, 0, 1, 0, 0));
}

TEST_F(owned, vring_addr_misaligned_avail_einval)
{
	EXPECT_RES(-EINVAL, vq_set_addr(&self->v, 0, 0, 0, 1, 0));
}

TEST_F(owned, vring_addr_misaligned_used_einval)
{
	EXPECT_RES(-EINVAL, vq_set_addr(&self->v, 0, 0, 0, 0, 2));
	EXPECT_RES(-EINVAL, vq_set_addr(&self->v, 0, 0, 0, 0, 1));
}

TEST_F(owned, vring_addr_misaligned_log_einval)
{
	struct vmm_vq *q = &self->v.vq[0];
	struct vhost_vring_addr a = {
		.index = 0,
		.flags = 1U << VHOST_VRING_F_LOG,
		.desc_user_addr = (uintptr_t)q->desc,
		.used_user_addr = (uintptr_t)q->used,
		.avail_user_addr = (uintptr_t)q->avail,
		.log_guest_addr = 0x1002,
	};

	EXPECT_RES(-EINVAL, xioctl(self->v.fd, VHOST_SET_VRING_ADDR, &a));
	/* Checked whether or not logging is asked for. */
	a.flags = 0;
	EXPECT_RES(-EINVAL, xioctl(self->v.fd, VHOST_SET_VRING_ADDR, &a));
	/* 4 bytes is enough. */
	a.log_guest_addr = 0x1004;
	EXPECT_RES(0, xioctl(self->v.fd, VHOST_SET_VRING_ADDR, &a));
}

TEST_F(owned, vring_addr_log_without_log_all_ok)
{
	EXPECT_RES(0, vq_set_addr(&self->v, 0, 1U << VHOST_VRING_F_LOG,
				  0, 0, 0));
}

/*
 * vhost_net checks ring addresses only when a backend is attached (or at
 * NET_SET_BACKEND); ivhost also checks them once the ring size is known.
 */
TEST_F(owned, ivhost_only_vring_addr_kernel_address_einval)
{
	IVHOST_ONLY();
	ASSERT_RES(0, set_state(self->v.fd, VHOST_SET_VRING_NUM, 0, NUM));
	EXPECT_RES(-EINVAL, set_addr(self->v.fd, 0, 0, KERNEL_ADDR,
				     KERNEL_ADDR, KERNEL_ADDR));
}

TEST_F(running, vring_addr_while_backend_ok)
{
	EXPECT_RES(0, vmm_vq_set_addr(&self->v, VMM_TX));
	EXPECT_TX(&self->v, &self->tap, 0, 4);
}

TEST_F(running, vring_addr_kernel_address_while_backend_einval)
{
	EXPECT_RES(-EINVAL, set_addr(self->v.fd, VMM_TX, 0, KERNEL_ADDR,
				     KERNEL_ADDR, KERNEL_ADDR));
}

/* fd tests for KICK / CALL / ERR */
static int regular_file(void)
{
	return open("/proc/self/status", O_RDONLY | O_CLOEXEC);
}

static void vring_file_bad_fd(struct __test_metadata *_metadata,
			      struct vmm *v, unsigned long req)
{
	int fd = regular_file(), closed;

	ASSERT_LE(0, fd);
	closed = dup(fd);
	ASSERT_LE(0, closed);
	close(closed);
	EXPECT_RES(-EBADF, set_file(v->fd, req, 0, closed));
	EXPECT_RES(-EBADF, set_file(v->fd, req, 0, -2));
	EXPECT_RES(-EBADF, set_file(v->fd, req, 1, 0x7fffffff));
	close(fd);
}

static void vring_file_not_eventfd(struct __test_metadata *_metadata,
				   struct vmm *v, unsigned long req)
{
	int fd = regular_file(), s = socket(AF_INET, SOCK_DGRAM, 0);

	ASSERT_LE(0, fd);
	ASSERT_LE(0, s);
	EXPECT_RES(-EINVAL, set_file(v->fd, req, 0, fd));
	EXPECT_RES(-EINVAL, set_file(v->fd, req, 1, s));
	/* The device's own fd is not an eventfd either. */
	EXPECT_RES(-EINVAL, set_file(v->fd, req, 0, v->fd));
	close(fd);
	close(s);
}

static void vring_file_unbind(struct __test_metadata *_metadata,
			      struct vmm *v, unsigned long req)
{
	int efd = eventfd(0, EFD_CLOEXEC);

	ASSERT_LE(0, efd);
	/* Unbinding what was never bound is fine, and so is rebinding. */
	EXPECT_RES(0, set_file(v->fd, req, 0, -1));
	EXPECT_RES(0, set_file(v->fd, req, 0, efd));
	EXPECT_RES(0, set_file(v->fd, req, 0, efd));
	EXPECT_RES(0, set_file(v->fd, req, 0, -1));
	EXPECT_RES(0, set_file(v->fd, req, 1, efd));
	close(efd);
}

#define VRING_FILE_TESTS(name, req)					\
TEST_F(owned, vring_##name##_bad_fd_ebadf)				\
{									\
	vring_file_bad_fd(_metadata, &self->v, req);			\
}									\
TEST_F(owned, vring_##name##_not_eventfd_einval)			\
{									\
	vring_file_not_eventfd(_metadata, &self->v, req);		\
}									\
TEST_F(owned, vring_##name##_unbind_ok)				\
{									\
	vring_file_unbind(_metadata, &self->v, req);			\
}

VRING_FILE_TESTS(kick, VHOST_SET_VRING_KICK)
VRING_FILE_TESTS(call, VHOST_SET_VRING_CALL)
VRING_FILE_TESTS(err, VHOST_SET_VRING_ERR)

/* Kick and call may change while a backend runs; traffic continues. */
TEST_F(running, vring_kick_call_rebind_while_running)
{
	struct vmm_vq *q = &self->v.vq[VMM_TX];
	int k = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	int c = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	ASSERT_LE(0, k);
	ASSERT_LE(0, c);
	ASSERT_RES(0, set_file(self->v.fd, VHOST_SET_VRING_KICK, VMM_TX, k));
	ASSERT_RES(0, set_file(self->v.fd, VHOST_SET_VRING_CALL, VMM_TX, c));
	close(q->kick_fd);
	close(q->call_fd);
	q->kick_fd = k;
	q->call_fd = c;
	EXPECT_TX(&self->v, &self->tap, 0, 4);
}

/* ----------------------------------------------------------------------
 * VHOST_NET_SET_BACKEND
 */

static void setup_vqs(struct __test_metadata *_metadata, struct vmm *v)
{
	int i;

	for (i = 0; i < VMM_NVQS; i++)
		ASSERT_RES(0, vmm_vq_setup(v, i, 0));
}

TEST_F(owned, set_backend_regular_file_enotsock)
{
	int fd = regular_file();

	ASSERT_LE(0, fd);
	setup_vqs(_metadata, &self->v);
	EXPECT_RES(-ENOTSOCK, vmm_set_backend(&self->v, VMM_TX, fd));
	close(fd);
}

TEST_F(owned, set_backend_eventfd_enotsock)
{
	setup_vqs(_metadata, &self->v);
	EXPECT_RES(-ENOTSOCK, vmm_set_backend(&self->v, VMM_RX,
					      self->v.vq[0].kick_fd));
}

TEST_F(owned, set_backend_udp_socket_enotsock)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ASSERT_LE(0, s);
	setup_vqs(_metadata, &self->v);
	EXPECT_RES(-ENOTSOCK, vmm_set_backend(&self->v, VMM_TX, s));
	close(s);
}

TEST_F(owned, set_backend_device_fd_enotsock)
{
	setup_vqs(_metadata, &self->v);
	EXPECT_RES(-ENOTSOCK, vmm_set_backend(&self->v, VMM_TX, self->v.fd));
}

TEST_F(owned, set_backend_bad_fd_enotsock)
{
	int fd = regular_file(), closed;

	ASSERT_LE(0, fd);
	closed = dup(fd);
	ASSERT_LE(0, closed);
	close(closed);
	close(fd);
	setup_vqs(_metadata, &self->v);
	EXPECT_RES(-ENOTSOCK, vmm_set_backend(&self->v, VMM_TX, closed));
	EXPECT_RES(-ENOTSOCK, vmm_set_backend(&self->v, VMM_TX, -2));
}

TEST_F(owned, set_backend_index_out_of_range_enobufs)
{
	struct vmm_tap t;

	setup_vqs(_metadata, &self->v);
	ASSERT_RES(0, vmm_tap_open(&t, HDR_LEN));
	EXPECT_RES(-ENOBUFS, vmm_set_backend(&self->v, VMM_NVQS, t.fd));
	EXPECT_RES(-ENOBUFS, vmm_set_backend(&self->v, 0xffffffff, t.fd));
	EXPECT_RES(-ENOBUFS, vmm_set_backend(&self->v, VMM_NVQS, -1));
	vmm_tap_close(&t);
}

TEST_F(owned, set_backend_rings_unconfigured_efault)
{
	struct vmm_tap t;

	ASSERT_RES(0, vmm_tap_open(&t, HDR_LEN));
	EXPECT_RES(-EFAULT, vmm_set_backend(&self->v, VMM_TX, t.fd));
	EXPECT_RES(-EFAULT, vmm_set_backend(&self->v, VMM_RX, t.fd));
	vmm_tap_close(&t);
}

/* Which check comes first: the fd's, then the ring's. */
TEST_F(owned, set_backend_rings_unconfigured_not_socket_enotsock)
{
	int fd = regular_file();

	ASSERT_LE(0, fd);
	EXPECT_RES(-ENOTSOCK, vmm_set_backend(&self->v, VMM_TX, fd));
	EXPECT_RES(-ENOTSOCK, vmm_set_backend(&self->v, VMM_TX, -2));
	close(fd);
}

TEST_F(owned, set_backend_ring_addr_unset_efault)
{
	struct vmm_tap t;

	ASSERT_RES(0, vmm_tap_open(&t, HDR_LEN));
	ASSERT_RES(0, set_state(self->v.fd, VHOST_SET_VRING_NUM, VMM_TX, NUM));
	EXPECT_RES(-EFAULT, vmm_set_backend(&self->v, VMM_TX, t.fd));
	vmm_tap_close(&t);
}

TEST_F(owned, set_backend_detach_unattached_ok)
{
	EXPECT_RES(0, vmm_set_backend(&self->v, VMM_TX, -1));
	EXPECT_RES(0, vmm_set_backend(&self->v, VMM_RX, -1));
}

TEST_F(running, set_backend_same_again_ok)
{

	EXPECT_RES(0, vmm_set_backend(&self->v, VMM_TX, self->tap.fd));
	EXPECT_TX(&self->v, &self->tap, 0, 4);
}

TEST_F(running, set_backend_failure_keeps_backend)
{
	int fd = regular_file();

	ASSERT_LE(0, fd);
	EXPECT_RES(-ENOTSOCK, vmm_set_backend(&self->v, VMM_TX, fd));
	EXPECT_RES(-EBUSY, set_state(self->v.fd, VHOST_SET_VRING_NUM,
				     VMM_TX, NUM));
	EXPECT_TX(&self->v, &self->tap, 0, 4);
	close(fd);
}

TEST_F(owned, set_backend_packet_socket_ok)
{
	int s;

	s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	ASSERT_LE(0, s);
	setup_vqs(_metadata, &self->v);
	EXPECT_RES(0, vmm_set_backend(&self->v, VMM_TX, s));
	EXPECT_RES(0, vmm_set_backend(&self->v, VMM_TX, -1));
	close(s);
}

TEST_F(owned, set_backend_dgram_packet_socket_enotsock)
{
	int s;

	s = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
	ASSERT_LE(0, s);
	setup_vqs(_metadata, &self->v);
	EXPECT_RES(-ENOTSOCK, vmm_set_backend(&self->v, VMM_TX, s));
	close(s);
}

/* ----------------------------------------------------------------------
 * A second process sharing the fd is not the owner.
 */

struct nonowner_case {
	const char *name;
	unsigned long req;
	int want;
};

static const struct nonowner_case nonowner_cases[] = {
	{ "GET_FEATURES", VHOST_GET_FEATURES, 0 },
	{ "GET_BACKEND_FEATURES", VHOST_GET_BACKEND_FEATURES, 0 },
	{ "SET_OWNER", VHOST_SET_OWNER, -EBUSY },
	{ "RESET_OWNER", VHOST_RESET_OWNER, -EPERM },
	{ "SET_MEM_TABLE", VHOST_SET_MEM_TABLE, -EPERM },
	{ "SET_LOG_BASE", VHOST_SET_LOG_BASE, -EPERM },
	{ "SET_LOG_FD", VHOST_SET_LOG_FD, -EPERM },
	{ "SET_VRING_NUM", VHOST_SET_VRING_NUM, -EPERM },
	{ "SET_VRING_BASE", VHOST_SET_VRING_BASE, -EPERM },
	{ "GET_VRING_BASE", VHOST_GET_VRING_BASE, -EPERM },
	{ "SET_VRING_ADDR", VHOST_SET_VRING_ADDR, -EPERM },
	{ "SET_VRING_KICK", VHOST_SET_VRING_KICK, -EPERM },
	{ "SET_VRING_CALL", VHOST_SET_VRING_CALL, -EPERM },
	{ "SET_VRING_ERR", VHOST_SET_VRING_ERR, -EPERM },
	{ "SET_VRING_ENDIAN", VHOST_SET_VRING_ENDIAN, -EPERM },
	{ "GET_VRING_ENDIAN", VHOST_GET_VRING_ENDIAN, -EPERM },
	{ "SET_VRING_BUSYLOOP_TIMEOUT", VHOST_SET_VRING_BUSYLOOP_TIMEOUT,
	  -EPERM },
	{ "GET_VRING_BUSYLOOP_TIMEOUT", VHOST_GET_VRING_BUSYLOOP_TIMEOUT,
	  -EPERM },
	{ "NET_SET_BACKEND", VHOST_NET_SET_BACKEND, -EPERM },
	{ "unknown", VHOST_UNKNOWN_IOCTL, -EPERM },
	{ NULL, 0, 0 }
};

/* vhost_net allows these to a non-owner; ivhost does not. */
static const struct nonowner_case ivhost_nonowner_cases[] = {
	{ "SET_FEATURES", VHOST_SET_FEATURES, -EPERM },
	{ "SET_BACKEND_FEATURES", VHOST_SET_BACKEND_FEATURES, -EPERM },
	{ NULL, 0, 0 }
};

static int run_cases(struct vmm *v, const struct nonowner_case *c)
{
	int bad = 0;

	for (; c->name; c++) {
		int r = valid_call(v->fd, v, c->req);

		if (r != c->want) {
			fprintf(stderr, "#      child %s: got %s, want %s\n",
				c->name, ename(r), ename(c->want));
			bad++;
		}
	}
	return bad;
}

/* In a forked child, run the cases; exit with the number of mismatches. */
static int child_run_cases(struct vmm *v)
{
	return run_cases(v, nonowner_cases);
}

static int child_run_ivhost_cases(struct vmm *v)
{
	return run_cases(v, ivhost_nonowner_cases);
}

static int run_in_child(struct vmm *v, int (*fn)(struct vmm *v))
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (!pid) {
		int bad = fn(v);

		_exit(bad > 255 ? 255 : bad);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (!WIFEXITED(status))
		return -ECHILD;
	return WEXITSTATUS(status);
}

TEST_F(running, fork_child_ioctls_eperm)
{
	EXPECT_EQ(0, run_in_child(&self->v, child_run_cases));
}

TEST_F(running, ivhost_only_fork_child_set_features_eperm)
{
	IVHOST_ONLY();
	EXPECT_EQ(0, run_in_child(&self->v, child_run_ivhost_cases));
}

/* The parent keeps working while a non-owner child holds the fd. */
TEST_F(running, fork_parent_still_works)
{
	int pipefd[2], status;
	unsigned int base;
	char c;
	pid_t pid;

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(pipefd[1]);
		/* Try to take the device over, then wait with the fd open. */
		child_run_cases(&self->v);
		if (read(pipefd[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(pipefd[0]);
	EXPECT_TX(&self->v, &self->tap, 0, 8);
	ASSERT_RES(0, vmm_set_backend(&self->v, VMM_TX, -1));
	EXPECT_RES(0, vmm_vq_get_base(&self->v, VMM_TX, &base));
	EXPECT_EQ(8U, base);
	EXPECT_RES(0, vmm_vq_setup(&self->v, VMM_TX, base));
	EXPECT_RES(0, vmm_set_backend(&self->v, VMM_TX, self->tap.fd));
	close(pipefd[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	/* The child's exit (and its copy of the fd) changes nothing. */
	EXPECT_TX(&self->v, &self->tap, 8, 8);
}

/* A child that closes its copy of the fd does not release the device. */
static int child_close(struct vmm *v)
{
	return close(v->fd) ? 1 : 0;
}

TEST_F(running, fork_child_close_keeps_device)
{

	EXPECT_EQ(0, run_in_child(&self->v, child_close));
	EXPECT_TX(&self->v, &self->tap, 0, 4);
}

/* ----------------------------------------------------------------------
 * The worker thread runs in the owner's cgroups, so that the owner's
 * limits (cpu, memory accounting) cover the work the device does for it.
 */

FIXTURE(cgroup) {
	char root[1024];	/* a cgroup2 mount */
	char dir[1200];		/* the child cgroup the test runs in */
	int mounted;		/* root was mounted by the test */
	int fd;
};

/* Write a pid to a cgroup's cgroup.procs: 0 or -errno. */
static int cg_enter(const char *cg, pid_t pid)
{
	char path[1300], num[32];
	int fd, n, r = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(num, sizeof(num), "%d", pid);
	if (write(fd, num, n) != n)
		r = -errno;
	close(fd);
	return r;
}

/* The whole of /proc/@pid/cgroup ("self" for @pid 0). */
static int read_cgroup(pid_t pid, char *buf, size_t size)
{
	char path[64], *p;
	ssize_t n;
	int fd;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/cgroup");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	/* one line per hierarchy: join them, for the log */
	while (n && buf[n - 1] == '\n')
		n--;
	buf[n] = 0;
	while ((p = strchr(buf, '\n')))
		*p = ' ';
	return 0;
}

/* The device worker of owner @owner: "ivhost-<pid>" or "vhost-<pid>". */
static pid_t find_worker(pid_t owner)
{
	char a[32], b[32], path[300], comm[64];
	struct dirent *de;
	pid_t found = -1;
	DIR *dir;
	FILE *f;

	snprintf(a, sizeof(a), "ivhost-%d", owner);
	snprintf(b, sizeof(b), "vhost-%d", owner);
	dir = opendir("/proc");
	if (!dir)
		return -1;
	while (found < 0 && (de = readdir(dir))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
		comm[strcspn(comm, "\n")] = 0;
		if (!strcmp(comm, a) || !strcmp(comm, b))
			found = atoi(de->d_name);
	}
	closedir(dir);
	return found;
}

FIXTURE_SETUP(cgroup)
{
	char dev[256], mnt[1024], type[64];
	FILE *f;

	KERNEL_ONLY_FIXTURE("the vhost worker kthread and its cgroup");
	self->fd = -1;
	self->mounted = 0;
	self->root[0] = self->dir[0] = 0;
	f = fopen("/proc/self/mounts", "r");
	while (f && fscanf(f, "%255s %1023s %63s %*[^\n]", dev, mnt,
			   type) == 3) {
		if (!strcmp(type, "cgroup2")) {
			snprintf(self->root, sizeof(self->root), "%s", mnt);
			break;
		}
	}
	if (f)
		fclose(f);
	if (!self->root[0]) {
		snprintf(self->root, sizeof(self->root),
			 "/tmp/ivhost-cgroup2.XXXXXX");
		if (!mkdtemp(self->root))
			SKIP(return, "mkdtemp: %m");
		if (mount("none", self->root, "cgroup2", 0, NULL)) {
			rmdir(self->root);
			self->root[0] = 0;
			SKIP(return, "no cgroup2 in this kernel: %m");
		}
		self->mounted = 1;
	}
	snprintf(self->dir, sizeof(self->dir), "%s/ivhost-abi-%d", self->root,
		 getpid());
	if (mkdir(self->dir, 0755) && errno != EEXIST) {
		self->dir[0] = 0;
		SKIP(return, "cannot make a cgroup under %.200s: %m",
		     self->root);
	}
}

FIXTURE_TEARDOWN(cgroup)
{
	int i;

	if (self->fd >= 0)
		close(self->fd);
	if (self->dir[0]) {
		cg_enter(self->root, getpid());
		/* the worker leaves the cgroup when it has exited */
		for (i = 0; i < 200 && rmdir(self->dir) && errno == EBUSY; i++)
			usleep(10000);
	}
	if (self->mounted) {
		umount(self->root);
		rmdir(self->root);
	}
}

/*
 * The owner joins a child cgroup before VHOST_SET_OWNER; the worker that
 * SET_OWNER starts must be in the same cgroups (vhost_net attaches its
 * worker to all of the owner's).
 */
TEST_F(cgroup, worker_joins_owner_cgroups)
{
	char mine[4096], theirs[4096];
	pid_t w;
	int r;

	/* 6.1's harness runs the body after a SKIP in the setup */
	if (!self->dir[0])
		SKIP(return, "no cgroup to join (see the setup's skip)");
	r = cg_enter(self->dir, getpid());
	ASSERT_EQ(0, r) TH_LOG("joining %s: %s", self->dir, strerror(-r));
	OPEN_OR_SKIP(self->fd);
	ASSERT_RES(0, xioctl(self->fd, VHOST_SET_OWNER, NULL));
	w = find_worker(getpid());
	ASSERT_LT(0, w) TH_LOG("no worker thread named after pid %d",
			       getpid());
	ASSERT_EQ(0, read_cgroup(0, mine, sizeof(mine)));
	ASSERT_EQ(0, read_cgroup(w, theirs, sizeof(theirs)));
	EXPECT_STREQ(mine, theirs)
		TH_LOG("owner %d is in %s, its worker %d in %s", getpid(),
		       mine, w, theirs);
}

TEST_HARNESS_MAIN
