/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared state of the hostile-VMM fuzzer (fuzz-vmm.c, ops.c).
 *
 * Memory safety of the fuzzer itself: every address handed to the device
 * that the kernel may write through comes from one PROT_NONE arena
 * reserved at start-up, parts of which are made read-write (guest memory
 * of each device slot, the dirty log, per-thread scratch).  Everything
 * else in the arena stays unmapped, so a "bad" address picked from it, or
 * a buffer that runs past its end, faults in the kernel instead of
 * landing in the fuzzer's heap, stack or code.
 */
#ifndef FUZZ_VMM_H
#define FUZZ_VMM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/vhost.h>

#include "vmm.h"
#include "rng.h"

#define FZ_NSLOTS	2		/* device fds fuzzed at once */
#define FZ_NTAPS	2		/* taps usable as backends */
#define FZ_MAX_THREADS	16
#define FZ_HANG_SEC	10		/* one syscall longer than this: FAIL */

/* Arena layout (offsets from the arena base). */
#define FZ_MB		(1ULL << 20)
#define FZ_HOLE0	0			/* 64 MiB never mapped */
#define FZ_HOLE0_SIZE	(64 * FZ_MB)
#define FZ_GM_OFF(s)	((64 + (s) * 128) * FZ_MB)	/* then 112 MiB hole */
#define FZ_GM_SIZE	(16 * FZ_MB)
#define FZ_LOG_OFF	((64 + FZ_NSLOTS * 128) * FZ_MB)
#define FZ_LOG_SIZE	(4 * FZ_MB)
#define FZ_SCR_OFF	(FZ_LOG_OFF + 128 * FZ_MB)
#define FZ_SCR_SIZE	(64 * 1024)		/* then 64 KiB hole */
#define FZ_SCR_STRIDE	(128 * 1024)
#define FZ_ARENA_SIZE	(FZ_SCR_OFF + FZ_MAX_THREADS * FZ_SCR_STRIDE + \
			 64 * FZ_MB)

/*
 * Guest-physical addresses backed by guest memory stay below this, so
 * the dirty log (one bit per 4 KiB page) of any of them lies inside the
 * log area: 64 GiB / 32 KiB = 2 MiB.
 */
#define FZ_GPA_LIMIT	(64ULL << 30)
#define FZ_GPA_BASE	0x40000000ULL		/* canonical GPA of guest mem */
#define FZ_IOVA_BASE	0x100000000ULL		/* canonical IOVA of guest mem */

/* Guest memory layout of a slot. */
#define FZ_RING_OFF(q)	((size_t)(q) * 256 * 1024)
#define FZ_DESC_OFF	0
#define FZ_AVAIL_OFF	(64 * 1024)
#define FZ_USED_OFF	(128 * 1024)
#define FZ_RING_MAXNUM	4096		/* rings the fuzzer writes */
#define FZ_IND_OFF	(512 * 1024)	/* indirect tables, 256 B per head */
#define FZ_IND_SIZE	(512 * 1024)
#define FZ_BUF_OFF	(1 * FZ_MB)	/* data buffers */
#define FZ_BUF_SIZE	(FZ_GM_SIZE - FZ_BUF_OFF)

struct fz_slot {
	pthread_rwlock_t rw;	/* write: close/reopen; read: everything */
	pthread_mutex_t mu;	/* the fuzzer's bookkeeping below */
	int fd;			/* device fd (or /dev/null after a racy close) */
	int swapped;		/* fd replaced by /dev/null */
	uint8_t *gm;		/* guest memory */
	uint64_t features;	/* last accepted SET_FEATURES */
	uint64_t bfeatures;	/* last accepted SET_BACKEND_FEATURES */
	unsigned int num[2];	/* ring sizes the fuzzer writes with */
	uint16_t avail_idx[2];
	uint16_t used_seen[2];
	int kick[2], call[2], err[2];	/* eventfds, kept across reopen */
	unsigned long opens;
};

struct fz_thread {
	int idx;
	int tid;		/* kernel thread id, for its stack */
	pthread_t thr;
	struct fz_rng rng;
	uint8_t *scratch;	/* FZ_SCR_SIZE bytes, then a hole */
	unsigned long ops_todo;
	/* watchdog: what runs now (ns since start, 0: idle) */
	uint64_t op_start;	/* accessed with __atomic */
	unsigned long op_no;
	const char *op_name;
	char last[200];		/* last op's description */
};

enum fz_kind {
	K_IOCTL, K_SETUP, K_MSG_WRITE, K_MSG_READ, K_SERVE, K_STORM,
	K_BATCH, K_RING, K_KICK, K_INJECT, K_DRAIN, K_REAP, K_BACKEND,
	K_FEATURES, K_CLOSE_BUSY, K_RACY_CLOSE, K_REOPEN, K_STATS, K_POLL,
	K_BLOCK_READ, K_FORK,
	K_NKINDS
};

/* Errno histogram rows: one per ioctl of the table, then the others. */
#define FZ_MAX_ERRNO	134

struct fz_global {
	const char *dev;
	unsigned long long seed;
	unsigned long ops;
	unsigned int threads;
	int verbose;
	uint8_t *arena;
	uint8_t *log;
	uint64_t start_ns;
	struct fz_slot slot[FZ_NSLOTS];
	struct vmm_tap tap[FZ_NTAPS];
	int inj[FZ_NTAPS];
	/* wrong fds to pass where eventfds / sockets belong */
	int efd_spare, udp_fd, unix_fd, pipe_fd[2], epoll_fd, null_fd;
	int closed_fd;		/* a number guaranteed not open */
	int top_reserved;	/* the last user page is ours (PROT_NONE) */
	struct fz_thread th[FZ_MAX_THREADS];
	pthread_mutex_t print_mu;
	/* counters (atomic) */
	unsigned long kind_count[K_NKINDS];
	unsigned long tx_seen, rx_injected, used_adv[2], miss_seen;
	unsigned long msgs_read, msgs_other, miss_nonzero, answers;
	unsigned long reopens, racy_closes;
	/* device IOTLB counters summed over closed fds */
	unsigned long long st_hits, st_misses, st_miss_msgs, st_updates,
		st_inval, st_evict, st_fails, st_dropped;
};

extern struct fz_global G;

/* Errno histogram: row names and counts. */
#define FZ_NROWS	64
extern const char *fz_row_name[FZ_NROWS];
extern unsigned long fz_hist[FZ_NROWS][FZ_MAX_ERRNO + 1];
int fz_row(const char *name);
/* Count result r (>= 0 ok, < 0 -errno) of @row. */
void fz_count(int row, long r);

uint64_t fz_now_ns(void);
void fz_log(struct fz_thread *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));	/* __printf() */

/* ops.c */
void fz_op(struct fz_thread *t, enum fz_kind k, uint64_t sub);
extern const char *fz_kind_name[K_NKINDS];
extern const unsigned int fz_kind_weight[K_NKINDS];
void fz_stats_collect(int fd);
int fz_slot_setup(struct fz_thread *t, struct fz_slot *s, struct fz_rng *r);

#endif
