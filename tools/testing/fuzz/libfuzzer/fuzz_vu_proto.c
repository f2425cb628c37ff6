// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: ivhost-user's request path, as the daemon runs it.
 * Each input is one frontend connection on a socketpair: a sequence of
 * vhost-user messages (header fields, payload, and fds of every kind
 * sent with SCM_RIGHTS: eventfds, memfds of a size from the input, pipe
 * ends, sockets, /dev/null, /dev/zero, a directory), each read and
 * handled by ivu_proto_handle() (tools/vhost-user/proto.c and all it
 * calls: mem.c, vring.c, net.c, iotlb.c, log.c, notifier.c, rarp.c),
 * and between them what the daemon's loop would do: the events it asked
 * epoll for (kicks, tap readiness, the backend channel), the host
 * notifiers' poll and the rounds left to run.  The input also writes
 * guest memory (rings, descriptors, frames), shrinks memfds under the
 * daemon's mappings (SIGBUS), kicks, sends frames on the tap (a datagram
 * socketpair) and writes to the backend channel.  The connection then
 * ends, as main.c ends it: ivu_dev_reset().
 *
 * Oracles, from tools/vhost-user/README ("Errors") and the vhost-user
 * specification, besides ASan and UBSan:
 *   - a message with bad framing (version bits, the REPLY flag, a payload
 *     over 632 bytes, more fds than 8) closes the connection, unreplied;
 *   - a request that has a reply of its own (GET_FEATURES,
 *     GET_PROTOCOL_FEATURES, GET_QUEUE_NUM, GET_VRING_BASE, SET_LOG_BASE)
 *     gets exactly one while the connection stays, at most one if it is
 *     closed;
 *   - any other well-framed request with NEED_REPLY gets exactly one
 *     reply and the connection stays; the reply is non-zero when the
 *     request is unknown or its payload size or fd count is not the one
 *     the specification gives it;
 *   - without NEED_REPLY, no reply;
 *   - every reply: the request's id, flags 0x5, an 8-byte payload;
 *   - the frontend leaving is seen (the handler returns non-zero);
 *   - after ivu_dev_reset(), the process has exactly the fds and the
 *     mappings of the frontend's files it had before the connection.
 *
 * Input layout: messages until the input ends (at most 64): one byte
 * selects a harness operation (0xf0..0xff, below) or is a message's
 * request id (0..0xdf: id % 32; 0xe0..0xef: a 32-bit id follows); then
 * flags (bits 0-1 XOR 1: version; bit 2 REPLY; bit 3 NEED_REPLY; bit 4:
 * 32 more bits OR-ed in; bit 5: the header's size is a 32-bit value
 * that follows, not the payload's: the message is the last one, the
 * socket is shut after it), the fd recipe (count in bits 0-3, capped at
 * 10; one kind byte each, a memfd's kind byte then its pages), the
 * payload size (16 bits, % 700) and the payload.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "ivu.h"
#include "vu_stubs.h"

#define VU_MAX_MSGS	64
#define VU_MAX_HFDS	160	/* fds the harness creates per input */
#define VU_PAYLOAD_MAX	632	/* QEMU 7.2's, as the README says */

enum {
	VU_FD_EVENT, VU_FD_MEM, VU_FD_PIPE_R, VU_FD_PIPE_W, VU_FD_NULL,
	VU_FD_SOCK, VU_FD_ZERO, VU_FD_DIR,
};

/* What the harness keeps of the fds it made (its own copies). */
struct vu_hfd {
	int fd;
	u8 kind;
};

static struct ivu_dev dev = { .queues = 2, .tap_name = "fzvu0",
			      .conn_fd = -1, .backend_fd = -1, .epfd = -1,
			      .nthreads = 1, .ctl_fd = -1 };
static int tap_peer[IVU_MAX_QP];
static struct vu_hfd hfd[VU_MAX_HFDS];
static unsigned int nhfd;
static int fe = -1;	/* the frontend's end of the connection */

/* ---- counting what the process holds ---- */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		abort();
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

/* Mappings of files a frontend can give: memfds and /dev/zero. */
static int count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	if (!f)
		abort();
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "/memfd:fzvu") || strstr(line, "/dev/zero");
	fclose(f);
	return n;
}

/* ---- the fds a message carries ---- */

static int hfd_add(int fd, u8 kind)
{
	if (fd < 0)
		abort();
	hfd[nhfd].fd = fd;
	hfd[nhfd++].kind = kind;
	return fd;
}

/* Make an fd of kind @k; the harness keeps what it needs of it. */
static int make_fd(struct fuzz_in *in, u8 k)
{
	int p[2], fd;

	switch (k % 8) {
	case VU_FD_EVENT:
		return hfd_add(eventfd(0, EFD_CLOEXEC), VU_FD_EVENT);
	case VU_FD_MEM:
		fd = hfd_add(memfd_create("fzvu", MFD_CLOEXEC), VU_FD_MEM);
		if (ftruncate(fd, (fuzz_u8(in) & 15) * 4096L))
			abort();
		return fd;
	case VU_FD_PIPE_R:
	case VU_FD_PIPE_W:
		if (pipe2(p, O_CLOEXEC | O_NONBLOCK))
			abort();
		hfd_add(p[0], VU_FD_PIPE_R);
		hfd_add(p[1], VU_FD_PIPE_W);
		return k % 8 == VU_FD_PIPE_R ? p[0] : p[1];
	case VU_FD_SOCK:
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p))
			abort();
		hfd_add(p[0], VU_FD_NULL);	/* closed at the end */
		hfd_add(p[1], VU_FD_SOCK);	/* the frontend's end */
		return p[0];
	case VU_FD_ZERO:
		return hfd_add(open("/dev/zero", O_RDWR | O_CLOEXEC), VU_FD_NULL);
	case VU_FD_DIR:
		return hfd_add(open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC),
			       VU_FD_NULL);
	default:
		return hfd_add(open("/dev/null", O_RDWR | O_CLOEXEC), VU_FD_NULL);
	}
}

/* The @i-th harness fd of kind @kind (modulo their number), or -1. */
static int hfd_nth(u8 kind, unsigned int i)
{
	unsigned int j, n = 0;

	for (j = 0; j < nhfd; j++)
		n += hfd[j].kind == kind;
	if (!n)
		return -1;
	i %= n;
	for (j = 0; j < nhfd; j++)
		if (hfd[j].kind == kind && !i--)
			return hfd[j].fd;
	return -1;
}

/* ---- the daemon's loop, one turn ---- */

static void vu_faulted(void)
{
	static unsigned int seen;
	unsigned int i;

	if (ivu_mem_faults() == seen)
		return;
	seen = ivu_mem_faults();
	for (i = 0; i < 2 * dev.queues; i++)
		if (dev.vq[i].started) {
			ivu_vring_break(&dev, &dev.vq[i], "guest memory gone",
					0);
			dev.vq[i].more = false;
		}
}

/* What main.c's ivu_event() does for the events the harness lets in. */
static void vu_event(u64 tag, u32 events)
{
	u32 idx = (u32)tag;

	switch (tag >> 32) {
	case IVU_EV_KICK:
		if (idx < IVU_MAX_VQ && dev.vq[idx].kick_fd >= 0)
			ivu_net_kick(&dev, &dev.vq[idx]);
		break;
	case IVU_EV_TAP:
		if (idx < dev.queues && !(events & EPOLLERR))
			ivu_net_tap_ready(&dev, idx);
		break;
	case IVU_EV_BACKEND:
		ivu_notifier_read(&dev);
		ivu_iotlb_send(&dev);
		break;
	}
}

/* Read and drop what the daemon sent the tap and the backend channels. */
static void vu_drain(void)
{
	char buf[4096], cbuf[CMSG_SPACE(8 * sizeof(int))];
	unsigned int i, q;

	for (q = 0; q < dev.queues; q++)
		while (recv(tap_peer[q], buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
	for (i = 0; i < nhfd; i++) {
		if (hfd[i].kind != VU_FD_SOCK)
			continue;
		for (;;) {
			struct iovec iov = { buf, sizeof(buf) };
			struct msghdr mh = {
				.msg_iov = &iov, .msg_iovlen = 1,
				.msg_control = cbuf,
				.msg_controllen = sizeof(cbuf),
			};
			struct cmsghdr *c;

			if (recvmsg(hfd[i].fd, &mh, MSG_DONTWAIT |
				    MSG_CMSG_CLOEXEC) <= 0)
				break;
			for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
				int *f = (int *)CMSG_DATA(c);
				size_t k, n = (c->cmsg_len - CMSG_LEN(0)) /
					      sizeof(int);

				for (k = 0; k < n; k++)
					close(f[k]);
			}
		}
	}
}

/* The one worker the harness plays: every vq is its. */
static struct ivu_worker vu_worker = { .d = &dev, .epfd = -1, .wake_fd = -1 };

static void vu_turn(void)
{
	struct epoll_event ev[16];
	int turn, n, i;
	unsigned int q;

	for (turn = 0; turn < 2; turn++) {
		n = epoll_wait(dev.epfd, ev, ARRAY_SIZE(ev), 0);
		for (i = 0; i < n; i++) {
			vu_event(ev[i].data.u64, ev[i].events);
			vu_faulted();
		}
		ivu_notifier_poll(&dev, &vu_worker);
		vu_faulted();
		for (q = 0; q < 2 * dev.queues; q++) {
			struct ivu_vring *vq = &dev.vq[q];

			/* As a worker's pass: a message's break signalled. */
			if (vq->err_due && vq->published_used == vq->last_used)
				ivu_vring_flush(&dev, vq);
			if (vq->more)
				ivu_net_round(&dev, vq);
		}
		ivu_iotlb_send(&dev);
		vu_faulted();
		vu_drain();
	}
}

/* ---- harness operations ---- */

static void op_harness(struct fuzz_in *in, u8 op)
{
	unsigned char buf[2048];
	unsigned int i, n;
	u16 off;
	int fd;

	switch (op) {
	case 0xf0:	/* write guest memory */
		fd = hfd_nth(VU_FD_MEM, fuzz_u8(in));
		off = fuzz_u16(in);
		n = fuzz_u8(in);
		for (i = 0; i < n; i++)
			buf[i] = fuzz_u8(in);
		if (fd >= 0 && pwrite(fd, buf, n, off) < 0)
			abort();
		break;
	case 0xf1:	/* a frame on a tap queue */
		i = fuzz_u8(in) % dev.queues;
		n = fuzz_u16(in) % sizeof(buf);
		memset(buf, 0, n);
		for (off = 0; off < n && in->left; off++)
			buf[off] = fuzz_u8(in);
		send(tap_peer[i], buf, n, MSG_DONTWAIT);
		break;
	case 0xf2:	/* shrink (or grow) a memfd under its mappings */
		fd = hfd_nth(VU_FD_MEM, fuzz_u8(in));
		if (fd >= 0 && ftruncate(fd, (fuzz_u8(in) & 15) * 4096L))
			abort();
		break;
	case 0xf3:	/* the frontend writes on a backend channel */
		fd = hfd_nth(VU_FD_SOCK, fuzz_u8(in));
		n = fuzz_u8(in);
		for (i = 0; i < n; i++)
			buf[i] = fuzz_u8(in);
		if (fd >= 0)
			send(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		break;
	case 0xf4:	/* kick every eventfd and pipe */
		for (i = 0; i < nhfd; i++) {
			u64 one = 1;

			if (hfd[i].kind == VU_FD_EVENT ||
			    hfd[i].kind == VU_FD_PIPE_W)
				if (write(hfd[i].fd, &one, sizeof(one)) < 0)
					continue;
		}
		break;
	case 0xf5:	/* close the write end of the pipes: kicks at EOF */
		for (i = 0; i < nhfd; i++)
			if (hfd[i].kind == VU_FD_PIPE_W) {
				close(hfd[i].fd);
				hfd[i].fd = -1;
				hfd[i].kind = VU_FD_NULL;
			}
		break;
	}
}

/* ---- messages and their replies ---- */

/* The specification's payload size (-1: any) and fd counts of @req. */
static bool spec_shape(u32 req, u32 size, unsigned int nfds)
{
	static const struct { int size; u8 fds_min, fds_max; } s[] = {
		[1] = { 0, 0, 0 },  [2] = { 8, 0, 0 },  [3] = { 0, 0, 0 },
		[4] = { 0, 0, 0 },  [5] = { -1, 0, 8 }, [6] = { 16, 1, 1 },
		[7] = { 0, 1, 1 },  [8] = { 8, 0, 0 },  [9] = { 40, 0, 0 },
		[10] = { 8, 0, 0 }, [11] = { 8, 0, 0 }, [12] = { 8, 0, 1 },
		[13] = { 8, 0, 1 }, [14] = { 8, 0, 1 }, [15] = { 0, 0, 0 },
		[16] = { 8, 0, 0 }, [17] = { 0, 0, 0 }, [18] = { 8, 0, 0 },
		[19] = { 8, 0, 0 }, [20] = { 8, 0, 0 }, [21] = { 0, 1, 1 },
		[22] = { 32, 0, 0 },
	};

	if (req < 1 || req >= ARRAY_SIZE(s))
		return false;
	return (s[req].size < 0 || (u32)s[req].size == size) &&
	       nfds >= s[req].fds_min && nfds <= s[req].fds_max;
}

static bool has_own_reply(u32 req)
{
	return req == 1 || req == 6 || req == 11 || req == 15 || req == 17;
}

/* The replies waiting on the frontend's end: checked, counted. */
static unsigned int take_replies(u32 req, u64 *last)
{
	unsigned char buf[4096];
	unsigned int n = 0;
	ssize_t len = 0, r;
	size_t off = 0;

	while ((r = recv(fe, buf + len, sizeof(buf) - len, MSG_DONTWAIT)) > 0)
		len += r;
	while (off < (size_t)len) {
		u32 h[3];

		VU_CHECK(len - off >= 12 + 8, "request %u: a reply of %zd bytes",
			 req, len - off);
		memcpy(h, buf + off, sizeof(h));
		VU_CHECK(h[0] == req && h[1] == 0x5 && h[2] == 8,
			 "request %u: reply request %u flags 0x%x size %u", req,
			 h[0], h[1], h[2]);
		memcpy(last, buf + off + 12, 8);
		off += 20;
		n++;
	}
	return n;
}

struct vu_msg {
	u32 h[3];	/* request, flags, size */
	unsigned char p[700];
	u32 len;	/* payload bytes sent */
	int fds[16];
	unsigned int nfds;
	bool raw;	/* header size from the input; the last message */
};

static void read_msg(struct fuzz_in *in, u8 b, struct vu_msg *m)
{
	u8 fl, k;
	unsigned int i;

	memset(m, 0, sizeof(*m));
	m->h[0] = b < 0xe0 ? b % 32 : fuzz_u32(in);
	fl = fuzz_u8(in);
	m->h[1] = ((fl & 3) ^ 1) | (fl & 0xc);
	if (fl & 0x10)
		m->h[1] |= fuzz_u32(in) & ~0xfU;
	m->raw = fl & 0x20;
	k = fuzz_u8(in) & 15;
	for (i = 0; i < min_t(unsigned int, k, 10); i++) {
		u8 kind = fuzz_u8(in);

		if (nhfd + 2 > VU_MAX_HFDS)
			break;
		m->fds[m->nfds++] = make_fd(in, kind);
	}
	m->len = fuzz_u16(in) % sizeof(m->p);
	m->h[2] = m->raw ? fuzz_u32(in) : m->len;
	for (i = 0; i < m->len; i++)
		m->p[i] = fuzz_u8(in);
}

static void send_msg(const struct vu_msg *m)
{
	char cbuf[CMSG_SPACE(16 * sizeof(int))] = { 0 };
	struct iovec iov[2] = { { (void *)m->h, 12 }, { (void *)m->p, m->len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	struct cmsghdr *c;

	if (m->nfds) {
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(m->nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(m->nfds * sizeof(int));
		memcpy(CMSG_DATA(c), m->fds, m->nfds * sizeof(int));
	}
	if (sendmsg(fe, &mh, MSG_NOSIGNAL) != (ssize_t)(12 + m->len))
		abort();
	if (m->raw)
		shutdown(fe, SHUT_WR);
}

/* The oracle of one well-framed exchange: the handler gave @r. */
static void check_exchange(const struct vu_msg *m, int r)
{
	u32 req = m->h[0], flags = m->h[1];
	bool framing_bad = (flags & 3) != 1 || (flags & 4) || m->nfds > 8 ||
			   m->len > VU_PAYLOAD_MAX;
	u64 v = 0;
	unsigned int n = take_replies(req, &v);

	if (framing_bad) {
		VU_CHECK(r && !n, "request %u flags 0x%x fds %u size %u: badly framed, yet %s, %u replies", req, flags, m->nfds,
			 m->len, r ? "closed" : "served", n);
	} else if (has_own_reply(req)) {
		VU_CHECK(r ? n <= 1 : n == 1, "request %u (size %u fds %u): %u replies, connection %s", req, m->len, m->nfds, n,
			 r ? "closed" : "kept");
	} else if (flags & 8) {
		VU_CHECK(!r && n == 1, "request %u NEED_REPLY (size %u fds %u): %u replies, connection %s (%d)", req, m->len, m->nfds,
			 n, r ? "closed" : "kept", r);
		VU_CHECK(v || spec_shape(req, m->len, m->nfds),
			 "request %u of size %u with %u fds acknowledged 0",
			 req, m->len, m->nfds);
	} else {
		VU_CHECK(!n, "request %u without NEED_REPLY: %u replies", req,
			 n);
	}
}

/* The frontend went away, or the daemon dropped it: as main.c does. */
static void disconnect(void)
{
	ivu_unwatch(&dev, dev.conn_fd);
	ivu_close(&dev.conn_fd);
	ivu_dev_reset(&dev);
}

/* Run one input's connection; false once the connection is gone. */
static bool one_message(struct fuzz_in *in)
{
	static struct vu_msg m;
	u8 b = fuzz_u8(in);
	int r;

	if (b >= 0xf0) {
		op_harness(in, b);
		vu_turn();
		return true;
	}
	read_msg(in, b, &m);
	send_msg(&m);
	r = ivu_proto_handle(&dev);
	if (m.raw) {
		int calls = 0;

		/* The socket is shut: the handler reads to its end. */
		while (!r && calls++ < 64)
			r = ivu_proto_handle(&dev);
		VU_CHECK(r, "frontend shut its end: connection still served");
		/* Replies to what the rest of the stream held: dropped. */
		while (recv(fe, &m.p, sizeof(m.p), MSG_DONTWAIT) > 0)
			;
	} else {
		check_exchange(&m, r);
	}
	if (r) {
		disconnect();
		return false;
	}
	vu_turn();
	return true;
}

static void setup(void)
{
	unsigned int i;
	int sv[2];

	if (ivu_mem_init())	/* after libFuzzer's handlers: SIGBUS is ours */
		abort();
	for (i = 0; i < IVU_MAX_VQ; i++)
		ivu_vring_init(&dev.vq[i], i);
	dev.epfd = epoll_create1(EPOLL_CLOEXEC);
	for (i = 0; i < dev.queues; i++) {
		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK |
			       SOCK_CLOEXEC, 0, sv))
			abort();
		dev.qp[i].tap_fd = sv[0];
		tap_peer[i] = sv[1];
		dev.qp[i].rx_buf = malloc(IVU_RX_BUF);
	}
	ivu_iotlb_init(&dev);
	dev.notifier.enabled = true;
	if (dev.epfd < 0 || ivu_notifier_init(&dev))
		abort();
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };
	static bool ready;
	int fds0, maps0, sv[2], r;
	unsigned int i, msgs = 0;
	bool up = true;

	vu_quiet(true);
	if (!ready) {
		setup();
		ready = true;
	}
	fds0 = count_fds();
	maps0 = count_maps();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	dev.conn_fd = sv[0];
	fe = sv[1];
	dev.stats.connections++;
	ivu_net_purge(&dev);
	ivu_watch(&dev, dev.conn_fd, EPOLLIN, IVU_TAG(IVU_EV_CONN, 0));
	while (up && in.left && msgs++ < VU_MAX_MSGS)
		up = one_message(&in);
	if (up) {
		/* The frontend leaves. */
		shutdown(fe, SHUT_WR);
		r = ivu_proto_handle(&dev);
		VU_CHECK(r, "frontend gone: connection still served");
		disconnect();
	}
	close(fe);
	vu_turn();	/* the drain: what went to the taps and channels */
	for (i = 0; i < nhfd; i++)
		if (hfd[i].fd >= 0)
			close(hfd[i].fd);
	nhfd = 0;
	VU_CHECK(count_fds() == fds0, "fds: %d before the connection, %d after the device reset", fds0, count_fds());
	VU_CHECK(count_maps() == maps0, "mappings of the frontend's files: %d before the connection, %d after the device reset", maps0,
		 count_maps());
	vu_quiet(false);
	return 0;
}
