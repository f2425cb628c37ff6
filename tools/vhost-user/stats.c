// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's counters, printed when it ends (and on SIGUSR1).
 */
#include "ivu.h"

/**
 * ivu_stats_print() - print every counter, one line per queue pair
 * @d: the device
 * @f: where to
 */
void ivu_stats_print(const struct ivu_dev *d, FILE *f)
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
	fflush(f);
}
