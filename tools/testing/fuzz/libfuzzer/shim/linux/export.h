/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim: exports are no-ops. */
#ifndef _FUZZ_SHIM_LINUX_EXPORT_H
#define _FUZZ_SHIM_LINUX_EXPORT_H

#define EXPORT_SYMBOL(sym)
#define EXPORT_SYMBOL_GPL(sym)

#endif /* _FUZZ_SHIM_LINUX_EXPORT_H */
