// SPDX-License-Identifier: GPL-2.0
/*
 * vu_proto_test - the vhost-user protocol, message by message, against the
 * backend at IVHOST_DEV=vhost-user:SOCKET (it skips on any other device).
 *
 * The expectations come from the protocol (shared/reference/vhost-user.md
 * and the vhost-user spec), not from an implementation:
 *  - a reply has flags exactly VERSION|REPLY (0x5), the request's id and
 *    the exact size; only requests that have a reply, or that carry
 *    NEED_REPLY under REPLY_ACK, get one;
 *  - every message QEMU 7.2 sends a net backend is accepted (ack 0);
 *  - a malformed request (wrong size, unknown id, bad version, fds missing
 *    or extra, an index out of range, an fd that cannot be mapped) gets a
 *    clear error: a non-zero ack, or the connection closed.  Either way
 *    the backend then serves the next connection, and it has closed every
 *    fd it was sent once that connection is gone (checked with the write
 *    end of a pipe: its read end sees EOF only when no copy is left);
 *  - a frontend that disconnects after any step of QEMU's sequence leaves
 *    the backend able to serve the next one from scratch.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "kselftest_harness.h"
#include "common.h"
#include "vmm.h"

#define V1		0x1U		/* version 1 */
#define REPLY		0x4U
#define NEED_REPLY	0x8U
#define NOFD		0x100
#define F_PROTOCOL	(1ULL << 30)
#define WAIT_MS		3000
#define NUM		64
#define MEM_SIZE	(2 * NUM * (VMM_SLOT_SIZE + VMM_MAX_SEGS * 16) + (4 << 20))

static const char *sock_path(void)
{
	return ivhost_dev_path() + strlen(VMM_VU_PREFIX);
}

/* In a FIXTURE_SETUP: skip (without running the body, see common.h). */
#define USER_ONLY() do {						\
	if (!ivhost_dev_is_user())					\
		SKIP(longjmp(_metadata->env, 1),			\
		     "vhost-user protocol (%s is a device)",		\
		     ivhost_dev_path());				\
} while (0)

/* A connection, with protocol features negotiated (REPLY_ACK if offered). */
struct conn {
	struct vmm v;		/* v.fd: the socket; v.mem: memfd memory */
	int acked;		/* REPLY_ACK negotiated */
};

static int conn_open(struct conn *c)
{
	int r;

	vmm_init_closed(&c->v, NULL);
	r = vmm_open(&c->v, ivhost_dev_path());
	c->acked = !!(c->v.vu_protocol &
		      (1ULL << VMM_VU_PROTOCOL_F_REPLY_ACK));
	return r;
}

/* Raw request on the connection: 0 or -errno. */
static int send_req(struct conn *c, uint32_t req, uint32_t flags,
		    const void *p, uint32_t size, const int *fds,
		    unsigned int nfds)
{
	return vmm_vu_send(c->v.fd, req, flags, p, size, fds, nfds);
}

/*
 * After a malformed request sent with NEED_REPLY: 1 if the backend said
 * no (a non-zero ack of that request) or closed the connection, 0 if it
 * acked 0 or sent anything else, -ETIMEDOUT if it said nothing at all.
 */
static int rejected(struct conn *c, uint32_t req)
{
	struct vmm_vu_hdr h;
	uint64_t u = 0;
	int r = vmm_vu_recv(c->v.fd, &h, &u, sizeof(u), WAIT_MS);

	if (r == -ECONNRESET)
		return 1;
	if (r < 0)
		return r;
	return h.request == req && h.flags == (V1 | REPLY) &&
	       h.size == sizeof(u) && u != 0;
}

/* A fresh connection gets a well-formed GET_FEATURES reply. */
static int serves_next(void)
{
	struct conn c;
	uint64_t f = 0;
	int r = conn_open(&c);

	if (!r)
		r = vmm_get_features(&c.v, &f);
	vmm_close(&c.v);
	return r;
}

/* Send a request the backend must refuse; check it did, and recovers. */
#define EXPECT_REJECT(c, req, flags, p, size, fds, nfds) do {		\
	int __r = send_req(c, req, (flags) | V1 | NEED_REPLY, p, size,	\
			   fds, nfds);					\
	if (!__r)							\
		__r = rejected(c, req);					\
	EXPECT_EQ(1, __r) TH_LOG("request %u size %u: %s", req,		\
				 (unsigned int)(size),			\
				 __r == 0 ? "accepted" :		\
				 __r < 0 ? strerror(-__r) : "?");	\
	vmm_close(&(c)->v);						\
	EXPECT_EQ(0, serves_next()) TH_LOG("next connection not served");\
} while (0)

/* Connected, protocol features negotiated with REPLY_ACK. */
#define CONN_SETUP(c) do {						\
	int __r;							\
									\
	vmm_init_closed(&(c)->v, NULL);					\
	USER_ONLY();							\
	__r = conn_open(c);						\
	ASSERT_EQ(0, __r) TH_LOG("connect %s: %s", sock_path(),	\
				 strerror(-__r));			\
	if (!(c)->acked)						\
		SKIP(longjmp(_metadata->env, 1),			\
		     "backend offers no REPLY_ACK");			\
} while (0)

FIXTURE(vu) {
	struct conn c;
};

FIXTURE_SETUP(vu)
{
	CONN_SETUP(&self->c);
}

FIXTURE_TEARDOWN(vu)
{
	vmm_close(&self->c.v);
}

/* ---- replies ---- */

/* GET_* replies: flags 0x5, the same id, exact sizes; bit 30 offered. */
TEST_F(vu, get_replies_well_formed)
{
	static const uint32_t reqs[] = {
		VMM_VU_GET_FEATURES, VMM_VU_GET_PROTOCOL_FEATURES,
		VMM_VU_GET_QUEUE_NUM,
	};
	struct vmm_vu_hdr h;
	unsigned int i;
	uint64_t u;

	EXPECT_TRUE(!!(self->c.v.vu_offered & F_PROTOCOL));
	EXPECT_LE(1U, self->c.v.vu_queues);
	for (i = 0; i < 3; i++) {
		/* NEED_REPLY on a request that has a reply changes nothing */
		ASSERT_EQ(0, send_req(&self->c, reqs[i], V1 | NEED_REPLY * (i & 1),
				      NULL, 0, NULL, 0));
		ASSERT_EQ(8, vmm_vu_recv(self->c.v.fd, &h, &u, 8, WAIT_MS));
		EXPECT_EQ(reqs[i], h.request);
		EXPECT_EQ(V1 | REPLY, h.flags);
	}
}

/* A request without NEED_REPLY that has no reply gets none. */
TEST_F(vu, no_reply_unless_asked)
{
	struct vmm_vu_hdr h;
	uint64_t u;

	ASSERT_EQ(0, send_req(&self->c, VMM_VU_SET_OWNER, V1, NULL, 0, NULL, 0));
	ASSERT_EQ(0, send_req(&self->c, VMM_VU_GET_FEATURES, V1, NULL, 0,
			      NULL, 0));
	ASSERT_EQ(8, vmm_vu_recv(self->c.v.fd, &h, &u, 8, WAIT_MS));
	EXPECT_EQ((uint32_t)VMM_VU_GET_FEATURES, h.request);
	EXPECT_EQ(self->c.v.vu_offered, u);
}

/* The ack of a NEED_REPLY request: flags 0x5 (no 0x8 echoed), value 0. */
TEST_F(vu, ack_well_formed)
{
	struct vmm_vu_hdr h;
	uint64_t u = 1;

	ASSERT_EQ(0, send_req(&self->c, VMM_VU_SET_OWNER, V1 | NEED_REPLY,
			      NULL, 0, NULL, 0));
	ASSERT_EQ(8, vmm_vu_recv(self->c.v.fd, &h, &u, 8, WAIT_MS));
	EXPECT_EQ((uint32_t)VMM_VU_SET_OWNER, h.request);
	EXPECT_EQ(V1 | REPLY, h.flags);
	EXPECT_EQ(0ULL, u);
}

/* ---- QEMU's sequence ---- */

/*
 * The steps of QEMU 7.2's sequence for one queue pair (vhost-user.md,
 * section 3), through the test VMM: each is acked 0.  @upto: stop after
 * that many steps (-1: all); returns the number of steps done or -errno.
 */
static int qemu_steps(struct vmm *v, int upto)
{
	uint64_t offered;
	unsigned int base, i;
	int n = 0, r = 0;

#define STEP(expr) do {							\
	if (upto >= 0 && n >= upto)					\
		return n;						\
	r = (expr);							\
	if (r)								\
		return r;						\
	n++;								\
} while (0)
	STEP(vmm_set_owner(v));
	STEP(vmm_get_features(v, &offered));
	STEP(vmm_mem_init(v, MEM_SIZE, VMM_GPA_BASE));
	for (i = 0; i < VMM_NVQS; i++) {
		STEP(vmm_vq_init(v, i, NUM));
		STEP(vmm_vq_set_file(v, VHOST_SET_VRING_CALL, i,
				     v->vq[i].call_fd));
		STEP(vmm_vq_set_file(v, VHOST_SET_VRING_ERR, i,
				     v->vq[i].err_fd));
	}
	for (i = 0; i < VMM_NVQS; i++)
		STEP(vmm_vu_enable(v, i, 1));
	STEP(vmm_set_features(v, offered & ((1ULL << VIRTIO_F_VERSION_1) |
			      (1ULL << VIRTIO_NET_F_MRG_RXBUF))));
	STEP(vmm_set_mem_table(v));
	for (i = 0; i < VMM_NVQS; i++) {
		struct vmm_vq *q = &v->vq[i];

		/* the driver's side of the rings starts where the base says */
		q->avail_idx = 7 * i;
		q->used_idx = q->avail_idx;
		q->avail->idx = q->avail_idx;
		q->used->idx = q->avail_idx;
		STEP(vmm_vq_set_num(v, i, NUM));
		STEP(vmm_vq_set_base(v, i, 7 * i));
		STEP(vmm_vq_set_addr(v, i));
		STEP(vmm_vq_set_file(v, VHOST_SET_VRING_KICK, i,
				     v->vq[i].kick_fd));
		STEP(vmm_vq_set_file(v, VHOST_SET_VRING_CALL, i,
				     v->vq[i].call_fd));
	}
	if (v->vu_protocol & (1ULL << VMM_VU_PROTOCOL_F_NET_MTU))
		STEP(vmm_vu_set_mtu(v, 1500));
	for (i = 0; i < VMM_NVQS; i++) {
		STEP(vmm_vq_get_base(v, i, &base));
		if (base != 7 * i)
			return -EBADMSG;
	}
#undef STEP
	return n;
}

/*
 * Every message of the sequence is acked 0; GET_VRING_BASE gives the
 * base that was set (no traffic ran).
 */
TEST_F(vu, qemu_sequence_acked)
{
	int r = qemu_steps(&self->c.v, -1);

	EXPECT_LT(0, r) TH_LOG("step failed: %s", strerror(-r));
}

/* A frontend that goes away after any step; the next one is served. */
TEST_F_TIMEOUT(vu, disconnect_at_every_step, 300)
{
	int total, k, r;

	total = qemu_steps(&self->c.v, -1);
	ASSERT_LT(0, total) TH_LOG("sequence: %s", strerror(-total));
	vmm_close(&self->c.v);
	for (k = 0; k <= total; k++) {
		struct conn c;

		ASSERT_EQ(0, conn_open(&c)) TH_LOG("after %d steps", k);
		r = qemu_steps(&c.v, k);
		EXPECT_EQ(k, r) TH_LOG("steps: %s", strerror(-r));
		vmm_close(&c.v);
	}
	/* and a whole run still works after all that */
	ASSERT_EQ(0, conn_open(&self->c));
	EXPECT_EQ(total, qemu_steps(&self->c.v, -1));
}

/* ---- malformed requests ---- */

TEST_F(vu, unknown_request)
{
	uint64_t u = 0;

	EXPECT_REJECT(&self->c, 999, 0, &u, sizeof(u), NULL, 0);
}

TEST_F(vu, bad_version)
{
	/* version 2 (bits 0-1) instead of 1: V1 is ORed in, so 0x3 */
	EXPECT_REJECT(&self->c, VMM_VU_GET_FEATURES, 0x2, NULL, 0, NULL, 0);
}

TEST_F(vu, payload_larger_than_any_message)
{
	static uint8_t big[4096];

	EXPECT_REJECT(&self->c, VMM_VU_SET_FEATURES, 0, big, sizeof(big),
		      NULL, 0);
}

/* Requests with a payload too short or too long for them. */
FIXTURE(size) {
	struct conn c;
};

FIXTURE_VARIANT(size) {
	uint32_t req;
	uint32_t size;
};

FIXTURE_SETUP(size)
{
	CONN_SETUP(&self->c);
}

FIXTURE_TEARDOWN(size)
{
	vmm_close(&self->c.v);
}

#define SIZE_VARIANT(name, r, s)					\
	FIXTURE_VARIANT_ADD(size, name) { .req = r, .size = s }

SIZE_VARIANT(set_features_4, VMM_VU_SET_FEATURES, 4);
SIZE_VARIANT(set_features_12, VMM_VU_SET_FEATURES, 12);
SIZE_VARIANT(set_protocol_features_0, VMM_VU_SET_PROTOCOL_FEATURES, 0);
SIZE_VARIANT(set_vring_num_4, VMM_VU_SET_VRING_NUM, 4);
SIZE_VARIANT(set_vring_base_0, VMM_VU_SET_VRING_BASE, 0);
SIZE_VARIANT(get_vring_base_4, VMM_VU_GET_VRING_BASE, 4);
SIZE_VARIANT(set_vring_addr_32, VMM_VU_SET_VRING_ADDR, 32);
SIZE_VARIANT(set_vring_enable_4, VMM_VU_SET_VRING_ENABLE, 4);
SIZE_VARIANT(net_set_mtu_2, VMM_VU_NET_SET_MTU, 2);
SIZE_VARIANT(set_mem_table_4, VMM_VU_SET_MEM_TABLE, 4);

TEST_F(size, wrong_size)
{
	uint8_t p[64];

	memset(p, 0, sizeof(p));
	EXPECT_REJECT(&self->c, variant->req, 0, p, variant->size, NULL, 0);
}

/* SET_MEM_TABLE's payload with room for one region. */
struct mem_msg {
	uint32_t n, pad;
	uint64_t r[4];	/* gpa, size, user address, mmap offset */
};

/* Guest memory, described as the one region of @m. */
static int mem_region(struct conn *c, struct mem_msg *m)
{
	int r = vmm_mem_init(&c->v, MEM_SIZE, VMM_GPA_BASE);

	m->r[0] = VMM_GPA_BASE;
	m->r[1] = MEM_SIZE;
	m->r[2] = (uintptr_t)c->v.mem;
	return r;
}

/* A region table that says more regions than its payload holds. */
TEST_F(vu, mem_table_nregions_beyond_payload)
{
	struct mem_msg m = { .n = 2 };
	int fd;

	ASSERT_EQ(0, mem_region(&self->c, &m));
	fd = self->c.v.mem_fd;
	EXPECT_REJECT(&self->c, VMM_VU_SET_MEM_TABLE, 0, &m, sizeof(m),
		      &fd, 1);
}

/* SET_MEM_TABLE with one region and no fd; a kick without NOFD, no fd. */
TEST_F(vu, mem_table_missing_fd)
{
	struct mem_msg m = { .n = 1 };

	ASSERT_EQ(0, mem_region(&self->c, &m));
	EXPECT_REJECT(&self->c, VMM_VU_SET_MEM_TABLE, 0, &m, sizeof(m),
		      NULL, 0);
}

TEST_F(vu, vring_kick_missing_fd)
{
	uint64_t u = 0;	/* index 0, NOFD clear */

	EXPECT_REJECT(&self->c, VMM_VU_SET_VRING_KICK, 0, &u, sizeof(u),
		      NULL, 0);
}

/*
 * An fd (the write end of a pipe) where the request carries none, or one
 * too many: refused, and the backend keeps no copy of it.
 */
static void extra_fd(struct __test_metadata *_metadata, struct conn *c,
		     uint32_t req, const void *p, uint32_t size,
		     const int *fds, unsigned int nfds)
{
	int pfd[2], all[VMM_VU_MAX_FDS];
	struct pollfd pl;

	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	memcpy(all, fds, sizeof(int) * nfds);
	all[nfds] = pfd[1];
	EXPECT_REJECT(c, req, 0, p, size, all, nfds + 1);
	close(pfd[1]);
	pl.fd = pfd[0];
	pl.events = POLLIN;
	EXPECT_EQ(1, poll(&pl, 1, WAIT_MS)) TH_LOG("backend kept the fd");
	EXPECT_TRUE(!!(pl.revents & POLLHUP)) TH_LOG("backend kept the fd");
	close(pfd[0]);
}

TEST_F(vu, set_owner_extra_fd)
{
	extra_fd(_metadata, &self->c, VMM_VU_SET_OWNER, NULL, 0, NULL, 0);
}

TEST_F(vu, set_vring_num_extra_fd)
{
	struct vhost_vring_state s = { .index = 0, .num = NUM };

	extra_fd(_metadata, &self->c, VMM_VU_SET_VRING_NUM, &s, sizeof(s),
		 NULL, 0);
}

TEST_F(vu, vring_call_two_fds)
{
	uint64_t u = 0;
	int efd = eventfd(0, EFD_CLOEXEC);

	ASSERT_LE(0, efd);
	extra_fd(_metadata, &self->c, VMM_VU_SET_VRING_CALL, &u, sizeof(u),
		 &efd, 1);
	close(efd);
}

/* A region fd that cannot be mapped (a pipe): refused, fd not kept. */
TEST_F(vu, mem_table_fd_not_mappable)
{
	struct mem_msg m = { .n = 1 };

	ASSERT_EQ(0, mem_region(&self->c, &m));
	extra_fd(_metadata, &self->c, VMM_VU_SET_MEM_TABLE, &m, sizeof(m),
		 NULL, 0);
}

/* A ring index beyond the queues the backend has. */
TEST_F(vu, vring_index_out_of_range)
{
	struct vhost_vring_state s = { .index = 0xfe, .num = NUM };

	EXPECT_REJECT(&self->c, VMM_VU_SET_VRING_NUM, 0, &s, sizeof(s),
		      NULL, 0);
}

TEST_HARNESS_MAIN
