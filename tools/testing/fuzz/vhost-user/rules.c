// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-vu: which requests are bad, from the vhost-user protocol and
 * tools/vhost-user/README ("Errors", "The device IOTLB", "Live
 * migration"): a payload size or fd count other than the request's, an
 * unknown request, a vq index out of range, a KICK/CALL/ERR whose NOFD
 * bit and fd disagree, a ring size of 0, over 32768 or not a power of 2
 * (with RING_PACKED acked, any size from 1 to 32768), a base over 0xffff
 * (with RING_PACKED, both positions in 32 bits: an index not below the
 * ring's size is refused too, which this oracle does not track), an enable other than 0 or 1, ring address flags
 * other than LOG or a misaligned log address, features or protocol
 * features not offered, an MTU outside 68..65535, SET_LOG_BASE without
 * LOG_SHMFD, SEND_RARP without RARP, IOTLB_MSG without IOMMU_PLATFORM,
 * of another type, or an UPDATE with size 0, perm 0 or beyond RW, or a
 * range that wraps past 2^64.  The daemon must refuse every one.
 */
#include <string.h>

#include "fuzz-vu.h"

/* Payload size and fds per request: -1 size: checked elsewhere. */
static const struct { int size, fds; } fv_shape[FV_NREQ] = {
	[FV_GET_FEATURES] = { 0, 0 }, [FV_SET_FEATURES] = { 8, 0 },
	[FV_SET_OWNER] = { 0, 0 }, [FV_RESET_OWNER] = { 0, 0 },
	[FV_SET_MEM_TABLE] = { -1, -1 }, [FV_SET_LOG_BASE] = { 16, 1 },
	[FV_SET_LOG_FD] = { 0, 1 }, [FV_SET_VRING_NUM] = { 8, 0 },
	[FV_SET_VRING_ADDR] = { 40, 0 }, [FV_SET_VRING_BASE] = { 8, 0 },
	[FV_GET_VRING_BASE] = { 8, 0 }, [FV_SET_VRING_KICK] = { 8, -1 },
	[FV_SET_VRING_CALL] = { 8, -1 }, [FV_SET_VRING_ERR] = { 8, -1 },
	[FV_GET_PROTOCOL_FEATURES] = { 0, 0 },
	[FV_SET_PROTOCOL_FEATURES] = { 8, 0 }, [FV_GET_QUEUE_NUM] = { 0, 0 },
	[FV_SET_VRING_ENABLE] = { 8, 0 }, [FV_SEND_RARP] = { 8, 0 },
	[FV_NET_SET_MTU] = { 8, 0 }, [FV_SET_BACKEND_REQ_FD] = { 0, 1 },
	[FV_IOTLB_MSG] = { 32, 0 },
};

static bool fv_iotlb_bad(struct fv_conn *c, const struct fv_iotlb *t)
{
	uint64_t e;

	if (!(c->features & (1ULL << FV_F_ACCESS_PLATFORM)))
		return true;
	if (t->type != 2 && t->type != 3)
		return true;
	if (t->type == 3)
		return false;
	return !t->size || !t->perm || t->perm > 3 ||
	       __builtin_add_overflow(t->iova, t->size - 1, &e) ||
	       __builtin_add_overflow(t->uaddr, t->size - 1, &e);
}

static bool fv_vring_bad(const struct fv_conn *c, const struct fv_m *m)
{
	bool packed = c->features & (1ULL << FV_F_RING_PACKED);
	uint64_t u;
	uint32_t idx, num;

	memcpy(&u, m->p, 8);
	idx = (uint32_t)u;
	num = u >> 32;
	switch (m->req) {
	case FV_SET_VRING_KICK:
	case FV_SET_VRING_CALL:
	case FV_SET_VRING_ERR:
		return (u & 0xff) >= 2 * G.queues ||
		       !!(u & FV_NOFD) != !m->nfds || m->nfds > 1;
	case FV_SET_VRING_NUM:
		return idx >= 2 * G.queues || !num || num > 32768 ||
		       (!packed && (num & (num - 1)));
	case FV_SET_VRING_BASE:
		return idx >= 2 * G.queues || (!packed && num > 0xffff);
	case FV_SET_VRING_ENABLE:
		return idx >= 2 * G.queues || num > 1;
	case FV_SET_VRING_ADDR:
		memcpy(&u, m->p + 32, 8);
		return idx >= 2 * G.queues || num & ~1U || (num && (u & 3));
	default:
		return false;
	}
}

/**
 * fv_known_bad() - is a request bad by the documented rules?
 * @c: the connection (the features the daemon took)
 * @m: the request, as it will be sent
 *
 * Return: true if the daemon must refuse it (a non-zero reply, or the
 * connection closed).
 */
bool fv_known_bad(struct fv_conn *c, const struct fv_m *m)
{
	struct fv_iotlb t;
	uint64_t u = 0;
	uint32_t n;

	if (m->req >= FV_NREQ || !m->req)
		return true;	/* unknown */
	if (fv_shape[m->req].size >= 0 && m->len != (uint32_t)fv_shape[m->req].size)
		return true;
	if (fv_shape[m->req].fds >= 0 && m->nfds != (unsigned int)fv_shape[m->req].fds)
		return true;
	memcpy(&u, m->p, 8);
	switch (m->req) {
	case FV_SET_MEM_TABLE:
		memcpy(&n, m->p, 4);
		return m->len < 8 || !n || n > 8 || n != m->nfds ||
		       m->len != 8 + 32 * n;
	case FV_SET_FEATURES:
		return u & ~c->offered;
	case FV_SET_PROTOCOL_FEATURES:
		return u & ~c->offered_pf;
	case FV_NET_SET_MTU:
		return u < 68 || u > 65535;
	case FV_SET_LOG_BASE:
		return !(c->protocol & 2);
	case FV_SEND_RARP:
		return !(c->protocol & 4);
	case FV_IOTLB_MSG:
		memcpy(&t, m->p, sizeof(t));
		return fv_iotlb_bad(c, &t);
	default:
		return fv_vring_bad(c, m);
	}
}
