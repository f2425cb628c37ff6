// SPDX-License-Identifier: GPL-2.0
/*
 * demo-vmm - a small example VMM for /dev/ivhost-net (or any device that
 * speaks the vhost-net ABI, such as /dev/vhost-net).
 *
 * It does what QEMU does with a vhost-net fd, then plays the guest:
 *
 *   1. open the device, SET_OWNER, negotiate features;
 *   2. guest memory: one anonymous mapping, registered with SET_MEM_TABLE
 *      at a guest-physical base that differs from its user address;
 *   3. both virtqueues: NUM, BASE, ADDR, KICK, CALL, ERR;
 *   4. a tap as the TX queue's backend (NET_SET_BACKEND);
 *   5. post frames of mixed sizes and descriptor layouts on the TX queue,
 *      kick, reap, and capture what the tap receives;
 *   6. report, and exit 0 if every frame the tap can deliver arrived
 *      byte-exact and in order.
 *
 * The stages are separate functions over one struct demo, so that a later
 * stage (the device IOTLB: VIRTIO_F_ACCESS_PLATFORM and answering misses)
 * slots in between negotiation and the queues.
 *
 * Usage: demo-vmm [--dev PATH] [--count N] [--ring N] [--tap-vnet-hdr]
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "vmm.h"

#define F(bit)		(1ULL << (bit))
#define ETH_HDR_LEN	14

struct demo_opts {
	const char *dev;
	unsigned int count;
	unsigned int ring;
	int tap_vnet_hdr;	/* the tap, not the device, takes the header */
};

struct demo {
	struct demo_opts o;
	struct vmm v;
	struct vmm_tap t;
	uint64_t offered;
	size_t hdr_len;
	struct vmm_tx_stats st;
	unsigned int layouts[3];
};

static const struct {
	int bit;
	const char *name;
} feature_names[] = {
	{ VIRTIO_NET_F_MRG_RXBUF, "MRG_RXBUF" },
	{ VIRTIO_F_NOTIFY_ON_EMPTY, "NOTIFY_ON_EMPTY" },
	{ VHOST_F_LOG_ALL, "LOG_ALL" },
	{ VHOST_NET_F_VIRTIO_NET_HDR, "VHOST_NET_F_VIRTIO_NET_HDR" },
	{ VIRTIO_RING_F_INDIRECT_DESC, "INDIRECT_DESC" },
	{ VIRTIO_RING_F_EVENT_IDX, "EVENT_IDX" },
	{ VIRTIO_F_VERSION_1, "VERSION_1" },
	{ VIRTIO_F_ACCESS_PLATFORM, "ACCESS_PLATFORM" },
	{ 40, "RING_RESET" },
};

static void print_features(const char *what, uint64_t f)
{
	size_t i;

	printf("  %-13s 0x%010llx", what, (unsigned long long)f);
	for (i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++) {
		if (f & F(feature_names[i].bit)) {
			printf(" %s", feature_names[i].name);
			f &= ~F(feature_names[i].bit);
		}
	}
	if (f)
		printf(" other:0x%llx", (unsigned long long)f);
	printf("\n");
}

/* Mostly Ethernet-sized frames, some jumbo and a few up to 64 KiB, and
 * some shorter than an Ethernet header, which the tap refuses.
 */
static size_t demo_len(uint32_t seq)
{
	uint32_t h = seq * 0x9e3779b1u;

	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	switch (h % 100) {
	case 0:
		return 1 + (h >> 8) % (ETH_HDR_LEN - 1);
	case 1:
	case 2:
		return 1 + (h >> 8) % 65535;
	case 3 ... 12:
		return 1515 + (h >> 8) % (9000 - 1514);
	default:
		return 60 + (h >> 8) % (1514 - 60 + 1);
	}
}

static int demo_fail(struct demo *d, const char *stage, int err)
{
	fprintf(stderr, "demo-vmm: %s: %s\n", stage, strerror(-err));
	return 1;
}

/* Stages 1-3: device, features, guest memory and both queues. */
static int demo_bringup(struct demo *d)
{
	uint64_t want = F(VIRTIO_F_VERSION_1) | F(VIRTIO_RING_F_INDIRECT_DESC) |
			F(VIRTIO_RING_F_EVENT_IDX);
	int r;

	if (!d->o.tap_vnet_hdr)
		want |= F(VHOST_NET_F_VIRTIO_NET_HDR);
	r = vmm_bringup(&d->v, d->o.dev, want, d->o.ring, 0);
	if (r)
		return demo_fail(d, d->v.fd < 0 ? d->o.dev : "bring-up", r);
	r = vmm_get_features(&d->v, &d->offered);
	if (r)
		return demo_fail(d, "VHOST_GET_FEATURES", r);
	d->hdr_len = vmm_net_hdr_len(d->v.features);

	printf("  %-13s %s (fd %d)\n", "device", d->o.dev, d->v.fd);
	print_features("offered", d->offered);
	print_features("negotiated", d->v.features);
	printf("  %-13s 1 region, %zu MiB at guest-physical 0x%llx (user %p)\n",
	       "memory", d->v.mem_size >> 20,
	       (unsigned long long)d->v.mem_gpa, (void *)d->v.mem);
	printf("  %-13s RX %u, TX %u entries; TX descriptors at gpa 0x%llx\n",
	       "rings", d->v.vq[VMM_RX].num, d->v.vq[VMM_TX].num,
	       (unsigned long long)vmm_gpa(&d->v, d->v.vq[VMM_TX].desc));
	return 0;
}

/* Stage 4: the tap behind the TX queue. */
static int demo_attach(struct demo *d)
{
	int r;

	r = vmm_tap_open(&d->t, d->o.tap_vnet_hdr ? (int)d->hdr_len : 0);
	if (r)
		return demo_fail(d, "tap", r);
	r = vmm_set_backend(&d->v, VMM_TX, d->t.fd);
	if (r)
		return demo_fail(d, "VHOST_NET_SET_BACKEND", r);
	printf("  %-13s tap %s on the TX queue; the %zu-byte virtio-net header is taken by the %s\n",
	       "backend", d->t.name, d->hdr_len,
	       d->o.tap_vnet_hdr ? "tap (IFF_VNET_HDR)" : "device");
	return 0;
}

/* Stage 5: the traffic. */
static int demo_send(struct demo *d)
{
	struct vmm_tx_opts o = {
		.count = d->o.count,
		.len_of = demo_len,
		.mode = -1,		/* direct, chained, indirect in turn */
		.hdr_len = d->hdr_len,
		.min_arrive = ETH_HDR_LEN,
		.idle_timeout_ms = 10000,
	};
	unsigned int i;

	for (i = 0; i < d->o.count; i++)
		d->layouts[i % 3]++;
	printf("  %-13s %u frames of 1..65535 bytes: %u direct, %u chained, %u indirect\n",
	       "sending", d->o.count, d->layouts[VMM_DIRECT],
	       d->layouts[VMM_CHAIN], d->layouts[VMM_INDIRECT]);
	fflush(stdout);
	vmm_tx_stream(&d->v, &d->t, &o, &d->st);
	return 0;
}

/* Stage 6: the account. */
static int demo_report(struct demo *d)
{
	const struct vmm_tx_stats *st = &d->st;
	double secs = st->elapsed_ms > 0 ? st->elapsed_ms / 1000.0 : 0.001;

	printf("  %-13s %u frames, %llu bytes of frame data; %u used entries reaped\n",
	       "sent", st->posted, st->bytes_posted, st->reaped);
	printf("  %-13s %u of %u expected frames, %llu bytes (%u shorter than an Ethernet header, dropped by the tap as expected)\n",
	       "on the tap", st->received, st->expected, st->bytes_received,
	       st->not_arriving);
	printf("  %-13s %u kicks, %u calls, %u capture drops\n",
	       "events", st->kicks, st->calls, st->drops);
	printf("  %-13s %lld ms, %.0f frames/s, %.1f Mbit/s\n", "time",
	       st->elapsed_ms, st->reaped / secs,
	       st->bytes_received * 8 / secs / 1e6);
	if (st->error) {
		printf("  %-13s FAIL: %s\n", "verification", st->msg);
		return 1;
	}
	printf("  %-13s PASS: every deliverable frame arrived byte-exact and in order\n",
	       "verification");
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: demo-vmm [--dev PATH] [--count N] [--ring N] [--tap-vnet-hdr]\n"
		"  --dev PATH      device (default /dev/ivhost-net)\n"
		"  --count N       frames to send (default 1000)\n"
		"  --ring N        ring size, a power of two (default 256)\n"
		"  --tap-vnet-hdr  the tap takes the virtio-net header instead of\n"
		"                  the device (VHOST_NET_F_VIRTIO_NET_HDR off)\n");
}

static int parse_uint(const char *s, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || !*s || *end || v > 0xffffffffUL)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'c' },
		{ "ring", required_argument, NULL, 'r' },
		{ "tap-vnet-hdr", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct demo d;
	int c, r;

	memset(&d, 0, sizeof(d));
	d.o.dev = "/dev/ivhost-net";
	d.o.count = 1000;
	d.o.ring = 256;
	d.v.fd = -1;
	d.t.fd = -1;
	d.t.pkt_fd = -1;
	while ((c = getopt_long(argc, argv, "d:c:r:Th", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			d.o.dev = optarg;
			break;
		case 'c':
			if (parse_uint(optarg, &d.o.count) || !d.o.count) {
				usage(stderr);
				return 2;
			}
			break;
		case 'r':
			if (parse_uint(optarg, &d.o.ring) || d.o.ring < 32 ||
			    d.o.ring > 32768 || (d.o.ring & (d.o.ring - 1))) {
				fprintf(stderr, "demo-vmm: --ring wants a power of two, 32..32768\n");
				return 2;
			}
			break;
		case 'T':
			d.o.tap_vnet_hdr = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	printf("demo-vmm: a guest's TX queue through %s\n", d.o.dev);
	r = demo_bringup(&d);
	if (!r)
		r = demo_attach(&d);
	if (!r)
		r = demo_send(&d);
	if (!r)
		r = demo_report(&d);
	vmm_close(&d.v);
	vmm_tap_close(&d.t);
	return r;
}
