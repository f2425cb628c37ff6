/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the ivhost selftests.
 *
 * Every test runs against the device named by $IVHOST_DEV (default
 * /dev/ivhost-net), so the same binary checks ivhost and, for ABI parity,
 * the kernel's /dev/vhost-net.  A test of a behaviour only ivhost has is
 * named ivhost_only_* and starts with IVHOST_ONLY(), which skips it on
 * any other device.
 *
 * IVHOST_DEV=vhost-user:SOCKET runs the same tests over the test VMM's
 * vhost-user transport against a backend listening on SOCKET, whose tap
 * is named by $IVHOST_USER_TAP (the harness started the backend on a tap
 * it owns; tools/testing/vhost-user/check-vhost-user).  A test of what
 * only the ioctl interface has (errno values, fd semantics, the tap fd as
 * a backend) starts with KERNEL_ONLY(why), which skips it there.  A test
 * of ivhost's IOTLB core, which ivhost-user shares, starts with
 * IVHOST_CORE_ONLY(): it runs on ivhost and, when $IVHOST_USER_BACKEND
 * says so, on ivhost-user.
 *
 * IVHOST_RING=packed runs the tests on packed virtqueues (VIRTIO_F_RING_
 * PACKED): the test VMM asks for the feature and a device that does not
 * offer it fails the bring-up with IVHOST_NO_LAYOUT, which the tests
 * SKIP with that reason (vhost_net has no packed rings).  Unset or
 * "split": split rings, as before.  A test that builds split ring
 * structures itself starts with SPLIT_ONLY(why).
 */
#ifndef IVHOST_SELFTEST_COMMON_H
#define IVHOST_SELFTEST_COMMON_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm.h"

#define IVHOST_DEFAULT_DEV "/dev/ivhost-net"

static inline int ivhost_path_is_user(const char *p)
{
	return !strncmp(p, VMM_VU_PREFIX, strlen(VMM_VU_PREFIX));
}

/* IVHOST_RING=packed: the tests run on packed rings. */
static inline int ivhost_ring_packed(void)
{
	const char *r = getenv("IVHOST_RING");

	return r && !strcmp(r, "packed");
}

/* What vmm_bringup() returns when the device lacks the ring layout. */
#define IVHOST_NO_LAYOUT (-EPROTONOSUPPORT)

/* strerror(-@r), or why the layout asked for is not there. */
static inline const char *ivhost_strerror(int r)
{
	if (r == IVHOST_NO_LAYOUT && ivhost_ring_packed())
		return "IVHOST_RING=packed: no VIRTIO_F_RING_PACKED offered, "
		       "or a legacy (no VIRTIO_F_VERSION_1) test";
	return strerror(-r);
}

static inline const char *ivhost_dev_path(void)
{
	const char *p = getenv("IVHOST_DEV");

	vmm_ring_use(ivhost_ring_packed());
	p = p && *p ? p : IVHOST_DEFAULT_DEV;
	if (ivhost_path_is_user(p))
		vmm_tap_use(getenv("IVHOST_USER_TAP"));
	return p;
}

/* The device under test is a vhost-user backend. */
static inline int ivhost_dev_is_user(void)
{
	return ivhost_path_is_user(ivhost_dev_path());
}

static inline int ivhost_dev_is_ivhost(void)
{
	return !ivhost_dev_is_user() &&
	       strstr(ivhost_dev_path(), "ivhost") != NULL;
}

/* Skip the current test on a vhost-user backend, saying @why. */
#define KERNEL_ONLY(why) do {						\
	if (ivhost_dev_is_user())					\
		SKIP(return, "ioctl interface only: %s", why);		\
} while (0)

/*
 * The same in a FIXTURE_SETUP: the 6.1 harness runs the test body after a
 * SKIP in setup, so leave through the harness's jump buffer (as a failed
 * ASSERT does); the teardown is not run.
 */
#define KERNEL_ONLY_FIXTURE(why) do {					\
	if (ivhost_dev_is_user())					\
		SKIP(longjmp(_metadata->env, 1),			\
		     "ioctl interface only: %s", why);			\
} while (0)

/*
 * The device under test runs ivhost's IOTLB core: ivhost, or ivhost-user
 * over vhost-user (check-vhost-user sets IVHOST_USER_BACKEND).
 */
static inline int ivhost_dev_has_ivhost_core(void)
{
	const char *b = getenv("IVHOST_USER_BACKEND");

	if (ivhost_dev_is_user())
		return b && !strcmp(b, "ivhost-user");
	return ivhost_dev_is_ivhost();
}

/* Skip the current test unless the device runs ivhost's IOTLB core. */
#define IVHOST_CORE_ONLY() do {						\
	if (!ivhost_dev_has_ivhost_core())				\
		SKIP(return, "ivhost IOTLB core behaviour (%s)",	\
		     ivhost_dev_path());				\
} while (0)

/* Skip the current test on packed rings, saying @why. */
#define SPLIT_ONLY(why) do {						\
	if (ivhost_ring_packed())					\
		SKIP(return, "split rings only: %s", why);		\
} while (0)

/* The same in a FIXTURE_SETUP (see KERNEL_ONLY_FIXTURE), before it
 * brings anything up: the teardown is not run. */
#define SPLIT_ONLY_FIXTURE(why) do {					\
	if (ivhost_ring_packed())					\
		SKIP(longjmp(_metadata->env, 1),			\
		     "split rings only: %s", why);			\
} while (0)

/*
 * In a FIXTURE_SETUP whose bring-up returned @r: on IVHOST_NO_LAYOUT,
 * run @cleanup (the teardown is not run) and skip the test, body
 * included (see KERNEL_ONLY_FIXTURE).
 */
#define LAYOUT_SKIP_FIXTURE(r, cleanup) do {				\
	if ((r) == IVHOST_NO_LAYOUT) {					\
		cleanup;						\
		SKIP(longjmp(_metadata->env, 1), "%s: %s",		\
		     ivhost_dev_path(), ivhost_strerror(r));		\
	}								\
} while (0)

/* Skip the current test unless the device under test is ivhost. */
#define IVHOST_ONLY() do {						\
	if (!ivhost_dev_is_ivhost())					\
		SKIP(return, "ivhost-only behaviour (%s)",		\
		     ivhost_dev_path());				\
} while (0)

#endif
