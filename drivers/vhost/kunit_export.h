/* SPDX-License-Identifier: GPL-2.0 */
/*
 * EXPORT_SYMBOL_IF_IVHOST_KUNIT(sym): export an internal of ivhost.ko to its
 * KUnit module (ivhost_kunit.ko) and to nothing else.
 *
 * Only what ivhost_net.ko calls is exported to every module.  The KUnit
 * suites test internals below that line (the IOTLB, the memory table,
 * the chain walker); a build with CONFIG_IVHOST_KUNIT_TEST exports those
 * in the IVHOST_KUNIT namespace, which only the KUnit module imports,
 * and any other build does not export them at all.  The tests stay a
 * module of their own, loaded when wanted, and ivhost.ko carries no
 * test code.  (<kunit/visibility.h>'s EXPORT_SYMBOL_IF_KUNIT does this
 * in newer kernels, but keyed on CONFIG_KUNIT, which distribution
 * kernels enable: ivhost.ko would export its internals everywhere.)
 *
 * Kbuild defines IVHOST_KUNIT_EXPORTS from CONFIG_IVHOST_KUNIT_TEST,
 * which in an out-of-tree build exists only as a make variable.
 */
#ifndef _IVHOST_KUNIT_EXPORT_H
#define _IVHOST_KUNIT_EXPORT_H

#include <linux/export.h>

#ifdef IVHOST_KUNIT_EXPORTS
#define EXPORT_SYMBOL_IF_IVHOST_KUNIT(sym) \
	EXPORT_SYMBOL_NS_GPL(sym, IVHOST_KUNIT)
#else
#define EXPORT_SYMBOL_IF_IVHOST_KUNIT(sym)
#endif

/*
 * EXPORT_SYMBOL_IVHOST_INTERNAL(sym): an internal that another module of
 * this tree calls, in every build: the IOTLB lookup benchmark
 * (tools/testing/bench/lookup) measures the cache itself.  Exported in
 * the IVHOST_INTERNAL namespace, which only that module and the KUnit
 * module import.
 */
#define EXPORT_SYMBOL_IVHOST_INTERNAL(sym) \
	EXPORT_SYMBOL_NS_GPL(sym, IVHOST_INTERNAL)

#endif /* _IVHOST_KUNIT_EXPORT_H */
