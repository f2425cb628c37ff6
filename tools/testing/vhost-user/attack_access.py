# SPDX-License-Identifier: GPL-2.0
"""Who may connect, and what a connection may hold (issue 19), for
attack-ivhost-user: the socket file's mode (--socket-mode), peers with
other credentials (SO_PEERCRED: --allow-uid, --allow-gid), a --client
daemon meeting a server it must not trust; fds and mappings that must not
grow while one connection sends refused or replacing messages; a frontend
that floods the daemon.  (One that stops in the middle of a message:
attack_threads.py.)  Listed in attack_checks.CHECKS; they use its
helpers.  The peers with other credentials are forked children that drop
to nobody (uid 65534) before connect() or listen(): the kernel records
the credentials there."""
import os
import select
import signal
import socket
import stat
import struct
import subprocess
import time

from attack_client import *  # noqa: F401,F403
from attack_checks import (done, efd, running, wait_used)  # noqa: E402
from attack_restart import footprint, proc_status, tx_frames  # noqa: E402
from attack_iotlb import IOVA, T_UPDATE  # noqa: E402,F401

NOBODY = 65534
OTHER_GID = 12345          # a group nobody names
IOTLB_MSG, SET_LOG_BASE, SET_LOG_FD = 22, 6, 7


def restart(d, *args):
    try:
        d.restart(*args)
    except RuntimeError as e:
        raise AssertionError("no daemon with %s: %s" % (" ".join(args),
                                                        str(e)[-200:]))


def open_to_all(d):
    """Let any user reach the socket file, whatever the daemon made it:
    what is checked then is the daemon's own check of the peer."""
    os.chmod(os.path.dirname(d.path), 0o711)
    os.chmod(d.path, 0o666)


def become(uid, gid, groups=(), keep=-1):
    """In a forked child: drop every inherited fd but @keep (a copy of
    the parent's frontend socket would keep its connection open) and
    take these credentials."""
    os.closerange(3, keep if keep > 3 else 3)
    os.closerange(max(keep, 2) + 1, 4096)
    os.setgroups(list(groups))
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)


def mapped(uid):
    """Can this process take @uid (its user namespace maps it)?"""
    with open("/proc/self/uid_map") as f:
        for line in f:
            inside, _, n = (int(x) for x in line.split())
            if inside <= uid < inside + n:
                return True
    return False


def fork_as(fn, uid=NOBODY, gid=NOBODY, groups=(), keep=-1):
    """Run fn() in a child with these credentials; its return value (a
    small int) is the child's exit status.  Returns the child's pid."""
    assert os.geteuid() == 0 and mapped(uid), \
        "cannot become uid %d: these checks need root (not a user " \
        "namespace mapping only the caller)" % uid
    pid = os.fork()
    if pid == 0:
        rc = 101
        try:
            become(uid, gid, groups, keep)
            rc = fn()
        finally:
            os._exit(rc)
    return pid


def status_of(pid):
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def as_user(fn, uid=NOBODY, gid=NOBODY, groups=()):
    """Run fn() in a child with these credentials: its exit status."""
    return status_of(fork_as(fn, uid, gid, groups))


# What a peer saw: its GET_FEATURES answered, or closed without a word.
ANSWERED, CLOSED_UNANSWERED, CONNECT_FAILED, SILENT = 0, 1, 2, 3


def peer_outcome(path, timeout=3.0):
    """Connect to @path and ask GET_FEATURES: what happened."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
    except OSError:
        return CONNECT_FAILED
    return ask(s, timeout)


def ask(s, timeout):
    try:
        s.sendall(struct.pack("<III", GET_FEATURES, 1, 0))
    except OSError:
        return CLOSED_UNANSWERED
    if not select.select([s], [], [], timeout)[0]:
        return SILENT
    try:
        data = s.recv(20)
    except OSError:
        data = b""
    return ANSWERED if data else CLOSED_UNANSWERED


def connections(d):
    """The daemon's count of frontends served (its counters, SIGUSR1)."""
    d.p.send_signal(signal.SIGUSR1)
    time.sleep(0.3)
    lines = [x for x in d.logtext().splitlines() if " connections " in x]
    assert lines, "no counters on SIGUSR1"
    return int(lines[-1].split(" connections ")[1].split()[0])


def access_socket_mode(d):
    """The socket file has the mode asked for, 0600 by default: neither
    the umask nor the directory decides it."""
    mode = stat.S_IMODE(os.stat(d.path).st_mode)
    assert mode == 0o600, "default socket mode %o, want 600" % mode
    for want in ("0660", "0640", "0666"):
        old = os.umask(0o077 if want == "0666" else 0)
        try:
            restart(d, "--socket-mode", want)
        finally:
            os.umask(old)
        mode = stat.S_IMODE(os.stat(d.path).st_mode)
        assert mode == int(want, 8), "--socket-mode %s gave %o" % (want, mode)
    for bad in ("0999", "10000", "rw", ""):
        p = subprocess.run(
            [d.binary, "--socket", d.path + ".x", "--tap", "ivuatkx",
             "--socket-mode", bad], capture_output=True, timeout=5)
        assert p.returncode == 2, "--socket-mode %r accepted" % bad


def access_foreign_uid(d):
    """A peer running as another user (nobody) is closed without a reply,
    alone or when it waited in the backlog behind a served frontend; that
    frontend's rings keep moving, the refused peer is not counted as a
    connection, and the next allowed frontend is served."""
    open_to_all(d)
    got = as_user(lambda: peer_outcome(d.path))
    assert got == CLOSED_UNANSWERED, \
        "a peer with uid %d: %s" % (NOBODY, ("answered", "closed",
                                             "connect failed", "left hanging",
                                             "child failed")[min(got, 4)])
    assert "uid %d" % NOBODY in d.logtext(), "refusal not logged with the uid"
    fe, g, kicks = running(d)
    # The foreign peer queues behind fe; it is refused when fe goes.
    pid = fork_as(lambda: peer_outcome(d.path, timeout=6))
    time.sleep(0.3)
    tx_frames(g, kicks[1], 2)
    assert wait_used(g, 1, 2) == 2, "served frontend stalled by a queued peer"
    assert fe.alive(), "served frontend lost while a foreign peer queued"
    done(fe, g)
    got = status_of(pid)
    assert got == CLOSED_UNANSWERED, \
        "a queued peer with uid %d: outcome %d, want closed unanswered" % (
            NOBODY, got)
    fe = Frontend(d.path)
    assert fe.alive(), "allowed frontend not served after a refusal"
    fe.close()
    n = connections(d)
    assert n == 2, "%d connections counted, want 2 (refused peers count)" % n


def access_allowed(d):
    """--allow-gid admits a peer whose primary or supplementary group it
    names, --allow-uid a peer with that uid; a peer matching neither stays
    refused."""
    restart(d, "--allow-gid", "nogroup", "--allow-uid", "4242")
    open_to_all(d)
    cases = (("primary gid nogroup", NOBODY, NOBODY, (), ANSWERED),
             ("supplementary nogroup", NOBODY, OTHER_GID, (NOBODY,), ANSWERED),
             ("uid 4242", 4242, OTHER_GID, (), ANSWERED),
             ("neither", NOBODY, OTHER_GID, (), CLOSED_UNANSWERED))
    for what, uid, gid, groups, want in cases:
        got = as_user(lambda: peer_outcome(d.path), uid, gid, groups)
        assert got == want, "%s: outcome %d, want %d" % (what, got, want)


def listen_as(path, uid, gid, conns, timeout):
    """A server at @path that listens as @uid:@gid: for @conns
    connections within @timeout, ask GET_FEATURES; a child whose exit
    status is the last outcome (SILENT if fewer came)."""
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)

    def serve():
        srv.listen(4)
        got, end = SILENT, time.monotonic() + timeout
        for _ in range(conns):
            left = end - time.monotonic()
            if left <= 0 or not select.select([srv], [], [], left)[0]:
                return SILENT
            c, _ = srv.accept()
            got = ask(c, 2)
            c.close()
        return got
    pid = fork_as(serve, uid, gid, keep=srv.fileno())
    srv.close()
    return pid


def access_client_foreign_server(d):
    """--client: a server that listens as another user (nobody) is closed
    without a reply, and tried again with backoff; a server of the
    daemon's own user is then served."""
    d.halt()
    pid = listen_as(d.path, NOBODY, NOBODY, 2, 4)
    d.start("--client")
    got = status_of(pid)
    assert got == CLOSED_UNANSWERED, \
        "--client with a server of uid %d: outcome %d, want closed " \
        "unanswered" % (NOBODY, got)
    assert "uid %d" % NOBODY in d.logtext(), "refusal not logged"
    pid = listen_as(d.path, 0, 0, 1, 8)
    got = status_of(pid)
    assert got == ANSWERED, "--client did not serve a root server after a " \
        "refusal (outcome %d)" % got
    assert d.p.poll() is None, "daemon died"
    return ""


def access_bind_race(d):
    """The socket's directory is writable by someone else: between the
    daemon's bind() and its chmod() (held apart here by strace, 1.5 s),
    that someone replaces the new socket file with a symlink to a file
    of root's.  The daemon must leave that file's mode alone (chmod()
    follows symlinks): it serves on its own socket or gives up, never
    widening another file to --socket-mode 0666."""
    d.halt()
    wd = os.path.dirname(d.path)
    victim = os.path.join(wd, "victim")
    with open(victim, "w") as f:
        f.write("root's\n")
    os.chmod(victim, 0o600)
    if os.path.lexists(d.path):
        os.unlink(d.path)
    log = open(os.path.join(wd, "strace-daemon.log"), "w")
    p = subprocess.Popen(
        ["strace", "-o", "/dev/null", "-f", "-e", "trace=bind",
         "-e", "inject=bind:delay_exit=1500000", d.binary,
         "--socket", d.path, "--tap", "ivuatkb", "--socket-mode", "0666"],
        stdout=log, stderr=subprocess.STDOUT,
        env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))  # LSan: no ptrace
    try:
        end = time.monotonic() + 10
        while not os.path.lexists(d.path):
            assert time.monotonic() < end and p.poll() is None, \
                "daemon under strace never bound its socket"
            time.sleep(0.01)
        os.rename(d.path, d.path + ".moved")
        os.symlink(victim, d.path)
        time.sleep(2.5)
        mode = stat.S_IMODE(os.stat(victim).st_mode)
        assert mode == 0o600, "the daemon chmod()ed the symlink's " \
            "target to %o" % mode
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        log.close()
        for x in (d.path, d.path + ".moved", victim):
            if os.path.lexists(x):
                os.unlink(x)
        restart(d)


REFUSED_FLOOD = 3000
REFUSED_LOG_LINES = 100


def access_refused_flood(d):
    """A user who reaches the socket but is not allowed (nobody) connects
    3,000 times as fast as it can: the daemon's log grows by at most 100
    lines (refusals are summarised, not logged one by one without
    bound), and an allowed frontend arriving in the middle of the flood
    is served within a bound."""
    open_to_all(d)
    lines0 = len(d.logtext().splitlines())

    def flood():
        for _ in range(REFUSED_FLOOD):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(d.path)
            except OSError:
                pass
            s.close()
        return 0
    pid = fork_as(flood)
    time.sleep(0.3)
    t0 = time.monotonic()
    fe = Frontend(d.path, timeout=5)
    assert fe.alive(), "allowed frontend not served during the flood"
    late = time.monotonic() - t0
    assert late < 3, "allowed frontend served only after %.1f s" % late
    fe.close()
    assert status_of(pid) == 0, "flooding child failed"
    time.sleep(0.3)
    grown = len(d.logtext().splitlines()) - lines0
    assert grown <= REFUSED_LOG_LINES, \
        "%d log lines for %d refused connections" % (grown, REFUSED_FLOOD)


def access_many_groups(d):
    """--allow-gid names a supplementary group of a peer that is in 100
    groups (more than fit a small buffer; NGROUPS_MAX is 65536): the
    peer is served whatever the group's place in its list."""
    restart(d, "--allow-gid", "nogroup")
    open_to_all(d)
    for where in (0, 99):
        groups = [20000 + i for i in range(99)]
        groups.insert(where, NOBODY)
        got = as_user(lambda: peer_outcome(d.path), 4243, OTHER_GID,
                      groups)
        assert got == ANSWERED, "allowed group at %d of 100: outcome %d, " \
            "want answered" % (where, got)


# --- what one connection may hold ------------------------------------------

N_SENDS = 200


def no_growth(d, fe, what, send, n=N_SENDS):
    """send(fe) @n times on one connection (each answered): the daemon's
    fds and mappings do not grow past where the first few left them."""
    for _ in range(3):
        send(fe)
    # The reply to a message goes out before its fds are closed: one
    # round trip more and they are.
    assert fe.alive(), "%s: connection lost" % what
    base = footprint(d)
    for _ in range(n):
        send(fe)
    assert fe.alive(), "%s: connection lost" % what
    now = footprint(d)
    assert now[0] == base[0], "%s: fds %d -> %d after %d" % (
        what, base[0], now[0], n)
    assert now[1] == base[1], "%s: mappings %d -> %d after %d" % (
        what, base[1], now[1], n)


def sender(req, payload, mkfds, accepted=False):
    """A sender of @req with fresh fds from mkfds(): it must be refused
    (a non-zero reply), or with @accepted take effect (reply 0)."""
    def send(fe):
        fds = mkfds()
        try:
            r = fe.call(req, payload, fds)
        finally:
            for fd in fds:
                os.close(fd)
        assert (r == 0) == accepted, "request %d %s" % (
            req, "refused" if accepted else "accepted")
    return send


def refuse_with(req, payload, mkfds):
    return sender(req, payload, mkfds)


def accept_with(req, payload, mkfds):
    return sender(req, payload, mkfds, True)


def bad_tables(g, fd2):
    r = g.region()
    return (("zero size", mem_table([(0, 0, 0, 0)]), 1),
            ("count != fds", mem_table([r, (1 << 30, 4096, 1 << 40, 0)]), 1),
            ("9 regions", mem_table([r] * 9), 8),
            ("gpa overlap", mem_table([(0, 8192, 0, 0),
                                       (4096, 8192, 1 << 30, 0)]), 2),
            ("qva overlap", mem_table([(0, 8192, 0, 0),
                                       (1 << 30, 8192, 4096, 0)]), 2),
            ("gpa wraps", mem_table([(2 ** 64 - 4096, 8192, 0, 0)]), 1),
            ("offset past fd", mem_table([(0, 4096, 0, g.size)]), 1),
            ("size past fd", mem_table([(0, 2 * g.size, 0, 0)]), 1),
            ("offset+size wraps", mem_table([(0, 4096, 0, 2 ** 64 - 4096)]),
             1),
            ("2nd region past fd", mem_table([(0, 4096, 0, 0),
                                              (1 << 30, 2 * g.size, 1 << 40,
                                               0)]), 2),
            ("size field short", mem_table([r])[:-8], 1))


def refused_fds_no_leak(d):
    """Every kind of refused message that carries fds, and every request
    that replaces an fd or mapping it holds, 200 times on one connection:
    the daemon's fds and mappings stay where they were (DPDK's vhost
    leaks an fd per rejected region and per out-of-range vring request)."""
    fe = Frontend(d.path)
    g = Guest(size=1 << 16)
    fd2 = os.memfd_create("ivu-attack-2")
    os.ftruncate(fd2, 1 << 16)
    fe.call(SET_OWNER)
    assert fe.u64(SET_FEATURES, F_VERSION_1) == 0
    for what, p, nfds in bad_tables(g, fd2):
        def fds(n=nfds):
            return [os.dup(g.fd)] + [os.dup(fd2) for _ in range(n - 1)]
        no_growth(d, fe, "SET_MEM_TABLE " + what,
                  refuse_with(SET_MEM_TABLE, p, fds))
    for req in (SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR):
        for idx in (2, 16, 0xff):
            no_growth(d, fe, "request %d vq %d" % (req, idx),
                      refuse_with(req, struct.pack("<Q", idx),
                                  lambda: [efd()]))
        no_growth(d, fe, "request %d with 2 fds" % req,
                  refuse_with(req, struct.pack("<Q", 0),
                              lambda: [efd(), efd()]))
        no_growth(d, fe, "request %d NOFD with an fd" % req,
                  refuse_with(req, struct.pack("<Q", NOFD), lambda: [efd()]))
    no_growth(d, fe, "unknown request with 3 fds",
              refuse_with(40, b"\0" * 8, lambda: [efd(), efd(), efd()]))
    no_growth(d, fe, "IOTLB_MSG with an fd",
              refuse_with(IOTLB_MSG, struct.pack(
                  "<QQQBB6x", IOVA, 4096, REGION_QVA, 3, T_UPDATE),
                  lambda: [efd()]))
    no_growth(d, fe, "SET_LOG_FD with 2 fds",
              refuse_with(SET_LOG_FD, b"", lambda: [efd(), efd()]))
    no_growth(d, fe, "SET_BACKEND_REQ_FD with 2 fds",
              refuse_with(SET_BACKEND_REQ_FD, b"",
                          lambda: [x.detach() for x in socket.socketpair()]))
    # Accepted ones replace what they held.
    no_growth(d, fe, "SET_MEM_TABLE replaced",
              accept_with(SET_MEM_TABLE, g.table(), lambda: [os.dup(g.fd)]))
    g.num = 64
    assert fe.state(SET_VRING_NUM, 0, g.num) == 0
    assert fe.call(SET_VRING_ADDR, g.addr_payload(0)) == 0
    for req in (SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR):
        no_growth(d, fe, "request %d replaced" % req,
                  accept_with(req, struct.pack("<Q", 0), lambda: [efd()]))
    no_growth(d, fe, "SET_LOG_FD replaced",
              accept_with(SET_LOG_FD, b"", lambda: [efd()]))
    no_growth(d, fe, "SET_BACKEND_REQ_FD replaced",
              accept_with(SET_BACKEND_REQ_FD, b"",
                          lambda: [socket.socketpair()[0].detach()]))
    fe.close()
    os.close(fd2)
    g.close()


def closing_fds_no_leak(d):
    """Refused messages with fds that close the connection (a request with
    a reply, too many fds, SET_LOG_BASE without LOG_SHMFD or with a bad
    log), 50 connections each: fds and mappings back where they were."""
    def once(req, payload, nfds, proto=0):
        fe = Frontend(d.path)
        fe.call(SET_OWNER)
        if proto:
            assert fe.u64(SET_PROTOCOL_FEATURES, proto) == 0
        fds = [efd() for _ in range(nfds)]
        try:
            fe.call(req, payload, fds)
            ok = fe.alive()
        except (Closed, OSError):
            ok = False
        for fd in fds:
            os.close(fd)
        fe.close()
        return ok
    log = struct.pack("<QQ", 4096, 0)
    cases = (("GET_FEATURES with an fd", GET_FEATURES, b"", 1, 0),
             ("12 fds", GET_QUEUE_NUM, b"", 12, 0),
             ("SET_LOG_BASE without LOG_SHMFD", SET_LOG_BASE, log, 1, 0),
             ("SET_LOG_BASE on an eventfd", SET_LOG_BASE, log, 1, 1 << 1),
             ("SET_LOG_BASE with 2 fds", SET_LOG_BASE, log, 2, 1 << 1))
    for what, req, p, nfds, proto in cases:
        for _ in range(3):
            once(req, p, nfds, proto)
        fe = Frontend(d.path)
        fe.alive()
        fe.close()
        time.sleep(0.1)
        base = footprint(d)
        for _ in range(50):
            assert not once(req, p, nfds, proto), \
                "%s: connection kept" % what
        fe = Frontend(d.path)
        assert fe.alive()
        fe.close()
        end = time.monotonic() + 2
        while footprint(d)[:2] != base[:2] and time.monotonic() < end:
            time.sleep(0.05)
        now = footprint(d)
        assert now[:2] == base[:2], "%s: fds, mappings %s -> %s" % (
            what, base[:2], now[:2])


# --- a flooding frontend ---------------------------------------------------

FLOOD = 100000
RSS_SLACK_KB = 2048


def flood_no_growth(d):
    """100,000 small valid messages without replies (SET_VRING_ENABLE of
    RX) sent as fast as the socket takes them, while TX frames are posted:
    TX keeps moving during the flood, and the daemon's RSS, fds and
    mappings end where they were; then 100,000 requests whose replies are
    never read: the daemon lets that frontend go (or keeps up), without
    growing, and serves the next."""
    fe, g, kicks = running(d)
    enable = struct.pack("<IIIII", SET_VRING_ENABLE, 1, 8, 0, 1)
    # (SET_VRING_ENABLE of RX takes the control thread's device lock for
    # writing each time: with datapath threads, TX must still get in.)
    fe.s.sendall(enable * 2000)
    assert fe.alive()
    base = footprint(d)
    head = 0
    for batch in range(FLOOD // 2000):
        fe.s.sendall(enable * 2000)
        if batch % 5 == 0 and head < 200:
            gpa, off = g.buf(86)
            g.m[off:off + 86] = bytes(12) + b"\xff" * 6 + \
                b"\x02\0\0\0\0\1\x88\xb5" + b"f" * 60
            g.set_desc(1, head, gpa, 86)
            g.post(1, head, head)
            head += 1
            g.set_avail_idx(1, head)
            os.eventfd_write(kicks[1], 1)
            assert wait_used(g, 1, head, 5) == head, \
                "TX stalled during the flood (%d of %d used)" % (
                    g.used_idx(1), head)
    assert fe.alive(), "connection lost in the flood"
    now = footprint(d)
    assert now[:2] == base[:2], "fds, mappings %s -> %s in the flood" % (
        base[:2], now[:2])
    assert now[2] - base[2] <= RSS_SLACK_KB, \
        "RSS %d kB -> %d kB after %d messages" % (base[2], now[2], FLOOD)
    # Replies never read.
    send_until_stuck(fe.s, struct.pack("<III", GET_QUEUE_NUM, 1, 0), FLOOD)
    rss = proc_status(d.p.pid, "VmRSS")
    assert rss - base[2] <= RSS_SLACK_KB, \
        "RSS %d kB -> %d kB with replies unread" % (base[2], rss)
    done(fe, g)


def flood_no_growth_threads(d):
    """flood_no_growth with the rings on two datapath threads."""
    restart(d, "--threads", "2")
    return flood_no_growth(d)


ACCESS_CHECKS = [
    ("access-socket-mode", access_socket_mode),
    ("access-foreign-uid", access_foreign_uid),
    ("access-allowed", access_allowed),
    ("access-client-foreign-server", access_client_foreign_server),
    ("access-bind-race", access_bind_race),
    ("access-refused-flood", access_refused_flood),
    ("access-many-groups", access_many_groups),
    ("refused-fds-no-leak", refused_fds_no_leak),
    ("closing-fds-no-leak", closing_fds_no_leak),
    ("flood-no-growth", flood_no_growth),
    ("flood-no-growth-threads", flood_no_growth_threads),
]
