// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's counters, printed when it ends (and on SIGUSR1).
 */
#include "ivu.h"

/* The device IOTLB's counters, named as in struct ivhost_iotlb_stats. */
static void ivu_stats_iotlb(struct ivu_dev *d, FILE *f)
{
	struct ivhost_iotlb_stats t;
	unsigned int i;

	ivhost_devtlb_get_stats(&d->iotlb.tlb, &t);
	for (i = 0; i < IVU_MAX_VQ; i++)
		t.hits += d->iotlb.span_hits[i];	/* hits too */
	fprintf(f, "ivhost-user: iotlb hits %llu misses %llu misses_deduped %llu ",
		t.hits, t.misses, t.misses_deduped);
	fprintf(f, "miss_msgs %llu updates %llu invalidations %llu ",
		t.miss_msgs, t.updates, t.invalidations);
	fprintf(f, "evictions %llu access_fails %llu msgs_queued %llu ",
		t.evictions, t.access_fails, t.msgs_queued);
	fprintf(f, "msgs_dropped %llu entries %llu miss_wait_ns %llu rtt_us",
		t.msgs_dropped, t.entries, t.miss_wait_ns);
	for (i = 0; i < IVHOST_RTT_BUCKETS; i++)
		fprintf(f, "%c%llu", i ? ',' : ' ', t.rtt_us[i]);
	fputc('\n', f);
}

/**
 * ivu_stats_print() - print every counter: the daemon's, one line per
 *	queue pair, and the device IOTLB's
 * @d: the device
 * @f: where to
 */
void ivu_stats_print(struct ivu_dev *d, FILE *f)
{
	const struct ivu_stats *s = &d->stats;
	unsigned int i;

	fprintf(f, "ivhost-user: connections %llu protocol-errors %llu broken-rings %llu\n",
		(unsigned long long)s->connections,
		(unsigned long long)s->proto_errors,
		(unsigned long long)s->broken_rings);
	for (i = 0; i < d->queues; i++) {
		const struct ivu_qp_stats *q = &s->qp[i];

		fprintf(f, "ivhost-user: queue %u: tx %llu frames %llu bytes %llu drops; ",
			i, (unsigned long long)q->tx_frames,
			(unsigned long long)q->tx_bytes,
			(unsigned long long)q->tx_drops);
		fprintf(f, "rx %llu frames %llu bytes %llu drops\n",
			(unsigned long long)q->rx_frames,
			(unsigned long long)q->rx_bytes,
			(unsigned long long)q->rx_drops);
	}
	ivu_stats_iotlb(d, f);
	ivu_notifier_stats(d, f);
	ivu_dirty_stats(d, f);
	fflush(f);
}
