/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by packed_test.c and packed_hostile_test.c: every test of these
 * binaries runs on packed rings (IVHOST_RING=packed is set before main),
 * and SKIPs on a device without VIRTIO_F_RING_PACKED.  Included once.
 */
#ifndef IVHOST_PACKED_COMMON_H
#define IVHOST_PACKED_COMMON_H

#include "ringtest.h"

#define WAIT_MS		10000
#define QUIET_MS	300
#define PF_AVAIL	(1 << VRING_PACKED_DESC_F_AVAIL)
#define PF_USED		(1 << VRING_PACKED_DESC_F_USED)
#define EVIDX		F(VIRTIO_RING_F_EVENT_IDX)

/* Every test of this binary is about packed rings. */
__attribute__((constructor)) static void packed_only(void)
{
	setenv("IVHOST_RING", "packed", 1);
}

static size_t pk_len(uint32_t seq)
{
	return 60 + vmm_seq_hash(seq) % 1455;	/* 60..1514: DPDK's tap too */
}

#define UP(d, want, num, backend) do {					\
	int __r = rt_up(d, want, num);					\
	if (rt_missing(__r))						\
		SKIP(return, "%s: %s", ivhost_dev_path(),		\
		     ivhost_strerror(__r));				\
	ASSERT_EQ(0, __r) TH_LOG("bring-up: %s", strerror(-__r));	\
	ASSERT_TRUE((d)->v.vq[0].packed && (d)->v.vq[1].packed);	\
	if ((backend) >= 0)						\
		ASSERT_EQ(0, vmm_set_backend(&(d)->v, backend,		\
					     (d)->t.fd));		\
} while (0)

/* Post TX frame @seq directly; the head, or -errno. */
static int tx_one(struct rtdev *d, uint32_t seq)
{
	static const uint8_t hdr[32];
	uint8_t frame[2048];

	vmm_gen_frame(seq, frame, pk_len(seq));
	return vmm_post_tx(&d->v.vq[VMM_TX], hdr, d->hdr_len, frame,
			   pk_len(seq), VMM_DIRECT, 1);
}

/* The tap got frame @seq (and it is the next one there). */
static int tap_got(struct rtdev *d, uint32_t seq, int ms)
{
	uint8_t buf[4096], want[2048];
	ssize_t n = rt_tap_recv(d, buf, sizeof(buf), ms);

	vmm_gen_frame(seq, want, pk_len(seq));
	return n == (ssize_t)pk_len(seq) && !memcmp(buf, want, n);
}

static int tap_quiet(struct rtdev *d, int ms)
{
	uint8_t buf[4096];

	return rt_tap_recv(d, buf, sizeof(buf), ms) == -EAGAIN;
}

#endif
