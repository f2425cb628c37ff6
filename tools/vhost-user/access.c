// SPDX-License-Identifier: GPL-2.0
/*
 * Who may talk to the daemon: the socket file's mode (--socket-mode) and
 * the credentials of the process at the other end (--allow-uid,
 * --allow-gid).
 *
 * The listening socket is bound with the umask that leaves exactly the
 * mode asked for, chmod()ed to it (a default ACL on the directory would
 * otherwise decide; only if the path still names a socket of ours, never
 * through a symlink), and only then listened on: a connect() before that
 * is refused by the kernel, so no peer ever reaches a socket wider than
 * the mode.
 *
 * A peer is served when the kernel's SO_PEERCRED for it (its credentials
 * when it called connect() or listen()) names the daemon's effective uid
 * or root, an --allow-uid, or, with --allow-gid, a group of its own
 * (primary, or supplementary from SO_PEERGROUPS).  Root and the daemon's
 * own uid are always allowed: both can open the socket file and the
 * daemon's memory whatever the checks say.  A refused peer is logged and
 * closed, nothing of it read.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ivu.h"

#define IVU_PEER_GROUPS_MAX	64
/* Refusals logged one by one: this many per window, then counted. */
#define IVU_REFUSED_BURST	5
#define IVU_REFUSED_WINDOW_S	10

/* The refusal log's window (the control thread's alone). */
static struct {
	time_t start;
	unsigned int logged;
	unsigned long quiet;
} ivu_refused;

/* A uid or gid in decimal, or -1. */
static long ivu_access_number(const char *s)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (!*s || *end || errno || n < 0 || n >= (long)(u32)-1)
		return -1;
	return n;
}

/**
 * ivu_access_mode() - take the --socket-mode argument
 * @a: the access rules
 * @s: an octal mode, permission bits only (e.g. 0660)
 *
 * Return: 0, or -EINVAL.
 */
int ivu_access_mode(struct ivu_access *a, const char *s)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 8);
	if (!*s || *end || errno || n < 0 || n > 0777)
		return -EINVAL;
	a->mode = n;
	return 0;
}

static long ivu_access_user(const char *name)
{
	struct passwd *pw = getpwnam(name);

	return pw ? (long)pw->pw_uid : -1;
}

static long ivu_access_group(const char *name)
{
	struct group *gr = getgrnam(name);

	return gr ? (long)gr->gr_gid : -1;
}

/* Add a number, or the id @lookup finds for a name, to @ids. */
static int ivu_access_add(u32 *ids, unsigned int *n, const char *s,
			  long (*lookup)(const char *name))
{
	long id = ivu_access_number(s);

	if (id < 0)
		id = lookup(s);
	if (id < 0)
		return -EINVAL;
	if (*n == IVU_ACCESS_MAX)
		return -E2BIG;
	ids[(*n)++] = id;
	return 0;
}

/**
 * ivu_access_allow_uid() - take an --allow-uid argument
 * @a: the access rules
 * @s: a user name or a uid
 *
 * Return: 0, -EINVAL for an unknown name, -E2BIG past IVU_ACCESS_MAX.
 */
int ivu_access_allow_uid(struct ivu_access *a, const char *s)
{
	return ivu_access_add(a->uids, &a->n_uids, s, ivu_access_user);
}

/**
 * ivu_access_allow_gid() - take an --allow-gid argument
 * @a: the access rules
 * @s: a group name or a gid
 *
 * Return: 0, -EINVAL for an unknown name, -E2BIG past IVU_ACCESS_MAX.
 */
int ivu_access_allow_gid(struct ivu_access *a, const char *s)
{
	return ivu_access_add(a->gids, &a->n_gids, s, ivu_access_group);
}

/*
 * chmod() the socket file just bound at @path, and nothing else: in a
 * directory another user may write, the path can name a symlink (which
 * chmod() would follow) or another file by now.  What the path names is
 * opened without following it, and changed only if it is a socket of our
 * own user; else it is left, not unlinked either, and binding fails.
 */
static int ivu_access_chmod(const struct ivu_access *a, const char *path)
{
	char fdpath[32];
	struct stat st;
	int fd, err;

	fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !S_ISSOCK(st.st_mode) ||
	    st.st_uid != geteuid()) {
		close(fd);
		errno = EEXIST;
		return -1;
	}
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	err = chmod(fdpath, a->mode) ? errno : 0;
	close(fd);
	if (err) {
		unlink(path);
		errno = err;
		return -1;
	}
	return 0;
}

/**
 * ivu_access_bind() - bind a unix socket with the socket mode
 * @a: the access rules
 * @fd: the socket, not yet bound
 * @addr: the path to bind
 *
 * The caller listens afterwards: until then a connect() is refused, so
 * the moment between bind() and chmod() lets nobody in.
 * Context: the control thread, at start; the umask is the process's, and
 * no other thread creates files (the datapath workers never do).
 * Return: 0, or -1 with errno set.
 */
int ivu_access_bind(const struct ivu_access *a, int fd,
		    const struct sockaddr_un *addr)
{
	mode_t old = umask(~a->mode & 0777);
	int err = bind(fd, (const struct sockaddr *)addr, sizeof(*addr));

	umask(old);
	if (err)
		return -1;
	return ivu_access_chmod(a, addr->sun_path);
}

static bool ivu_access_has(const u32 *ids, unsigned int n, u32 id)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static bool ivu_access_any(const struct ivu_access *a, const gid_t *g,
			   socklen_t len)
{
	unsigned int i;

	for (i = 0; i < len / sizeof(g[0]); i++)
		if (ivu_access_has(a->gids, a->n_gids, g[i]))
			return true;
	return false;
}

/*
 * Is one of the peer's supplementary groups allowed?  A peer in more
 * groups than fit on the stack (ERANGE tells how many) is asked again
 * with room for all of them.
 */
static bool ivu_access_groups(const struct ivu_access *a, int fd)
{
	gid_t g[IVU_PEER_GROUPS_MAX], *big;
	socklen_t len = sizeof(g);
	bool ok;

	if (!a->n_gids)
		return false;
	if (!getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len))
		return ivu_access_any(a, g, len);
	if (errno != ERANGE || len <= sizeof(g))
		return false;
	big = malloc(len);
	ok = big && !getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, big, &len) &&
	     ivu_access_any(a, big, len);
	free(big);
	return ok;
}

/*
 * May a refusal be logged?  A peer that reaches the socket but is not
 * allowed may connect in a loop: past the burst of a window the rest are
 * counted, and the count logged with the next refusal after the window.
 */
static bool ivu_access_log_refusal(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - ivu_refused.start >= IVU_REFUSED_WINDOW_S) {
		if (ivu_refused.quiet)
			ivu_log("%lu more peers refused in %d s, not logged",
				ivu_refused.quiet, IVU_REFUSED_WINDOW_S);
		ivu_refused.start = now.tv_sec;
		ivu_refused.logged = 0;
		ivu_refused.quiet = 0;
	}
	if (ivu_refused.logged < IVU_REFUSED_BURST) {
		ivu_refused.logged++;
		return true;
	}
	ivu_refused.quiet++;
	return false;
}

/**
 * ivu_access_peer() - may the process at the other end of @fd be served?
 * @a: the access rules
 * @fd: a connected unix socket (accepted, or connected in --client)
 * @what: "frontend" or the like, for the log
 *
 * A refused peer is logged with its pid, uid and gid (the first few of
 * every 10 s; the rest are counted: ivu_access_log_refusal()).
 * Context: the control thread.
 * Return: true if it is allowed.
 */
bool ivu_access_peer(const struct ivu_access *a, int fd, const char *what)
{
	struct ucred c;
	socklen_t len = sizeof(c);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &len) ||
	    len != sizeof(c)) {
		if (ivu_access_log_refusal())
			ivu_log("%s refused: no credentials (%m)", what);
		return false;
	}
	if (c.uid == 0 || c.uid == geteuid() ||
	    ivu_access_has(a->uids, a->n_uids, c.uid) ||
	    ivu_access_has(a->gids, a->n_gids, c.gid) ||
	    ivu_access_groups(a, fd))
		return true;
	if (ivu_access_log_refusal())
		ivu_log("%s refused: pid %d uid %u gid %u not allowed (--allow-uid, --allow-gid)",
			what, c.pid, c.uid, c.gid);
	return false;
}
