# SPDX-License-Identifier: GPL-2.0
"""Second-look attacks on host notifiers, dirty logging and SEND_RARP
(issue 18's review) for attack-ivhost-user: a frontend that shrinks the
doorbell memfd it was given, or a huge dirty log's file; a migration
whose dirty bitmap is fetched and cleared while the daemon writes (as
QEMU's migration thread does), checked against a shadow copy of guest
memory; an announcement the tap cannot take.  Listed in
attack_checks.CHECKS; they use its helpers."""
import ctypes
import mmap
import os
import signal
import socket
import subprocess
import struct
import threading
import time

from attack_client import *  # noqa: F401,F403
from attack_checks import (TAP, done, efd, idle_cpu,  # noqa: E402
                           inject_frames, readable, running, wait_used)
from attack_log import (F_LOG_ALL, PAGE, PF_LOG_SHMFD, PF_RARP,  # noqa: E402
                        SEND_RARP, SET_LOG_FD, VRING_F_LOG, addr, log_file, logging,
                        set_log_base, traffic)
from attack_notifier import (HOST_NOTIFIER_MSG, NB_NOFD, PF_NB,  # noqa: E402
                             answer, area, close_pages, nb_frontend, nb_msgs,
                             registrations, ring, start_vq, tx_frame)
from attack_iotlb import (F_IOMMU, IOVA, PF_BACKEND_REQ,  # noqa: E402
                          PF_REPLY_ACK, T_UPDATE, iotlb)


def give(fe, req, v, payload=None):
    """Send @req with a fresh eventfd for @v (a u64 payload), closing our
    copy after: the daemon has its own.  Returns the u64 reply."""
    fd = efd()
    try:
        return fe.u64(req, v, [fd])
    finally:
        os.close(fd)


def restart_vq(fe, vq):
    """Stop ring @vq (GET_VRING_BASE) and start it again (a new kick)."""
    fe.call(GET_VRING_BASE, struct.pack("<II", vq, 0))
    assert give(fe, SET_VRING_KICK, vq) == 0


def notifier_memfd_shrunk(d):
    """The frontend gets the doorbell memfd itself (SCM_RIGHTS): shrinking
    it must not kill the daemon, whose polling reads the pages, nor take
    the pages from the next frontend.  Either the shrink is refused, or
    the daemon survives it; in the first case the doorbell still works."""
    fe, g, sk = nb_frontend(d)
    start_vq(fe, g, 0)
    start_vq(fe, g, 1)
    pages = registrations(sk, 2)
    fd = pages[1][1]
    try:
        os.ftruncate(fd, 0)
        shrunk = True
    except OSError:
        shrunk = False
    time.sleep(0.3)     # the daemon polls the armed pages every tick
    assert d.p.poll() is None, \
        "daemon died (status %d) after the frontend shrank the doorbell " \
        "memfd" % d.p.returncode
    if not shrunk:
        tx_frame(g, 0, b"AFTER-SHRINK")
        ring(pages, 1)
        assert wait_used(g, 1, 1) == 1, "doorbell dead after a refused shrink"
        close_pages(pages)
    assert fe.alive()
    sk.close()
    done(fe, g)


def meminfo_kb(key):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def log_huge_truncated(d):
    """A log larger than the machine's memory and swap (a sparse memfd,
    as a frontend may give), then shrunk to nothing under running rings:
    the daemon must survive the fault (the rings stop), however large the
    mapping it has to replace."""
    kb = meminfo_kb("MemTotal") + meminfo_kb("SwapTotal")
    size = 2 * kb * 1024
    fd = os.memfd_create("ivu-attack-log")
    os.ftruncate(fd, size)
    fe, g, kicks, errs = logging(d, fd, size)
    os.ftruncate(fd, 0)
    traffic(g, kicks)
    time.sleep(0.3)
    assert d.p.poll() is None, \
        "daemon died (status %d) when a %d GiB log's file shrank" % (
            d.p.returncode, size >> 30)
    for vq, e in errs.items():
        assert readable(e, 1), "vq %d not stopped when its log shrank" % vq
    assert fe.alive()
    done(fe, g)
    os.close(fd)


class Bitmap:
    """The frontend's side of a dirty log: fetch-and-clear, 8 bytes at a
    time, atomically, while the daemon sets bits (QEMU's vhost_log_sync
    does qatomic_xchg on the same words)."""

    def __init__(self, m):
        self.m = m
        self.base = ctypes.addressof(ctypes.c_char.from_buffer(m))
        lib = ctypes.CDLL("libatomic.so.1")
        self.xchg = getattr(lib, "__atomic_exchange_8")
        self.xchg.restype = ctypes.c_uint64
        self.xchg.argtypes = (ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int)

    def fetch_clear(self, word):
        return self.xchg(self.base + 8 * word, 0, 5)


def log_migration_shadow_iommu(d):
    """log_migration_shadow with the device IOTLB: rings and buffers at
    IOVAs (the guest at IOVA 1 GiB), QEMU's log_guest_addr an IOVA."""
    return log_migration_shadow(d, iommu=True)


def log_migration_shadow(d, iommu=False):
    """A migration as QEMU runs it: a shadow copy of guest memory (the
    destination) gets every page whose bit it fetches and clears, while
    mergeable RX frames arrive, each over 14 small buffers (EVENT_IDX on:
    avail_event is written too); then the ring
    is stopped (GET_VRING_BASE), the bitmap synced a last time, and the
    shadow must equal guest memory.  A byte written after its page was
    marked (the promise: a mark comes after the write it stands for) is
    missing from the shadow when the sync fell in between."""
    num, frames, flen = 4096, 200, 200
    chains = (12 + flen + 15) // 16            # 16-byte buffers per frame
    gsize = 4 << 20
    g = Guest(size=gsize, num=num)
    desc, avail, used = 0x100000, 0x120000, 0x130000
    small = 0x140000                # the other buffers, one after another
    first = 0x200000                # each frame's first buffer: its own page
    for s in range(num):
        if s % chains == 0 and s // chains < frames + 8:
            off = first + (s // chains) * PAGE
        else:
            off = small + 16 * s
        struct.pack_into("<QIHH", g.m, desc + 16 * s,
                         (IOVA if iommu else REGION_GPA) + off, 16,
                         D_WRITE, 0)
        struct.pack_into("<H", g.m, avail + 4 + 2 * s, s)
    struct.pack_into("<H", g.m, avail + 2, num)
    lsize = (REGION_GPA + gsize) // PAGE // 8
    fd = log_file(lsize)
    logm = mmap.mmap(fd, lsize)
    bm = Bitmap(logm)
    fe = Frontend(d.path)
    fe.call(SET_OWNER)
    pf, sk = PF_LOG_SHMFD, None
    ft = F_VERSION_1 | F_MRG_RXBUF | F_EVENT_IDX | F_LOG_ALL
    if iommu:
        pf |= PF_REPLY_ACK | PF_BACKEND_REQ
        ft |= F_IOMMU
    assert fe.u64(SET_PROTOCOL_FEATURES, pf) == 0
    if iommu:
        sk, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        assert fe.call(SET_BACKEND_REQ_FD, b"", [theirs.fileno()]) == 0
        theirs.close()
    assert fe.u64(SET_FEATURES, ft) == 0
    assert fe.call(SET_MEM_TABLE, g.table(), [g.fd]) == 0
    assert set_log_base(fe, fd, lsize) == 0
    if iommu:
        assert iotlb(fe, T_UPDATE, IOVA, gsize, REGION_QVA, 3) == 0
    rb = IOVA if iommu else REGION_QVA
    assert fe.state(SET_VRING_NUM, 0, num) == 0
    assert fe.state(SET_VRING_BASE, 0, 0) == 0
    assert fe.call(SET_VRING_ADDR, struct.pack(
        "<IIQQQQ", 0, VRING_F_LOG, rb + desc, rb + used, rb + avail,
        (IOVA if iommu else REGION_GPA) + used)) == 0
    err = efd()
    assert fe.u64(SET_VRING_ERR, 0, [err]) == 0
    assert give(fe, SET_VRING_CALL, 0) == 0
    shadow = bytearray(g.m[:])
    stop = threading.Event()
    words = (lsize + 7) // 8

    def sync():
        for w in range(words):
            bits = bm.fetch_clear(w)
            while bits:
                low = bits & -bits
                pfn = 64 * w + low.bit_length() - 1
                bits ^= low
                off = pfn * PAGE - REGION_GPA
                if 0 <= off < gsize:
                    shadow[off:off + PAGE] = g.m[off:off + PAGE]

    def sweeper():
        while not stop.is_set():
            sync()
    t = threading.Thread(target=sweeper)
    t.start()
    try:
        assert give(fe, SET_VRING_KICK, 0) == 0
        sk = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        sk.bind((TAP, 0))
        frame = b"\xff" * 6 + b"\x02\0\0\0\0\1\x88\xb5" + b"s" * (flen - 14)
        for i in range(frames):
            sk.send(frame)
            if i % 16 == 15:
                time.sleep(0.005)
        sk.close()
        end = time.monotonic() + 5
        while struct.unpack_from("<H", g.m, used + 2)[0] < frames * chains \
                and time.monotonic() < end:
            time.sleep(0.02)
        got = struct.unpack_from("<H", g.m, used + 2)[0]
        fe.call(GET_VRING_BASE, struct.pack("<II", 0, 0))
    finally:
        stop.set()
        t.join()
    sync()                          # the last sync, the ring stopped
    assert not readable(err, 0), "the ring stopped while logging"
    assert got >= frames * chains // 2, "only %d chains used" % got
    bad = [o for o in range(0, gsize, PAGE)
           if shadow[o:o + PAGE] != g.m[o:o + PAGE]]
    detail = ""
    if bad:
        o = bad[0]
        i = next(i for i in range(PAGE) if shadow[o + i] != g.m[o + i])
        detail = " (first at gpa %#x: %d in the shadow, %d in memory)" % (
            REGION_GPA + o + i, shadow[o + i], g.m[o + i])
    logm.close()
    os.close(err)
    if sk:
        sk.close()
    done(fe, g)
    os.close(fd)
    assert not bad, "%d page(s) written after their last mark%s" % (
        len(bad), detail)


def rarp_tap_down(d):
    """SEND_RARP as QEMU sends it (no NEED_REPLY) when the tap cannot take
    the announcement (its link set down by the host): a best-effort
    announce that fails must not cost the migrated guest its NIC: the
    connection stays, the failure is logged."""
    mac = bytes([0x52, 0x54, 0x00, 0x12, 0x34, 0x56])
    fe, g, kicks = running(d)       # the tap watched: a link down is no error
    assert fe.u64(SET_PROTOCOL_FEATURES, PF_RARP) == 0, "RARP refused"
    subprocess.run(["ip", "link", "set", TAP, "down"], check=True)
    try:
        fe.send(SEND_RARP, mac + b"\0\0", flags=0x1)
        time.sleep(0.2)
        assert fe.alive(), \
            "connection closed after an announcement the tap refused"
        assert "RARP" in d.logtext() or "announce" in d.logtext(), \
            "the failed announcement is not logged"
        # asked for a reply, the failure is reported
        assert fe.call(SEND_RARP, mac + b"\0\0") != 0, \
            "a failed announcement acked 0"
    finally:
        subprocess.run(["ip", "link", "set", TAP, "up"], check=True)
    done(fe, g)


def notifier_cycles_unanswered(d):
    """100 stop/start cycles of a ring while the frontend answers none of
    the registrations (its answers come late, all at once): the daemon
    neither blocks nor overflows what it waits for; once the answers
    came, the running ring's doorbell is registered and serves it."""
    fe, g, sk = nb_frontend(d)
    start_vq(fe, g, 1)
    for i in range(100):
        restart_vq(fe, 1)
    assert fe.alive(), "daemon not serving after 100 unanswered cycles"
    msgs = nb_msgs(sk, 0.3)
    pages = {}
    for _ in range(4):
        regs = [m for m in msgs if m["req"] == HOST_NOTIFIER_MSG and
                not area(m)[0] & NB_NOFD]
        for m in regs:
            answer(sk, 0)
        for m in msgs:
            for fd in m["fds"][:-1]:
                os.close(fd)
        if regs:
            last = regs[-1]
            if 1 in pages:
                close_pages(pages)
            pages = {1: (mmap.mmap(last["fds"][-1], PAGE,
                                   offset=area(last)[2]), last["fds"][-1])}
        msgs = nb_msgs(sk, 0.2)
        if not msgs:
            break
    assert pages, "no registration at all"
    tx_frame(g, 0, b"CYCLED")
    ring(pages, 1)
    assert wait_used(g, 1, 1) == 1, \
        "the running ring's doorbell not served once the answers came"
    close_pages(pages)
    sk.close()
    done(fe, g)


def notifier_stale_refusal(d):
    """A refusal that answers a registration a stop made stale (the ring
    restarted before the frontend answered) is ignored, as documented:
    the current registration, answered 0, keeps its doorbell, and the
    daemon does not fall back to eventfd kicks."""
    fe, g, sk = nb_frontend(d)
    start_vq(fe, g, 1)
    old = nb_msgs(sk, 2, 1)
    assert old, "no registration"
    restart_vq(fe, 1)
    msgs = nb_msgs(sk, 2, 2)        # the withdrawal, the new registration
    new = [m for m in msgs if m["fds"]]
    assert new, "no registration after the restart"
    answer(sk, 1)                   # the stale one: refused
    answer(sk, 0)                   # the current one: mapped
    m = new[-1]
    pages = {1: (mmap.mmap(m["fds"][0], PAGE, offset=area(m)[2]),
                 m["fds"][0])}
    time.sleep(0.2)
    assert "host notifier refused" not in d.logtext(), \
        "a stale refusal was taken"
    tx_frame(g, 0, b"STALE-REFUSAL")
    ring(pages, 1)
    assert wait_used(g, 1, 1) == 1, "doorbell dead after a stale refusal"
    close_pages(pages)
    os.close(old[0]["fds"][0])
    sk.close()
    done(fe, g)


def notifier_kick_at_reregistration(d):
    """A ring started again without a stop (SET_VRING_KICK anew) while
    the frontend still maps its page, and the registration cannot go
    out yet (64 answers overdue): the guest kicks through the page it
    has.  The daemon's reset of the page when the registration finally
    goes out must not swallow that kick: the frame is sent."""
    fe, g, sk = nb_frontend(d)
    start_vq(fe, g, 1)
    pages = registrations(sk, 1)
    start_vq(fe, g, 0)
    for _ in range(70):             # registrations nobody answers
        assert give(fe, SET_VRING_KICK, 0) == 0
    assert give(fe, SET_VRING_KICK, 1) == 0
    tx_frame(g, 0, b"KICK-AT-REREG")
    ring(pages, 1)                  # the page the frontend still maps
    time.sleep(0.1)
    for _ in range(4):              # the answers, late
        msgs = nb_msgs(sk, 0.2)
        for m in msgs:
            for fd in m["fds"]:
                os.close(fd)
            if m["flags"] & 0x8:
                answer(sk, 0)
        if not msgs:
            break
    assert wait_used(g, 1, 1) == 1, \
        "a doorbell kick made before the re-registration was lost"
    close_pages(pages)
    sk.close()
    done(fe, g)


def notifier_refusal_stops_held(d):
    """A refusal ends registering on the connection (README, ivhost.rst:
    no ring registers again until the next frontend), also for a
    registration still held back when the refusal came (64 answers
    overdue): it is not sent once the answers drained."""
    fe, g, sk = nb_frontend(d)
    start_vq(fe, g, 1)                  # its registration: refused below
    start_vq(fe, g, 0)
    for _ in range(70):                 # 63 more outstanding, then held
        assert give(fe, SET_VRING_KICK, 0) == 0
    msgs = nb_msgs(sk, 0.3)
    regs = [m for m in msgs if m["fds"]]
    assert len(regs) == 64, "%d registrations sent before any answer" % \
        len(regs)
    answer(sk, 1)                       # vq 1's, current: refused
    for _ in regs[1:]:
        answer(sk, 0)                   # vq 0's, all stale
    late = [m for m in nb_msgs(sk, 0.3) if m["fds"]]
    for m in msgs + late:
        for fd in m["fds"]:
            os.close(fd)
    assert "host notifier refused" in d.logtext(), "refusal not logged"
    assert not late, "%d registration(s) sent after the refusal" % len(late)
    sk.close()
    done(fe, g)


def notifier_log_storm(d):
    """Every message raced against every other, from one seeded random
    script: rings started and stopped, doorbells rung with any 16-bit
    value, TX frames at IOVAs, IOTLB updates and invalidations, MISS
    traffic and registrations on a backend channel read late, answered
    anyhow or replaced, logs replaced, VHOST_F_LOG_ALL toggled, new
    memory tables, SEND_RARP.  The daemon keeps answering; the runner
    then checks it is alive, leak-free and idle."""
    import random
    rnd = random.Random(int(os.environ.get("IVU_STORM_SEED", "18")))
    fe, g, sk = nb_frontend(d, features=F_VERSION_1 | F_IOMMU | F_LOG_ALL,
                            proto=PF_NB | PF_LOG_SHMFD | PF_RARP)
    feats = F_VERSION_1 | F_IOMMU | F_LOG_ALL
    lsize = (REGION_GPA + g.size) // PAGE // 8
    logs = [log_file(lsize)]
    assert set_log_base(fe, logs[0], lsize) == 0
    for vq in (0, 1):
        assert fe.state(SET_VRING_NUM, vq, g.num) == 0
        assert fe.call(SET_VRING_ADDR, addr(g, vq, IOVA, IOVA +
                                            g.used_off(vq))) == 0
        assert give(fe, SET_VRING_CALL, vq) == 0
    pages, kicks, slot, socks = {}, {}, 0, [sk]
    gpa, off = g.buf(256)
    g.m[off:off + 80] = bytes(12) + b"\xff" * 6 + b"\2\0\0\0\0\1\x88\xb5" + \
        b"z" * 54

    def drain(answer_how):
        for m in nb_msgs(socks[-1], 0.01):
            for fd in m["fds"][:-1]:
                os.close(fd)
            if m["fds"]:
                vq = area(m)[0] & 0xff
                if vq in pages:
                    close_pages({vq: pages.pop(vq)})
                pages[vq] = (mmap.mmap(m["fds"][-1], PAGE,
                                       offset=area(m)[2]), m["fds"][-1])
            if m["flags"] & 0x8 and answer_how is not None:
                answer(socks[-1], answer_how)

    for step in range(int(os.environ.get("IVU_STORM_STEPS", "400"))):
        op = rnd.randrange(14)
        vq = rnd.randrange(2)
        if op == 0:
            if vq in kicks:
                os.close(kicks[vq])
            kicks[vq] = efd()
            assert fe.u64(SET_VRING_KICK, vq, [kicks[vq]]) == 0
        elif op == 1:
            fe.call(GET_VRING_BASE, struct.pack("<II", vq, slot if vq
                                                else 0))
            fe.state(SET_VRING_BASE, vq, slot if vq else 0)
        elif op == 2 and pages:
            v = rnd.choice((0, 1, vq, 0xffff, rnd.randrange(1 << 16)))
            struct.pack_into("<H", rnd.choice(list(pages.values()))[0], 0, v)
        elif op == 3 and 1 in kicks:
            g.set_desc(1, slot % g.num, IOVA + off, 80)
            g.post(1, slot, slot % g.num)
            slot += 1
            g.set_avail_idx(1, slot)
            os.eventfd_write(kicks[1], 1)
        elif op == 4:
            iotlb(fe, T_UPDATE, IOVA, g.size, REGION_QVA, 3)
        elif op == 5:
            iotlb(fe, 3, 0, 0)
        elif op in (6, 7):
            drain(rnd.choice((0,) * 12 + (1, None)))
        elif op == 8:
            ours, theirs = socket.socketpair(socket.AF_UNIX,
                                             socket.SOCK_STREAM)
            theirs.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
            assert fe.call(SET_BACKEND_REQ_FD, b"", [theirs.fileno()]) == 0
            theirs.close()
            socks.append(ours)
        elif op == 9:
            logs.append(log_file(lsize))
            assert set_log_base(fe, logs[-1], lsize) == 0
        elif op == 10:
            feats ^= F_LOG_ALL
            assert fe.u64(SET_FEATURES, feats) == 0
        elif op == 11:
            assert fe.call(SET_MEM_TABLE, g.table(), [g.fd]) == 0
        elif op == 12:
            fe.call(SEND_RARP, bytes([0x52, 0x54, 0, 0, 0, 1, 0, 0]))
        elif op == 13:
            inject_frames(1)
    assert fe.alive(), "daemon not serving after the storm"
    # and it still moves frames: vq 1 restarted, mapped, one frame kicked
    fe.call(GET_VRING_BASE, struct.pack("<II", 1, 0))
    assert fe.state(SET_VRING_BASE, 1, slot) == 0
    if 1 in kicks:
        os.close(kicks[1])
    kicks[1] = efd()
    assert fe.u64(SET_VRING_KICK, 1, [kicks[1]]) == 0
    assert iotlb(fe, T_UPDATE, IOVA, g.size, REGION_QVA, 3) == 0
    drain(0)
    before = g.used_idx(1)
    g.set_desc(1, slot % g.num, IOVA + off, 80)
    g.post(1, slot, slot % g.num)
    g.set_avail_idx(1, slot + 1)
    os.eventfd_write(kicks[1], 1)
    end = time.monotonic() + 2
    while g.used_idx(1) == before and time.monotonic() < end:
        time.sleep(0.02)
    assert g.used_idx(1) == (before + 1) & 0xffff, \
        "no frame moves after the storm"
    if os.environ.get("IVU_ATTACK_VERBOSE"):
        d.p.send_signal(signal.SIGUSR1)
        time.sleep(0.2)
        print("\n".join("# " + x for x in d.logtext().splitlines()[-9:]))
    close_pages(pages)
    for fd in kicks.values():
        os.close(fd)
    for x in socks:
        x.close()
    for fd in logs:
        os.close(fd)
    done(fe, g)


def disconnect_steps(iommu):
    """The steps of a migrating, doorbell-ringing frontend, for
    disconnect_every_step."""
    mac = bytes([0x52, 0x54, 0, 1, 2, 3])
    feats = F_VERSION_1 | F_MRG_RXBUF | F_LOG_ALL | (F_IOMMU if iommu else 0)
    base = IOVA if iommu else REGION_QVA

    def backend(s):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        theirs.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        assert s.fe.call(SET_BACKEND_REQ_FD, b"", [theirs.fileno()]) == 0
        theirs.close()
        s.sk = ours

    def log(s):
        if s.logfd is not None:
            os.close(s.logfd)
        s.logfd = log_file((REGION_GPA + IOVA + (1 << 20)) // PAGE // 8)
        assert set_log_base(s.fe, s.logfd, os.fstat(s.logfd).st_size) == 0

    def rings(s):
        for vq in (0, 1):
            assert s.fe.state(SET_VRING_NUM, vq, s.g.num) == 0
            assert s.fe.call(SET_VRING_ADDR, addr(
                s.g, vq, base, REGION_GPA + s.g.used_off(vq))) == 0
            assert give(s.fe, SET_VRING_CALL, vq) == 0
            assert give(s.fe, SET_VRING_ERR, vq) == 0

    def kicks(s):
        for fd in s.kicks.values():
            os.close(fd)
        s.kicks = {vq: efd() for vq in (0, 1)}
        for vq in (0, 1):
            assert s.fe.u64(SET_VRING_KICK, vq, [s.kicks[vq]]) == 0

    def log_fd(s):
        fd = efd()
        s.fe.call(SET_LOG_FD, b"", [fd])
        os.close(fd)

    def traffic_(s):
        if iommu:
            assert iotlb(s.fe, T_UPDATE, IOVA, 0x10000, REGION_QVA, 3) == 0
        traffic(s.g, s.kicks)

    def doorbells(s):
        for m in nb_msgs(s.sk, 0.05):
            for fd in m["fds"]:
                os.close(fd)
            if m["flags"] & 0x8:
                answer(s.sk, 0)

    return [
        lambda s: s.fe.call(SET_OWNER),
        lambda s: s.fe.u64(SET_PROTOCOL_FEATURES, PF_NB | PF_LOG_SHMFD |
                           PF_RARP),
        backend,
        lambda s: s.fe.u64(SET_FEATURES, feats),
        lambda s: s.fe.call(SET_MEM_TABLE, s.g.table(), [s.g.fd]),
        log,
        log_fd,
        rings,
        kicks,
        traffic_,
        doorbells,
        lambda s: s.fe.call(GET_VRING_BASE, struct.pack("<II", 1, 0)),
        kicks,
        lambda s: s.fe.call(SEND_RARP, mac + b"\0\0"),
        lambda s: s.fe.call(SET_MEM_TABLE, s.g.table(), [s.g.fd]),
        log,
        lambda s: s.fe.u64(SET_FEATURES, feats & ~F_LOG_ALL),
        lambda s: s.fe.call(RESET_OWNER),
    ]


class Steps:
    pass


def disconnect_every_step(d):
    """A frontend with a log mapped, doorbells registered (answered or
    not), the IOTLB on or off, goes away after each step of its set-up:
    the daemon serves the next one, with the fds and mappings it had
    (the runner compares them), for every prefix."""
    try:
        d.restart("--host-notifier")
    except RuntimeError as e:
        raise AssertionError("no daemon with --host-notifier: %s" %
                             str(e)[-200:])
    for iommu in (False, True):
        steps = disconnect_steps(iommu)
        for n in range(1, len(steps) + 1):
            s = Steps()
            s.fe, s.g, s.sk, s.logfd = Frontend(d.path), Guest(), None, None
            s.kicks = {}
            try:
                for step in steps[:n]:
                    step(s)
            except (Closed, OSError) as e:
                raise AssertionError("iommu %s, step %d: %s" % (iommu, n, e))
            done(s.fe, s.g)
            if s.sk:
                s.sk.close()
            if s.logfd is not None:
                os.close(s.logfd)
            for fd in s.kicks.values():
                os.close(fd)
            probe = Frontend(d.path)
            assert probe.alive(), "not served after %d steps (iommu %s)" % (
                n, iommu)
            probe.close()


def replies_unread(d):
    """A frontend that sends requests and never reads the replies (its
    socket full): the daemon must not block on its next reply, which
    would freeze the datapath and SIGTERM with it; the next frontend is
    served while the first still holds its connection."""
    fe = Frontend(d.path)
    # Until the daemon closes the connection, or stops reading it (its
    # replies have filled the socket) for a second.
    sent = send_until_stuck(fe.s, struct.pack("<III", GET_FEATURES, 0x1, 0),
                            100000)
    probe = Frontend(d.path, timeout=3)
    try:
        assert probe.alive(), \
            "daemon blocked on a frontend that does not read its replies " \
            "(%d requests sent)" % sent
    finally:
        probe.close()
        fe.close()


def tap_deleted(d):
    """The host deletes the tap under a running daemon (ip link del): its
    queues report EPOLLERR for ever, which must not spin the loop.  The
    daemon, with nothing left to serve, exits failing (its service
    manager restarts it with a tap), saying why.  The runner's checks do
    not apply (it returns "")."""
    fe, g, kicks = running(d)
    subprocess.run(["ip", "link", "del", TAP], check=True)
    try:
        rc = d.p.wait(2)
    except subprocess.TimeoutExpired:
        spent = idle_cpu(d)
        done(fe, g)
        return "daemon still running 2 s after its tap was deleted " \
            "(%.2f s CPU in 0.5 s)" % spent
    done(fe, g)
    if rc == 0 or rc < 0:
        return "exit status %d after its tap was deleted" % rc
    if "tap %s" % TAP not in d.logtext():
        return "no log line names the tap"
    return ""


REVIEW_CHECKS = [
    ("notifier-memfd-shrunk", notifier_memfd_shrunk),
    ("log-huge-truncated", log_huge_truncated),
    ("log-migration-shadow", log_migration_shadow),
    ("log-migration-shadow-iommu", log_migration_shadow_iommu),
    ("rarp-tap-down", rarp_tap_down),
    ("notifier-cycles-unanswered", notifier_cycles_unanswered),
    ("notifier-stale-refusal", notifier_stale_refusal),
    ("notifier-refusal-stops-held", notifier_refusal_stops_held),
    ("notifier-log-storm", notifier_log_storm),
    ("notifier-kick-at-reregistration", notifier_kick_at_reregistration),
    ("disconnect-every-step", disconnect_every_step),
    ("replies-unread", replies_unread),
    ("tap-deleted", tap_deleted),
]
