// SPDX-License-Identifier: GPL-2.0
/*
 * What tools/vhost-user/main.c and tap.c give the rest of ivhost-user,
 * for the libFuzzer targets that link the daemon's other files as they
 * are: the fd helpers and the epoll registration (on the device's own
 * epoll, so that the targets can run the events the daemon asked for),
 * the globals, and a tap that is a datagram socket: configuring it and
 * setting its MTU always work.
 */
#include <sys/epoll.h>
#include <unistd.h>

#include "ivu.h"
#include "vu_stubs.h"

int ivu_verbose;
unsigned int tools_alloc_fail;	/* tools/include/linux/slab.h */

/* Where the daemon's log goes: /dev/null unless FUZZ_TRACE=1. */
FILE *vu_real_stderr;

void ivu_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void ivu_watch(struct ivu_dev *d, int fd, u32 events, u64 tag)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag };

	if (d->epfd < 0)
		return;
	if (epoll_ctl(d->epfd, EPOLL_CTL_MOD, fd, &ev))
		epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev);
}

void ivu_unwatch(struct ivu_dev *d, int fd)
{
	if (d->epfd >= 0)
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, fd, NULL);
}

int ivu_tap_open(const char *name, unsigned int queues, int *fds)
{
	(void)name;
	(void)queues;
	(void)fds;
	return -ENODEV;
}

int ivu_tap_configure(const char *name, int fd, unsigned int hdr_len,
		      u64 features)
{
	(void)name;
	(void)fd;
	(void)hdr_len;
	(void)features;
	return 0;
}

int ivu_tap_set_mtu(const char *name, unsigned int mtu)
{
	(void)name;
	(void)mtu;
	return 0;
}

/**
 * vu_quiet() - send the daemon's log lines to /dev/null, or not
 * @on: quiet (unless FUZZ_TRACE=1 asks for them)
 *
 * The daemon logs every refused request on stderr, which would slow the
 * fuzzer to a crawl; libFuzzer and the sanitizers write to fd 2 on their
 * own, so their reports are not affected.
 */
void vu_quiet(bool on)
{
	static FILE *null;
	static int trace = -1;

	if (trace < 0) {
		const char *t = getenv("FUZZ_TRACE");

		trace = t && *t == '1';
		vu_real_stderr = stderr;
		null = fopen("/dev/null", "w");
		if (trace)
			ivu_verbose = 1;
	}
	stderr = on && !trace && null ? null : vu_real_stderr;
}
