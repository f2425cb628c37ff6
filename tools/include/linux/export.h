/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim: exports are no-ops. */
#ifndef _TOOLS_INCLUDE_LINUX_EXPORT_H
#define _TOOLS_INCLUDE_LINUX_EXPORT_H

#define EXPORT_SYMBOL(sym)
#define EXPORT_SYMBOL_GPL(sym)
#define EXPORT_SYMBOL_NS_GPL(sym, ns)

#endif /* _TOOLS_INCLUDE_LINUX_EXPORT_H */
