/* SPDX-License-Identifier: GPL-2.0 */
/*
 * trace.h - how long a device's queue waits on IOTLB misses, from kprobe
 * events in tracefs: from the device queueing a MISS to the queue's
 * handler running again.
 *
 *   vhost_net: vhost_iotlb_miss() (vhost.ko) -> handle_tx()/handle_rx()
 *   ivhost:    the ivhost:ivhost_iotlb_miss tracepoint ->
 *              ivhost_net_tx()/ivhost_net_rx()
 *
 * Timestamps use the "mono" trace clock, so they compare with
 * CLOCK_MONOTONIC.  Needs root and tracefs at /sys/kernel/tracing.
 */
#ifndef IVHOST_BENCH_TRACE_H
#define IVHOST_BENCH_TRACE_H

struct bench_trace_result {
	double wait_s;		/* sum of the waits */
	double p50_us, p99_us;	/* of the waits */
	unsigned int n;		/* waits seen */
};

/* @dev: "vhost" (the kernel's vhost_net) or "ivhost"; @rx: the RX queue.
 * 0 or -errno. */
int bench_trace_start(const char *dev, int rx);
/* Stop tracing and account the waits that began in [@t0, @t1]. */
int bench_trace_collect(double t0, double t1, struct bench_trace_result *r);
/* Remove the probes (safe to call after a failed start). */
void bench_trace_stop(void);

#endif
