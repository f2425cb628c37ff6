// SPDX-License-Identifier: GPL-2.0
/*
 * ivhost-user: a vhost-user net backend on a tap.
 *
 * main.c: the command line, signals, the frontend connection (listening,
 * or with --client connecting and reconnecting with backoff) and the
 * control thread's loop: signals, the listening socket or reconnect
 * timer, the frontend's socket (one message per event), the backend
 * channel, and the workers' wake-ups (IOTLB messages to send, a tap
 * gone).  The rings run on the datapath threads (worker.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "ivu.h"

int ivu_verbose;
unsigned int tools_alloc_fail;	/* tools/include/linux/slab.h: never fail */

#define IVU_BACKOFF_MIN_MS	100
#define IVU_BACKOFF_MAX_MS	5000
#define IVU_RECV_TIMEOUT_S	5

/**
 * struct ivu_main - the daemon around the device
 * @d: the device
 * @path: the socket path
 * @client: connect to the frontend instead of listening
 * @listen_fd: listening socket (server mode)
 * @sig_fd: signalfd for SIGINT, SIGTERM, SIGUSR1
 * @timer_fd: reconnect timer (client mode)
 * @backoff_ms: next reconnect delay
 * @access: who may connect (access.c)
 */
struct ivu_main {
	struct ivu_dev d;
	const char *path;
	bool client;
	int listen_fd;
	int sig_fd;
	int timer_fd;
	unsigned int backoff_ms;
	struct ivu_access access;
};

/**
 * ivu_close() - close an fd if open and mark it closed
 * @fd: the fd, set to -1
 */
void ivu_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The epoll that watches what @tag names: a ring's worker's, or ours. */
static int ivu_epfd_of(struct ivu_dev *d, u64 tag)
{
	u32 idx = (u32)tag;

	switch (tag >> 32) {
	case IVU_EV_KICK:
		return ivu_vq_worker(d, idx)->epfd;
	case IVU_EV_TAP:
		return ivu_vq_worker(d, 2 * idx)->epfd;	/* its RX ring's */
	default:
		return d->epfd;
	}
}

/**
 * ivu_watch() - watch an fd, or change what is watched
 * @d: the device
 * @fd: the fd
 * @events: EPOLLIN, or 0 to keep it registered but quiet
 * @tag: IVU_TAG() of what it is: kicks and taps go to their ring's
 *	worker, the rest to the control thread
 *
 * Context: the control thread (d->lock held for writing), or a worker
 * for its own rings.
 */
void ivu_watch(struct ivu_dev *d, int fd, u32 events, u64 tag)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag };
	int epfd = ivu_epfd_of(d, tag);

	if (epfd < 0)
		return;	/* the workers ended (exit): nothing runs the rings */
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) &&
	    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev))
		ivu_log("epoll fd %d: %m", fd);
}

/**
 * ivu_unwatch() - stop watching an fd, wherever it is watched
 * @d: the device
 * @fd: the fd
 *
 * Context: as ivu_watch().
 */
void ivu_unwatch(struct ivu_dev *d, int fd)
{
	unsigned int i;

	epoll_ctl(d->epfd, EPOLL_CTL_DEL, fd, NULL);
	for (i = 0; i < d->nthreads; i++)
		epoll_ctl(d->w[i].epfd, EPOLL_CTL_DEL, fd, NULL);
}

static void ivu_usage(FILE *f)
{
	fprintf(f,
		"usage: ivhost-user --socket PATH --tap NAME [--queues N] [--client]\n"
		"                   [--threads N] [--socket-mode MODE]\n"
		"                   [--allow-uid USER]... [--allow-gid GROUP]...\n"
		"                   [--host-notifier] [--verbose]\n"
		"A vhost-user net backend: serves a vhost-user frontend (QEMU's\n"
		"-netdev vhost-user) and moves its frames to and from a tap.\n"
		"  --socket PATH  the vhost-user socket: listened on (one frontend\n"
		"                 at a time; the next after a disconnect), or with\n"
		"                 --client connected to (QEMU with server=on),\n"
		"                 again with backoff when the frontend goes away\n"
		"  --tap NAME     the tap (created if absent, brought up; addresses\n"
		"                 are the host's business)\n"
		"  --queues N     queue pairs, 1..%d (default 1); N > 1 makes the\n"
		"                 tap IFF_MULTI_QUEUE, one tap queue per pair\n"
		"  --client       connect instead of listening\n"
		"  --threads N    datapath threads, 1..%d (default 1): vq i runs on\n"
		"                 thread i %% N; the socket has a thread of its own\n"
		"  --socket-mode MODE  the listening socket's mode, octal (default\n"
		"                 0600)\n"
		"  --allow-uid USER  also serve a peer (frontend, or with --client\n"
		"                 the server) running as USER (name or uid); root\n"
		"                 and the daemon's own uid always are, nobody else\n"
		"                 by default (SO_PEERCRED); repeatable\n"
		"  --allow-gid GROUP  also serve a peer in GROUP (name or gid,\n"
		"                 primary or supplementary); repeatable\n"
		"  --host-notifier  offer host notifiers: a doorbell page per queue,\n"
		"                 registered at every ring start (QEMU maps it with\n"
		"                 page-per-vq=on), polled; eventfd kicks otherwise\n"
		"  --verbose      log every request\n"
		"  --help         this text\n"
		"With VIRTIO_F_IOMMU_PLATFORM acked, guest addresses are IOVAs,\n"
		"translated through a device IOTLB (IOTLB_MSG, MISS on the backend\n"
		"channel).  SIGINT/SIGTERM end it and print its counters (the IOTLB's\n"
		"on a line 'ivhost-user: iotlb ...'); SIGUSR1 prints them.\n",
		IVU_MAX_QP, IVU_MAX_THREADS);
}

/* --socket-mode, --allow-uid, --allow-gid: 0, or -1 (logged). */
static int ivu_args_access(struct ivu_access *a, int o, const char *arg)
{
	int err;

	if (o == 'm')
		err = ivu_access_mode(a, arg);
	else if (o == 'U')
		err = ivu_access_allow_uid(a, arg);
	else
		err = ivu_access_allow_gid(a, arg);
	if (err)
		ivu_log("%s %s: %s", o == 'm' ? "--socket-mode" : o == 'U' ?
			"--allow-uid" : "--allow-gid", arg,
			err == -E2BIG ? "too many" : "not valid");
	return err ? -1 : 0;
}

static int ivu_args(struct ivu_main *im, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "tap", required_argument, NULL, 't' },
		{ "queues", required_argument, NULL, 'q' },
		{ "client", no_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 'T' },
		{ "host-notifier", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "socket-mode", required_argument, NULL, 'm' },
		{ "allow-uid", required_argument, NULL, 'U' },
		{ "allow-gid", required_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long n;
	int o;

	while ((o = getopt_long(argc, argv, "s:t:q:cT:nvhm:U:G:", opts,
				NULL)) != -1) {
		switch (o) {
		case 's':
			im->path = optarg;
			break;
		case 't':
			im->d.tap_name = optarg;
			break;
		case 'q':
			n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > IVU_MAX_QP)
				return -1;
			im->d.queues = n;
			break;
		case 'c':
			im->client = true;
			break;
		case 'T':
			n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > IVU_MAX_THREADS)
				return -1;
			im->d.nthreads = n;
			break;
		case 'n':
			im->d.notifier.enabled = true;
			break;
		case 'v':
			ivu_verbose = 1;
			break;
		case 'm':
		case 'U':
		case 'G':
			if (ivu_args_access(&im->access, o, optarg))
				return -1;
			break;
		case 'h':
			ivu_usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind != argc || !im->path || !im->d.tap_name)
		return -1;
	return 0;
}

static int ivu_unix_addr(const char *path, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->sun_path))
		return -ENAMETOOLONG;
	strcpy(a->sun_path, path);
	return 0;
}

static int ivu_listen(struct ivu_main *im)
{
	struct sockaddr_un a;
	struct stat st;
	int fd;

	if (ivu_unix_addr(im->path, &a))
		return -ENAMETOOLONG;
	/* A socket left by an earlier run is ours to replace. */
	if (!stat(im->path, &st) && S_ISSOCK(st.st_mode))
		unlink(im->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || ivu_access_bind(&im->access, fd, &a) || listen(fd, 1)) {
		ivu_log("listen on %s: %m", im->path);
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	im->listen_fd = fd;
	return 0;
}

static void ivu_connected(struct ivu_main *im, int fd)
{
	struct timeval tv = { .tv_sec = IVU_RECV_TIMEOUT_S };

	/* A frontend that stops mid-message must not hang the loop. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	im->d.conn_fd = fd;
	im->d.stats.connections++;
	im->backoff_ms = IVU_BACKOFF_MIN_MS;
	ivu_net_purge(&im->d);
	ivu_watch(&im->d, fd, EPOLLIN, IVU_TAG(IVU_EV_CONN, 0));
	ivu_log("frontend connected on %s", im->path);
}

static void ivu_arm_timer(struct ivu_main *im)
{
	struct itimerspec t = { 0 };

	t.it_value.tv_sec = im->backoff_ms / 1000;
	t.it_value.tv_nsec = (im->backoff_ms % 1000) * 1000000L;
	timerfd_settime(im->timer_fd, 0, &t, NULL);
	im->backoff_ms *= 2;
	if (im->backoff_ms > IVU_BACKOFF_MAX_MS)
		im->backoff_ms = IVU_BACKOFF_MAX_MS;
}

static void ivu_try_connect(struct ivu_main *im)
{
	struct sockaddr_un a;
	int fd;

	ivu_unix_addr(im->path, &a);
	/*
	 * Non-blocking: a listener whose backlog is full would hold the
	 * connect (and the daemon's signals) for ever; EAGAIN is retried.
	 */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0 && !connect(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !fcntl(fd, F_SETFL, 0)) {
		if (ivu_access_peer(&im->access, fd, "server")) {
			ivu_connected(im, fd);
			return;
		}
	} else {
		ivu_dbg("connect %s: %m; retrying in %u ms", im->path,
			im->backoff_ms);
	}
	if (fd >= 0)
		close(fd);
	ivu_arm_timer(im);
}

/* Wait for the next frontend: listen, or connect again after a pause. */
static void ivu_wait_frontend(struct ivu_main *im)
{
	if (im->client)
		ivu_arm_timer(im);
	else
		ivu_watch(&im->d, im->listen_fd, EPOLLIN,
			  IVU_TAG(IVU_EV_LISTEN, 0));
}

static void ivu_disconnect(struct ivu_main *im)
{
	ivu_unwatch(&im->d, im->d.conn_fd);
	ivu_close(&im->d.conn_fd);
	ivu_dev_reset(&im->d);
	ivu_log("frontend gone; everything it gave is released");
	ivu_wait_frontend(im);
}

static void ivu_accept(struct ivu_main *im)
{
	int fd = accept4(im->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	/* Refused: closed unread; the device and its frontend are untouched. */
	if (!ivu_access_peer(&im->access, fd, "frontend")) {
		close(fd);
		return;
	}
	/* One frontend at a time: the next waits in the backlog. */
	ivu_unwatch(&im->d, im->listen_fd);
	ivu_connected(im, fd);
}

/* Handle a signal: false when the daemon must end. */
static bool ivu_signal(struct ivu_main *im)
{
	struct signalfd_siginfo si;

	if (read(im->sig_fd, &si, sizeof(si)) != sizeof(si))
		return true;
	ivu_stats_print(&im->d, stderr);
	return si.ssi_signo == SIGUSR1;
}

static bool ivu_event(struct ivu_main *im, u64 tag)
{
	struct ivu_dev *d = &im->d;
	u64 v;

	switch (tag >> 32) {
	case IVU_EV_SIGNAL:
		return ivu_signal(im);
	case IVU_EV_LISTEN:
		ivu_accept(im);
		break;
	case IVU_EV_TIMER:
		if (read(im->timer_fd, &v, sizeof(v)) == sizeof(v) &&
		    d->conn_fd < 0)
			ivu_try_connect(im);
		break;
	case IVU_EV_BACKEND:
		ivu_notifier_read(d);
		break;
	case IVU_EV_WAKE:
		/* A worker: IOTLB messages to send (below), or a tap gone. */
		if (read(d->ctl_fd, &v, sizeof(v)) != sizeof(v))
			ivu_dbg("control eventfd: %m");
		break;
	}
	return true;
}

/*
 * A message from the frontend: read without the lock (a frontend that
 * stalls mid-message holds only this thread), acted on under it.
 */
static void ivu_conn_event(struct ivu_main *im)
{
	struct ivu_dev *d = &im->d;

	if (d->conn_fd < 0 || !ivu_proto_handle(d))
		return;
	ivu_ctl_lock(d);
	ivu_disconnect(im);
	ivu_iotlb_send(d);
	ivu_ctl_unlock(d);
}

/*
 * A worker's wake (IOTLB messages to send) and the backend channel (room,
 * answers) change nothing a worker looks at but the rings they mark.
 */
static bool ivu_event_quiet(u64 tag)
{
	return tag >> 32 == IVU_EV_WAKE || tag >> 32 == IVU_EV_BACKEND;
}

/*
 * The control thread's loop.  It sleeps until an event: the rings run on
 * the workers.  Every event is handled under d->lock, and the IOTLB's
 * queued messages go out before the lock is dropped (ivu_proto_handle()
 * does the same for a message), so one pass takes the lock once.
 * A tap deleted under the daemon (a worker found it) ends it: its queues
 * are detached, nothing is left to serve; the daemon exits, failing, and
 * its service manager starts it again with a tap.
 */
static int ivu_loop(struct ivu_main *im)
{
	struct ivu_dev *d = &im->d;
	struct epoll_event ev[16];
	bool go = true;
	int n, i;

	while (go) {
		n = epoll_wait(d->epfd, ev, 16, -1);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (i = 0; i < n && go; i++) {
			if (ev[i].data.u64 >> 32 == IVU_EV_CONN) {
				ivu_conn_event(im);
				continue;
			}
			ivu_ctl_lock(d);
			go = ivu_event(im, ev[i].data.u64);
			ivu_iotlb_send(d);
			if (ivu_event_quiet(ev[i].data.u64))
				ivu_ctl_unlock_marked(d);
			else
				ivu_ctl_unlock(d);
		}
		if (__atomic_load_n(&d->tap_gone, __ATOMIC_SEQ_CST))
			return -ENODEV;
	}
	return 0;
}

static int ivu_setup(struct ivu_main *im)
{
	struct ivu_dev *d = &im->d;
	int fds[IVU_MAX_QP];
	unsigned int i;
	sigset_t set;
	int err;

	err = ivu_mem_init();
	if (err)
		return err;
	err = ivu_tap_open(d->tap_name, d->queues, fds);
	if (err) {
		ivu_log("tap %s: %s", d->tap_name, strerror(-err));
		return err;
	}
	for (i = 0; i < d->queues; i++) {
		d->qp[i].tap_fd = fds[i];
		d->qp[i].rx_buf = malloc(IVU_RX_BUF);
		if (!d->qp[i].rx_buf)
			return -ENOMEM;
	}
	for (i = 0; i < IVU_MAX_VQ; i++)
		ivu_vring_init(&d->vq[i], i);
	ivu_iotlb_init(d);
	err = ivu_notifier_init(d);
	if (err) {
		ivu_log("doorbell pages: %s", strerror(-err));
		return err;
	}
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	im->sig_fd = signalfd(-1, &set, SFD_CLOEXEC);
	im->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (d->epfd < 0 || im->sig_fd < 0 || im->timer_fd < 0)
		return -errno;
	ivu_watch(d, im->sig_fd, EPOLLIN, IVU_TAG(IVU_EV_SIGNAL, 0));
	ivu_watch(d, im->timer_fd, EPOLLIN, IVU_TAG(IVU_EV_TIMER, 0));
	err = ivu_workers_start(d);
	if (err) {
		ivu_log("datapath threads: %s", strerror(-err));
		return err;
	}
	ivu_watch(d, d->ctl_fd, EPOLLIN, IVU_TAG(IVU_EV_WAKE, 0));
	if (!im->client)
		return ivu_listen(im);
	return 0;
}

int main(int argc, char **argv)
{
	static struct ivu_main im = {
		.d = { .queues = 1, .nthreads = 1, .conn_fd = -1,
		       .backend_fd = -1, .epfd = -1, .ctl_fd = -1 },
		.listen_fd = -1, .sig_fd = -1, .timer_fd = -1,
		.backoff_ms = IVU_BACKOFF_MIN_MS,
		.access = { .mode = 0600 },
	};
	unsigned int i;
	int err;

	if (ivu_args(&im, argc, argv)) {
		ivu_usage(stderr);
		return 2;
	}
	err = ivu_setup(&im);
	if (err)
		return 1;
	ivu_log("serving tap %s, %u queue pair(s), %u datapath thread(s), %s %s",
		im.d.tap_name, im.d.queues, im.d.nthreads,
		im.client ? "connecting to" : "listening on", im.path);
	ivu_ctl_lock(&im.d);
	if (im.client)
		ivu_try_connect(&im);
	else
		ivu_wait_frontend(&im);
	ivu_ctl_unlock(&im.d);
	err = ivu_loop(&im);
	ivu_workers_stop(&im.d);
	if (im.d.conn_fd >= 0) {
		ivu_unwatch(&im.d, im.d.conn_fd);
		ivu_close(&im.d.conn_fd);
	}
	ivu_dev_reset(&im.d);
	for (i = 0; i < im.d.queues; i++) {
		close(im.d.qp[i].tap_fd);
		free(im.d.qp[i].rx_buf);
	}
	if (!im.client) {
		close(im.listen_fd);
		unlink(im.path);
	}
	return err ? 1 : 0;
}
