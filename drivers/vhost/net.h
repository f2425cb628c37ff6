/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ivhost-net: the device (net.c) and its two data paths (net_tx.c,
 * net_rx.c).
 *
 * Locking: as in ivhost.h, dev->mutex then vq->mutex.  A queue's backend,
 * header sizes and socket poll change only under its vq mutex, which the
 * worker holds for a whole round.
 */
#ifndef _IVHOST_NET_H
#define _IVHOST_NET_H

#include <linux/net.h>
#include <linux/virtio_net.h>

#include "ivhost.h"

enum {
	IVHOST_NET_RX,
	IVHOST_NET_TX,
	IVHOST_NET_NVQS,
};

/* Work one round may do before it yields the worker. */
#define IVHOST_NET_PKT_WEIGHT	256
#define IVHOST_NET_BYTE_WEIGHT	0x80000
#define IVHOST_NET_DESC_WEIGHT	IVHOST_FRAME_MAX_DESCS

/* Most descriptor chains one received frame may span. */
#define IVHOST_NET_RX_HEADS	UIO_MAXIOV

/**
 * struct ivhost_net_queue - a virtqueue and its backend
 * @vq: the virtqueue; &ivhost_vq.backend is a struct socket
 * @sock_poll: wakes the queue when its socket is ready
 * @vhost_hlen: guest header bytes the device strips (TX) or adds (RX)
 * @sock_hlen: header bytes the socket itself expects or supplies
 * @heads: used entries of the frame being received (RX only)
 */
struct ivhost_net_queue {
	struct ivhost_vq vq;
	struct ivhost_poll sock_poll;
	size_t vhost_hlen;
	size_t sock_hlen;
	struct ivhost_used *heads;
};

/**
 * struct ivhost_net - one /dev/ivhost-net instance
 * @dev: the core device
 * @q: its queues, indexed by IVHOST_NET_RX and IVHOST_NET_TX
 * @vqs: pointers to the queues' vqs, for the core
 */
struct ivhost_net {
	struct ivhost_dev dev;
	struct ivhost_net_queue q[IVHOST_NET_NVQS];
	struct ivhost_vq *vqs[IVHOST_NET_NVQS];
};

/**
 * ivhost_net_weight_exceeded() - should the round yield the worker now?
 * @vq: the queue; &ivhost_vq.walked counts its descriptors this round
 * @pkts: frames (or RX chains) handled this round
 * @bytes: bytes moved this round
 *
 * A round yields after its frames, bytes or descriptors weights, and as
 * soon as someone else waits for the queue (a barrier, an ioctl): the
 * round then costs them one frame, not a whole round.
 *
 * Context: the worker, under &vq->mutex.
 * Return: true if the round must end (the caller queues it again).
 */
static inline bool ivhost_net_weight_exceeded(struct ivhost_vq *vq, int pkts,
					      size_t bytes)
{
	return pkts >= IVHOST_NET_PKT_WEIGHT ||
	       bytes >= IVHOST_NET_BYTE_WEIGHT ||
	       vq->walked >= IVHOST_NET_DESC_WEIGHT ||
	       ivhost_vq_contended(vq);
}

/* net_tx.c */
void ivhost_net_tx(struct ivhost_net_queue *q);

/* net_rx.c */
void ivhost_net_rx(struct ivhost_net_queue *q);

/* net.c */
bool ivhost_net_round_ready(struct ivhost_net_queue *q);
int ivhost_net_peek_len(struct socket *sock);
bool ivhost_net_busy_poll(struct ivhost_net_queue *q, struct socket *sock);

#endif /* _IVHOST_NET_H */
