// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-vu: what one connection does.  A set-up sequence as QEMU sends it
 * (features, the memory table, every ring), any step of which may be
 * mutated or where the connection may end; then random operations: any
 * request with plausible or mutated fields, memory tables with regions
 * past their fd, overlapping or wrapping, IOTLB messages up to 2^64, fds
 * of every kind, a backend channel never read, the guest memfd shrunk,
 * kicks, frames on the tap, other connections waiting; and an end at any
 * point of a message: after the header, mid-payload, a stall, a lie about
 * the size, a half close, or a plain close while the rings run.
 *
 * A request rules.c calls bad must be refused: fv_msg() holds the daemon
 * to it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "fuzz-vu.h"

static const uint64_t fv_edges[] = {
	0, 1, 2, 0xff, 0x100, 0x1ff, 0xfff, 0x1000, 0xffff, 0x10000,
	0x7fffffff, 0xffffffff, 1ULL << 32, 1ULL << 63, ~0ULL, ~0ULL - 0xfff,
	FV_GPA, FV_QVA, FV_IOVA, FV_MEM_SIZE, FV_MEM_SIZE - 1,
	FV_MEM_SIZE + 1, FV_GPA + FV_MEM_SIZE, FV_QVA + FV_MEM_SIZE - 8,
};

static uint64_t fv_edge(struct fz_rng *r)
{
	if (fz_one_in(r, 4))
		return fz_next(r);
	return fv_edges[fz_below(r, FV_ARRAY_SIZE(fv_edges))] +
	       (fz_one_in(r, 4) ? fz_below(r, 32) - 16 : 0);
}

static void fv_m_init(struct fv_m *m, uint32_t req, uint32_t flags)
{
	m->req = req;
	m->flags = flags;
	m->len = 0;
	m->nfds = 0;
	m->keep = -1;
	memset(m->p, 0, sizeof(m->p));
}

static void fv_put64(struct fv_m *m, uint32_t off, uint64_t v)
{
	memcpy(m->p + off, &v, 8);
	if (m->len < off + 8)
		m->len = off + 8;
}

static void fv_state(struct fv_m *m, uint32_t index, uint32_t num)
{
	fv_put64(m, 0, index | (uint64_t)num << 32);
}

static void fv_add_fd(struct fv_m *m, int fd)
{
	if (m->nfds < FV_MAX_SEND_FDS)
		m->fds[m->nfds++] = fd;
	else if (fd >= 0)
		close(fd);
}

/* ---- mutation ---- */

static void fv_mutate(struct fv_conn *c, struct fv_m *m)
{
	struct fz_rng *r = &c->r;
	unsigned int i, n;

	switch (fz_below(r, 6)) {
	case 0:	/* flags: version bits, REPLY, NEED_REPLY, others */
		m->flags = fz_one_in(r, 2) ? m->flags ^ (1U << fz_below(r, 4)) :
			   (uint32_t)fz_next(r);
		break;
	case 1:	/* size, with the bytes to match */
		m->len = fz_one_in(r, 3) ? fz_below(r, FV_BUF + 1) :
			 (m->len + fz_below(r, 17) - 8) % (FV_BUF + 1);
		break;
	case 2:	/* fds: more, fewer, other kinds */
		if (m->nfds && fz_one_in(r, 2)) {
			close(m->fds[--m->nfds]);
			if (m->keep == (int)m->nfds)
				m->keep = -1;
			break;
		}
		n = 1 + fz_below(r, fz_one_in(r, 4) ? 11 : 2);
		for (i = 0; i < n; i++)
			fv_add_fd(m, fv_make_fd(c, fz_below(r, FV_NFD_KINDS)));
		break;
	case 3:	/* the request id */
		m->req = fz_one_in(r, 2) ? fz_below(r, FV_NREQ + 8) :
			 (uint32_t)fz_next(r);
		break;
	default:	/* a field of the payload, or a byte */
		if (!m->len)
			break;
		i = fz_below(r, (m->len + 7) / 8) * 8;
		if (fz_one_in(r, 3))
			m->p[fz_below(r, m->len)] ^= 1 << fz_below(r, 8);
		else if (i + 8 <= FV_BUF)
			memcpy(m->p + i, &(uint64_t){ fv_edge(r) }, 8);
		break;
	}
	/* A closed fd among the valid ones: its number is sent anyway. */
	for (i = 0; i < m->nfds; i++)
		if (m->fds[i] < 0)
			m->fds[i] = 0;
}

/*
 * Send @m (mutated one time in @mut), hold the daemon to its answer,
 * close our copies of the fds (a kept one goes to *@kept).  Return: 0,
 * or -ECONNRESET once the connection is gone.
 */
/*
 * What the daemon now holds after @m was taken (no close, any reply 0):
 * the features decide which requests are bad, and what ring addresses
 * mean.  RESET_OWNER drops the features, keeps the protocol features.
 */
static void fv_note(struct fv_conn *c, const struct fv_m *m)
{
	uint64_t u;

	if ((m->flags & 7) != FV_VERSION || m->nfds)
		return;
	memcpy(&u, m->p, 8);
	if (m->req == FV_RESET_OWNER && !m->len)
		c->features = 0;
	else if (m->req == FV_SET_FEATURES && m->len == 8)
		c->features = u;
	else if (m->req == FV_SET_PROTOCOL_FEATURES && m->len == 8)
		c->protocol = u;
	c->iotlb = c->features & (1ULL << FV_F_ACCESS_PLATFORM);
}

static int fv_do(struct fv_conn *c, struct fv_m *m, unsigned int mut,
		 uint64_t *val, int *kept)
{
	uint64_t v = ~0ULL;
	unsigned int i;
	int err;

	if (mut && fz_one_in(&c->r, mut))
		fv_mutate(c, m);
	err = fv_msg(c, m->req, m->flags, m->p, m->len, m->fds, m->nfds,
		     fv_known_bad(c, m), &v);
	if (!err && (v == ~0ULL || !v))
		fv_note(c, m);
	if (val)
		*val = v;
	for (i = 0; i < m->nfds; i++) {
		if ((int)i == m->keep && kept && !err)
			*kept = m->fds[i];
		else if (m->fds[i] > 2)
			close(m->fds[i]);
	}
	fv_log(c, "req %u flags 0x%x size %u fds %u -> %s", m->req, m->flags,
	       m->len, m->nfds, err ? "closed" : "ok");
	return err;
}

static void fv_set_kick(struct fv_conn *c, unsigned int vq, int fd)
{
	pthread_mutex_lock(&c->mu);
	if (c->kick[vq] >= 0)
		close(c->kick[vq]);
	c->kick[vq] = fd;
	pthread_mutex_unlock(&c->mu);
}

/* ---- building requests ---- */

static void fv_mem_table(struct fv_conn *c, struct fv_m *m, bool bad)
{
	struct fz_rng *r = &c->r;
	unsigned int n = 1 + fz_below(r, 3), i;
	uint64_t part = FV_MEM_SIZE / n;
	struct fv_region g;

	memcpy(m->p, &n, 4);
	m->len = 8 + 32 * n;
	for (i = 0; i < n; i++) {
		g.gpa = FV_GPA + i * part;
		g.size = i + 1 < n ? part : FV_MEM_SIZE - i * part;
		g.qva = FV_QVA + i * part;
		g.off = i * part;
		if (bad && fz_one_in(r, 2)) {
			switch (fz_below(r, 6)) {
			case 0:
				g.size += 1 + fz_below(r, 8192);
				break;
			case 1:
				g.off += FV_MEM_SIZE - fz_below(r, 8192);
				break;
			case 2:
				g.gpa = FV_GPA;
				g.qva = FV_QVA;
				break;
			case 3:
				g.size = 0;
				break;
			case 4:
				g.gpa = ~0ULL - fz_below(r, 4096);
				break;
			default:
				g.off = fv_edge(r);
				g.size = fv_edge(r);
				break;
			}
		}
		memcpy(m->p + 8 + 32 * i, &g, sizeof(g));
		fv_add_fd(m, bad && fz_one_in(r, 4) ?
			  fv_make_fd(c, fz_below(r, FV_NFD_KINDS)) :
			  fv_make_fd(c, FV_FD_GUEST));
	}
}

static void fv_iotlb_msg(struct fv_conn *c, struct fv_m *m, bool valid)
{
	struct fz_rng *r = &c->r;
	struct fv_iotlb t = {
		.iova = FV_IOVA, .size = FV_MEM_SIZE, .uaddr = FV_QVA,
		.perm = 3, .type = 2,
	};

	fv_m_init(m, FV_IOTLB_MSG, FV_VERSION | FV_NEED_REPLY);
	if (!valid) {
		switch (fz_below(r, 5)) {
		case 0:	/* a range that wraps at 2^64, or ends there */
			t.iova = ~0ULL - fz_below(r, 0x2000);
			t.size = 0x1000 + fz_below(r, 2) * 0x1000;
			break;
		case 1:
			t.type = 3;
			t.iova = fv_edge(r);
			t.size = fv_edge(r);
			break;
		case 2:
			t.perm = fz_below(r, 8);
			t.size = fz_below(r, 2) ? 0 : 4096;
			break;
		case 3:
			t.uaddr = fv_edge(r);
			t.size = fv_edge(r);
			break;
		default:
			t.iova = FV_IOVA + (fz_below(r, 256) << 12);
			t.size = 1ULL << fz_below(r, 22);
			t.uaddr = FV_QVA + (fz_below(r, 256) << 12);
			t.type = fz_one_in(r, 8) ? fz_below(r, 256) : 2 + fz_below(r, 2);
			break;
		}
	}
	memcpy(m->p, &t, sizeof(t));
	m->len = 32;
}

static void fv_vring_fd_msg(struct fv_conn *c, struct fv_m *m, uint32_t req,
			    unsigned int vq, enum fv_fd_kind kind)
{
	fv_m_init(m, req, fv_flags(c));
	if (kind == FV_NFD_KINDS) {
		fv_put64(m, 0, vq | FV_NOFD);
		return;
	}
	fv_put64(m, 0, vq);
	fv_add_fd(m, fv_make_fd(c, kind));
	if (req == FV_SET_VRING_KICK && kind == FV_FD_EVENTFD)
		m->keep = 0;
}

/* ---- the set-up sequence ---- */

/* Send one set-up step; false when the connection is gone or ends here. */
static bool fv_step(struct fv_conn *c, struct fv_m *m, unsigned int *left,
		    uint64_t *val, int *kept)
{
	if (*left && !--*left) {
		while (m->nfds)		/* not sent: ours to close */
			close(m->fds[--m->nfds]);
		return false;
	}
	return !fv_do(c, m, 10 * c->calm, val, kept);
}

static bool fv_setup_features(struct fv_conn *c, unsigned int *left)
{
	struct fv_m m;
	uint64_t v, want;

	fv_m_init(&m, FV_GET_FEATURES, FV_VERSION);
	if (!fv_step(c, &m, left, &v, NULL))
		return false;
	if (v != ~0ULL && m.req == FV_GET_FEATURES)	/* not mutated */
		c->offered = v;
	fv_m_init(&m, FV_SET_OWNER, fv_flags(c));
	if (!fv_step(c, &m, left, NULL, NULL))
		return false;
	want = c->offered & (fz_next(&c->r) | (1ULL << FV_F_VERSION_1) |
			     (1ULL << FV_F_PROTOCOL));
	if (!fz_one_in(&c->r, 3))
		want &= ~(1ULL << FV_F_ACCESS_PLATFORM);
	fv_m_init(&m, FV_SET_FEATURES, fv_flags(c));
	fv_put64(&m, 0, want);
	if (!fv_step(c, &m, left, NULL, NULL))
		return false;
	if (!(c->features & (1ULL << FV_F_PROTOCOL)))
		return true;
	fv_m_init(&m, FV_GET_PROTOCOL_FEATURES, FV_VERSION);
	if (!fv_step(c, &m, left, &v, NULL))
		return false;
	if (v != ~0ULL && m.req == FV_GET_PROTOCOL_FEATURES)
		c->offered_pf = v;
	want = c->offered_pf & (fz_next(&c->r) | (1ULL << FV_PF_REPLY_ACK) |
				(c->iotlb ? 1ULL << FV_PF_BACKEND_REQ : 0));
	fv_m_init(&m, FV_SET_PROTOCOL_FEATURES, fv_flags(c));
	fv_put64(&m, 0, want);
	return fv_step(c, &m, left, NULL, NULL);
}

static bool fv_setup_backend(struct fv_conn *c, unsigned int *left)
{
	struct fv_m m;
	int sv[2];

	if (!(c->protocol & (1ULL << FV_PF_BACKEND_REQ)) || fz_one_in(&c->r, 4))
		return true;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return true;
	if (c->backend >= 0)
		close(c->backend);
	c->backend = sv[0];
	c->backend_mode = fz_below(&c->r, 3);
	fv_m_init(&m, FV_SET_BACKEND_REQ_FD, fv_flags(c));
	fv_add_fd(&m, sv[1]);
	return fv_step(c, &m, left, NULL, NULL);
}

static bool fv_setup_vq(struct fv_conn *c, unsigned int vq, unsigned int *left)
{
	struct fv_m m;
	int kept = -1;

	c->num[vq] = 16U << fz_below(&c->r, 5);
	fv_m_init(&m, FV_SET_VRING_NUM, fv_flags(c));
	fv_state(&m, vq, c->num[vq]);
	if (!fv_step(c, &m, left, NULL, NULL))
		return false;
	fv_m_init(&m, FV_SET_VRING_BASE, fv_flags(c));
	fv_state(&m, vq, 0);
	if (!fv_step(c, &m, left, NULL, NULL))
		return false;
	fv_m_init(&m, FV_SET_VRING_ADDR, fv_flags(c));
	fv_guest_addr(c, vq, m.p);
	m.len = 40;
	if (!fv_step(c, &m, left, NULL, NULL))
		return false;
	fv_vring_fd_msg(c, &m, FV_SET_VRING_CALL, vq, FV_FD_EVENTFD);
	if (!fv_step(c, &m, left, NULL, NULL))
		return false;
	fv_vring_fd_msg(c, &m, FV_SET_VRING_ERR, vq, FV_FD_EVENTFD);
	if (!fv_step(c, &m, left, NULL, NULL))
		return false;
	fv_vring_fd_msg(c, &m, FV_SET_VRING_KICK, vq, FV_FD_EVENTFD);
	if (!fv_step(c, &m, left, NULL, &kept))
		return false;
	if (kept >= 0)
		fv_set_kick(c, vq, kept);
	if (!(c->features & (1ULL << FV_F_PROTOCOL)))
		return true;
	fv_m_init(&m, FV_SET_VRING_ENABLE, fv_flags(c));
	fv_state(&m, vq, 1);
	return fv_step(c, &m, left, NULL, NULL);
}

/* A dirty log (with LOG_SHMFD acked), sometimes too small for the guest. */
static bool fv_setup_log(struct fv_conn *c, unsigned int *left)
{
	size_t sz = fz_one_in(&c->r, 4) ? 1 + fz_below(&c->r, FV_LOG_SIZE) :
		    FV_LOG_SIZE;
	struct fv_m m;

	if (!(c->protocol & (1ULL << FV_PF_LOG_SHMFD)) || fz_one_in(&c->r, 2))
		return true;
	if (c->logfd >= 0)
		close(c->logfd);
	c->logfd = memfd_create("ivu-fuzz-log", MFD_CLOEXEC);
	if (c->logfd < 0 || ftruncate(c->logfd, sz))
		return true;
	fv_m_init(&m, FV_SET_LOG_BASE, fv_flags(c));
	fv_put64(&m, 0, sz);
	fv_put64(&m, 8, 0);
	fv_add_fd(&m, fcntl(c->logfd, F_DUPFD_CLOEXEC, 0));
	return fv_step(c, &m, left, NULL, NULL);
}

/*
 * The set-up QEMU does, each step mutated one time in ten; with @left
 * non-zero it stops before step @left.  False: the connection ends.
 */
static bool fv_setup(struct fv_conn *c, unsigned int left)
{
	unsigned int vq;
	struct fv_m m;

	if (!fv_setup_features(c, &left) || !fv_setup_backend(c, &left))
		return false;
	fv_m_init(&m, FV_SET_MEM_TABLE, fv_flags(c));
	fv_mem_table(c, &m, false);
	if (!fv_step(c, &m, &left, NULL, NULL) || !fv_setup_log(c, &left))
		return false;
	if (c->iotlb) {
		fv_iotlb_msg(c, &m, true);
		if (!fv_step(c, &m, &left, NULL, NULL))
			return false;
	}
	fv_ring_start(c);
	for (vq = 0; vq < 2 * G.queues; vq++)
		if (!fz_one_in(&c->r, 6) && !fv_setup_vq(c, vq, &left))
			return false;
	return true;
}

/* ---- random operations ---- */

static unsigned int fv_rand_vq(struct fv_conn *c)
{
	if (fz_one_in(&c->r, 8))
		return fz_one_in(&c->r, 2) ? 2 * G.queues + fz_below(&c->r, 8) :
		       (uint32_t)fv_edge(&c->r);
	return fz_below(&c->r, 2 * G.queues);
}

/* A request of any kind with plausible fields, mutated one time in 3. */
static int fv_op_request(struct fv_conn *c)
{
	struct fz_rng *r = &c->r;
	uint32_t req = 1 + fz_below(r, FV_NREQ - 1);
	unsigned int vq = fv_rand_vq(c);
	int kept = -1, err;
	struct fv_m m;

	fv_m_init(&m, req, fv_flags(c));
	switch (req) {
	case FV_SET_MEM_TABLE:
		fv_mem_table(c, &m, fz_one_in(r, 2));
		break;
	case FV_SET_VRING_KICK:
	case FV_SET_VRING_CALL:
	case FV_SET_VRING_ERR:
		fv_vring_fd_msg(c, &m, req, vq, fz_one_in(r, 2) ? FV_FD_EVENTFD :
				fz_below(r, FV_NFD_KINDS + 1));
		break;
	case FV_SET_VRING_ADDR:
		fv_guest_addr(c, vq % FV_MAX_VQ, m.p);
		memcpy(m.p, &vq, 4);
		m.len = 40;
		break;
	case FV_SET_VRING_NUM:
	case FV_SET_VRING_BASE:
	case FV_SET_VRING_ENABLE:
	case FV_GET_VRING_BASE:
		fv_state(&m, vq, fz_one_in(r, 3) ? fv_edge(r) :
			 req == FV_SET_VRING_NUM ? 16U << fz_below(r, 5) :
			 fz_below(r, 2));
		break;
	case FV_SET_LOG_BASE:
		fv_put64(&m, 0, fz_one_in(r, 2) ? 4096 : fv_edge(r));
		fv_put64(&m, 8, fz_one_in(r, 2) ? 0 : fv_edge(r));
		fv_add_fd(&m, fv_make_fd(c, fz_one_in(r, 2) ? FV_FD_MEMFD_ODD :
					 fz_below(r, FV_NFD_KINDS)));
		break;
	case FV_SET_LOG_FD:
	case FV_SET_BACKEND_REQ_FD:
		fv_add_fd(&m, fv_make_fd(c, fz_below(r, FV_NFD_KINDS)));
		break;
	case FV_IOTLB_MSG:
		fv_iotlb_msg(c, &m, fz_one_in(r, 3));
		break;
	case FV_SET_FEATURES:
	case FV_SET_PROTOCOL_FEATURES:
		fv_put64(&m, 0, fz_one_in(r, 2) ? fz_next(r) :
			 (req == FV_SET_FEATURES ? c->features : c->protocol));
		break;
	case FV_NET_SET_MTU:
		fv_put64(&m, 0, fz_one_in(r, 2) ? 68 + fz_below(r, 9000) : fv_edge(r));
		break;
	case FV_SEND_RARP:
		fv_put64(&m, 0, fz_next(r));
		break;
	default:
		break;
	}
	err = fv_do(c, &m, 3, NULL, &kept);
	if (kept >= 0 && vq < FV_MAX_VQ && m.req == FV_SET_VRING_KICK)
		fv_set_kick(c, vq, kept);
	else if (kept >= 0)
		close(kept);
	return err;
}

/* Garbage: any id, flags and size, random bytes, random fds. */
static int fv_op_garbage(struct fv_conn *c)
{
	struct fz_rng *r = &c->r;
	unsigned int i, n = fz_below(r, 4);
	struct fv_m m;

	fv_m_init(&m, fz_one_in(r, 2) ? fz_below(r, 64) : (uint32_t)fz_next(r),
		  fz_one_in(r, 2) ? FV_VERSION | FV_NEED_REPLY : (uint32_t)fz_next(r));
	m.len = fz_below(r, FV_BUF + 1);
	for (i = 0; i < m.len; i++)
		m.p[i] = fz_next(r);
	for (i = 0; i < n; i++)
		fv_add_fd(&m, fv_make_fd(c, fz_below(r, FV_NFD_KINDS)));
	return fv_do(c, &m, 0, NULL, NULL);
}

/* Answer a MISS with an UPDATE of its page, as QEMU's vIOMMU would. */
static int fv_answer_miss(struct fv_conn *c, const unsigned char *p)
{
	struct fv_iotlb t;
	struct fv_m m;

	memcpy(&t, p, sizeof(t));
	if (t.type != 1 || t.iova < FV_IOVA || t.iova >= FV_IOVA + FV_MEM_SIZE)
		return 0;
	fv_m_init(&m, FV_IOTLB_MSG, FV_VERSION | FV_NEED_REPLY);
	t.iova &= ~4095ULL;
	t.size = 4096 << fz_below(&c->r, 3);
	t.uaddr = FV_QVA + (t.iova - FV_IOVA);
	t.perm = fz_one_in(&c->r, 8 * c->calm) ? 1 : 3;
	t.type = 2;
	memcpy(m.p, &t, sizeof(t));
	m.len = 32;
	return fv_do(c, &m, 20 * c->calm, NULL, NULL);
}

/*
 * The backend channel of a connection that answers it: MISSes get their
 * UPDATE on the socket, host notifier registrations (NEED_REPLY) a u64
 * answer, mapped (0) or refused, or sometimes garbage.
 */
static int fv_op_backend(struct fv_conn *c)
{
	unsigned char b[4096];
	uint32_t h[3], a[5];
	ssize_t n, i;

	if (c->backend < 0 || c->backend_mode != FV_BACKEND_ANSWER)
		return 0;
	n = recv(c->backend, b, sizeof(b), MSG_DONTWAIT);
	for (i = 0; i + 12 <= n; i += 12 + h[2]) {
		memcpy(h, b + i, sizeof(h));
		if (h[0] == 1 && h[2] == 32 && i + 44 <= n &&
		    fv_answer_miss(c, b + i + 12))
			return -ECONNRESET;
		if (h[0] != 3 || !(h[1] & FV_NEED_REPLY))
			continue;
		a[0] = 3;
		a[1] = fz_one_in(&c->r, 4 * c->calm) ? fz_next(&c->r) :
		       FV_VERSION | FV_REPLY;
		a[2] = 8;
		a[3] = !fz_one_in(&c->r, 3);
		a[4] = 0;
		if (send(c->backend, a, sizeof(a), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			break;
	}
	return 0;
}

/*
 * A flood: requests that have replies, sent without reading any.  The
 * daemon answers each, until its socket has no room and it drops the
 * connection (README, "Errors"); every reply that came must be whole and
 * right, and the end must come within the bound.
 */
static int fv_op_flood(struct fv_conn *c)
{
	uint32_t h[3] = { FV_GET_QUEUE_NUM, FV_VERSION, 0 }, r[5];
	unsigned int n = 16 + fz_below(&c->r, 4000), sent, got;
	int err;

	for (sent = 0; sent < n; sent++) {
		if (send(c->sock, h, sizeof(h), MSG_NOSIGNAL) == sizeof(h))
			continue;
		if (errno == EAGAIN)
			fv_fail(c, "the daemon does not read its socket (%u ms)",
				FV_REPLY_MS);
		break;
	}
	G.msgs += sent;
	for (got = 0; got < sent; got++) {
		err = fv_read_reply(c, r, sizeof(r));
		if (err)
			return err;
		if (r[0] != FV_GET_QUEUE_NUM || r[1] != (FV_VERSION | FV_REPLY) ||
		    r[2] != 8 || r[3] != G.queues)
			fv_fail(c, "flood reply %u of %u: request %u flags 0x%x size %u value %u",
				got, sent, r[0], r[1], r[2], r[3]);
	}
	return sent < n ? fv_read_reply(c, r, sizeof(r)) : 0;
}

/* A second frontend knocks while this one is served, and leaves. */
static void fv_op_other_conn(struct fv_conn *c)
{
	static const uint32_t h[3] = { FV_GET_FEATURES, FV_VERSION, 0 };
	int fd = fv_connect_now();

	if (fd < 0)
		return;
	if (fz_one_in(&c->r, 2) && send(fd, h, sizeof(h), MSG_NOSIGNAL) < 0)
		(void)0;
	close(fd);
}

static int fv_op(struct fv_conn *c)
{
	struct fv_m m;

	switch (fz_below(&c->r, 23)) {
	case 22:
		c->what = "flood";
		return fv_op_flood(c);
	case 20 ... 21:
		c->what = "backend channel answered";
		return fv_op_backend(c);
	case 0 ... 7:
		c->what = "request";
		return fv_op_request(c);
	case 8:
		c->what = "garbage";
		return fv_op_garbage(c);
	case 9:
		c->what = "set-up again";
		return fv_setup(c, 0) ? 0 : -ECONNRESET;
	case 10:
		c->what = "IOTLB_MSG";
		fv_iotlb_msg(c, &m, fz_one_in(&c->r, 2));
		return fv_do(c, &m, 4, NULL, NULL);
	case 11:
		c->what = "memfd shrunk";
		fv_guest_truncate(c);
		return 0;
	case 12:
		c->what = "kicks";
		fv_ring_start(c);
		fv_kick_all(c);
		return 0;
	case 13:
		c->what = "tap frames";
		fv_inject(c);
		return 0;
	case 14:
		c->what = "rings run";
		usleep(fz_below(&c->r, 30000));
		return 0;
	case 15:
		c->what = "another frontend";
		fv_op_other_conn(c);
		return 0;
	default:
		c->what = "bad memory table";
		fv_m_init(&m, FV_SET_MEM_TABLE, fv_flags(c));
		fv_mem_table(c, &m, true);
		return fv_do(c, &m, 4, NULL, NULL);
	}
}

/* ---- the end of a connection ---- */

/*
 * The first @cut bytes of a SET_VRING_ADDR (the header's 12, then its 40
 * of payload), sometimes with an eventfd on the header; nothing after.
 */
static void fv_cut(struct fv_conn *c, unsigned int cut)
{
	uint32_t h[3] = { FV_SET_VRING_ADDR, FV_VERSION, 40 };
	unsigned char b[12 + 40] = { 0 };
	struct iovec iov = { b, cut };
	int fd = fz_one_in(&c->r, 2) ? fv_make_fd(c, FV_FD_EVENTFD) : -1;

	memcpy(b, h, sizeof(h));
	c->step++;
	if (fv_sendmsg(c->sock, &iov, 1, &fd, fd >= 0) < 0)
		c->closed = true;
	if (fd >= 0)
		close(fd);
}

/* A header announcing more than comes: the next message is eaten. */
static void fv_size_lie(struct fv_conn *c)
{
	uint32_t h[6] = { FV_SET_VRING_NUM, FV_VERSION, 8 + fz_below(&c->r, 64),
			  FV_GET_FEATURES, FV_VERSION, 0 };

	c->step++;
	if (send(c->sock, h, sizeof(h), MSG_NOSIGNAL) < 0)
		c->closed = true;
	usleep(fz_below(&c->r, 20000));
}

static void fv_end(struct fv_conn *c)
{
	struct fz_rng *r = &c->r;

	switch (c->closed ? 0 : fz_below(r, 9)) {
	case 0:
		break;
	case 1:
		c->what = "end after a header";
		fv_cut(c, 12);
		break;
	case 2:
		c->what = "end mid-payload";
		fv_cut(c, 12 + 1 + fz_below(r, 39));
		break;
	case 3:
		c->what = "end mid-header";
		fv_cut(c, 1 + fz_below(r, 11));
		break;
	case 4:
		c->what = "half close";
		fv_check_quiet(c);
		shutdown(c->sock, SHUT_WR);
		fv_wait_closed(c, FV_REPLY_MS);
		break;
	case 5:
		c->what = "size lie";
		fv_size_lie(c);
		break;
	case 6:
		if (G.stall && fz_one_in(r, 200)) {
			c->what = "stall mid-payload";
			G.stalls++;
			fv_cut(c, 12 + fz_below(r, 40));
			fv_wait_closed(c, FV_STALL_MS);
			break;
		}
		/* fall through */
	default:
		c->what = "close";
		fv_check_quiet(c);
		break;
	}
	if (c->sock >= 0)
		close(c->sock);
	c->sock = -1;
	fv_guest_fini(c);
}

/**
 * fv_run_conn() - one connection, from its PRNG
 * @c: the connection, zeroed but for its index and PRNG
 *
 * Returns when the connection is closed and the guest dropped; a broken
 * promise ends the run (fv_fail()).
 */
void fv_run_conn(struct fv_conn *c)
{
	unsigned int n = 1 + fz_below(&c->r, G.max_ops);

	c->what = "connect";
	c->calm = fz_one_in(&c->r, 2) ? 8 : 1;
	c->offered = ~0ULL;
	c->offered_pf = ~0ULL;
	if (fv_guest_init(c))
		fv_fail(c, "no guest memory");
	c->sock = fv_connect();
	if (c->sock < 0)
		fv_fail(c, "cannot connect: %s", strerror(-c->sock));
	c->what = "set-up";
	fv_progress();
	if (!fz_one_in(&c->r, 4) &&
	    !fv_setup(c, fz_one_in(&c->r, 4) ? 1 + fz_below(&c->r, 40) : 0)) {
		c->op++;
		fv_end(c);
		return;
	}
	for (c->op = 1; c->op <= n && !c->closed; c->op++) {
		c->step = 0;
		fv_progress();
		if (fv_op(c))
			break;
		fv_check_alive(c);
	}
	fv_end(c);
}
