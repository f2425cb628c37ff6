/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared state of the hostile-frontend fuzzer for ivhost-user (fuzz-vu.c:
 * main and the daemon's health; msg.c: the socket and replies; ops.c:
 * what a connection does; rules.c: which requests are bad; guest.c: the
 * guest's rings).
 *
 * One connection at a time (the daemon serves one frontend at a time),
 * each driven by its own PRNG seeded from (seed, connection index), so a
 * failing connection is replayed alone with --seed S --first-conn C
 * --conns 1.  A second thread writes the guest's rings while the daemon
 * serves kicks; its timing is not repeatable, the message sequence is.
 */
#ifndef FUZZ_VU_H
#define FUZZ_VU_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "rng.h"	/* tools/testing/fuzz/vmm: the fuzzers' PRNG */

#define FV_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define FV_MAX_VQ	16		/* the daemon's IVU_MAX_VQ */
#define FV_REPLY_MS	2000		/* every reply within this */
#define FV_STALL_MS	7000		/* a stalled message dropped within */
#define FV_SETTLE_MS	2000		/* fds and maps back within this */
#define FV_WATCHDOG_S	30		/* no operation takes longer */

/* Guest memory: one memfd, these addresses for it. */
#define FV_MEM_SIZE	(1U << 20)
#define FV_LOG_SIZE	0x10000		/* a bit per page up to 2 GiB */
#define FV_GPA		0x40000000ULL
#define FV_QVA		0x7f0000000000ULL
#define FV_IOVA		0x100000000ULL
#define FV_VQ_STRIDE	0x4000		/* desc +0, avail +0x1000, used +0x2000 */
#define FV_IND_OFF	0x40000		/* indirect tables */
#define FV_BUF_OFF	0x80000		/* data buffers */
#define FV_RING_NUM	256		/* the largest ring the layout holds */

/* vhost-user requests and flags */
enum {
	FV_GET_FEATURES = 1, FV_SET_FEATURES, FV_SET_OWNER, FV_RESET_OWNER,
	FV_SET_MEM_TABLE, FV_SET_LOG_BASE, FV_SET_LOG_FD, FV_SET_VRING_NUM,
	FV_SET_VRING_ADDR, FV_SET_VRING_BASE, FV_GET_VRING_BASE,
	FV_SET_VRING_KICK, FV_SET_VRING_CALL, FV_SET_VRING_ERR,
	FV_GET_PROTOCOL_FEATURES, FV_SET_PROTOCOL_FEATURES, FV_GET_QUEUE_NUM,
	FV_SET_VRING_ENABLE, FV_SEND_RARP, FV_NET_SET_MTU,
	FV_SET_BACKEND_REQ_FD, FV_IOTLB_MSG, FV_NREQ
};

#define FV_VERSION	0x1U
#define FV_REPLY	0x4U
#define FV_NEED_REPLY	0x8U
#define FV_NOFD		0x100ULL
#define FV_PAYLOAD_MAX	632

#define FV_PF_REPLY_ACK		3
#define FV_PF_BACKEND_REQ	5
#define FV_PF_LOG_SHMFD		1
#define FV_F_LOG_ALL		26
#define FV_F_PROTOCOL		30
#define FV_F_VERSION_1		32
#define FV_F_ACCESS_PLATFORM	33
#define FV_F_RING_PACKED	34

/* Kinds of fds a message may carry. */
enum fv_fd_kind {
	FV_FD_EVENTFD, FV_FD_MEMFD_ODD, FV_FD_PIPE_R, FV_FD_PIPE_W,
	FV_FD_UNIX, FV_FD_UDP, FV_FD_NULL, FV_FD_ZERO, FV_FD_RDONLY,
	FV_FD_DIR, FV_FD_EPOLL, FV_FD_PATH, FV_FD_GUEST, FV_NFD_KINDS
};

/**
 * struct fv_conn - one connection and its guest
 * @idx: connection index (its PRNG stream)
 * @op: operation index within the connection
 * @step: message index within the operation
 * @what: the operation's name, for failures
 * @r: the connection's PRNG
 * @calm: mischief is this many times rarer (1: hostile; more: the rings
 *	mostly carry frames)
 * @sock: the socket, -1 once closed
 * @closed: the daemon closed it
 * @memfd: the guest memory's memfd
 * @mem: it, mapped
 * @mem_len: bytes of @mem that may be written (shrinks on truncation)
 * @kick: our copies of the kick eventfds sent, -1 if none
 * @num: the ring sizes sent
 * @offered: GET_FEATURES's answer (all ones until known)
 * @offered_pf: GET_PROTOCOL_FEATURES's answer (all ones until known)
 * @features: SET_FEATURES taken
 * @protocol: SET_PROTOCOL_FEATURES taken
 * @iotlb: ring and buffer addresses are IOVAs
 * @backend: our end of the backend channel, -1 if none
 * @logfd: the dirty log's memfd (SET_LOG_BASE), -1 if none
 * @backend_mode: the backend channel is never read, drained, or answered
 * @mu: held by the ring thread while it touches @mem
 * @ring_thr: the ring thread
 * @ring_on: it runs
 * @stop: tells it to end
 */
struct fv_conn {
	unsigned long idx;
	unsigned int op, step;
	const char *what;
	struct fz_rng r;
	unsigned int calm;
	int sock;
	bool closed;
	int memfd;
	unsigned char *mem;
	size_t mem_len;
	int kick[FV_MAX_VQ];
	uint32_t num[FV_MAX_VQ];
	uint64_t offered, offered_pf;
	uint64_t features, protocol;
	bool iotlb;
	int backend;
	int logfd;
	enum { FV_BACKEND_NEVER, FV_BACKEND_DRAIN, FV_BACKEND_ANSWER } backend_mode;
	pthread_mutex_t mu;
	pthread_t ring_thr;
	bool ring_on;
	int stop;
};

/**
 * struct fv_global - options and counters
 * @seed: the run's seed
 * @queues: the daemon's queue pairs
 * @pid: the daemon
 * @sock_path: its socket
 * @log_path: its log (sanitizer reports), or NULL
 * @tap: its tap, for injected frames (inside the namespace), or NULL
 * @tmpdir: where the O_RDONLY file lives
 * @verbose: log every operation
 * @stall: allow stalls mid-message (the daemon drops them after 5 s)
 * @max_ops: operations per connection at most
 * @msgs: messages sent
 * @replies: replies received
 * @refused: replies that were non-zero
 * @dropped: connections the daemon closed
 * @stalls: connections stalled mid-message (--stall)
 */
struct fv_global {
	uint64_t seed;
	unsigned int queues;
	int pid;
	const char *sock_path;
	const char *log_path;
	const char *tap;
	const char *tmpdir;
	bool verbose;
	bool stall;
	unsigned int max_ops;
	unsigned long msgs, replies, refused, dropped, stalls;
};

extern struct fv_global G;

#define FV_BUF		704	/* payloads up to a bit over the limit */
#define FV_MAX_SEND_FDS	12

/**
 * struct fv_m - a message being built
 * @req: request id
 * @flags: header flags
 * @len: payload size
 * @p: payload
 * @fds: fds to carry (ours, closed after sending)
 * @nfds: their number
 * @keep: index in @fds of an fd the connection keeps (not closed), or -1
 */
struct fv_m {
	uint32_t req, flags, len;
	unsigned char p[FV_BUF];
	int fds[FV_MAX_SEND_FDS];
	unsigned int nfds;
	int keep;
};

struct fv_region {
	uint64_t gpa, size, qva, off;
};

struct fv_iotlb {
	uint64_t iova, size, uaddr;
	uint8_t perm, type, pad[6];
};

/* fuzz-vu.c */
void fv_fail(struct fv_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
void fv_log(struct fv_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
uint64_t fv_now_ms(void);
void fv_progress(void);
void fv_check_alive(struct fv_conn *c);

/* msg.c */
int fv_connect(void);
int fv_connect_now(void);
int fv_make_fd(struct fv_conn *c, enum fv_fd_kind kind);
ssize_t fv_sendmsg(int sock, struct iovec *iov, int niov, const int *fds,
		   unsigned int nfds);
int fv_send(struct fv_conn *c, uint32_t req, uint32_t flags,
	    const void *p, uint32_t len, const int *fds, unsigned int nfds);
int fv_msg(struct fv_conn *c, uint32_t req, uint32_t flags, const void *p,
	   uint32_t len, const int *fds, unsigned int nfds, bool must_refuse,
	   uint64_t *val);
uint32_t fv_flags(struct fv_conn *c);
void fv_wait_closed(struct fv_conn *c, unsigned int ms);
int fv_read_reply(struct fv_conn *c, void *buf, size_t len);
void fv_drain_backend(struct fv_conn *c);
void fv_check_quiet(struct fv_conn *c);

/* ops.c */
void fv_run_conn(struct fv_conn *c);

/* rules.c */
bool fv_known_bad(struct fv_conn *c, const struct fv_m *m);

/* guest.c */
int fv_guest_init(struct fv_conn *c);
void fv_guest_fini(struct fv_conn *c);
void fv_guest_addr(struct fv_conn *c, unsigned int vq, void *payload40);
void fv_ring_start(struct fv_conn *c);
void fv_ring_stop(struct fv_conn *c);
void fv_guest_truncate(struct fv_conn *c);
void fv_kick_all(struct fv_conn *c);
void fv_inject(struct fv_conn *c);

#endif /* FUZZ_VU_H */
