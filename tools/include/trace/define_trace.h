/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim: no second pass over trace.h; tracepoints are no-ops. */
