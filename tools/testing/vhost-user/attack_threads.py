# SPDX-License-Identifier: GPL-2.0
"""The datapath threads (issue 19) for attack-ivhost-user: the rings run
while the control socket is stalled by its frontend, and with RX and TX
on two workers both move frames while messages keep coming.  Listed in
attack_checks.CHECKS; they use its helpers."""
import fcntl
import os
import select
import signal
import struct
import subprocess
import time

from attack_client import *  # noqa: F401,F403
from attack_checks import done, efd, inject_frames, running, tx_chain, wait_used  # noqa: E402
from attack_notifier import tx_frame  # noqa: E402

# The daemon's promise: a message cut short is dropped within 5 s per
# part (header, payload); allow scheduling slack on a loaded machine.
STALL_BOUND = 12.0


def post_rx(g, n, length=2048):
    """Post @n writable buffers on the RX ring (vq 0)."""
    for i in range(n):
        gpa, _ = g.buf(length)
        g.set_desc(0, i, gpa, length, D_WRITE)
        g.post(0, i, i)
    g.set_avail_idx(0, n)


def closed_within(fe, secs):
    """Seconds until the daemon closed the connection, or None."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < secs:
        if select.select([fe.s], [], [], 0.2)[0]:
            if fe.s.recv(64) == b"":
                return time.monotonic() - t0
    return None


def stall_mid_message(d):
    """A frontend sends a header (SET_VRING_NUM, 8 bytes of payload due)
    and never the payload.  Meanwhile the rings it started go on: a TX
    chain posted and kicked is used, and frames arriving on the tap land
    in RX buffers, well before the daemon gives up on the message; then
    it drops the connection within its bound."""
    fe, g, kicks = running(d)
    post_rx(g, 4)
    os.eventfd_write(kicks[0], 1)
    time.sleep(0.2)
    fe.s.send(struct.pack("<III", SET_VRING_NUM, 1, 8))   # no payload
    t0 = time.monotonic()
    time.sleep(0.3)
    tx_frame(g, 0, b"stall-tx")
    os.eventfd_write(kicks[1], 1)
    inject_frames(2)
    tx = wait_used(g, 1, 1, timeout=2)
    rx = wait_used(g, 0, 2, timeout=2)
    late = time.monotonic() - t0
    assert tx == 1, "TX chain not used while the socket stalled (used %d)" % tx
    assert rx >= 2, "RX frames not placed while the socket stalled (used %d)" % rx
    assert late < 4.5, "the rings moved only after %.1f s" % late
    gone = closed_within(fe, STALL_BOUND)
    assert gone is not None, \
        "connection still open %.0f s into a stalled message" % STALL_BOUND
    done(fe, g)


def threads_traffic_with_messages(d):
    """--threads 2: RX (vq 0) and TX (vq 1) run on two workers.  TX
    chains posted in batches and RX frames from the tap both complete
    while the frontend keeps sending messages that take the device
    (SET_VRING_ENABLE, GET_FEATURES) between them."""
    d.restart("--threads", "2")
    fe, g, kicks = running(d)
    post_rx(g, 64)
    os.eventfd_write(kicks[0], 1)
    sent = 0
    for batch in range(8):
        for _ in range(8):
            tx_frame(g, sent, b"thr-%04d" % sent)
            sent += 1
        os.eventfd_write(kicks[1], 1)
        inject_frames(6)
        for _ in range(20):
            assert fe.state(SET_VRING_ENABLE, 1, 1) == 0
            assert fe.call(GET_FEATURES, flags=1) != 0
    tx = wait_used(g, 1, sent, timeout=5)
    rx = wait_used(g, 0, 48, timeout=5)
    assert tx == sent, "%d of %d TX chains used" % (tx, sent)
    assert rx == 48, "%d of 48 RX frames placed" % rx
    done(fe, g)


def _blocking_full(fds, vq):
    """A full eventfd, kept: the frontend clears O_NONBLOCK on it later."""
    fds[vq] = eventfd()
    os.eventfd_write(fds[vq], 0xfffffffffffffffe)
    return fds[vq]


def call_fd_blocking_again(d):
    """--threads 2.  The call eventfd is full, and once the daemon made it
    non-blocking the frontend clears O_NONBLOCK again on its own copy
    (the same open file).  A TX chain kicked makes the worker interrupt
    the guest: it must not block there for good.  The frontend's next
    messages are answered within a bound, and the daemon still ends on
    SIGTERM and serves the next frontend."""
    d.restart("--threads", "2")
    fds = {}
    fe, g, kicks = running(d, call=lambda vq: _blocking_full(fds, vq))
    for fd in fds.values():
        fcntl.fcntl(fd, fcntl.F_SETFL,
                    fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    tx_chain(g)
    g.post(1, 0, 0)
    g.set_avail_idx(1, 1)
    os.eventfd_write(kicks[1], 1)
    time.sleep(0.3)
    t0 = time.monotonic()
    for _ in range(3):
        assert fe.alive(), "no answer: a worker blocked on the call eventfd"
    assert time.monotonic() - t0 < 3, "3 messages took %.1f s" % \
        (time.monotonic() - t0)
    done(fe, g)
    for fd in fds.values():
        os.close(fd)


def err_fd_blocking_control(d):
    """The err eventfd is full and made blocking again by the frontend
    after SET_VRING_ERR.  SET_VRING_ADDR moves a started TX ring outside
    guest memory: the control thread stops the ring and signals its err
    eventfd.  That must not block it for good: the request is answered
    (refused or not) within a bound, and the daemon goes on serving."""
    fds = {}
    fe, g, kicks = running(d, err=lambda vq: _blocking_full(fds, vq))
    for fd in fds.values():
        fcntl.fcntl(fd, fcntl.F_SETFL,
                    fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    bad = struct.pack("<IIQQQQ", 1, 0, 1 << 50, 1 << 50, 1 << 50, 0)
    fe.s.settimeout(4)
    try:
        fe.call(SET_VRING_ADDR, bad)
    except (Closed, OSError):
        pass
    fe.close()
    fe2 = Frontend(d.path)
    assert fe2.alive(), "no answer: the control thread blocked on the err eventfd"
    fe2.close()
    g.close()
    for fd in fds.values():
        os.close(fd)


def client_connect_backlog_full(d):
    """--client, and the path is a listener that accepts nobody with its
    backlog full: the daemon's connect must not block for good.  It still
    ends on SIGTERM within a bound.  (A fresh daemon in server mode is left
    for the harness.)"""
    import socket
    d.halt()
    if os.path.exists(d.path):
        os.unlink(d.path)
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(d.path)
    ls.listen(0)
    filler = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    filler.connect(d.path)
    try:
        d.start("--client", "--threads", "2")
        time.sleep(0.5)
        d.p.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        try:
            d.p.wait(4)
        except subprocess.TimeoutExpired:
            d.p.kill()
            d.p.wait()
            raise AssertionError("SIGTERM not obeyed: the daemon blocked "
                                 "connecting to a full backlog")
        assert time.monotonic() - t0 < 4
    finally:
        filler.close()
        ls.close()
        d.restart()


def sigterm_threads_quiet_exit(d):
    """--threads 2, a frontend connected with its RX ring waiting on the
    tap: SIGTERM ends the daemon with status 0, and its log says nothing
    went wrong on the way out (no failed system call, no epoll error)."""
    d.restart("--threads", "2")
    fe, g, kicks = running(d)
    post_rx(g, 4)
    os.eventfd_write(kicks[0], 1)
    time.sleep(0.3)
    mark = len(d.logtext())
    d.p.send_signal(signal.SIGTERM)
    status = d.p.wait(5)
    tail = d.logtext()[mark:]
    d.restart()
    done(fe, g)
    assert status == 0, "exit status %d" % status
    bad = [line for line in tail.splitlines()
           if "epoll" in line or "Bad file descriptor" in line]
    assert not bad, "at exit: %s" % bad[0]


def err_signal_survives_restart(d):
    """A message that stops a started ring (SET_VRING_ADDR outside guest
    memory) signals its err eventfd, even when the next message, in the
    same send, starts the ring again (SET_VRING_ADDR back in memory)
    before its worker ran: each of 20 stops is signalled, once."""
    errs = {}
    fe, g, kicks = running(d, err=lambda vq: errs.setdefault(vq, efd()))
    bad = struct.pack("<IIQQQQ", 1, 0, 1 << 50, 1 << 50, 1 << 50, 0)
    good = g.addr_payload(1)
    hdr = struct.pack("<III", SET_VRING_ADDR, NEED_REPLY, len(bad))
    lost = 0
    for _ in range(20):
        fe.s.sendall(hdr + bad + hdr + good)
        fe.reply(SET_VRING_ADDR)
        fe.reply(SET_VRING_ADDR)
        if not select.select([errs[1]], [], [], 1.0)[0]:
            lost += 1
            continue
        n = os.eventfd_read(errs[1])
        assert n == 1, "one stop signalled %d times" % n
    assert lost == 0, "%d of 20 stops never signalled on the err " \
        "eventfd (the ring restarted before its worker ran)" % lost
    assert fe.alive()
    done(fe, g)
    for fd in errs.values():
        os.close(fd)


def call_fd_blocking_nudge_masked(d):
    """call_fd_blocking_again with the daemon started by a parent that
    blocks SIGUSR2 (a signal mask is inherited across exec): the workers
    must still be interruptible, or a message waits for ever."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})
    try:
        call_fd_blocking_again(d)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def memfd_truncated_sigbus_masked(d):
    """memfd-truncated with the daemon started by a parent that blocks
    SIGBUS: a fault on guest memory with SIGBUS blocked kills a process,
    so the daemon must unblock it to keep its promise."""
    from attack_checks import memfd_truncated
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGBUS})
    try:
        d.restart()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    memfd_truncated(d)


THREAD_CHECKS = [
    ("stall-mid-message-rings-run", stall_mid_message),
    ("threads-traffic-with-messages", threads_traffic_with_messages),
    ("call-fd-blocking-again", call_fd_blocking_again),
    ("err-fd-blocking-control", err_fd_blocking_control),
    ("client-connect-backlog-full", client_connect_backlog_full),
    ("sigterm-threads-quiet-exit", sigterm_threads_quiet_exit),
    ("err-signal-survives-restart", err_signal_survives_restart),
    ("call-fd-blocking-nudge-masked", call_fd_blocking_nudge_masked),
    ("memfd-truncated-sigbus-masked", memfd_truncated_sigbus_masked),
]
