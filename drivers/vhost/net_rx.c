// SPDX-License-Identifier: GPL-2.0
/*
 * ivhost-net receive path: frames from the backend socket into the
 * guest's RX ring.
 *
 * A frame is received only once buffers for all of it are in hand: with
 * VIRTIO_NET_F_MRG_RXBUF it may span several descriptor chains (their
 * number goes into the header's num_buffers), without it one chain must
 * hold it whole.  When the ring runs dry the frame stays in the socket
 * and the queue waits for a kick, so nothing is lost or duplicated.  A
 * frame that could never fit (larger than every buffer the ring can
 * offer, or that needs more descriptors than a frame may walk) is
 * dropped, and the buffers are given back untouched; so is a frame the
 * socket cuts (a tap whose vnet header is longer than the negotiated
 * one).
 *
 * Locking: the round runs in the worker under the RX vq's mutex.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/socket.h>
#include <linux/uio.h>

#include "net.h"

/* Bytes a frame occupies in the guest: device header, socket header, data. */
static size_t ivhost_net_rx_wanted(const struct ivhost_net_queue *q,
				   size_t frame)
{
	return q->vhost_hlen + q->sock_hlen + frame;
}

/*
 * Gather descriptor chains until @want bytes fit.  Fills q->heads and
 * returns their number, with the segments in vq->iov and their count in
 * *niov; -EAGAIN when the ring ran dry (nothing kept), -E2BIG when the
 * frame can never fit (nothing kept: more chains, segments or
 * descriptors than a frame may take), or another errno for a bad ring
 * (an indirect table over IVHOST_INDIRECT_MAX is one, as on TX).
 */
static int ivhost_net_rx_gather(struct ivhost_net_queue *q, size_t want,
				unsigned int *niov)
{
	struct ivhost_vq *vq = &q->vq;
	bool mrg = ivhost_has_feature(vq, VIRTIO_NET_F_MRG_RXBUF);
	unsigned int nheads = 0, max_heads;
	struct ivhost_buf buf;
	size_t got = 0;
	int err;

	max_heads = mrg ? min_t(u32, vq->num, IVHOST_NET_RX_HEADS) : 1;
	*niov = 0;
	while (got < want) {
		if (nheads == max_heads) {
			err = -E2BIG;
			goto unget;
		}
		err = ivhost_vq_get_buf(vq, &buf, vq->iov + *niov,
					IVHOST_IOV_MAX - *niov);
		if (err == -E2BIG)
			err = -EINVAL;
		else if (err == -ENOBUFS)
			err = -E2BIG;
		if (err)
			goto unget;
		if (buf.out) {
			ivhost_vq_unget_bufs(vq, 1);
			err = -EINVAL;
			goto unget;
		}
		q->heads[nheads].id = buf.id;
		q->heads[nheads].len = min(buf.in_len, want - got);
		q->heads[nheads].count = buf.count;
		nheads++;
		*niov += buf.in;
		got += buf.in_len;
	}
	return nheads;

unget:
	ivhost_vq_unget_bufs(vq, nheads);
	return err;
}

/*
 * Drop the frame at the head of the socket.  tun and tap return at once,
 * without dequeuing, from a read of zero bytes, so read one byte: the
 * frame is dequeued and freed whether it is truncated or refused for a
 * buffer shorter than the socket's vnet header.
 */
static void ivhost_net_rx_discard(struct socket *sock)
{
	struct msghdr msg = {};
	struct kvec kv;
	u8 byte;

	kv.iov_base = &byte;
	kv.iov_len = sizeof(byte);
	iov_iter_kvec(&msg.msg_iter, ITER_DEST, &kv, 1, sizeof(byte));
	sock->ops->recvmsg(sock, &msg, sizeof(byte), MSG_DONTWAIT | MSG_TRUNC);
}

/*
 * Write the device-added header, or num_buffers into the socket's one.
 * Whenever the guest's header has num_buffers (12 bytes: MRG_RXBUF or
 * VERSION_1) it is set, to 1 without MRG_RXBUF as the virtio spec asks;
 * a tap skips those two bytes of its vnet header without writing them.
 */
static int ivhost_net_rx_header(struct ivhost_net_queue *q,
				struct iov_iter *hdr, u16 nheads)
{
	struct virtio_net_hdr_mrg_rxbuf h = {};
	size_t off = offsetof(struct virtio_net_hdr_mrg_rxbuf, num_buffers);

	h.num_buffers = cpu_to_ivhost16(&q->vq, nheads);
	if (q->vhost_hlen) {
		h.hdr.gso_type = VIRTIO_NET_HDR_GSO_NONE;
		if (copy_to_iter(&h, q->vhost_hlen, hdr) != q->vhost_hlen)
			return -EFAULT;
		return 0;
	}
	if (q->sock_hlen < sizeof(h))
		return 0;
	iov_iter_advance(hdr, off);
	if (copy_to_iter(&h.num_buffers, sizeof(h.num_buffers), hdr) !=
	    sizeof(h.num_buffers))
		return -EFAULT;
	return 0;
}

/* Receive one gathered frame; returns bytes given to the guest or -errno. */
static int ivhost_net_rx_recv(struct ivhost_net_queue *q, struct socket *sock,
			      unsigned int niov, size_t want, int nheads)
{
	struct msghdr msg = {};
	struct iov_iter hdr;
	size_t body = want - q->vhost_hlen;
	int ret, err;

	iov_iter_init(&msg.msg_iter, ITER_DEST, q->vq.iov, niov, want);
	hdr = msg.msg_iter;
	iov_iter_advance(&msg.msg_iter, q->vhost_hlen);
	ret = sock->ops->recvmsg(sock, &msg, body, MSG_DONTWAIT | MSG_TRUNC);
	if (ret < 0)
		return ret;
	/*
	 * Longer than peeked: the frame was cut.  A tap whose vnet header
	 * is longer than the features imply (TUNSETVNETHDRSZ) does this to
	 * every frame, and a socket's queue may change under us.
	 */
	if ((size_t)ret > body)
		return -EMSGSIZE;
	err = ivhost_net_rx_header(q, &hdr, nheads);
	if (err)
		return err;
	return q->vhost_hlen + (size_t)ret;
}

/* Set the used lengths of the gathered heads to the @len bytes written. */
static void ivhost_net_rx_trim(struct ivhost_net_queue *q, int nheads,
			       size_t len)
{
	int i;

	for (i = 0; i < nheads; i++) {
		q->heads[i].len = min_t(size_t, q->heads[i].len, len);
		len -= q->heads[i].len;
	}
}

/*
 * Move one frame into the guest.  Returns the bytes moved (> 0), 0 to end
 * the round, or -EAGAIN to try again at once (buffers appeared while the
 * queue was re-enabling notifications).  *cost counts the chains used.
 */
static int ivhost_net_rx_one(struct ivhost_net_queue *q, struct socket *sock,
			     int *cost)
{
	struct ivhost_vq *vq = &q->vq;
	unsigned int niov;
	size_t want;
	int nheads, len, err;

	len = ivhost_net_peek_len(sock);
	if (len <= 0) {
		if (ivhost_net_busy_poll(q, sock))
			return -EAGAIN;
		ivhost_poll_start(&q->sock_poll, sock->file);
		return 0;
	}
	want = ivhost_net_rx_wanted(q, len);
	*cost = 1;
	ivhost_vq_frame_begin(vq);
	nheads = ivhost_net_rx_gather(q, want, &niov);
	if (nheads == -EAGAIN) {
		if (ivhost_net_busy_poll(q, NULL))
			return -EAGAIN;
		/* True only if the driver added buffers since the gather. */
		if (!ivhost_vq_enable_notify(vq))
			return 0;
		ivhost_vq_disable_notify(vq);
		return -EAGAIN;
	}
	if (nheads == -E2BIG) {
		ivhost_net_rx_discard(sock);
		return -EAGAIN;
	}
	/* Waiting for the VMM to map a buffer; it wakes the queue. */
	if (nheads == -EINPROGRESS)
		return 0;
	if (nheads < 0)
		goto fail;
	*cost = nheads;
	len = ivhost_net_rx_recv(q, sock, niov, want, nheads);
	if (len == -EAGAIN) {
		/* The frame went away under us: keep the buffers, and wait
		 * for the next one.
		 */
		ivhost_vq_unget_bufs(vq, nheads);
		ivhost_poll_start(&q->sock_poll, sock->file);
		return 0;
	}
	if (len == -EMSGSIZE) {
		/*
		 * The frame was cut, and is gone from the socket: drop it,
		 * as vhost_net does, and give the buffers back unreported.
		 */
		ivhost_vq_unget_bufs(vq, nheads);
		return -EAGAIN;
	}
	if (len < 0) {
		nheads = len;
		goto fail;
	}
	ivhost_net_rx_trim(q, nheads, len);
	if (vq->log_base) {
		err = ivhost_log_write(vq, vq->iov, niov, len);
		if (err)
			goto fail_err;
	}
	err = ivhost_vq_add_used_n(vq, q->heads, nheads);
	if (err)
		goto fail_err;
	return len;

fail:
	err = nheads;
fail_err:
	ivhost_vq_fail(vq, err);
	return 0;
}

/**
 * ivhost_net_rx() - one receive round
 * @q: the RX queue
 *
 * Moves frames from the backend into the guest until the socket is empty,
 * the ring runs dry or the round's weights are used up; in the last case
 * it queues itself again so other work gets the worker in between.
 *
 * Context: the worker, with the owner's mm; takes &q->vq.mutex.
 */
void ivhost_net_rx(struct ivhost_net_queue *q)
{
	struct ivhost_vq *vq = &q->vq;
	struct socket *sock;
	size_t bytes = 0;
	u16 used_before;
	int pkts = 0, cost, ret;

	mutex_lock(&vq->mutex);
	ivhost_poll_stop(&q->sock_poll);
	sock = vq->backend;
	if (!sock || vq->broken || !ivhost_net_round_ready(q))
		goto unlock;

	used_before = vq->last_used_idx;
	vq->walked = 0;
	ivhost_vq_disable_notify(vq);
	do {
		cost = 0;
		ret = ivhost_net_rx_one(q, sock, &cost);
		pkts += cost;
		if (ret > 0)
			bytes += ret;
		if (ret && ivhost_net_weight_exceeded(vq, pkts, bytes)) {
			ivhost_work_queue(vq->dev, &q->sock_poll.work);
			break;
		}
	} while (ret);
	if (vq->last_used_idx != used_before) {
		ivhost_vq_signal(vq);
		ivhost_log_done(vq);
	}
unlock:
	mutex_unlock(&vq->mutex);
}
