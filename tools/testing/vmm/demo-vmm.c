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
 * With --iotlb it also plays the vIOMMU (viommu.c): it negotiates
 * VIRTIO_F_ACCESS_PLATFORM, maps guest memory at random IOVAs in 4 KiB
 * pages (2 MiB with --iotlb-2m), gives the device IOVAs only, answers
 * every MISS with an UPDATE from a thread, unmaps the whole IOVA window
 * with one INVALIDATE once the traffic is done (as a guest driver going
 * away), and prints its own figures (misses answered, UPDATEs and
 * INVALIDATEs sent) and the device's IVHOST_GET_IOTLB_STATS counters.
 *
 * With --dev vhost-user:SOCKET the same calls go as vhost-user messages to
 * a backend listening on SOCKET (the test VMM's vu.c).  The backend owns
 * its tap: --tap NAME (or $IVHOST_USER_TAP) names it, and the frames are
 * captured there; the backend's tap takes the virtio-net header.  --iotlb
 * works there too (VIRTIO_F_IOMMU_PLATFORM: UPDATE and INVALIDATE as
 * IOTLB_MSG, MISS on the backend channel); IVHOST_GET_IOTLB_STATS is a
 * kernel ioctl, so the backend's IOTLB counters are its own business
 * (ivhost-user prints them on SIGUSR1 and at exit).
 *
 * Usage: demo-vmm [--dev PATH | --dev vhost-user:SOCKET --tap NAME]
 *                 [--count N] [--ring N] [--tap-vnet-hdr]
 *                 [--iotlb | --iotlb-2m]
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
#include <sys/ioctl.h>

#include "vmm.h"
#include "viommu.h"
#include "../../../include/uapi/linux/ivhost.h"

#define F(bit)		(1ULL << (bit))
#define ETH_HDR_LEN	14

struct demo_opts {
	const char *dev;
	const char *tap;	/* vhost-user: the backend's tap */
	unsigned int count;
	unsigned int ring;
	int tap_vnet_hdr;	/* the tap, not the device, takes the header */
	unsigned int iotlb;	/* 0, or the vIOMMU page shift */
};

struct demo {
	struct demo_opts o;
	struct vmm v;
	struct vmm_tap t;
	uint64_t offered;
	size_t hdr_len;
	struct vmm_tx_stats st;
	unsigned int layouts[3];
	struct viommu vi;
	unsigned long invalidations;	/* INVALIDATEs sent */
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

/* vhost-user: bit 27 is virtio's ANY_LAYOUT, bit 30 PROTOCOL_FEATURES. */
static void print_features(const char *what, uint64_t f, int user)
{
	size_t i;

	printf("  %-13s 0x%010llx", what, (unsigned long long)f);
	if (user && (f & F(VHOST_NET_F_VIRTIO_NET_HDR)))
		printf(" ANY_LAYOUT");
	if (user && (f & F(30)))
		printf(" PROTOCOL_FEATURES");
	if (user)
		f &= ~(F(VHOST_NET_F_VIRTIO_NET_HDR) | F(30));
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
	uint32_t h = vmm_seq_hash(seq);

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

	if (!d->o.tap_vnet_hdr && !d->o.tap)
		want |= F(VHOST_NET_F_VIRTIO_NET_HDR);
	if (d->o.iotlb) {
		want |= F(VIRTIO_F_ACCESS_PLATFORM);
		r = viommu_bringup(&d->vi, &d->v, d->o.dev, want, d->o.ring,
				   d->o.iotlb, 0, 1, 0);
		if (!r && !(d->v.features & F(VIRTIO_F_ACCESS_PLATFORM)))
			r = -EOPNOTSUPP;
		if (!r)
			r = viommu_start(&d->vi);
		/* as QEMU: the used rings mapped before a backend */
		if (!r)
			r = viommu_map_used_rings(&d->vi);
	} else {
		r = vmm_bringup(&d->v, d->o.dev, want, d->o.ring, 0);
	}
	if (r)
		return demo_fail(d, d->v.fd < 0 ? d->o.dev : "bring-up", r);
	r = vmm_get_features(&d->v, &d->offered);
	if (r)
		return demo_fail(d, "VHOST_GET_FEATURES", r);
	d->hdr_len = vmm_net_hdr_len(d->v.features);

	printf("  %-13s %s (%s %d)\n", "device", d->o.dev,
	       d->o.tap ? "socket fd" : "fd", d->v.fd);
	print_features("offered", d->offered, !!d->o.tap);
	print_features("negotiated", d->v.features, !!d->o.tap);
	printf("  %-13s 1 region, %zu MiB at guest-physical 0x%llx (user %p)\n",
	       "memory", d->v.mem_size >> 20,
	       (unsigned long long)d->v.mem_gpa, (void *)d->v.mem);
	if (d->o.iotlb) {
		printf("  %-13s RX %u, TX %u entries; TX descriptors at IOVA 0x%llx\n",
		       "rings", d->v.vq[VMM_RX].num, d->v.vq[VMM_TX].num,
		       (unsigned long long)viommu_iova(&d->vi,
						       d->v.vq[VMM_TX].desc));
		printf("  %-13s guest memory at random IOVAs from 0x%llx in %zu KiB pages; misses answered by a thread (%s)\n",
		       "vIOMMU", (unsigned long long)d->vi.iova_base,
		       d->vi.ps >> 10, d->o.tap ? "VHOST_USER_IOTLB_MSG" :
		       d->vi.v2 ? "IOTLB_MSG_V2" : "IOTLB_MSG_V1");
		return 0;
	}
	printf("  %-13s RX %u, TX %u entries; TX descriptors at gpa 0x%llx\n",
	       "rings", d->v.vq[VMM_RX].num, d->v.vq[VMM_TX].num,
	       (unsigned long long)vmm_gpa(&d->v, d->v.vq[VMM_TX].desc));
	return 0;
}

/* Stage 4: the tap behind the TX queue (vhost-user: the ring enabled). */
static int demo_attach(struct demo *d)
{
	int r;

	vmm_tap_use(d->o.tap);
	r = vmm_tap_open(&d->t, d->o.tap_vnet_hdr ? (int)d->hdr_len : 0);
	if (r)
		return demo_fail(d, "tap", r);
	r = vmm_set_backend(&d->v, VMM_TX, d->t.fd);
	if (r)
		return demo_fail(d, d->o.tap ? "SET_VRING_ENABLE" :
				 "VHOST_NET_SET_BACKEND", r);
	if (d->o.tap) {
		printf("  %-13s the backend's tap %s, captured here; the %zu-byte virtio-net header is taken by that tap\n",
		       "backend", d->t.name, d->hdr_len);
		return 0;
	}
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
	if (d->o.iotlb)
		viommu_tx_stream(&d->vi, &d->t, &o, &d->st);
	else
		vmm_tx_stream(&d->v, &d->t, &o, &d->st);
	return 0;
}

/* With --iotlb, after the traffic: the guest unmaps the whole window. */
static int demo_unmap(struct demo *d)
{
	int r;

	if (!d->o.iotlb)
		return 0;
	r = viommu_send(&d->vi, VHOST_IOTLB_INVALIDATE, d->vi.iova_base,
			(uint64_t)d->vi.nslots * d->vi.ps, 0, 0);
	if (r)
		return demo_fail(d, "INVALIDATE", r);
	d->invalidations++;
	return 0;
}

/* With --iotlb: what the vIOMMU and the device's IOTLB counted. */
static void demo_iotlb_report(struct demo *d)
{
	struct ivhost_iotlb_stats s;
	unsigned long long rtts = 0;
	unsigned int i;
	int r;

	printf("  %-13s %lu MISS messages read, %lu answered with an UPDATE, %lu unmapped, %lu ACCESS_FAIL\n",
	       "vIOMMU", d->vi.misses, d->vi.updates, d->vi.unmapped,
	       d->vi.access_fails);
	printf("  %-13s sent %lu UPDATEs (%lu for misses, %lu used-ring pages\n",
	       "", d->vi.updates + d->vi.manual_updates, d->vi.updates,
	       d->vi.manual_updates);
	printf("  %-13s before the backend), %lu INVALIDATE (the window, at the end)\n",
	       "", d->invalidations);
	if (d->o.tap) {
		printf("  %-13s counted by the backend: IVHOST_GET_IOTLB_STATS is\n",
		       "IOTLB");
		printf("  %-13s a kernel ioctl (ivhost-user: SIGUSR1, or at exit)\n",
		       "");
		return;
	}
	r = viommu_get_stats(&d->vi, &s);
	if (r) {
		printf("  %-13s IVHOST_GET_IOTLB_STATS: %s\n", "IOTLB",
		       strerror(-r));
		return;
	}
	for (i = 0; i < IVHOST_RTT_BUCKETS; i++)
		rtts += s.rtt_us[i];
	printf("  %-13s hits %llu, misses %llu (%llu deduplicated), MISS messages %llu\n",
	       "IOTLB", (unsigned long long)s.hits,
	       (unsigned long long)s.misses,
	       (unsigned long long)s.misses_deduped,
	       (unsigned long long)s.miss_msgs);
	printf("  %-13s updates %llu, invalidations %llu, evictions %llu, access fails %llu\n",
	       "", (unsigned long long)s.updates,
	       (unsigned long long)s.invalidations,
	       (unsigned long long)s.evictions,
	       (unsigned long long)s.access_fails);
	printf("  %-13s entries %llu, messages queued %llu, dropped %llu\n",
	       "", (unsigned long long)s.entries,
	       (unsigned long long)s.msgs_queued,
	       (unsigned long long)s.msgs_dropped);
	printf("  %-13s %llu miss round trips, %.1f us average wait\n", "",
	       rtts, rtts ? s.miss_wait_ns / 1000.0 / rtts : 0.0);
	for (i = 0; i < IVHOST_RTT_BUCKETS; i++)
		if (s.rtt_us[i])
			printf("  %-13s   round trip %s%u us: %llu\n", "",
			       !i ? "< " : i + 1 < IVHOST_RTT_BUCKETS ?
			       "from " : ">= ", i ? 1u << i : 2u,
			       (unsigned long long)s.rtt_us[i]);
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
	if (d->o.iotlb)
		demo_iotlb_report(d);
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
		"usage: demo-vmm [--dev PATH | --dev vhost-user:SOCKET --tap NAME]\n"
		"                [--count N] [--ring N] [--tap-vnet-hdr]\n"
		"                [--iotlb | --iotlb-2m]\n"
		"  --dev PATH      device (default /dev/ivhost-net); vhost-user:SOCKET\n"
		"                  talks vhost-user to a backend listening on SOCKET\n"
		"  --tap NAME      with vhost-user: the backend's tap, where the frames\n"
		"                  are captured (default $IVHOST_USER_TAP)\n"
		"  --count N       frames to send (default 1000)\n"
		"  --ring N        ring size, a power of two (default 256)\n"
		"  --tap-vnet-hdr  the tap takes the virtio-net header instead of\n"
		"                  the device (VHOST_NET_F_VIRTIO_NET_HDR off)\n"
		"  --iotlb         negotiate VIRTIO_F_ACCESS_PLATFORM: guest memory at\n"
		"                  random IOVAs in 4 KiB pages, misses served by the\n"
		"                  VMM, the window unmapped after the traffic, IOTLB\n"
		"                  counters printed at the end (the kernel device's;\n"
		"                  a vhost-user backend keeps its own)\n"
		"  --iotlb-2m      the same with 2 MiB pages\n");
}

/* vhost-user wants the backend's tap, and has no tap header. */
static int demo_check_user(struct demo_opts *o)
{
	if (strncmp(o->dev, VMM_VU_PREFIX, strlen(VMM_VU_PREFIX))) {
		if (!o->tap)
			return 0;
		fprintf(stderr, "demo-vmm: --tap is for --dev vhost-user:SOCKET\n");
		return 2;
	}
	if (!o->tap || !*o->tap)
		o->tap = getenv("IVHOST_USER_TAP");
	if (!o->tap || !*o->tap) {
		fprintf(stderr, "demo-vmm: vhost-user needs --tap NAME (or IVHOST_USER_TAP)\n");
		return 2;
	}
	if (o->tap_vnet_hdr) {
		fprintf(stderr, "demo-vmm: --tap-vnet-hdr is not for vhost-user\n");
		return 2;
	}
	return 0;
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
		{ "tap", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'c' },
		{ "ring", required_argument, NULL, 'r' },
		{ "tap-vnet-hdr", no_argument, NULL, 'T' },
		{ "iotlb", no_argument, NULL, 'I' },
		{ "iotlb-2m", no_argument, NULL, 'M' },
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
	while ((c = getopt_long(argc, argv, "d:t:c:r:TIMh", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			d.o.dev = optarg;
			break;
		case 't':
			d.o.tap = optarg;
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
		case 'I':
			d.o.iotlb = VIOMMU_4K_SHIFT;
			break;
		case 'M':
			d.o.iotlb = VIOMMU_2M_SHIFT;
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
	r = demo_check_user(&d.o);
	if (r)
		return r;

	printf("demo-vmm: a guest's TX queue through %s\n", d.o.dev);
	r = demo_bringup(&d);
	if (!r)
		r = demo_attach(&d);
	if (!r)
		r = demo_send(&d);
	if (!r)
		r = demo_unmap(&d);
	if (!r)
		r = demo_report(&d);
	if (d.o.iotlb)
		viommu_close(&d.vi);
	else
		vmm_close(&d.v);
	vmm_tap_close(&d.t);
	return r;
}
