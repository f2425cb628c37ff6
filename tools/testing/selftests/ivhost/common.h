/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the ivhost selftests.
 *
 * Every test runs against the device named by $IVHOST_DEV (default
 * /dev/ivhost-net), so the same binary checks ivhost and, for ABI parity,
 * the kernel's /dev/vhost-net.  A test of a behaviour only ivhost has is
 * named ivhost_only_* and starts with IVHOST_ONLY(), which skips it on
 * any other device.
 */
#ifndef IVHOST_SELFTEST_COMMON_H
#define IVHOST_SELFTEST_COMMON_H

#include <stdlib.h>
#include <string.h>

#define IVHOST_DEFAULT_DEV "/dev/ivhost-net"

static inline const char *ivhost_dev_path(void)
{
	const char *p = getenv("IVHOST_DEV");

	return p && *p ? p : IVHOST_DEFAULT_DEV;
}

static inline int ivhost_dev_is_ivhost(void)
{
	return strstr(ivhost_dev_path(), "ivhost") != NULL;
}

/* Skip the current test unless the device under test is ivhost. */
#define IVHOST_ONLY() do {						\
	if (!ivhost_dev_is_ivhost())					\
		SKIP(return, "ivhost-only behaviour (%s)",		\
		     ivhost_dev_path());				\
} while (0)

#endif
