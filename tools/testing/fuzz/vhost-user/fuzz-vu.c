// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-vu: a hostile vhost-user frontend against a running ivhost-user.
 *
 *   fuzz-vu --pid PID --socket PATH [--log FILE] [--tap NAME] [--queues N]
 *           [--seed N] [--conns N] [--ops N] [--seconds N]
 *           [--first-conn C] [--max-ops N] [--stall] [--tmpdir DIR]
 *           [--verbose]
 *
 * Connection after connection, each a seeded random mix of valid set-up
 * sequences and mutated, truncated or random messages carrying fds of
 * every kind, disconnects at every point, while a thread writes the
 * guest's rings and kicks (ops.c, guest.c).  The oracles, from the
 * daemon's documented promise (tools/vhost-user/README, "Errors" and
 * "The device IOTLB"):
 *   - a well-framed message that asks for a reply (NEED_REPLY, or a
 *     GET_* request) gets one within 2 s, with the request's id and flags
 *     0x5, or the daemon closes the connection; a request known to be bad
 *     never gets 0; nothing comes that was not asked for;
 *   - a message cut short is dropped within 7 s (the daemon's 5 s);
 *   - the daemon never dies and prints no sanitizer report (--log);
 *   - after each connection, its fd count (/proc/PID/fd) and its count of
 *     shared mappings (/proc/PID/maps, the frontend's memory and logs)
 *     come back to the baseline taken after a first plain connection
 *     within 2 s.
 * The first failure prints "FAIL seed S conn C op K step J (what): why"
 * and ends the run with status 1; a budget done ends it with 0; bad
 * usage or set-up gives 2.  --seed S --first-conn C --conns 1 replays
 * connection C alone.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/socket.h>

#include "fuzz-vu.h"

struct fv_global G = { .queues = 1, .max_ops = 48, .tmpdir = "/tmp" };

static int fv_base_fds = -1, fv_base_maps = -1;
static long fv_log_off;

uint64_t fv_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* ---- reporting ---- */

static void fv_where(FILE *f, struct fv_conn *c)
{
	fprintf(f, "seed %llu conn %lu op %u step %u (%s)",
		(unsigned long long)G.seed, c->idx, c->op, c->step,
		c->what ? c->what : "-");
}

/**
 * fv_fail() - report a broken promise and end the run
 * @c: the connection where it was seen
 * @fmt: why
 *
 * Prints the seed, connection, operation and step, and how to replay.
 */
void fv_fail(struct fv_conn *c, const char *fmt, ...)
{
	va_list ap;

	printf("FAIL ");
	fv_where(stdout, c);
	printf(": ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n  replay: --seed %llu --first-conn %lu --conns 1\n",
	       (unsigned long long)G.seed, c->idx);
	fflush(stdout);
	exit(1);
}

/* The current connection, for the watchdog. */
static struct fv_conn *fv_cur;

/* No operation may take 30 s: a hang of the fuzzer, or an unbounded wait. */
static void fv_watchdog(int sig)
{
	(void)sig;
	printf("FAIL ");
	fv_where(stdout, fv_cur);
	printf(": stuck for %d s\n  replay: --seed %llu --first-conn %lu --conns 1\n",
	       FV_WATCHDOG_S, (unsigned long long)G.seed, fv_cur->idx);
	fflush(stdout);
	_exit(1);
}

/**
 * fv_progress() - an operation starts: rearm the watchdog
 */
void fv_progress(void)
{
	alarm(FV_WATCHDOG_S);
}

void fv_log(struct fv_conn *c, const char *fmt, ...)
{
	va_list ap;

	if (!G.verbose)
		return;
	printf("conn %lu op %u step %u: ", c->idx, c->op, c->step);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* ---- the daemon's health ---- */

static bool fv_daemon_alive(void)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", G.pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* A sanitizer report in the daemon's log since the last look? */
static bool fv_log_report(char *line, size_t len)
{
	static const char *const keys[] = {
		"AddressSanitizer", "runtime error:", "LeakSanitizer",
		"UndefinedBehaviorSanitizer",
	};
	bool found = false;
	char buf[1024];
	unsigned int i;
	FILE *f;

	if (!G.log_path)
		return false;
	f = fopen(G.log_path, "r");
	if (!f)
		return false;
	fseek(f, fv_log_off, SEEK_SET);
	while (!found && fgets(buf, sizeof(buf), f)) {
		for (i = 0; i < FV_ARRAY_SIZE(keys); i++) {
			if (!strstr(buf, keys[i]))
				continue;
			buf[strcspn(buf, "\n")] = 0;
			snprintf(line, len, "%s", buf);
			found = true;
		}
	}
	if (!found)
		fv_log_off = ftell(f);
	fclose(f);
	return found;
}

/* Open fds of @pid (0: the fuzzer's own), or -1. */
static int fv_count_fds(int pid)
{
	char path[64] = "/proc/self/fd";
	struct dirent *e;
	int n = 0;
	DIR *d;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/*
 * Shared mappings: the daemon maps the frontend's memory and logs
 * MAP_SHARED, and its own allocations (ASan's included) privately.
 */
static int fv_count_maps(void)
{
	char path[64], buf[512], perms[8];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", G.pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(buf, sizeof(buf), f)) {
		if (sscanf(buf, "%*s %7s", perms) == 1 && perms[3] == 's')
			n++;
		while (!strchr(buf, '\n') && fgets(buf, sizeof(buf), f))
			;
	}
	fclose(f);
	return n;
}

/**
 * fv_check_alive() - the daemon lives and printed no sanitizer report
 * @c: the connection, for the report
 */
void fv_check_alive(struct fv_conn *c)
{
	char line[1024];

	if (!fv_daemon_alive()) {
		if (fv_log_report(line, sizeof(line)))
			fv_fail(c, "daemon died: %s", line);
		fv_fail(c, "daemon died");
	}
	if (fv_log_report(line, sizeof(line)))
		fv_fail(c, "sanitizer report: %s", line);
}

/* The daemon is alive, silent, and back to its baseline. */
static void fv_check_daemon(struct fv_conn *c)
{
	uint64_t end = fv_now_ms() + FV_SETTLE_MS;
	int fds, maps;

	fv_progress();
	for (;;) {
		fv_check_alive(c);
		fds = fv_count_fds(G.pid);
		maps = fv_count_maps();
		if (fv_base_fds < 0) {
			fv_base_fds = fds;
			fv_base_maps = maps;
			return;
		}
		/*
		 * Below the baseline: it was taken before the daemon had
		 * let the first connection go (a loaded machine); lower it.
		 */
		if (fds <= fv_base_fds && maps <= fv_base_maps) {
			fv_base_fds = fds;
			fv_base_maps = maps;
			return;
		}
		if (fv_now_ms() > end)
			fv_fail(c, "leak: fds %d (baseline %d), shared maps %d (baseline %d) %d ms after the connection ended",
				fds, fv_base_fds, maps, fv_base_maps,
				FV_SETTLE_MS);
		usleep(10000);
	}
}

/* A plain connection: one GET_FEATURES round trip. */
static void fv_plain_conn(struct fv_conn *c)
{
	uint64_t v;

	c->sock = fv_connect();
	if (c->sock < 0)
		fv_fail(c, "cannot connect: %s", strerror(-c->sock));
	c->what = "GET_FEATURES";
	if (fv_msg(c, FV_GET_FEATURES, FV_VERSION, NULL, 0, NULL, 0, false,
		   &v) || !v)
		fv_fail(c, "no features from a plain connection");
	close(c->sock);
	c->sock = -1;
	/* Time for the daemon to let it go (a baseline taken too early is
	 * lowered later: fv_check_daemon()).
	 */
	usleep(100000);
}

static void fv_usage(FILE *f)
{
	fprintf(f,
		"usage: fuzz-vu --pid PID --socket PATH [--log FILE] [--tap NAME]\n"
		"               [--queues N] [--seed N] [--conns N] [--ops N]\n"
		"               [--seconds N] [--first-conn C] [--max-ops N]\n"
		"               [--stall] [--tmpdir DIR] [--verbose]\n"
		"A hostile vhost-user frontend against ivhost-user (see the source's\n"
		"head comment for the oracles).  Runs until --conns connections,\n"
		"--ops operations or --seconds seconds, whichever comes first\n"
		"(default: 60 s).  Exit 0: budget done; 1: a promise broken (the\n"
		"line starting FAIL says where); 2: usage or set-up.\n");
}

static int fv_args(int argc, char **argv, unsigned long *conns,
		   unsigned long *ops, unsigned long *secs,
		   unsigned long *first)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "socket", required_argument, NULL, 's' },
		{ "log", required_argument, NULL, 'l' },
		{ "tap", required_argument, NULL, 't' },
		{ "queues", required_argument, NULL, 'q' },
		{ "seed", required_argument, NULL, 'S' },
		{ "conns", required_argument, NULL, 'c' },
		{ "ops", required_argument, NULL, 'o' },
		{ "seconds", required_argument, NULL, 'T' },
		{ "first-conn", required_argument, NULL, 'f' },
		{ "max-ops", required_argument, NULL, 'm' },
		{ "stall", no_argument, NULL, 'x' },
		{ "tmpdir", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'p':
			G.pid = atoi(optarg);
			break;
		case 's':
			G.sock_path = optarg;
			break;
		case 'l':
			G.log_path = optarg;
			break;
		case 't':
			G.tap = optarg;
			break;
		case 'q':
			G.queues = atoi(optarg);
			break;
		case 'S':
			G.seed = strtoull(optarg, NULL, 0);
			break;
		case 'c':
			*conns = strtoul(optarg, NULL, 0);
			break;
		case 'o':
			*ops = strtoul(optarg, NULL, 0);
			break;
		case 'T':
			*secs = strtoul(optarg, NULL, 0);
			break;
		case 'f':
			*first = strtoul(optarg, NULL, 0);
			break;
		case 'm':
			G.max_ops = atoi(optarg);
			break;
		case 'x':
			G.stall = true;
			break;
		case 'd':
			G.tmpdir = optarg;
			break;
		case 'v':
			G.verbose = true;
			break;
		case 'h':
			fv_usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind != argc || G.pid <= 0 || !G.sock_path || !G.queues ||
	    G.queues > FV_MAX_VQ / 2 || !G.max_ops)
		return -1;
	if (!*conns && !*ops && !*secs)
		*secs = 60;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long conns = 0, ops = 0, secs = 0, first = 0, n = 0, nops = 0;
	int own;
	struct fv_conn c = { .sock = -1 };
	uint64_t t0 = fv_now_ms();

	if (fv_args(argc, argv, &conns, &ops, &secs, &first)) {
		fv_usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, fv_watchdog);
	fv_cur = &c;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("fuzz-vu: seed %llu, daemon %d, %u queue pair(s)\n",
	       (unsigned long long)G.seed, G.pid, G.queues);
	c.what = "first plain connection";
	c.idx = first;
	fv_plain_conn(&c);
	fv_check_daemon(&c);
	printf("fuzz-vu: baseline %d fds, %d shared mappings\n",
	       fv_base_fds, fv_base_maps);
	own = fv_count_fds(0);
	for (;;) {
		/* Ours: a leak would end in false failures.  + 1: the
		 * packet socket for the tap, opened once.
		 */
		if (fv_count_fds(0) > own + 1) {
			printf("fuzz-vu: BUG: the fuzzer holds %d fds, %d at start\n",
			       fv_count_fds(0), own);
			return 2;
		}
		if ((conns && n >= conns) || (ops && nops >= ops) ||
		    (secs && fv_now_ms() - t0 >= secs * 1000))
			break;
		memset(&c, 0, sizeof(c));
		c.idx = first + n;
		fz_rng_seed(&c.r, G.seed, c.idx);
		fv_run_conn(&c);
		nops += c.op;
		fv_check_daemon(&c);
		n++;
	}
	/* The daemon still serves. */
	memset(&c, 0, sizeof(c));
	c.idx = first + n;
	fv_plain_conn(&c);
	fv_check_daemon(&c);
	printf("fuzz-vu: PASS seed %llu: %lu connections, %lu operations, %lu messages, %lu replies (%lu non-zero), %lu dropped by the daemon, %lu stalls, in %.1f s\n",
	       (unsigned long long)G.seed, n, nops, G.msgs, G.replies,
	       G.refused, G.dropped, G.stalls, (fv_now_ms() - t0) / 1000.0);
	return 0;
}
