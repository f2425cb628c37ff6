// SPDX-License-Identifier: GPL-2.0
/*
 * A hostile VMM for /dev/ivhost-net.
 *
 *   fuzz-vmm [--seed N] [--ops N] [--threads T] [--dev PATH] [--verbose]
 *   fuzz-vmm --health [--dev PATH]
 *
 * Threads drive random sequences of ioctls, IOTLB messages, ring contents,
 * traffic, backend swaps, feature changes and closes against FZ_NSLOTS
 * device fds at once.  Each thread's operation sequence comes from its own
 * PRNG seeded from (seed, thread index); every operation draws one 64-bit
 * sub-seed from it and takes all its other choices from a PRNG seeded with
 * that, so the sequence of operations (kind and sub-seed) of a thread does
 * not depend on what the kernel answered.
 *
 * Exit status: 0 the budget was done; 1 setup failed; 2 a syscall hung
 * (over FZ_HANG_SEC seconds); a signal if the fuzzer crashed.
 * --health: 0 if a fresh device moves frames correctly (plain and through
 * the device IOTLB), 1 if not.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "fuzz.h"
#include "viommu.h"

struct fz_global G;

#define PREFER_WRITER PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP

/* ---- bookkeeping ---- */

const char *fz_row_name[FZ_NROWS];
unsigned long fz_hist[FZ_NROWS][FZ_MAX_ERRNO + 1];
static pthread_mutex_t row_mu = PTHREAD_MUTEX_INITIALIZER;

int fz_row(const char *name)
{
	int i;

	for (i = 0; i < FZ_NROWS && fz_row_name[i]; i++)
		if (fz_row_name[i] == name || !strcmp(fz_row_name[i], name))
			return i;
	pthread_mutex_lock(&row_mu);
	for (i = 0; i < FZ_NROWS; i++) {
		if (!fz_row_name[i]) {
			fz_row_name[i] = name;
			break;
		}
		if (!strcmp(fz_row_name[i], name))
			break;
	}
	pthread_mutex_unlock(&row_mu);
	return i < FZ_NROWS ? i : FZ_NROWS - 1;
}

void fz_count(int row, long r)
{
	long e = r >= 0 ? 0 : -r;

	if (e > FZ_MAX_ERRNO)
		e = FZ_MAX_ERRNO;
	__atomic_fetch_add(&fz_hist[row][e], 1, __ATOMIC_RELAXED);
}

uint64_t fz_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void fz_log(struct fz_thread *t, const char *fmt, ...)
{
	va_list ap;

	if (!G.verbose)
		return;
	pthread_mutex_lock(&G.print_mu);
	printf("t%d #%lu ", t->idx, t->op_no);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	pthread_mutex_unlock(&G.print_mu);
}

/* ---- set-up ---- */

static int setup_arena(void)
{
	unsigned int s;
	void *p;

	p = mmap(NULL, FZ_ARENA_SIZE, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	G.arena = p;
	for (s = 0; s < FZ_NSLOTS; s++) {
		G.slot[s].gm = G.arena + FZ_GM_OFF(s);
		if (mprotect(G.slot[s].gm, FZ_GM_SIZE, PROT_READ | PROT_WRITE))
			return -errno;
	}
	G.log = G.arena + FZ_LOG_OFF;
	if (mprotect(G.log, FZ_LOG_SIZE, PROT_READ | PROT_WRITE))
		return -errno;
	for (s = 0; s < G.threads; s++) {
		G.th[s].scratch = G.arena + FZ_SCR_OFF + s * FZ_SCR_STRIDE;
		if (mprotect(G.th[s].scratch, FZ_SCR_SIZE,
			     PROT_READ | PROT_WRITE))
			return -errno;
	}
	/* The last user page, to point regions at the user address limit;
	 * used only if it can be reserved (stays PROT_NONE).
	 */
	p = mmap((void *)0x7ffffffff000ULL, 4096, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	G.top_reserved = p == (void *)0x7ffffffff000ULL;
	return 0;
}

static int setup_fds(void)
{
	unsigned int i, s, q;
	int sv[2], r;

	for (i = 0; i < FZ_NTAPS; i++) {
		/* tap 0 carries a 12-byte vnet header, tap 1 none */
		r = vmm_tap_open(&G.tap[i], i == 0 ? 12 : 0);
		if (r)
			return r;
		vmm_if_set_txqlen(G.tap[i].name, 256);
		G.inj[i] = vmm_inject_open(G.tap[i].ifindex, 0);
		if (G.inj[i] < 0)
			return G.inj[i];
		fcntl(G.tap[i].fd, F_SETFL, O_NONBLOCK);
		fcntl(G.inj[i], F_SETFL, O_NONBLOCK);
	}
	G.efd_spare = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	G.udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
		G.unix_fd = sv[0];
		close(sv[1]);
	} else {
		G.unix_fd = -1;
	}
	if (pipe2(G.pipe_fd, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	G.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	G.null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	G.closed_fd = 1000;
	close(G.closed_fd);
	for (s = 0; s < FZ_NSLOTS; s++) {
		struct fz_slot *sl = &G.slot[s];
		pthread_rwlockattr_t a;

		pthread_rwlockattr_init(&a);
		pthread_rwlockattr_setkind_np(&a, PREFER_WRITER);
		pthread_rwlock_init(&sl->rw, &a);
		pthread_mutex_init(&sl->mu, NULL);
		for (q = 0; q < 2; q++) {
			sl->kick[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
			sl->call[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
			sl->err[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
			sl->num[q] = 256;
		}
		sl->fd = open(G.dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (sl->fd < 0)
			return -errno;
	}
	if (G.efd_spare < 0 || G.udp_fd < 0 || G.epoll_fd < 0 ||
	    G.null_fd < 0)
		return -EMFILE;
	return 0;
}

/* ---- watchdog and crash reporting ---- */

static int fz_done;	/* accessed with __atomic */

static void dump_threads(void)
{
	unsigned int i;

	for (i = 0; i < G.threads; i++) {
		struct fz_thread *t = &G.th[i];
		uint64_t st = __atomic_load_n(&t->op_start, __ATOMIC_ACQUIRE);

		fprintf(stderr, "  t%u: op #%lu %s%s, last: %s\n", i,
			t->op_no, t->op_name ? (const char *)t->op_name : "-",
			st ? " (running)" : "", t->last);
	}
}

/* What the kernel is doing: the stuck thread's stack, and sysrq-w (blocked
 * tasks) and sysrq-l (all CPUs) on the console.
 */
static void dump_kernel(int tid)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stack", tid);
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = 0;
			fprintf(stderr, "kernel stack of the stuck thread:\n%s",
				buf);
		}
		close(fd);
	}
	fd = open("/proc/sysrq-trigger", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "w", 1) < 0 || write(fd, "l", 1) < 0)
			(void)0;
		close(fd);
	}
}

static void *watchdog(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&fz_done, __ATOMIC_ACQUIRE)) {
		unsigned int i;

		for (i = 0; i < G.threads; i++) {
			uint64_t st = __atomic_load_n(&G.th[i].op_start,
						   __ATOMIC_ACQUIRE);
			/* read after st: an op that starts now is not late */
			uint64_t now = fz_now_ns();

			if (!st || (int64_t)(now - st) <
				   (int64_t)FZ_HANG_SEC * 1000000000LL)
				continue;
			fprintf(stderr,
				"FAIL: hang: thread %u op #%lu (%s) stuck for %.1f s; seed=%llu\n",
				i, G.th[i].op_no,
				G.th[i].op_name ? (const char *)G.th[i].op_name
						: "?",
				(now - st) / 1e9, G.seed);
			dump_threads();
			dump_kernel(G.th[i].tid);
			fflush(stdout);
			fflush(stderr);
			_exit(2);
		}
		usleep(200000);
	}
	return NULL;
}

static void crash_handler(int sig)
{
	char buf[128];
	int n = snprintf(buf, sizeof(buf),
			 "FAIL: fuzzer crashed with signal %d, seed=%llu\n",
			 sig, G.seed);

	if (write(2, buf, n) < 0)
		(void)0;
	dump_threads();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* ---- the fuzzing threads ---- */

static enum fz_kind pick_kind(struct fz_rng *r)
{
	unsigned int total = 0, k;
	uint64_t x;

	for (k = 0; k < K_NKINDS; k++)
		total += fz_kind_weight[k];
	x = fz_below(r, total);
	for (k = 0; k < K_NKINDS; k++) {
		if (x < fz_kind_weight[k])
			return k;
		x -= fz_kind_weight[k];
	}
	return K_IOCTL;
}

static void *fuzz_thread(void *arg)
{
	struct fz_thread *t = arg;
	unsigned long i;

	t->tid = gettid();
	for (i = 0; i < t->ops_todo; i++) {
		enum fz_kind k = pick_kind(&t->rng);
		uint64_t sub = fz_next(&t->rng);

		t->op_no = i;
		t->op_name = fz_kind_name[k];
		__atomic_store_n(&t->op_start, fz_now_ns(), __ATOMIC_RELEASE);
		fz_op(t, k, sub);
		__atomic_store_n(&t->op_start, 0, __ATOMIC_RELEASE);
		__atomic_fetch_add(&G.kind_count[k], 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void print_summary(double secs)
{
	unsigned long total = 0;
	unsigned int k, i, e;

	for (k = 0; k < K_NKINDS; k++)
		total += G.kind_count[k];
	printf("== summary: seed=%llu ops=%lu threads=%u time=%.1fs rate=%.0f ops/s\n",
	       G.seed, total, G.threads, secs, secs > 0 ? total / secs : 0);
	printf("ops per kind:");
	for (k = 0; k < K_NKINDS; k++)
		printf(" %s=%lu", fz_kind_name[k], G.kind_count[k]);
	printf("\nframes: tx_seen_on_tap=%lu rx_injected=%lu used_rx=%lu used_tx=%lu\n",
	       G.tx_seen, G.rx_injected, G.used_adv[0], G.used_adv[1]);
	printf("iotlb msgs: read=%lu miss=%lu other=%lu miss_nonzero_fields=%lu answers=%lu\n",
	       G.msgs_read, G.miss_seen, G.msgs_other, G.miss_nonzero,
	       G.answers);
	printf("device iotlb (summed over fds): hits=%llu misses=%llu miss_msgs=%llu",
	       G.st_hits, G.st_misses, G.st_miss_msgs);
	printf(" updates=%llu invalidations=%llu evictions=%llu access_fails=%llu dropped=%llu\n",
	       G.st_updates, G.st_inval, G.st_evict, G.st_fails,
	       G.st_dropped);
	printf("reopens=%lu racy_closes=%lu\n", G.reopens, G.racy_closes);
	printf("errno histogram (row: errno=count, 0 = success):\n");
	for (i = 0; i < FZ_NROWS && fz_row_name[i]; i++) {
		printf("  %-24s", fz_row_name[i]);
		for (e = 0; e <= FZ_MAX_ERRNO; e++)
			if (fz_hist[i][e])
				printf(" %u=%lu", e, fz_hist[i][e]);
		putchar('\n');
	}
}

/* ---- health check ---- */

#define HC_FEATURES ((1ULL << VIRTIO_F_VERSION_1) | \
		     (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | \
		     (1ULL << VHOST_NET_F_VIRTIO_NET_HDR) | \
		     (1ULL << VIRTIO_RING_F_EVENT_IDX))

static int health_stream(int iotlb)
{
	struct vmm_tx_opts o = {
		.count = 64, .fixed_len = 1000, .mode = -1, .hdr_len = 12,
		.min_arrive = 14, .idle_timeout_ms = 15000,
	};
	struct vmm_tx_stats st;
	struct viommu vi;
	struct vmm_tap t;
	struct vmm v;
	int r;

	vmm_init_closed(&v, &t);
	memset(&vi, 0, sizeof(vi));
	if (iotlb)
		r = viommu_bringup(&vi, &v, G.dev, HC_FEATURES |
				   (1ULL << VIRTIO_F_ACCESS_PLATFORM), 256,
				   VIOMMU_4K_SHIFT, 16, 1, 0);
	else
		r = vmm_bringup(&v, G.dev, HC_FEATURES, 256, 0);
	if (!r && iotlb && !(v.features & (1ULL << VIRTIO_F_ACCESS_PLATFORM)))
		r = -EOPNOTSUPP;
	if (!r)
		r = vmm_tap_open(&t, 0);
	if (!r && iotlb)
		r = viommu_start(&vi);
	if (!r && iotlb)
		r = viommu_map_used_rings(&vi);
	if (!r)
		r = vmm_set_backend(&v, VMM_RX, t.fd);
	if (!r)
		r = vmm_set_backend(&v, VMM_TX, t.fd);
	if (r) {
		printf("health(%s): bring-up failed: %s\n",
		       iotlb ? "iotlb" : "plain", strerror(-r));
		goto out;
	}
	if (iotlb)
		r = viommu_tx_stream(&vi, &t, &o, &st);
	else
		r = vmm_tx_stream(&v, &t, &o, &st);
	if (!r)
		r = st.error;
	printf("health(%s): posted %u received %u/%u in %lld ms: %s%s%s\n",
	       iotlb ? "iotlb" : "plain", st.posted, st.received, st.expected,
	       st.elapsed_ms, r ? "FAIL " : "ok", r ? strerror(-r) : "",
	       st.msg[0] ? st.msg : "");
	if (!r && st.received != o.count)
		r = -EIO;
out:
	if (iotlb)
		viommu_close(&vi);
	else
		vmm_close(&v);
	vmm_tap_close(&t);
	return r;
}

static int run_health(void)
{
	int a = health_stream(0), b = health_stream(1);

	printf("health: %s\n", !a && !b ? "PASS" : "FAIL");
	return a || b;
}

/* ---- main ---- */

static void print_usage(void)
{
	fprintf(stderr,
		"usage: fuzz-vmm [--seed N] [--ops N] [--threads T] [--dev PATH] [--verbose]\n"
		"       fuzz-vmm --health [--dev PATH]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "ops", required_argument, NULL, 'n' },
		{ "threads", required_argument, NULL, 't' },
		{ "dev", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "health", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	int c, do_health = 0, seeded = 0, r;
	pthread_t wd;
	unsigned int i;
	uint64_t t0;

	G.dev = getenv("IVHOST_DEV") ? : "/dev/ivhost-net";
	G.ops = 20000;
	G.threads = 4;
	while ((c = getopt_long(argc, argv, "s:n:t:d:vHh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			G.seed = strtoull(optarg, NULL, 0);
			seeded = 1;
			break;
		case 'n':
			G.ops = strtoul(optarg, NULL, 0);
			break;
		case 't':
			G.threads = strtoul(optarg, NULL, 0);
			break;
		case 'd':
			G.dev = optarg;
			break;
		case 'v':
			G.verbose = 1;
			break;
		case 'H':
			do_health = 1;
			break;
		default:
			print_usage();
			return 1;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (do_health)
		return run_health();
	if (G.threads < 1 || G.threads > FZ_MAX_THREADS) {
		print_usage();
		return 1;
	}
	if (!seeded) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		G.seed = (uint64_t)ts.tv_sec * 1000003ULL ^ ts.tv_nsec ^
			 ((uint64_t)getpid() << 32);
	}
	printf("seed=%llu ops=%lu threads=%u dev=%s\n", G.seed, G.ops,
	       G.threads, G.dev);
	pthread_mutex_init(&G.print_mu, NULL);
	r = setup_arena();
	if (!r)
		r = setup_fds();
	if (r) {
		fprintf(stderr, "fuzz-vmm: set-up failed: %s\n", strerror(-r));
		return 1;
	}
	signal(SIGSEGV, crash_handler);
	signal(SIGBUS, crash_handler);
	signal(SIGABRT, crash_handler);
	signal(SIGILL, crash_handler);
	signal(SIGFPE, crash_handler);

	t0 = fz_now_ns();
	G.start_ns = t0;
	pthread_create(&wd, NULL, watchdog, NULL);
	for (i = 0; i < G.threads; i++) {
		struct fz_thread *t = &G.th[i];

		t->idx = i;
		fz_rng_seed(&t->rng, G.seed, i + 1);
		t->ops_todo = G.ops / G.threads +
			      (i < G.ops % G.threads ? 1 : 0);
		snprintf(t->last, sizeof(t->last), "-");
	}
	for (i = 0; i < G.threads; i++)
		pthread_create(&G.th[i].thr, NULL, fuzz_thread, &G.th[i]);
	for (i = 0; i < G.threads; i++)
		pthread_join(G.th[i].thr, NULL);

	/* Close everything the fuzz left open, under the watchdog too. */
	G.th[0].op_name = "final-close";
	__atomic_store_n(&G.th[0].op_start, fz_now_ns(), __ATOMIC_RELEASE);
	for (i = 0; i < FZ_NSLOTS; i++) {
		fz_stats_collect(G.slot[i].fd);
		close(G.slot[i].fd);
		G.slot[i].fd = -1;
	}
	for (i = 0; i < FZ_NTAPS; i++) {
		vmm_tap_close(&G.tap[i]);
		close(G.inj[i]);
	}
	__atomic_store_n(&G.th[0].op_start, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&fz_done, 1, __ATOMIC_RELEASE);
	pthread_join(wd, NULL);
	print_summary((fz_now_ns() - t0) / 1e9);
	printf("fuzz: PASS seed=%llu ops=%lu\n", G.seed, G.ops);
	return 0;
}
