# SPDX-License-Identifier: GPL-2.0
"""The checks of attack-ivhost-user: each takes the Daemon, attacks it and
returns None (the runner then checks liveness, leaks and spinning) or why
it failed.  AssertionError also fails the check with its message."""
import os
import select
import signal
import socket
import struct
import threading
import time

from attack_client import *  # noqa: F401,F403

TAP = "ivuatk0"


def refused(d, req, payload=b"", fds=(), flags=NEED_REPLY, size=None,
            what=""):
    """The request is refused: a non-zero reply, or the connection closed."""
    fe = Frontend(d.path)
    try:
        fe.call(SET_OWNER)
        r = fe.call(req, payload, fds, flags, size)
        assert r != 0, "%s accepted (request %d)" % (what or "bad message", req)
        # Still a working connection after a clean refusal.
        assert fe.alive(), "%s: connection unusable after refusal" % what
    except (Closed, ConnectionResetError, BrokenPipeError):
        pass
    finally:
        fe.close()
        for fd in fds:
            os.close(fd)


def efd():
    return eventfd(nonblock=True)


def running(d, features=F_VERSION_1, **kw):
    """A frontend with a guest and both rings started."""
    fe = Frontend(d.path)
    g = Guest()
    kicks = setup_device(fe, g, features, **kw)
    return fe, g, kicks


def done(fe, g):
    fe.close()
    g.close()


def readable(fd, timeout):
    return bool(select.select([fd], [], [], timeout)[0])


# --- the protocol ----------------------------------------------------------

def bad_sizes(d):
    for req, size in ((SET_FEATURES, 4), (SET_FEATURES, 16), (SET_VRING_NUM, 4),
                      (SET_VRING_ADDR, 8), (SET_VRING_BASE, 12),
                      (GET_VRING_BASE, 0), (SET_VRING_KICK, 4),
                      (NET_SET_MTU, 0), (SET_PROTOCOL_FEATURES, 2)):
        refused(d, req, b"\0" * size, what="size %d" % size)


def unknown_requests(d):
    for req in (0, 6, 7, 19, 23, 40, 0xffffffff):
        refused(d, req, b"\0" * 8, what="unknown request")


def bad_flags(d):
    for flags in (0x0, 0x2, 0x3, 0x5, 0xd):
        refused(d, GET_QUEUE_NUM, flags=flags, what="flags 0x%x" % flags)


def truncated_header(d):
    fe = Frontend(d.path)
    fe.s.send(struct.pack("<II", GET_FEATURES, 1))
    fe.close()
    fe = Frontend(d.path)
    fe.send(SET_FEATURES, b"\0" * 3, size=8)   # payload cut short
    fe.close()


def payload_too_big(d):
    fe = Frontend(d.path)
    try:
        fe.send(SET_MEM_TABLE, b"\0" * 640)
        fe.reply(SET_MEM_TABLE)
        assert False, "633+ byte payload answered"
    except (Closed, ConnectionResetError, BrokenPipeError):
        pass
    fe.close()


def too_many_fds(d):
    refused(d, GET_FEATURES, fds=[efd() for _ in range(12)], what="12 fds")
    refused(d, SET_OWNER, fds=[efd()], what="SET_OWNER with an fd")
    refused(d, SET_VRING_CALL, struct.pack("<Q", 0), fds=[efd(), efd()],
            what="CALL with 2 fds")
    refused(d, SET_BACKEND_REQ_FD, what="BACKEND_REQ_FD without fd")


def mem_table_bad(d):
    g = Guest(size=1 << 16)
    fd2 = os.memfd_create("ivu-attack-2")
    os.ftruncate(fd2, 1 << 16)
    r = g.region()
    cases = [
        ("zero regions", mem_table([]), []),
        ("9 regions", mem_table([r] * 9), [g.fd] * 8),
        ("count != fds", mem_table([r, (0, 4096, 0, 0)]), [g.fd]),
        ("zero size", mem_table([(0, 0, 0, 0)]), [g.fd]),
        ("gpa overlap", mem_table([(0, 8192, 0, 0), (4096, 8192, 1 << 30, 0)]),
         [g.fd, fd2]),
        ("qva overlap", mem_table([(0, 8192, 0, 0), (1 << 30, 8192, 4096, 0)]),
         [g.fd, fd2]),
        ("gpa wraps", mem_table([(2 ** 64 - 4096, 8192, 0, 0)]), [g.fd]),
        ("offset past fd", mem_table([(0, 4096, 0, 1 << 16)]), [g.fd]),
        ("size past fd", mem_table([(0, 1 << 20, 0, 0)]), [g.fd]),
        ("offset+size wraps", mem_table([(0, 4096, 0, 2 ** 64 - 4096)]), [g.fd]),
        ("huge", mem_table([(0, 1 << 62, 0, 0)]), [g.fd]),
        ("size field short", mem_table([r])[:-8], [g.fd]),
    ]
    for what, p, fds in cases:
        refused(d, SET_MEM_TABLE, p, [os.dup(f) for f in fds], what=what)
    rd, wr = os.pipe()
    rdonly = os.open("/proc/self/exe", os.O_RDONLY)
    for what, fd in (("pipe", rd), ("read-only file", rdonly),
                     ("socket", socket.socket().detach())):
        refused(d, SET_MEM_TABLE, mem_table([(0, 4096, 0, 0)]), [fd],
                what="region fd " + what)
    os.close(wr)
    os.close(fd2)
    g.close()


VRING_MSGS = (
    (SET_VRING_NUM, lambda i: struct.pack("<II", i, 256), False),
    (SET_VRING_BASE, lambda i: struct.pack("<II", i, 0), False),
    (SET_VRING_ADDR, lambda i: struct.pack("<IIQQQQ", i, 0, 0, 0, 0, 0), False),
    (SET_VRING_ENABLE, lambda i: struct.pack("<II", i, 1), False),
    (GET_VRING_BASE, lambda i: struct.pack("<II", i, 0), False),
    (SET_VRING_KICK, lambda i: struct.pack("<Q", i), True),
    (SET_VRING_CALL, lambda i: struct.pack("<Q", i), True),
    (SET_VRING_ERR, lambda i: struct.pack("<Q", i), True),
)


def vring_index(d):
    for req, pay, with_fd in VRING_MSGS:
        for idx in (2, 16, 255, 0xffffffff if not with_fd else 0xff):
            refused(d, req, pay(idx), [efd()] if with_fd else [],
                    what="vq index %d" % idx)


def vring_values(d):
    for num in (0, 3, 100, 32769, 65536):
        refused(d, SET_VRING_NUM, struct.pack("<II", 0, num), what="num %d" % num)
    refused(d, SET_VRING_BASE, struct.pack("<II", 0, 0x10000), what="base 64K")
    refused(d, SET_VRING_ENABLE, struct.pack("<II", 0, 2), what="enable 2")
    refused(d, SET_VRING_KICK, struct.pack("<Q", NOFD), [efd()],
            what="NOFD with an fd")
    refused(d, SET_VRING_CALL, struct.pack("<Q", 0), what="no NOFD, no fd")
    fe = Frontend(d.path)
    assert fe.u64(SET_VRING_CALL, NOFD) == 0, "NOFD without fd refused"
    r = fe.call(GET_VRING_BASE, struct.pack("<II", 1, 0))
    assert struct.unpack("<II", r) == (1, 0), "GET_VRING_BASE never-started"
    fe.close()


def ring_addresses(d):
    g = Guest()
    bad = (("outside", REGION_QVA + (1 << 21), 0, 0),
           ("unaligned desc", REGION_QVA + 8, 0, 0),
           ("unaligned used", 0, 0, REGION_QVA + 0x8002),
           ("past the end", REGION_QVA + g.size - 64, 0, 0),
           ("before", REGION_QVA - 4096, 0, 0))
    for what, dsc, avail, used in bad:
        fe = Frontend(d.path)
        fe.call(SET_OWNER)
        fe.u64(SET_FEATURES, F_VERSION_1)
        fe.call(SET_MEM_TABLE, g.table(), [g.fd])
        fe.state(SET_VRING_NUM, 1, 256)
        a = list(struct.unpack("<IIQQQQ", g.addr_payload(1)))
        a[2] = dsc or a[2]
        a[4] = avail or a[4]
        a[3] = used or a[3]
        fe.call(SET_VRING_ADDR, struct.pack("<IIQQQQ", *a))
        k = efd()
        try:
            assert fe.u64(SET_VRING_KICK, 1, [k]) != 0, "ring " + what + " started"
        except Closed:
            pass
        os.close(k)
        fe.close()
    g.close()


def hostile_fds_everywhere(d):
    """Every request with an extra fd of each kind: refused, fd not kept."""
    for req in (GET_FEATURES, SET_FEATURES, SET_OWNER, SET_VRING_NUM,
                SET_VRING_BASE, GET_QUEUE_NUM, SET_VRING_ENABLE, NET_SET_MTU):
        rd, wr = os.pipe()
        refused(d, req, b"\0" * (0 if req in (GET_FEATURES, SET_OWNER,
                                               GET_QUEUE_NUM) else 8),
                [rd], what="stray fd")
        os.close(wr)


# --- while running -----------------------------------------------------------

def tx_chain(g, vq=1, head=0, length=80):
    gpa, _ = g.buf(length)
    g.set_desc(vq, head, gpa, length)
    return gpa


def set_mem_table_running(d):
    fe, g, kicks = running(d)
    tx_chain(g)
    g.post(1, 0, 0)
    g.set_avail_idx(1, 1)
    os.eventfd_write(kicks[1], 1)
    time.sleep(0.1)
    assert g.used_idx(1) == 1, "TX chain not used"
    # A second table: same layout in a new memfd; the old is unmapped.
    g2 = Guest()
    g2.m[:] = g.m[:]
    assert fe.call(SET_MEM_TABLE, g2.table(), [g2.fd]) == 0
    g.close()
    tx_chain(g2, head=1)
    g2.post(1, 1, 1)
    g2.set_avail_idx(1, 2)
    os.eventfd_write(kicks[1], 1)
    time.sleep(0.1)
    assert g2.used_idx(1) == 2, "TX after the new table did not run"
    assert d.maps() == 1, "%d guest mappings after replacing the table" % d.maps()
    done(fe, g2)


def reset_and_refeature_running(d):
    fe, g, kicks = running(d)
    assert fe.u64(SET_FEATURES, F_VERSION_1 | F_MRG_RXBUF | F_EVENT_IDX) == 0
    tx_chain(g)
    g.post(1, 0, 0)
    g.set_avail_idx(1, 1)
    os.eventfd_write(kicks[1], 1)
    assert fe.call(RESET_OWNER) == 0
    os.eventfd_write(kicks[1], 1)
    assert fe.alive()
    done(fe, g)


def disconnect_running(d):
    for _ in range(5):
        fe, g, kicks = running(d)
        tx_chain(g)
        g.post(1, 0, 0)
        g.set_avail_idx(1, 1)
        os.eventfd_write(kicks[1], 1)
        done(fe, g)


def ring_broken(d, mutate, what, features=F_VERSION_1):
    """The guest breaks TX: the ring stops, err eventfd fires, nothing used."""
    errs = {}
    fe, g, kicks = running(d, features,
                           err=lambda vq: errs.setdefault(vq, efd()))
    mutate(g)
    os.eventfd_write(kicks[1], 1)
    assert readable(errs[1], 2), what + ": err eventfd not signalled"
    assert g.used_idx(1) == 0, what + ": chain used"
    assert fe.alive()
    done(fe, g)


def avail_jump(d):
    def m(g):
        tx_chain(g)
        g.post(1, 0, 0)
        g.set_avail_idx(1, g.num + 1)
    ring_broken(d, m, "avail idx + num + 1")


def desc_loop(d):
    def m(g):
        gpa, _ = g.buf(64)
        g.set_desc(1, 0, gpa, 64, D_NEXT, 1)
        g.set_desc(1, 1, gpa, 64, D_NEXT, 0)
        g.post(1, 0, 0)
        g.set_avail_idx(1, 1)
    ring_broken(d, m, "loop")


def desc_bad(d):
    def outside(g):
        g.set_desc(1, 0, REGION_GPA + g.size - 8, 64)
        g.post(1, 0, 0)
        g.set_avail_idx(1, 1)

    def huge(g):
        g.set_desc(1, 0, REGION_GPA, 0xffffffff)
        g.post(1, 0, 0)
        g.set_avail_idx(1, 1)

    def head(g):
        g.post(1, 0, g.num)
        g.set_avail_idx(1, 1)

    def next_oob(g):
        g.set_desc(1, 0, REGION_GPA + BUF_BASE, 64, D_NEXT, 0xffff)
        g.post(1, 0, 0)
        g.set_avail_idx(1, 1)

    def read_after_write(g):
        g.set_desc(1, 0, REGION_GPA + BUF_BASE, 64, D_NEXT | D_WRITE, 1)
        g.set_desc(1, 1, REGION_GPA + BUF_BASE, 64, 0)
        g.post(1, 0, 0)
        g.set_avail_idx(1, 1)

    for f in (outside, huge, head, next_oob, read_after_write):
        ring_broken(d, f, f.__name__)


def indirect_bad(d):
    tbl = BUF_BASE + 0x10000

    def table(g, length, inner_flags=0, gpa=None):
        g.set_desc(1, 0, REGION_GPA + tbl if gpa is None else gpa, length,
                   D_INDIRECT)
        g.set_desc(1, 0, REGION_GPA + BUF_BASE, 64, inner_flags, 0, table=tbl)
        g.post(1, 0, 0)
        g.set_avail_idx(1, 1)

    cases = (("indirect in indirect", lambda g: table(g, 16, D_INDIRECT)),
             ("indirect len 24", lambda g: table(g, 24)),
             ("indirect len 0", lambda g: table(g, 0)),
             ("indirect huge", lambda g: table(g, 0xfffffff0)),
             ("indirect outside", lambda g: table(g, 16, 0, REGION_GPA - 16)),
             ("indirect loop", lambda g: table(g, 32, D_NEXT)))
    for what, f in cases:
        ring_broken(d, f, what, F_VERSION_1 | F_INDIRECT)


# --- hostile fds for the rings and a hostile guest -----------------------

def kick_shared_eventfd(d):
    """One blocking eventfd is the kick of both rings: one kick, two wakeups;
    the daemon must not block reading it the second time."""
    shared = eventfd()
    fe, g, kicks = running(d, kick=lambda vq: shared)
    os.eventfd_write(shared, 1)
    time.sleep(0.2)
    assert fe.alive(), "daemon blocked after a kick on a shared eventfd"
    done(fe, g)


def kick_pipe_hup(d):
    """The kick is a pipe whose writer is gone: always readable, EOF."""
    rd, wr = os.pipe()
    fe, g, kicks = running(d, kick=lambda vq: os.dup(rd) if vq else efd())
    os.close(wr)
    os.close(rd)
    c0 = d.cpu()
    time.sleep(0.5)
    spent = d.cpu() - c0
    assert spent < 0.25, "%.2f s CPU in 0.5 s with a hung-up pipe kick" % spent
    assert fe.alive()
    done(fe, g)


def kick_odd_fds(d):
    """A socket, a regular file and a pipe as kick fds."""
    for mk in (lambda: socket.socketpair()[0].detach(),
               lambda: os.open("/proc/self/exe", os.O_RDONLY),
               lambda: os.pipe()[0]):
        fe, g, kicks = running(d, kick=lambda vq: mk())
        assert fe.alive()
        done(fe, g)


def full_eventfd():
    """A blocking eventfd at its maximum: one more write would block."""
    fd = eventfd()
    os.eventfd_write(fd, 0xfffffffffffffffe)
    return fd


def err_eventfd_full(d):
    fe, g, kicks = running(d, err=lambda vq: full_eventfd())
    g.set_avail_idx(1, g.num + 1)
    os.eventfd_write(kicks[1], 1)
    time.sleep(0.2)
    assert fe.alive(), "daemon blocked writing a full err eventfd"
    done(fe, g)


def call_eventfd_full(d):
    fe, g, kicks = running(d, call=lambda vq: full_eventfd())
    tx_chain(g)
    g.post(1, 0, 0)
    g.set_avail_idx(1, 1)
    os.eventfd_write(kicks[1], 1)
    time.sleep(0.2)
    assert fe.alive(), "daemon blocked writing a full call eventfd"
    done(fe, g)


def inject_frames(n=3, length=200):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((TAP, 0))
    frame = b"\xff" * 6 + b"\x02\0\0\0\0\1" + b"\x88\xb5" + b"x" * (length - 14)
    for _ in range(n):
        s.send(frame)
    s.close()


def rx_tiny_buffers(d):
    """Mergeable RX, the guest posts two 16-byte buffers: a frame can't fit;
    the daemon waits for more, it does not spin or hang."""
    fe, g, kicks = running(d, F_VERSION_1 | F_MRG_RXBUF)
    for i in range(2):
        gpa, _ = g.buf(16)
        g.set_desc(0, i, gpa, 16, D_WRITE)
        g.post(0, i, i)
    g.set_avail_idx(0, 2)
    os.eventfd_write(kicks[0], 1)
    inject_frames()
    time.sleep(0.3)
    c0 = d.cpu()
    time.sleep(0.5)
    spent = d.cpu() - c0
    assert fe.alive(), "daemon stuck with too small RX buffers"
    assert spent < 0.25, "%.2f s CPU in 0.5 s waiting for RX buffers" % spent
    done(fe, g)


def rx_mergeable_ok(d):
    """Holds: the same frame placed over many small buffers, num_buffers set."""
    fe, g, kicks = running(d, F_VERSION_1 | F_MRG_RXBUF)
    for i in range(64):
        gpa, _ = g.buf(16)
        g.set_desc(0, i, gpa, 16, D_WRITE)
        g.post(0, i, i)
    g.set_avail_idx(0, 64)
    os.eventfd_write(kicks[0], 1)
    inject_frames(1, 200)
    end = time.monotonic() + 2
    while g.used_idx(0) == 0 and time.monotonic() < end:
        time.sleep(0.02)
    assert g.used_idx(0) > 1, "frame not spread over small buffers"
    done(fe, g)


def memfd_truncated(d):
    """The frontend shrinks the memfd under running rings: no SIGBUS death."""
    errs = {}
    fe, g, kicks = running(d, err=lambda vq: errs.setdefault(vq, efd()))
    tx_chain(g)
    g.post(1, 0, 0)
    g.set_avail_idx(1, 1)
    os.ftruncate(g.fd, 0)
    os.eventfd_write(kicks[1], 1)
    os.eventfd_write(kicks[0], 1)
    time.sleep(0.2)
    assert d.p.poll() is None, "daemon died (status %s)" % d.p.returncode
    assert fe.alive(), "no reply after the memfd shrank"
    assert readable(errs[1], 1), "TX ring not stopped (err eventfd)"
    fe.close()
    os.close(g.fd)


def sigterm_connected(d):
    """SIGTERM with a frontend connected and rings running: a clean exit
    with the counters (the runner's checks do not apply: returns "")."""
    fe, g, kicks = running(d)
    d.p.send_signal(signal.SIGTERM)
    try:
        rc = d.p.wait(3)
    except Exception:
        return "no exit within 3 s of SIGTERM"
    done(fe, g)
    if rc != 0:
        return "exit status %d after SIGTERM" % rc
    if "connections 1" not in d.logtext():
        return "no counters printed"
    return ""


# --- a frame held for RX, rings disabled or broken ---------------------------

F_NOTIFY_ON_EMPTY = 1 << 24
F_PROTOCOL_FEATURES = 1 << 30


def rx_post(g, n=1, length=2048, start=0):
    """Post @n writable RX buffers of @length from avail slot @start (head
    = slot); returns their region offsets by head."""
    offs = {}
    for i in range(start, start + n):
        gpa, offs[i] = g.buf(length)
        g.set_desc(0, i, gpa, length, D_WRITE)
        g.post(0, i, i)
    g.set_avail_idx(0, start + n)
    return offs


def used_elem(g, vq, i):
    """(id, len) of used entry @i."""
    return struct.unpack_from("<II", g.m, g.used_off(vq) + 4 + 8 * i)


def used_len(g, vq, i):
    return used_elem(g, vq, i)[1]


def ours(g, offs, i, hdr):
    """Used entry @i of RX is a frame of inject_frames() read with a
    @hdr-byte header (the tap also carries the kernel's own IPv6 frames)."""
    head = used_elem(g, 0, i)[0]
    off = offs[head] + hdr + 12
    return g.m[off:off + 2] == b"\x88\xb5"


def wait_used(g, vq, n, timeout=2):
    end = time.monotonic() + timeout
    while g.used_idx(vq) < n and time.monotonic() < end:
        time.sleep(0.02)
    return g.used_idx(vq)


def idle_cpu(d, secs=0.5):
    c0 = d.cpu()
    time.sleep(secs)
    return d.cpu() - c0


def rx_held_next_connection(d):
    """A frame read for one frontend (held: no RX buffers) never reaches
    the next frontend's guest."""
    fe, g, kicks = running(d)
    inject_frames(1)
    time.sleep(0.2)
    done(fe, g)
    time.sleep(0.1)
    fe, g, kicks = running(d)
    offs = rx_post(g, 4)
    os.eventfd_write(kicks[0], 1)
    time.sleep(0.3)
    n = sum(ours(g, offs, i, 12) for i in range(g.used_idx(0)))
    done(fe, g)
    assert n == 0, "%d frame(s) of the previous frontend delivered" % n


def rx_held_refeature(d):
    """A frame held with a 12-byte header is not delivered after
    SET_FEATURES made the header 10 bytes (a stale-size write)."""
    fe, g, kicks = running(d)              # VERSION_1: 12-byte header
    inject_frames(1, 200)
    time.sleep(0.2)
    assert fe.u64(SET_FEATURES, 0) == 0    # legacy: 10-byte header
    inject_frames(1, 200)
    time.sleep(0.1)
    offs = rx_post(g, 4)
    os.eventfd_write(kicks[0], 1)
    time.sleep(0.3)
    n = g.used_idx(0)
    stale = [i for i in range(n) if ours(g, offs, i, 12)]
    good = [i for i in range(n) if ours(g, offs, i, 10)]
    done(fe, g)
    assert not stale, "a frame with the old 12-byte header delivered"
    assert good, "the frame injected after SET_FEATURES not delivered"


def disabled_rings_no_spin(d):
    """PROTOCOL_FEATURES, rings started but disabled: frames on the tap and
    a kick storm on TX cost no CPU and move nothing; once enabled, RX gets
    the frame and TX its chain."""
    fe, g, kicks = running(d, F_VERSION_1 | F_PROTOCOL_FEATURES)
    rx_post(g, 4)
    tx_chain(g)
    g.post(1, 0, 0)
    g.set_avail_idx(1, 1)
    inject_frames(3)
    for _ in range(200):
        os.eventfd_write(kicks[1], 1)
        os.eventfd_write(kicks[0], 1)
    time.sleep(0.2)
    spent = idle_cpu(d)
    assert spent < 0.25, "%.2f s CPU in 0.5 s with disabled rings" % spent
    assert g.used_idx(0) == 0 and g.used_idx(1) == 0, "a disabled ring moved"
    assert fe.state(SET_VRING_ENABLE, 0, 1) == 0
    assert fe.state(SET_VRING_ENABLE, 1, 1) == 0
    assert wait_used(g, 0, 1) >= 1, "RX frame not delivered once enabled"
    assert wait_used(g, 1, 1) == 1, "TX chain not used once enabled"
    done(fe, g)


def rx_bad_chain_given_back(d):
    """Mergeable RX: a frame spans a good chain and a readable one.  The
    ring breaks; nothing is consumed (GET_VRING_BASE 0, no underflow);
    restarted with a good chain, the held frame arrives."""
    errs = {}
    fe, g, kicks = running(d, F_VERSION_1 | F_MRG_RXBUF,
                           err=lambda vq: errs.setdefault(vq, efd()))
    gpa, off0 = g.buf(64)
    g.set_desc(0, 0, gpa, 64, D_WRITE)
    gpa, _ = g.buf(512)
    g.set_desc(0, 1, gpa, 512)             # readable: bad for RX
    g.post(0, 0, 0)
    g.post(0, 1, 1)
    g.set_avail_idx(0, 2)
    os.eventfd_write(kicks[0], 1)
    inject_frames(1, 200)
    assert readable(errs[0], 2), "bad RX chain: err eventfd not signalled"
    fe.send(GET_VRING_BASE, struct.pack("<II", 0, 0), flags=0x1)
    base = struct.unpack("<II", fe.reply(GET_VRING_BASE))[1]
    assert base == 0, "GET_VRING_BASE %d after a bad chain, want 0" % base
    assert g.used_idx(0) == 0, "chains of a broken ring used"
    g.set_desc(0, 1, gpa, 512, D_WRITE)    # repaired
    assert fe.state(SET_VRING_BASE, 0, 0) == 0
    assert fe.u64(SET_VRING_KICK, 0, [efd()]) == 0
    n = wait_used(g, 0, 1)
    assert n >= 1, "held frame not delivered after the repair"
    assert ours(g, {0: off0}, 0, 12), "held frame not the first delivered"
    assert sum(used_len(g, 0, i) for i in range(n)) == 212, \
        "held frame delivered with %s bytes" % [used_len(g, 0, i)
                                                  for i in range(n)]
    done(fe, g)


def notify_on_empty_bad_call(d):
    """NOTIFY_ON_EMPTY with no call fd (NOFD) on TX and a pipe nobody
    reads (reader closed) on RX: chains used, no crash, no SIGPIPE."""
    rd, wr = os.pipe()
    os.close(rd)
    calls = {0: wr}
    fe = Frontend(d.path)
    g = Guest()
    fe.call(SET_OWNER)
    assert fe.u64(SET_FEATURES, F_VERSION_1 | F_NOTIFY_ON_EMPTY) == 0
    assert fe.call(SET_MEM_TABLE, g.table(), [g.fd]) == 0
    kicks = {}
    for vq in (0, 1):
        assert fe.state(SET_VRING_NUM, vq, g.num) == 0
        assert fe.state(SET_VRING_BASE, vq, 0) == 0
        assert fe.call(SET_VRING_ADDR, g.addr_payload(vq)) == 0
        if vq in calls:
            assert fe.u64(SET_VRING_CALL, vq, [calls[vq]]) == 0
        else:
            assert fe.u64(SET_VRING_CALL, vq | NOFD) == 0
        kicks[vq] = efd()
        assert fe.u64(SET_VRING_KICK, vq, [kicks[vq]]) == 0
    rx_post(g, 2)
    os.eventfd_write(kicks[0], 1)
    tx_chain(g)
    g.post(1, 0, 0)
    g.set_avail_idx(1, 1)
    os.eventfd_write(kicks[1], 1)
    inject_frames(2)
    assert wait_used(g, 1, 1) == 1, "TX chain not used"
    assert wait_used(g, 0, 2) == 2, "RX frames not delivered"
    assert fe.alive()
    done(fe, g)


def rx_racing_avail(d):
    """Mergeable RX, a 4096 ring of one-byte chains, a 40000-byte frame:
    the guest keeps moving avail->idx ahead of the daemon (never by more
    than the ring) while it fills, as a guest's vCPU can.  A frame that
    needs more chains than the ring holds is dropped; the daemon does not
    overrun what it keeps per chain (its bookkeeping is IVU_RING_MAX
    long, and 40000 chains pass through the ring)."""
    num, heads = 4096, 2048
    fe = Frontend(d.path)
    g = Guest(size=2 << 20)
    kicks = setup_device(fe, g, F_VERSION_1 | F_MRG_RXBUF, vqs=(1,))
    assert fe.u64(NET_SET_MTU, 42000) == 0, "MTU 42000 refused"
    desc, avail, used = 0x100000, 0x120000, 0x130000
    assert fe.state(SET_VRING_NUM, 0, num) == 0
    assert fe.state(SET_VRING_BASE, 0, 0) == 0
    assert fe.call(SET_VRING_ADDR, struct.pack(
        "<IIQQQQ", 0, 0, REGION_QVA + desc, REGION_QVA + used,
        REGION_QVA + avail, 0)) == 0
    # Head h: its own byte (head 0: twelve, for the header), then a tail
    # of empty descriptors all heads share, slow to walk.
    bufs = g.next_buf
    for h in range(heads):
        struct.pack_into("<QIHH", g.m, desc + 16 * h,
                         REGION_GPA + bufs + 16 + h, 12 if h == 0 else 1,
                         D_WRITE | D_NEXT, heads)
    for i in range(heads, num):
        struct.pack_into("<QIHH", g.m, desc + 16 * i, REGION_GPA + bufs, 0,
                         D_WRITE | (D_NEXT if i + 1 < num else 0), i + 1)
    for slot in range(num):
        struct.pack_into("<H", g.m, avail + 4 + 2 * slot, slot % heads)
    # Frame byte i lands in the chain of avail slot s: make it s's lap + 1.
    length = 40000
    lap_of, slot = [], 1
    while len(lap_of) < length + 12:
        lap_of += [slot // heads + 1] * (12 if slot % heads == 0 else 1)
        slot += 1
    frame = bytes(lap_of[:length])
    idx = num
    struct.pack_into("<H", g.m, avail + 2, idx)
    k = efd()
    assert fe.u64(SET_VRING_CALL, 0, [efd()]) == 0
    assert fe.u64(SET_VRING_KICK, 0, [k]) == 0

    def send():
        time.sleep(0.1)
        sk = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        sk.bind((TAP, 0))
        sk.send(frame)
        sk.close()
    threading.Thread(target=send).start()
    end = time.monotonic() + 5
    while time.monotonic() < end and d.p.poll() is None and \
            struct.unpack_from("<H", g.m, used + 2)[0] == 0:
        vals = g.m[bufs + 17:bufs + 16 + heads]
        lap = max(vals)
        if not lap:
            continue
        at = (lap - 1) * heads + vals.rfind(bytes([lap])) + 1
        if idx < at + num - 256 < 0xffff:
            idx = at + num - 256
            struct.pack_into("<H", g.m, avail + 2, idx)
    time.sleep(0.3)
    assert d.p.poll() is None, "daemon died (status %d)" % d.p.returncode
    assert fe.alive()
    done(fe, g)

def rx_held_offloads_dropped(d):
    """A frame held while GUEST_CSUM was acked (the tap marks it
    NEEDS_CSUM) is not delivered once SET_FEATURES dropped GUEST_CSUM:
    the guest would get a header flag it did not negotiate."""
    f_guest_csum = 1 << 1
    fe, g, kicks = running(d, F_VERSION_1 | f_guest_csum)
    vh = struct.pack("<BBHHHH", 1, 0, 0, 0, 34, 6)     # NEEDS_CSUM, UDP
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + 64, 0, 0, 64, 17, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    udp = struct.pack("!HHHH", 1000, 2000, 8 + 64, 0)
    frame = b"\xff" * 6 + b"\x02\0\0\0\0\1\x08\0" + ip + udp + b"u" * 64
    sk = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sk.setsockopt(263, 15, 1)                         # PACKET_VNET_HDR
    sk.bind((TAP, 0))
    sk.send(vh + frame)
    time.sleep(0.2)
    assert fe.u64(SET_FEATURES, F_VERSION_1) == 0
    sk.send(vh + frame)
    sk.close()
    offs = rx_post(g, 4)
    os.eventfd_write(kicks[0], 1)
    time.sleep(0.3)
    n = g.used_idx(0)
    flags = [g.m[offs[used_elem(g, 0, i)[0]]] for i in range(n)]
    done(fe, g)
    assert n, "no frame delivered after SET_FEATURES"
    assert not any(f & 1 for f in flags), \
        "NEEDS_CSUM delivered to a guest without GUEST_CSUM (flags %s)" % flags



# The device IOTLB's checks live in their own file; it imports the helpers
# above, so it is imported here, once they exist.
from attack_iotlb import (iotlb_access_fail, iotlb_ask_ahead,  # noqa: E402
                          iotlb_backend_full,
                          iotlb_backend_channel_replaced,
                          iotlb_cache_fits_queues,
                          iotlb_eviction_barrier,
                          iotlb_frame_too_many_entries,
                          iotlb_flush_drops_span,
                          iotlb_hot_span_survives,
                          iotlb_span_keeps_perm,
                          iotlb_invalidate_drops_rings,
                          iotlb_used_flags_write_only,
                          iotlb_used_ring_write_only,
                          iotlb_rx_miss_channel_replaced,
                          iotlb_rx_waits_for_miss, iotlb_tx_waits_for_miss,
                          iotlb_update_replies)
from attack_notifier import (notifier_bad_answers,  # noqa: E402
                             notifier_doorbell, notifier_iotlb_channel,
                             notifier_refused, notifier_register,
                             notifier_reregister, notifier_armed_late)
from attack_restart import RESTART_CHECKS  # noqa: E402
from attack_review import REVIEW_CHECKS  # noqa: E402
from attack_threads import THREAD_CHECKS  # noqa: E402
from attack_fuzzvu import FUZZVU_CHECKS  # noqa: E402
from attack_access import ACCESS_CHECKS  # noqa: E402
from attack_packed import PACKED_CHECKS  # noqa: E402
from attack_log import (log_bad_base, log_iotlb_gpa, log_marks,  # noqa: E402
                        log_tiny, log_truncated, log_used_outside,
                        log_used_outside_nothing_more,
                        log_vring_addr, rarp_announce)


CHECKS = [
    ("bad-sizes", bad_sizes),
    ("unknown-requests", unknown_requests),
    ("bad-flags", bad_flags),
    ("truncated", truncated_header),
    ("payload-too-big", payload_too_big),
    ("too-many-fds", too_many_fds),
    ("stray-fds", hostile_fds_everywhere),
    ("mem-table-bad", mem_table_bad),
    ("vring-index", vring_index),
    ("vring-values", vring_values),
    ("ring-addresses", ring_addresses),
    ("mem-table-while-running", set_mem_table_running),
    ("reset-refeature-running", reset_and_refeature_running),
    ("disconnect-running", disconnect_running),
    ("avail-jump", avail_jump),
    ("desc-loop", desc_loop),
    ("desc-bad", desc_bad),
    ("indirect-bad", indirect_bad),
    ("kick-shared-eventfd", kick_shared_eventfd),
    ("kick-pipe-hup", kick_pipe_hup),
    ("kick-odd-fds", kick_odd_fds),
    ("err-eventfd-full", err_eventfd_full),
    ("call-eventfd-full", call_eventfd_full),
    ("rx-tiny-buffers", rx_tiny_buffers),
    ("rx-mergeable", rx_mergeable_ok),
    ("memfd-truncated", memfd_truncated),
    ("rx-held-next-connection", rx_held_next_connection),
    ("rx-held-refeature", rx_held_refeature),
    ("rx-held-offloads-dropped", rx_held_offloads_dropped),
    ("disabled-rings-no-spin", disabled_rings_no_spin),
    ("rx-bad-chain-given-back", rx_bad_chain_given_back),
    ("notify-on-empty-bad-call", notify_on_empty_bad_call),
    ("rx-racing-avail", rx_racing_avail),
    ("iotlb-update-replies", iotlb_update_replies),
    ("iotlb-tx-waits-for-miss", iotlb_tx_waits_for_miss),
    ("iotlb-access-fail", iotlb_access_fail),
    ("iotlb-rx-waits-for-miss", iotlb_rx_waits_for_miss),
    ("iotlb-backend-full", iotlb_backend_full),
    ("iotlb-invalidate-drops-rings", iotlb_invalidate_drops_rings),
    ("iotlb-ask-ahead", iotlb_ask_ahead),
    ("iotlb-used-ring-write-only", iotlb_used_ring_write_only),
    ("iotlb-used-flags-write-only", iotlb_used_flags_write_only),
    ("iotlb-eviction-barrier", iotlb_eviction_barrier),
    ("iotlb-frame-too-many-entries", iotlb_frame_too_many_entries),
    ("iotlb-backend-channel-replaced", iotlb_backend_channel_replaced),
    ("iotlb-rx-miss-channel-replaced", iotlb_rx_miss_channel_replaced),
    ("iotlb-cache-fits-queues", iotlb_cache_fits_queues),
    ("iotlb-hot-span-survives", iotlb_hot_span_survives),
    ("iotlb-span-keeps-perm", iotlb_span_keeps_perm),
    ("iotlb-flush-drops-span", iotlb_flush_drops_span),
    ("notifier-register", notifier_register),
    ("notifier-doorbell", notifier_doorbell),
    ("notifier-reregister", notifier_reregister),
    ("notifier-refused", notifier_refused),
    ("notifier-bad-answers", notifier_bad_answers),
    ("notifier-iotlb-channel", notifier_iotlb_channel),
    ("notifier-armed-late", notifier_armed_late),
    ("log-tiny", log_tiny),
    ("log-used-outside", log_used_outside),
    ("log-used-outside-nothing-more", log_used_outside_nothing_more),
    ("log-bad-base", log_bad_base),
    ("log-vring-addr", log_vring_addr),
    ("log-truncated", log_truncated),
    ("log-marks", log_marks),
    ("log-iotlb-gpa", log_iotlb_gpa),
    ("rarp-announce", rarp_announce),
    ("sigterm-connected", sigterm_connected),
]
CHECKS += RESTART_CHECKS
CHECKS += REVIEW_CHECKS
CHECKS += THREAD_CHECKS
CHECKS += FUZZVU_CHECKS
CHECKS += ACCESS_CHECKS
CHECKS += PACKED_CHECKS
