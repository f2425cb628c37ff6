// SPDX-License-Identifier: GPL-2.0
/*
 * Moving frames between the guest's rings and the tap, as vhost_net does.
 *
 * TX (guest to host, odd vqs): each chain is the virtio-net header and
 * the frame, readable only; it goes to the tap as it is, in one writev(),
 * since the tap reads the same header (TUNSETVNETHDRSZ = our header size).
 *
 * RX (host to guest, even vqs): a frame is read from the tap, header
 * first, into a buffer of the pair, then copied into one chain, or with
 * VIRTIO_NET_F_MRG_RXBUF into as many chains as it needs (num_buffers in
 * the header says how many).  A frame waits in that buffer while the
 * guest has no room, and the tap is not watched until the guest kicks:
 * frames are not dropped for want of buffers, they queue in the tap.
 *
 * Rounds are bounded by IVU_WEIGHT_PKTS and IVU_WEIGHT_BYTES; a round
 * that reaches a weight sets vq->more and main.c runs another after
 * everything else that is ready.
 *
 * With the device IOTLB, a round that meets a miss ends there and the
 * ring waits for the UPDATE (iotlb.c wakes it): a TX chain stays on the
 * avail ring, an RX frame in its buffer.  Nothing is dropped for a miss.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <linux/virtio_net.h>

#include "ivu.h"

/* Frames a new connection drops from each tap queue, at most. */
#define IVU_PURGE_MAX	4096

static __thread struct ivu_buf ivu_buf;	/* one chain at a time per thread */

static unsigned int ivu_qp_of(const struct ivu_vring *vq)
{
	return vq->index / 2;
}

static bool ivu_is_tx(const struct ivu_vring *vq)
{
	return vq->index & 1;
}

/* Send one TX chain to the tap: true if delivered. */
static bool ivu_net_tx_one(struct ivu_dev *d, struct ivu_vring *vq,
			   const struct ivu_buf *b)
{
	int fd = d->qp[ivu_qp_of(vq)].tap_fd;
	ssize_t n;

	if (!vq->enabled || b->out_len <= d->hdr_len)
		return false;
	n = writev(fd, b->iov, b->n_out);
	if (n < 0) {
		ivu_dbg("vq %d: tap write: %m", vq->index);
		return false;
	}
	return true;
}

/* One TX round: true if it stopped on its weight. */
static bool ivu_net_tx(struct ivu_dev *d, struct ivu_vring *vq)
{
	struct ivu_qp_stats *st = &d->stats.qp[ivu_qp_of(vq)];
	struct ivu_buf *b = &ivu_buf;
	unsigned int pkts = 0;
	u64 bytes = 0;
	int r;

	ivu_vring_notify(d, vq, false);
	for (;;) {
		ivu_vring_frame_begin(vq);
		r = ivu_vring_pop(d, vq, b);
		if (r == -EAGAIN) {
			/* An IOTLB miss: the UPDATE, or a kick, runs it again. */
			ivu_vring_notify(d, vq, true);
			break;
		}
		if (r < 0)
			break;	/* stopped: what went out is still used */
		if (!r) {
			ivu_vring_notify(d, vq, true);
			if (!ivu_vring_has_avail(vq))
				break;
			ivu_vring_notify(d, vq, false);
			continue;
		}
		if (b->n_in) {
			ivu_vring_break(d, vq, "writable descriptor in TX chain, head",
					b->head);
			break;
		}
		if (ivu_net_tx_one(d, vq, b)) {
			st->tx_frames++;
			st->tx_bytes += b->out_len - d->hdr_len;
		} else {
			st->tx_drops++;
		}
		ivu_vring_push(vq, b->head, b->ndesc, 0);
		bytes += b->out_len;
		if (++pkts >= IVU_WEIGHT_PKTS || bytes >= IVU_WEIGHT_BYTES) {
			ivu_vring_flush(d, vq);
			return true;
		}
	}
	ivu_vring_flush(d, vq);
	return false;
}

/* Watch, or stop watching, the tap queue of pair @qp for frames. */
static void ivu_net_tap_watch(struct ivu_dev *d, unsigned int qp, bool on)
{
	struct ivu_qp *q = &d->qp[qp];

	if (q->tap_armed == on)
		return;
	q->tap_armed = on;
	ivu_watch(d, q->tap_fd, on ? EPOLLIN : 0, IVU_TAG(IVU_EV_TAP, qp));
}

/* Copy @len bytes of @src into the writable segments of @b. */
static void ivu_net_copy_in(const struct ivu_buf *b, const unsigned char *src,
			    size_t len)
{
	unsigned int i;
	size_t n;

	for (i = 0; i < b->n_in && len; i++) {
		const struct iovec *v = &b->iov[b->n_out + i];

		n = len < v->iov_len ? len : v->iov_len;
		memcpy(v->iov_base, src, n);
		src += n;
		len -= n;
	}
}

/* Local addresses of bytes @off and @off + 1 of @b's writable part. */
static void ivu_net_find_u16(const struct ivu_buf *b, size_t off,
			     unsigned char **at)
{
	unsigned int i, k = 0;

	for (i = 0; i < b->n_in && k < 2; i++) {
		const struct iovec *v = &b->iov[b->n_out + i];

		while (k < 2 && off < v->iov_len)
			at[k++] = (unsigned char *)v->iov_base + off++;
		if (k < 2)
			off -= v->iov_len;
	}
}

/*
 * Place the frame waiting in @q into the guest.  Return 1 if placed, 0 if
 * the ring has no room (chains given back; @seen is the avail position
 * that was not enough, ivu_vring_avail_pos()), -EAGAIN on an IOTLB miss
 * (chains given back, the frame waits), -1 if the frame was dropped or the
 * ring broke.
 */
static int ivu_net_rx_place(struct ivu_dev *d, struct ivu_vring *vq,
			    struct ivu_qp *q, u16 *seen)
{
	bool mrg = d->features & (1ULL << VIRTIO_NET_F_MRG_RXBUF);
	static __thread struct { u16 head, ndesc; u32 len; } used[IVU_RING_MAX];
	unsigned char *nb_at[2] = { NULL, NULL };
	struct ivu_buf *b = &ivu_buf;
	size_t left = q->rx_len, n;
	unsigned int heads = 0, i;
	int r;

	ivu_vring_frame_begin(vq);
	while (left) {
		if (heads == vq->num) {
			/*
			 * A ring's worth and more wanted: only a guest moving
			 * avail->idx under us gets here.  @used holds no more.
			 */
			ivu_vring_unpop(vq, heads);
			return -1;
		}
		r = ivu_vring_pop(d, vq, b);
		if (r <= 0) {
			*seen = ivu_vring_avail_pos(vq);
			ivu_vring_unpop(vq, heads);
			return r == -EAGAIN ? r : r < 0 ? -1 : 0;
		}
		heads++;
		if (b->n_out) {
			ivu_vring_break(d, vq, "readable descriptor in RX chain, head",
					b->head);
			ivu_vring_unpop(vq, heads);
			return -1;
		}
		if (!b->in_len || (heads == 1 && b->in_len < d->hdr_len) ||
		    (!mrg && b->in_len < left)) {
			/* Too small: the frame is dropped, the chains kept. */
			ivu_vring_unpop(vq, heads);
			return -1;
		}
		if (heads == 1 && d->hdr_len == 12)
			ivu_net_find_u16(b, 10, nb_at);
		n = left < b->in_len ? left : b->in_len;
		ivu_net_copy_in(b, q->rx_buf + (q->rx_len - left), n);
		if (ivu_dirty_buf(d, vq, b, n)) {
			ivu_vring_unpop(vq, heads);
			return -1;	/* the ring stopped; the frame waits */
		}
		used[heads - 1].head = b->head;
		used[heads - 1].ndesc = b->ndesc;
		used[heads - 1].len = n;
		left -= n;
	}
	if (nb_at[0] && nb_at[1]) {
		/* num_buffers, little-endian, once the count is known. */
		*nb_at[0] = heads & 0xff;
		*nb_at[1] = heads >> 8;
		/* Its buffer was marked before: mark again, after the write. */
		if (ivu_dirty_mem(d, vq, nb_at[0], 1) ||
		    ivu_dirty_mem(d, vq, nb_at[1], 1)) {
			ivu_vring_unpop(vq, heads);
			return -1;
		}
	}
	for (i = 0; i < heads; i++)
		ivu_vring_push(vq, used[i].head, used[i].ndesc,
			       used[i].len);
	return 1;
}

/* One RX round: true if it stopped on its weight. */
static bool ivu_net_rx(struct ivu_dev *d, struct ivu_vring *vq)
{
	unsigned int qpn = ivu_qp_of(vq), pkts = 0;
	struct ivu_qp_stats *st = &d->stats.qp[qpn];
	struct ivu_qp *q = &d->qp[qpn];
	u64 bytes = 0;
	ssize_t n;
	u16 seen;
	int r;

	ivu_vring_notify(d, vq, false);
	for (;;) {
		if (!q->rx_len) {
			n = read(q->tap_fd, q->rx_buf, IVU_RX_BUF);
			if (n < 0) {
				/* Drained: the tap wakes us for the next. */
				ivu_net_tap_watch(d, qpn, true);
				break;
			}
			q->rx_len = n;
			q->rx_features = d->features;
		}
		if (q->rx_len <= d->hdr_len ||
		    ((q->rx_features ^ d->features) &
		     ~(1ULL << VHOST_F_LOG_ALL))) {
			/*
			 * Runt, or read for other features: its header's size
			 * or offloads are no longer what the guest acked.
			 */
			r = -1;
		} else {
			r = ivu_net_rx_place(d, vq, q, &seen);
			if (r == -EAGAIN) {
				/* The frame waits for the UPDATE, not the tap. */
				ivu_vring_notify(d, vq, true);
				ivu_net_tap_watch(d, qpn, false);
				break;
			}
			if (!r) {
				/*
				 * No room: wait for the guest's kick, not the
				 * tap, unless it posted more meanwhile (the
				 * chains given back do not count: retrying on
				 * them alone would spin).
				 */
				ivu_vring_notify_at(d, vq, seen);
				if (ivu_vring_avail_since(vq, seen))
					continue;
				ivu_net_tap_watch(d, qpn, false);
				break;
			}
		}
		if (vq->broken)
			break;	/* not the frame's fault: it waits for the repair */
		if (r > 0) {
			st->rx_frames++;
			st->rx_bytes += q->rx_len - d->hdr_len;
		} else {
			st->rx_drops++;
		}
		bytes += q->rx_len;
		q->rx_len = 0;
		if (++pkts >= IVU_WEIGHT_PKTS || bytes >= IVU_WEIGHT_BYTES) {
			ivu_vring_flush(d, vq);
			return true;
		}
	}
	ivu_vring_flush(d, vq);
	return false;
}

/**
 * ivu_net_round() - run one bounded round of a ring
 * @d: the device
 * @vq: the ring
 *
 * Sets vq->more if the round stopped on its weight with work left.
 */
void ivu_net_round(struct ivu_dev *d, struct ivu_vring *vq)
{
	vq->more = false;
	if (!d->hdr_len || !ivu_vring_ready(d, vq) || !vq->enabled)
		return;
	if (ivu_vring_rings(d, vq)) {
		/* A miss (the UPDATE wakes the ring) or a broken ring. */
		if (!ivu_is_tx(vq))
			ivu_net_tap_watch(d, ivu_qp_of(vq), false);
		return;
	}
	if (ivu_is_tx(vq))
		vq->more = ivu_net_tx(d, vq);
	else
		vq->more = ivu_net_rx(d, vq);
}

/**
 * ivu_net_kick() - the guest kicked a ring
 * @d: the device
 * @vq: the ring
 */
void ivu_net_kick(struct ivu_dev *d, struct ivu_vring *vq)
{
	ssize_t n;
	u64 v;

	n = read(vq->kick_fd, &v, sizeof(v));
	if (n == sizeof(v))
		d->stats.kicks_eventfd[vq->index]++;
	if (n != sizeof(v) && !(n < 0 && errno == EAGAIN)) {
		/*
		 * An eventfd reads 8 bytes or EAGAIN.  Anything else (a pipe
		 * or socket at EOF stays readable forever) would spin the
		 * loop: stop listening to it.
		 */
		ivu_unwatch(d, vq->kick_fd);
		ivu_vring_break(d, vq, "kick fd is not an eventfd, read",
				(long)n);
		return;
	}
	ivu_net_round(d, vq);
}

/**
 * ivu_net_tap_ready() - a tap queue has frames
 * @d: the device
 * @qp: the queue pair
 */
void ivu_net_tap_ready(struct ivu_dev *d, unsigned int qp)
{
	struct ivu_vring *rx = &d->vq[2 * qp];

	if (!ivu_vring_ready(d, rx) || !rx->enabled || !d->hdr_len) {
		ivu_net_tap_watch(d, qp, false);
		return;
	}
	ivu_net_round(d, rx);
}

/**
 * ivu_net_rearm() - after a ring changed state, watch its tap again
 * @d: the device
 * @qp: the queue pair
 *
 * A pair whose RX ring can run watches its tap; the first round then
 * decides whether it keeps doing so.
 */
void ivu_net_rearm(struct ivu_dev *d, unsigned int qp)
{
	struct ivu_vring *rx = &d->vq[2 * qp];
	bool on = ivu_vring_ready(d, rx) && rx->enabled && d->hdr_len;

	/* A frame read for the ring waits for it, as it would in the tap. */
	ivu_net_tap_watch(d, qp, on);
}

/**
 * ivu_net_purge() - drop what the taps hold from before this frontend
 * @d: the device, a frontend just connected, no ring running
 *
 * The taps live as long as the daemon, so frames that came for an earlier
 * frontend (or none) still wait in their queues.  A new connection is a
 * new device and must not get them, as a guest behind a fresh tap would
 * not: they are read and counted as RX drops.  (RESET_OWNER keeps them,
 * as the kernel device leaves its tap alone.)  At most IVU_PURGE_MAX per
 * queue, more than a tap queues (its txqueuelen, 1000 by default): a
 * host that floods the tap meanwhile sends frames that are this
 * frontend's, and must not hold the control thread.
 * Context: the control thread, d->lock held for writing.
 */
void ivu_net_purge(struct ivu_dev *d)
{
	unsigned int i, n;

	for (i = 0; i < d->queues; i++) {
		struct ivu_qp *q = &d->qp[i];

		if (q->rx_len)
			d->stats.qp[i].rx_drops++;
		q->rx_len = 0;
		for (n = 0; n < IVU_PURGE_MAX &&
		     read(q->tap_fd, q->rx_buf, IVU_RX_BUF) >= 0; n++)
			d->stats.qp[i].rx_drops++;
	}
}
