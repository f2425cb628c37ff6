// SPDX-License-Identifier: GPL-2.0
/*
 * Host notifiers (--host-notifier): a page of the daemon's own becomes a
 * queue's doorbell.  The backend sends VHOST_USER_BACKEND_VRING_HOST_
 * NOTIFIER_MSG (request 3 on the backend channel: vq index, size 4096,
 * offset, and the page's memfd in SCM_RIGHTS) with NEED_REPLY; QEMU maps
 * the page over the queue's notify area when the NIC has page-per-vq=on
 * and a modern interface, and answers 0, or non-zero when it cannot.  The
 * guest's kick is then a 16-bit store of the queue index into the page:
 * no exit under KVM, and no eventfd on the way.
 *
 * Lifetime: a registration goes out at every ring start (SET_VRING_KICK),
 * since QEMU drops the notifier itself at GET_VRING_BASE; a queue that
 * stops withdraws it (the NOFD form, without NEED_REPLY: QEMU has usually
 * dropped it already and would answer non-zero).  A non-zero answer to
 * the current registration is a refusal: the queue stays on its kick
 * eventfd, one log line says so, and no queue registers again on this
 * connection.  Answers to registrations a stop made stale are ignored.
 *
 * The channel is shared with the device IOTLB (iotlb.c): both write it
 * with MSG_DONTWAIT, one whole message after another; ivu_iotlb_send()
 * calls ivu_notifier_out() between its messages, and neither starts a
 * message while the other's is part-sent.  Answers are read here, never
 * waited for: the loop goes on while QEMU takes its time.
 *
 * Polling: a queue whose page was registered is checked on every pass of
 * the loop.  The daemon writes 0xffff into the page (no queue index) and
 * swaps it back in when it sees anything else, then runs the ring, so a
 * kick that lands between the two is still seen in the ring's avail
 * index.  After a doorbell, the loop does not sleep for IVU_NB_SPIN_NS
 * (busy polling, bounded per queue); then it sleeps on epoll with a 1 ms
 * timeout, and after IVU_NB_SLOW_AFTER idle ticks (about a second) with
 * a 10 ms one.  The guest's notifications stay on throughout (the round
 * leaves them on when the ring runs empty), so an idle guest's next post
 * writes the doorbell and is seen within a tick.  The kick eventfd stays
 * watched: kicks that QEMU still routes there (before it mapped the page,
 * after a refusal) are served as without host notifiers.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ivu.h"

#define IVU_PF_BACKEND_REQ	5
#define IVU_PF_BACKEND_SEND_FD	10
#define IVU_PF_HOST_NOTIFIER	11
#define IVU_NB_PROTOCOL		((1ULL << IVU_PF_BACKEND_REQ) | \
				 (1ULL << IVU_PF_BACKEND_SEND_FD) | \
				 (1ULL << IVU_PF_HOST_NOTIFIER))

#define IVU_BACKEND_VRING_HOST_NOTIFIER	3
#define IVU_NB_VERSION		0x1U
#define IVU_NB_REPLY		0x4U
#define IVU_NB_NEED_REPLY	0x8U
#define IVU_NB_NOFD		0x100ULL
#define IVU_NB_PAGE		4096
#define IVU_NB_IDLE		0xffff	/* no queue index: nothing rang */

#define IVU_NB_SPIN_NS		(50 * 1000)
#define IVU_NB_TICK_MS		1
#define IVU_NB_SLOW_MS		10
#define IVU_NB_SLOW_AFTER	1000

enum { IVU_NB_NONE, IVU_NB_REGISTER, IVU_NB_WITHDRAW };

static u64 ivu_nb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static u16 *ivu_nb_page(struct ivu_notifier *nf, unsigned int vq)
{
	return (u16 *)(nf->pages + (size_t)vq * IVU_NB_PAGE);
}

/**
 * ivu_notifier_init() - make the doorbell pages, with --host-notifier
 * @d: the device; d->notifier.enabled set from the command line
 *
 * One memfd of a page per possible vq, mapped for the daemon's life.
 * Every registration hands the frontend the memfd itself, so it is
 * sealed at its size: a frontend that could shrink it would make the
 * daemon's next poll fault (SIGBUS), and take the pages from the next
 * frontend.
 *
 * Return: 0, or a negative errno.
 */
int ivu_notifier_init(struct ivu_dev *d)
{
	struct ivu_notifier *nf = &d->notifier;
	size_t len = (size_t)IVU_MAX_VQ * IVU_NB_PAGE;
	unsigned int i;
	void *p;

	nf->memfd = -1;
	if (!nf->enabled)
		return 0;
	nf->memfd = memfd_create("ivhost-user-doorbells",
				 MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (nf->memfd < 0 || ftruncate(nf->memfd, len) ||
	    fcntl(nf->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
		  F_SEAL_SEAL))
		return -errno;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, nf->memfd, 0);
	if (p == MAP_FAILED)
		return -errno;
	nf->pages = p;
	for (i = 0; i < IVU_MAX_VQ; i++)
		*ivu_nb_page(nf, i) = IVU_NB_IDLE;	/* nothing rang yet */
	return 0;
}

/**
 * ivu_notifier_protocol() - protocol features host notifiers add
 * @d: the device
 *
 * Return: BACKEND_REQ, BACKEND_SEND_FD and HOST_NOTIFIER with
 * --host-notifier, else 0.
 */
u64 ivu_notifier_protocol(const struct ivu_dev *d)
{
	return d->notifier.enabled ? IVU_NB_PROTOCOL : 0;
}

static bool ivu_nb_negotiated(const struct ivu_dev *d)
{
	return d->notifier.enabled &&
	       (d->protocol & IVU_NB_PROTOCOL) == IVU_NB_PROTOCOL;
}

/**
 * ivu_notifier_start() - a ring started: register its doorbell
 * @d: the device
 * @vq: the ring, just started by its kick fd
 *
 * The registration goes out with the backend channel's next messages.
 */
void ivu_notifier_start(struct ivu_dev *d, struct ivu_vring *vq)
{
	struct ivu_nb_vq *q = &d->notifier.vq[vq->index];

	if (!ivu_nb_negotiated(d) || d->notifier.refused || d->backend_fd < 0)
		return;
	q->want = IVU_NB_REGISTER;
}

/**
 * ivu_notifier_stop() - a ring stops: withdraw its doorbell
 * @d: the device
 * @vq: the ring
 *
 * Called by ivu_vring_stop().  Polling ends; an answer still due for the
 * ring's registration is stale.
 */
void ivu_notifier_stop(struct ivu_dev *d, struct ivu_vring *vq)
{
	struct ivu_nb_vq *q = &d->notifier.vq[vq->index];

	q->armed = false;
	q->gen++;
	q->want = IVU_NB_NONE;
	if (q->sent && d->conn_fd >= 0 && d->backend_fd >= 0)
		q->want = IVU_NB_WITHDRAW;
	q->sent = false;
}

/**
 * ivu_notifier_reset() - the device is reset (RESET_OWNER, disconnect)
 * @d: the device; its rings already stopped
 *
 * After a disconnect the next frontend may register again.
 */
void ivu_notifier_reset(struct ivu_dev *d)
{
	if (d->conn_fd < 0)
		d->notifier.refused = false;
}

/*
 * Reset vq @i's page before its registration goes out.  A frontend that
 * kept the page mapped (the ring started again without a stop) may have
 * let the guest kick through it since the ring last polled it: such a
 * kick is served (a round), never wiped.
 */
static void ivu_nb_reset_page(struct ivu_dev *d, unsigned int i)
{
	u16 v = __atomic_exchange_n(ivu_nb_page(&d->notifier, i), IVU_NB_IDLE,
				    __ATOMIC_SEQ_CST);

	if (v == IVU_NB_IDLE)
		return;
	d->stats.kicks_doorbell[i]++;
	d->vq[i].more = d->vq[i].started;
}

/* Frame the next message some ring wants into nf->out: false if none. */
static bool ivu_nb_frame(struct ivu_dev *d)
{
	struct ivu_notifier *nf = &d->notifier;
	u32 hdr[3];
	u64 area[3];
	unsigned int i;

	for (i = 0; i < IVU_MAX_VQ; i++) {
		struct ivu_nb_vq *q = &nf->vq[i];

		if (q->want == IVU_NB_REGISTER && nf->refused)
			q->want = IVU_NB_NONE;	/* held back, now refused */
		if (q->want == IVU_NB_REGISTER &&
		    nf->nwait == ARRAY_SIZE(nf->wait))
			continue;	/* answers overdue: later */
		if (q->want != IVU_NB_NONE)
			break;
	}
	if (i == IVU_MAX_VQ)
		return false;
	hdr[0] = IVU_BACKEND_VRING_HOST_NOTIFIER;
	hdr[2] = 3 * sizeof(u64);
	nf->out_len = 12 + 3 * sizeof(u64);
	nf->out_off = 0;
	if (nf->vq[i].want == IVU_NB_WITHDRAW) {
		hdr[1] = IVU_NB_VERSION;
		area[0] = i | IVU_NB_NOFD;
		area[1] = 0;
		area[2] = 0;
		nf->out_fd = false;
		nf->withdrawn++;
	} else {
		hdr[1] = IVU_NB_VERSION | IVU_NB_NEED_REPLY;
		area[0] = i;
		area[1] = IVU_NB_PAGE;
		area[2] = (u64)i * IVU_NB_PAGE;
		nf->out_fd = true;
		ivu_nb_reset_page(d, i);
		nf->vq[i].armed = true;
		/*
		 * Its worker may sleep with no doorbell to poll, and a
		 * quiet event (the backend channel's) wakes only the
		 * workers of marked rings: a round, then it polls.
		 */
		d->vq[i].more = d->vq[i].started;
		nf->vq[i].sent = true;
		nf->vq[i].busy_until = 0;
		nf->wait[(nf->wait_head + nf->nwait) % ARRAY_SIZE(nf->wait)] =
			(struct ivu_nb_wait){ i, nf->vq[i].gen };
		nf->nwait++;
		nf->registered++;
		nf->reading = true;
		ivu_backend_watch(d);
	}
	memcpy(nf->out, hdr, sizeof(hdr));
	memcpy(nf->out + sizeof(hdr), area, sizeof(area));
	nf->vq[i].want = IVU_NB_NONE;
	ivu_dbg("vq %u: host notifier %s", i,
		nf->out_fd ? "registered" : "withdrawn");
	return true;
}

/* Send what is left of nf->out, the fd with its first byte. */
static int ivu_nb_push(struct ivu_dev *d)
{
	struct ivu_notifier *nf = &d->notifier;
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { nf->out + nf->out_off, nf->out_len - nf->out_off };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	ssize_t n;

	if (nf->out_fd && !nf->out_off) {
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &nf->memfd, sizeof(int));
	}
	while (nf->out_off < nf->out_len) {
		n = sendmsg(d->backend_fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		nf->out_off += n;
		iov.iov_base = nf->out + nf->out_off;
		iov.iov_len = nf->out_len - nf->out_off;
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
	}
	nf->out_len = 0;
	nf->out_off = 0;
	return 0;
}

/**
 * ivu_notifier_out() - send the doorbell messages the rings want
 * @d: the device, with a backend channel, and no IOTLB message part-sent
 *
 * Called by ivu_iotlb_send() between whole IOTLB messages.
 *
 * Return: 0 when nothing is left to send (nor part-sent: the IOTLB may
 * go on), -EAGAIN when the channel is full, or a negative errno when it
 * failed.
 */
int ivu_notifier_out(struct ivu_dev *d)
{
	struct ivu_notifier *nf = &d->notifier;
	int err;

	for (;;) {
		if (!nf->out_len && !ivu_nb_frame(d))
			return 0;
		err = ivu_nb_push(d);
		if (err)
			return err;
	}
}

/* An answer to the registration at the head of the queue. */
static void ivu_nb_answer(struct ivu_dev *d, u64 v)
{
	struct ivu_notifier *nf = &d->notifier;
	struct ivu_nb_wait w;
	struct ivu_nb_vq *q;

	if (!nf->nwait) {
		ivu_dbg("backend channel: an answer nobody asked for (%llu)", v);
		return;
	}
	w = nf->wait[nf->wait_head];
	nf->wait_head = (nf->wait_head + 1) % ARRAY_SIZE(nf->wait);
	nf->nwait--;
	q = &nf->vq[w.vq];
	if (w.gen != q->gen)
		return;		/* the ring stopped since */
	if (!v) {
		nf->mapped++;
		return;
	}
	nf->refusals++;
	q->armed = false;
	if (nf->refused)
		return;
	nf->refused = true;
	/* QEMU maps it only with page-per-vq=on on a modern device. */
	ivu_log("vq %u: host notifier refused (%llu); kicks stay on the eventfd",
		w.vq, v);
}

/**
 * ivu_notifier_read() - read the frontend's answers on the backend channel
 * @d: the device
 *
 * Never waits.  A malformed message, or the frontend closing its end,
 * closes the channel, as QEMU closes it on a malformed backend request.
 */
void ivu_notifier_read(struct ivu_dev *d)
{
	struct ivu_notifier *nf = &d->notifier;
	unsigned int n_answers = 0;
	size_t want;
	u32 hdr[3];
	ssize_t n;
	u64 v;

	while (nf->reading && d->backend_fd >= 0 && n_answers < 64) {
		want = nf->in_len < 12 ? 12 : 12 + 8;
		n = recv(d->backend_fd, nf->in + nf->in_len,
			 want - nf->in_len, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			if (n)
				ivu_log("backend channel: %m; closed");
			else
				ivu_log("backend channel: closed by the frontend");
			ivu_backend_close(d);
			return;
		}
		nf->in_len += n;
		memcpy(hdr, nf->in, sizeof(hdr));
		if (nf->in_len == 12 &&
		    (hdr[0] != IVU_BACKEND_VRING_HOST_NOTIFIER ||
		     hdr[1] != (IVU_NB_VERSION | IVU_NB_REPLY) || hdr[2] != 8)) {
			ivu_log("backend channel: request %u flags 0x%x size %u unexpected; closed",
				hdr[0], hdr[1], hdr[2]);
			ivu_backend_close(d);
			return;
		}
		if (nf->in_len < 12 + 8)
			continue;
		memcpy(&v, nf->in + 12, sizeof(v));
		nf->in_len = 0;
		n_answers++;
		ivu_nb_answer(d, v);
	}
}

/**
 * ivu_backend_watch() - watch the backend channel for what is due
 * @d: the device, with a backend channel
 *
 * For room while the IOTLB has messages waiting, for answers once a
 * doorbell was registered on it.
 */
void ivu_backend_watch(struct ivu_dev *d)
{
	u32 ev = (d->iotlb.out_watched ? EPOLLOUT : 0) |
		 (d->notifier.reading ? EPOLLIN : 0);

	if (d->backend_fd < 0)
		return;
	if (ev)
		ivu_watch(d, d->backend_fd, ev, IVU_TAG(IVU_EV_BACKEND, 0));
	else
		ivu_unwatch(d, d->backend_fd);
}

/**
 * ivu_backend_close() - close the backend channel
 * @d: the device
 *
 * The IOTLB keeps what it still has to say for the next channel; the
 * doorbells forget the answers they waited for (registrations made since
 * are answered on the next channel).  Pages the frontend mapped stay
 * polled.
 */
void ivu_backend_close(struct ivu_dev *d)
{
	struct ivu_notifier *nf = &d->notifier;
	unsigned int i;

	ivu_iotlb_backend_closed(d);
	if (d->backend_fd < 0)
		return;
	ivu_unwatch(d, d->backend_fd);
	ivu_close(&d->backend_fd);
	nf->reading = false;
	nf->in_len = 0;
	nf->nwait = 0;
	nf->wait_head = 0;
	nf->out_len = 0;
	nf->out_off = 0;
	for (i = 0; i < IVU_MAX_VQ; i++)
		if (nf->vq[i].want == IVU_NB_WITHDRAW)
			nf->vq[i].want = IVU_NB_NONE;
}

/**
 * ivu_notifier_poll() - look at a worker's armed doorbells, run the rung rings
 * @d: the device
 * @w: the worker
 *
 * Context: the worker, d->lock held for reading.
 */
void ivu_notifier_poll(struct ivu_dev *d, struct ivu_worker *w)
{
	struct ivu_notifier *nf = &d->notifier;
	bool rang = false;
	unsigned int i;
	u64 now = 0;
	u16 v;

	if (!nf->pages)
		return;
	for (i = w->id; i < 2 * d->queues; i += d->nthreads) {
		struct ivu_nb_vq *q = &nf->vq[i];

		if (!q->armed)
			continue;
		v = __atomic_exchange_n(ivu_nb_page(nf, i), IVU_NB_IDLE,
					__ATOMIC_SEQ_CST);
		if (v == IVU_NB_IDLE)
			continue;
		if (!now)
			now = ivu_nb_now();
		q->busy_until = now + IVU_NB_SPIN_NS;
		d->stats.kicks_doorbell[i]++;
		rang = true;
		if (d->vq[i].started)
			ivu_net_round(d, &d->vq[i]);
	}
	if (rang)
		w->idle_ticks = 0;
}

/**
 * ivu_notifier_timeout() - how long a worker may sleep, for its doorbells
 * @d: the device
 * @w: the worker
 *
 * Context: the worker, d->lock held for reading.
 * Return: -1 (no doorbell: as long as it likes), 0 (a queue rang within
 * its busy-polling budget), or the idle tick in milliseconds.
 */
int ivu_notifier_timeout(struct ivu_dev *d, struct ivu_worker *w)
{
	struct ivu_notifier *nf = &d->notifier;
	bool armed = false;
	unsigned int i;
	u64 now = 0;

	for (i = w->id; i < 2 * d->queues; i += d->nthreads) {
		if (!nf->vq[i].armed)
			continue;
		armed = true;
		if (!nf->vq[i].busy_until)
			continue;
		if (!now)
			now = ivu_nb_now();
		if (now < nf->vq[i].busy_until)
			return 0;
		nf->vq[i].busy_until = 0;
	}
	if (!armed)
		return -1;
	if (w->idle_ticks < IVU_NB_SLOW_AFTER) {
		w->idle_ticks++;
		return IVU_NB_TICK_MS;
	}
	return IVU_NB_SLOW_MS;
}

/**
 * ivu_notifier_stats() - print the kick counters and the doorbells'
 * @d: the device
 * @f: where to
 */
void ivu_notifier_stats(struct ivu_dev *d, FILE *f)
{
	const struct ivu_notifier *nf = &d->notifier;
	const struct ivu_stats *s = &d->stats;
	unsigned long long ev = 0, db = 0;
	unsigned int i;

	for (i = 0; i < 2 * d->queues; i++) {
		ev += s->kicks_eventfd[i];
		db += s->kicks_doorbell[i];
	}
	fprintf(f, "ivhost-user: kicks eventfd %llu doorbell %llu; ", ev, db);
	fprintf(f, "host-notifiers %s registered %llu mapped %llu refused %llu withdrawn %llu\n",
		nf->enabled ? "on" : "off",
		(unsigned long long)nf->registered,
		(unsigned long long)nf->mapped,
		(unsigned long long)nf->refusals,
		(unsigned long long)nf->withdrawn);
	for (i = 0; i < 2 * d->queues; i++)
		fprintf(f, "ivhost-user: vq %u: kicks eventfd %llu doorbell %llu\n",
			i, (unsigned long long)s->kicks_eventfd[i],
			(unsigned long long)s->kicks_doorbell[i]);
}
