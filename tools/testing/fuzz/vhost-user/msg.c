// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-vu: the socket side.  Sending a message (any header, payload and
 * fds), waiting for its reply or the daemon's close and holding both to
 * the promise, and making fds of every kind.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <netinet/in.h>

#include "fuzz-vu.h"

struct fv_hdr {
	uint32_t request, flags, size;
} __attribute__((packed));

/*
 * Connect without waiting: a backlog full of frontends the daemon has not
 * taken yet would block connect() for as long as it serves another.
 */
static int fv_connect_once(const struct sockaddr_un *a)
{
	struct timeval tv = { .tv_sec = FV_REPLY_MS / 1000 };
	int fd, err;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)a, sizeof(*a))) {
		err = -errno;
		close(fd);
		return err;
	}
	fcntl(fd, F_SETFL, 0);
	/* A daemon that stops reading is a hang, not a wait. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/**
 * fv_connect_now() - a connection if the daemon's backlog has room
 *
 * Return: the socket, or a negative errno.
 */
int fv_connect_now(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", G.sock_path);
	return fv_connect_once(&a);
}

/**
 * fv_connect() - a new connection to the daemon
 *
 * Return: the socket, or a negative errno after 2 s of refusals.
 */
int fv_connect(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	uint64_t end = fv_now_ms() + FV_REPLY_MS;
	int fd;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", G.sock_path);
	for (;;) {
		fd = fv_connect_once(&a);
		if (fd >= 0 || fv_now_ms() > end)
			return fd;
		usleep(10000);
	}
}

static int fv_memfd(const char *name, size_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd >= 0 && ftruncate(fd, size)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int fv_pipe_end(bool read_end)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return -1;
	close(p[read_end ? 1 : 0]);
	return p[read_end ? 0 : 1];
}

static int fv_rdonly_file(void)
{
	static const char zeros[4096];
	char path[512];
	int fd, i;

	snprintf(path, sizeof(path), "%s/ivu-fuzz-rdonly", G.tmpdir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	for (i = 0; fd >= 0 && i < 256; i++)
		if (write(fd, zeros, sizeof(zeros)) < 0)
			break;
	if (fd >= 0)
		close(fd);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/**
 * fv_make_fd() - an fd of a kind, for a message to carry
 * @c: the connection (FV_FD_GUEST dups its guest memfd)
 * @kind: what it is
 *
 * Return: the fd, which the caller closes, or -1.
 */
int fv_make_fd(struct fv_conn *c, enum fv_fd_kind kind)
{
	static const size_t odd[] = { 0, 1, 4095, 4097, 65537,
				      FV_MEM_SIZE - 1, FV_MEM_SIZE + 1 };
	int sv[2];

	switch (kind) {
	case FV_FD_EVENTFD:
		return eventfd(fz_below(&c->r, 3), EFD_CLOEXEC);
	case FV_FD_MEMFD_ODD:
		return fv_memfd("ivu-fuzz-odd",
				odd[fz_below(&c->r, FV_ARRAY_SIZE(odd))]);
	case FV_FD_PIPE_R:
		return fv_pipe_end(true);
	case FV_FD_PIPE_W:
		return fv_pipe_end(false);
	case FV_FD_UNIX:
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
			return -1;
		close(sv[1]);
		return sv[0];
	case FV_FD_UDP:
		return socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	case FV_FD_NULL:
		return open("/dev/null", O_RDWR | O_CLOEXEC);
	case FV_FD_ZERO:
		return open("/dev/zero", O_RDWR | O_CLOEXEC);
	case FV_FD_RDONLY:
		return fv_rdonly_file();
	case FV_FD_DIR:
		return open(G.tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	case FV_FD_EPOLL:
		return epoll_create1(EPOLL_CLOEXEC);
	case FV_FD_PATH:
		return open("/", O_PATH | O_CLOEXEC);
	case FV_FD_GUEST:
	default:
		return c->memfd >= 0 ? fcntl(c->memfd, F_DUPFD_CLOEXEC, 0) : -1;
	}
}

/**
 * fv_sendmsg() - sendmsg() with fds in SCM_RIGHTS
 * @sock: the socket
 * @iov: what to send
 * @niov: its segments
 * @fds: the fds
 * @nfds: their number (0..16)
 *
 * Return: sendmsg()'s.
 */
ssize_t fv_sendmsg(int sock, struct iovec *iov, int niov, const int *fds,
		   unsigned int nfds)
{
	char cbuf[CMSG_SPACE(16 * sizeof(int))] = { 0 };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = niov };
	struct cmsghdr *cm;

	if (nfds) {
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL);
}

/**
 * fv_send() - send one message, exactly as told
 * @c: the connection
 * @req: request id
 * @flags: header flags
 * @p: payload, @len bytes (the header's size is @len)
 * @len: its size
 * @fds: fds for SCM_RIGHTS, with the header
 * @nfds: their number (0..16)
 *
 * Return: 0, or -EPIPE once the daemon closed the connection.
 */
int fv_send(struct fv_conn *c, uint32_t req, uint32_t flags, const void *p,
	    uint32_t len, const int *fds, unsigned int nfds)
{
	struct fv_hdr h = { req, flags, len };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)p, len } };
	ssize_t n, want = sizeof(h) + len;

	G.msgs++;
	n = fv_sendmsg(c->sock, iov, len ? 2 : 1, fds, nfds);
	while (n >= 0 && n < want) {	/* the rest, without the fds */
		bool in_h = n < (ssize_t)sizeof(h);
		const char *src = in_h ? (char *)&h + n :
				  (const char *)p + (n - sizeof(h));
		size_t left = in_h ? sizeof(h) - n : (size_t)(want - n);
		ssize_t k = send(c->sock, src, left, MSG_NOSIGNAL);

		if (k < 0 && errno == EAGAIN)
			fv_fail(c, "the daemon does not read its socket (%u ms)",
				FV_REPLY_MS);
		if (k <= 0)
			break;
		n += k;
	}
	if (n < 0 && errno == EAGAIN)
		fv_fail(c, "the daemon does not read its socket (%u ms)",
			FV_REPLY_MS);
	if (n == want)
		return 0;
	c->closed = true;
	return -EPIPE;
}

/* Read @len bytes before @end (ms): 0, -ECONNRESET (closed), -ETIME. */
static int fv_read(struct fv_conn *c, void *buf, size_t len, uint64_t end)
{
	struct pollfd pfd = { .fd = c->sock, .events = POLLIN };
	size_t got = 0;
	uint64_t now;
	ssize_t n;

	while (got < len) {
		now = fv_now_ms();
		if (now >= end)
			return -ETIME;
		if (poll(&pfd, 1, end - now) <= 0)
			continue;
		n = recv(c->sock, (char *)buf + got, len - got, 0);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return -ECONNRESET;
		}
		got += n;
	}
	return 0;
}

/**
 * fv_read_reply() - @len bytes of replies within the bound, or the close
 * @c: the connection
 * @buf: where to
 * @len: how many
 *
 * Return: 0, or -ECONNRESET once the daemon closed it (noted in @c).
 */
int fv_read_reply(struct fv_conn *c, void *buf, size_t len)
{
	int err = fv_read(c, buf, len, fv_now_ms() + FV_REPLY_MS);

	if (err == -ETIME)
		fv_fail(c, "no reply and no close within %u ms", FV_REPLY_MS);
	if (err) {
		c->closed = true;
		G.dropped++;
		fv_check_alive(c);
	}
	return err;
}

/**
 * fv_wait_closed() - the daemon must close the connection within @ms
 * @c: the connection
 * @ms: the bound
 *
 * Bytes arriving instead (an answer to a message it should have dropped
 * the connection for) are a broken promise too.
 */
void fv_wait_closed(struct fv_conn *c, unsigned int ms)
{
	unsigned char b;
	int err;

	if (c->closed)
		return;
	err = fv_read(c, &b, 1, fv_now_ms() + ms);
	if (err == -ETIME)
		fv_fail(c, "connection not closed within %u ms", ms);
	if (!err)
		fv_fail(c, "data (0x%02x) where the connection should close", b);
	c->closed = true;
	G.dropped++;
	fv_check_alive(c);
}

/* A reply is due: NEED_REPLY, or a request that always has one. */
static bool fv_asks(uint32_t req, uint32_t flags)
{
	return (flags & FV_NEED_REPLY) || req == FV_GET_FEATURES ||
	       req == FV_GET_VRING_BASE || req == FV_GET_PROTOCOL_FEATURES ||
	       req == FV_GET_QUEUE_NUM || req == FV_SET_LOG_BASE;
}

/**
 * fv_msg() - send a message and hold the daemon to its answer
 * @c: the connection
 * @req: request id
 * @flags: header flags
 * @p: payload
 * @len: its size (the header's)
 * @fds: fds to carry
 * @nfds: their number
 * @must_refuse: the request is bad: a reply must be non-zero, and
 *	without one asked for the connection must close
 * @val: the reply's u64 (or vring state), if one came
 *
 * Bad framing (version bits, REPLY set, a payload over 632 bytes, more
 * than 8 fds) must close the connection; a reply due must come within
 * 2 s (or the close); a reply must carry the request's id, flags 0x5 and
 * 8 bytes.
 * Return: 0 if the connection goes on, -ECONNRESET if it closed.
 */
int fv_msg(struct fv_conn *c, uint32_t req, uint32_t flags, const void *p,
	   uint32_t len, const int *fds, unsigned int nfds, bool must_refuse,
	   uint64_t *val)
{
	bool framed = (flags & 3) == FV_VERSION && !(flags & FV_REPLY) &&
		      len <= FV_PAYLOAD_MAX && nfds <= 8;
	uint64_t end, v;
	struct fv_hdr h;
	int err;

	c->step++;
	fv_progress();
	if (c->closed)
		return -ECONNRESET;
	fv_drain_backend(c);
	if (fv_send(c, req, flags, p, len, fds, nfds))
		goto closed;
	if (!framed || (must_refuse && !fv_asks(req, flags))) {
		fv_wait_closed(c, FV_REPLY_MS);
		return -ECONNRESET;
	}
	if (!fv_asks(req, flags))
		return 0;
	end = fv_now_ms() + FV_REPLY_MS;
	err = fv_read(c, &h, sizeof(h), end);
	if (err == -ETIME)
		fv_fail(c, "request %u flags 0x%x size %u: no reply within %u ms",
			req, flags, len, FV_REPLY_MS);
	if (err)
		goto closed;
	if (h.request != req || h.flags != (FV_VERSION | FV_REPLY) ||
	    h.size != 8)
		fv_fail(c, "request %u: bad reply header: request %u flags 0x%x size %u",
			req, h.request, h.flags, h.size);
	err = fv_read(c, &v, sizeof(v), end);
	if (err == -ETIME)
		fv_fail(c, "request %u: reply payload not within %u ms", req,
			FV_REPLY_MS);
	if (err)
		goto closed;
	G.replies++;
	G.refused += v != 0;
	if (must_refuse && !v && req != FV_GET_VRING_BASE)
		fv_fail(c, "request %u (bad, NEED_REPLY): accepted with 0", req);
	if (val)
		*val = v;
	return 0;
closed:
	c->closed = true;
	G.dropped++;
	fv_check_alive(c);
	return -ECONNRESET;
}

/**
 * fv_flags() - the flags of a set-up message: NEED_REPLY mostly when
 *	REPLY_ACK was acked (as QEMU does), sometimes regardless
 * @c: the connection
 */
uint32_t fv_flags(struct fv_conn *c)
{
	bool ack = c->protocol & (1ULL << FV_PF_REPLY_ACK);

	if (fz_one_in(&c->r, ack ? 5 : 8))
		return ack ? FV_VERSION : FV_VERSION | FV_NEED_REPLY;
	return ack ? FV_VERSION | FV_NEED_REPLY : FV_VERSION;
}

/**
 * fv_drain_backend() - read what the daemon sent on the backend channel,
 *	unless this connection never reads it
 * @c: the connection
 */
void fv_drain_backend(struct fv_conn *c)
{
	char buf[4096];

	if (c->backend < 0 || c->backend_mode != FV_BACKEND_DRAIN)
		return;
	while (recv(c->backend, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

/**
 * fv_check_quiet() - nothing may wait on the socket that was not asked
 * @c: the connection, all its replies read
 */
void fv_check_quiet(struct fv_conn *c)
{
	unsigned char b;
	ssize_t n;

	if (c->closed || c->sock < 0)
		return;
	n = recv(c->sock, &b, 1, MSG_DONTWAIT | MSG_PEEK);
	if (n > 0)
		fv_fail(c, "unsolicited data from the daemon (0x%02x)", b);
	if (n == 0) {
		c->closed = true;
		G.dropped++;
	}
}
