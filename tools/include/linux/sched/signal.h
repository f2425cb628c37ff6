/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim: nothing of <linux/sched/signal.h> is needed. */
