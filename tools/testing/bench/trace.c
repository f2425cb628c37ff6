// SPDX-License-Identifier: GPL-2.0
/*
 * trace.c - waits on IOTLB misses, from tracefs kprobe events (trace.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace.h"

#define TRACEFS "/sys/kernel/tracing/"

static int miss_tracepoint;	/* ivhost: the tracepoint, not a kprobe */

static int tfs_write(const char *file, const char *s, int append)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), TRACEFS "%s", file);
	fd = open(path, O_WRONLY | (append ? O_APPEND : O_TRUNC));
	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

/* The name vhost_iotlb_miss() got in vhost.ko (it may be a .isra copy). */
static int vhost_miss_symbol(char *sym, size_t size)
{
	char line[512], name[256], mod[64];
	FILE *f = fopen("/proc/kallsyms", "r");
	int found = -ENOENT;

	if (!f)
		return -errno;
	while (found && fgets(line, sizeof(line), f)) {
		mod[0] = 0;
		if (sscanf(line, "%*s %*s %255s [%63[^]]]", name, mod) < 1)
			continue;
		if (!strcmp(mod, "vhost") &&
		    !strncmp(name, "vhost_iotlb_miss", 16) &&
		    (!name[16] || name[16] == '.')) {
			snprintf(sym, size, "%s", name);
			found = 0;
		}
	}
	fclose(f);
	return found;
}

int bench_trace_start(const char *dev, int rx)
{
	char def[512], sym[256];
	int r;

	bench_trace_stop();
	r = tfs_write("tracing_on", "0", 0);
	if (!r)
		r = tfs_write("trace_clock", "mono", 0);
	if (!r)
		r = tfs_write("buffer_size_kb", "32768", 0);
	if (!r)
		r = tfs_write("trace", "", 0);
	if (r)
		return r;
	if (!strcmp(dev, "ivhost")) {
		miss_tracepoint = 1;
		r = tfs_write("events/ivhost/ivhost_iotlb_miss/enable", "1", 0);
		snprintf(def, sizeof(def), "p:ivbench/resume ivhost_net:%s\n",
			 rx ? "ivhost_net_rx" : "ivhost_net_tx");
	} else {
		r = vhost_miss_symbol(sym, sizeof(sym));
		if (!r) {
			snprintf(def, sizeof(def), "p:ivbench/miss vhost:%s\n",
				 sym);
			r = tfs_write("kprobe_events", def, 1);
		}
		snprintf(def, sizeof(def), "p:ivbench/resume vhost_net:%s\n",
			 rx ? "handle_rx" : "handle_tx");
	}
	if (!r)
		r = tfs_write("kprobe_events", def, 1);
	if (!r)
		r = tfs_write("events/ivbench/enable", "1", 0);
	if (!r)
		r = tfs_write("tracing_on", "1", 0);
	return r;
}

void bench_trace_stop(void)
{
	tfs_write("tracing_on", "0", 0);
	tfs_write("events/ivbench/enable", "0", 0);
	if (miss_tracepoint)
		tfs_write("events/ivhost/ivhost_iotlb_miss/enable", "0", 0);
	miss_tracepoint = 0;
	tfs_write("kprobe_events", "-:ivbench/miss\n", 1);
	tfs_write("kprobe_events", "-:ivbench/resume\n", 1);
}

/* The timestamp before ": <event>:" in a trace line, or -1. */
static double stamp(const char *line, const char *at)
{
	const char *p = at;

	while (p > line && p[-1] != ' ')
		p--;
	return p < at ? strtod(p, NULL) : -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int add_wait(double **w, unsigned int *n, unsigned int *cap, double d)
{
	if (*n == *cap) {
		double *nw;

		*cap = *cap ? 2 * *cap : 1024;
		nw = realloc(*w, *cap * sizeof(**w));
		if (!nw)
			return -ENOMEM;
		*w = nw;
	}
	(*w)[(*n)++] = d;
	return 0;
}

int bench_trace_collect(double t0, double t1, struct bench_trace_result *res)
{
	unsigned int n = 0, cap = 0;
	double pending = -1, *w = NULL;
	char line[1024];
	FILE *f;
	int r = 0;

	tfs_write("tracing_on", "0", 0);
	f = fopen(TRACEFS "trace", "r");
	if (!f)
		return -errno;
	memset(res, 0, sizeof(*res));
	while (!r && fgets(line, sizeof(line), f)) {
		char *m = strstr(line, ": miss:");
		char *rs = strstr(line, ": resume:");
		double ts;

		if (!m)
			m = strstr(line, ": ivhost_iotlb_miss:");
		if (line[0] == '#' || (!m && !rs))
			continue;
		ts = stamp(line, m ? m : rs);
		if (ts < t0 || ts > t1)
			continue;
		if (m && pending < 0)
			pending = ts;
		else if (rs && pending >= 0) {
			res->wait_s += ts - pending;
			r = add_wait(&w, &n, &cap, (ts - pending) * 1e6);
			pending = -1;
		}
	}
	fclose(f);
	if (!r && n) {
		qsort(w, n, sizeof(*w), cmp_double);
		res->n = n;
		res->p50_us = w[n / 2];
		res->p99_us = w[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1];
	}
	free(w);
	return r;
}
