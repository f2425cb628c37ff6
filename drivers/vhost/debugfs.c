// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs: /sys/kernel/debug/ivhost/<device id>/iotlb shows a device's
 * IOTLB counters, the same ones IVHOST_GET_IOTLB_STATS returns.
 *
 * Locking: the file's lifetime is the device's: it is created when the
 * device is initialised and removed (debugfs_remove() waits for readers)
 * before the device is freed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "ivhost.h"

static struct dentry *ivhost_debugfs_root;
static int ivhost_debugfs_iotlb_show(struct seq_file *m, void *unused)
{
	struct ivhost_dev *dev = m->private;
	struct ivhost_iotlb_stats st;
	unsigned int i;

	ivhost_dev_iotlb_stats(dev, &st);
	seq_printf(m, "hits %llu\n", st.hits);
	seq_printf(m, "misses %llu\n", st.misses);
	seq_printf(m, "misses_deduped %llu\n", st.misses_deduped);
	seq_printf(m, "miss_msgs %llu\n", st.miss_msgs);
	seq_printf(m, "updates %llu\n", st.updates);
	seq_printf(m, "invalidations %llu\n", st.invalidations);
	seq_printf(m, "evictions %llu\n", st.evictions);
	seq_printf(m, "access_fails %llu\n", st.access_fails);
	seq_printf(m, "msgs_queued %llu\n", st.msgs_queued);
	seq_printf(m, "msgs_dropped %llu\n", st.msgs_dropped);
	seq_printf(m, "entries %llu\n", st.entries);
	seq_printf(m, "miss_wait_ns %llu\n", st.miss_wait_ns);
	seq_puts(m, "rtt_us");
	for (i = 0; i < IVHOST_RTT_BUCKETS; i++)
		seq_printf(m, " %llu", st.rtt_us[i]);
	seq_putc(m, '\n');
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ivhost_debugfs_iotlb);

/**
 * ivhost_debugfs_add() - give a device its debugfs directory
 * @dev: the device
 *
 * Failure is not an error: the device works without it.
 *
 * Context: process context.
 */
void ivhost_debugfs_add(struct ivhost_dev *dev)
{
	char name[16];

	/* The number tracepoints name the device by, too. */
	snprintf(name, sizeof(name), "%u", dev->tlb.cache.id);
	dev->debugfs = debugfs_create_dir(name, ivhost_debugfs_root);
	debugfs_create_file("iotlb", 0400, dev->debugfs, dev,
			    &ivhost_debugfs_iotlb_fops);
}

/**
 * ivhost_debugfs_remove() - remove a device's debugfs directory
 * @dev: the device
 *
 * Context: process context; waits for readers of its files.
 */
void ivhost_debugfs_remove(struct ivhost_dev *dev)
{
	debugfs_remove(dev->debugfs);
	dev->debugfs = NULL;
}

/**
 * ivhost_debugfs_init() - create /sys/kernel/debug/ivhost
 *
 * Context: module init.
 */
void ivhost_debugfs_init(void)
{
	ivhost_debugfs_root = debugfs_create_dir("ivhost", NULL);
}

/**
 * ivhost_debugfs_exit() - remove /sys/kernel/debug/ivhost
 *
 * Context: module exit, after every device is gone.
 */
void ivhost_debugfs_exit(void)
{
	debugfs_remove(ivhost_debugfs_root);
}
