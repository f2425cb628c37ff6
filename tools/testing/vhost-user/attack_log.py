# SPDX-License-Identifier: GPL-2.0
"""The dirty-log checks of attack-ivhost-user (live migration: LOG_SHMFD,
SET_LOG_BASE, VHOST_F_LOG_ALL, SET_VRING_ADDR's VHOST_VRING_F_LOG) and
SEND_RARP.  A hostile frontend gives a log too small for the guest, an
offset past its file, a file that cannot be mapped, a used ring logged
outside the log, or shrinks the log's file while it is in use: the log
is refused, or the ring that cannot log stops (its err eventfd fires);
nothing is ever written outside the log.  Two checks hold the daemon to
what it promises when the log is good: the written pages are marked by
guest-physical address (with the device IOTLB too, never by IOVA), and
SEND_RARP puts a RARP announcement on the tap.  Listed in
attack_checks.CHECKS; they use its helpers."""
import fcntl
import os
import socket
import struct
import time

from attack_client import *  # noqa: F401,F403
from attack_checks import (TAP, done, efd, inject_frames, readable,  # noqa: E402
                           refused, rx_post, tx_chain, wait_used)
from attack_iotlb import (F_IOMMU, IOVA, PF_BACKEND_REQ,  # noqa: E402
                          PF_REPLY_ACK, T_UPDATE, iotlb)

SET_LOG_BASE, SET_LOG_FD, SEND_RARP = 6, 7, 19
PF_LOG_SHMFD, PF_RARP = 1 << 1, 1 << 2
F_LOG_ALL = 1 << 26
VRING_F_LOG = 1
PAGE = 4096


def log_file(size, fill=0):
    """A memfd of @size bytes, every byte @fill."""
    fd = os.memfd_create("ivu-attack-log")
    os.write(fd, bytes([fill]) * size)
    return fd


def file_bytes(fd):
    size = os.fstat(fd).st_size
    return os.pread(fd, size, 0)


def set_log_base(fe, fd, size, offset=0):
    """SET_LOG_BASE: the u64 reply, or None if the connection closed."""
    try:
        return fe.call(SET_LOG_BASE, struct.pack("<QQ", size, offset), [fd])
    except (Closed, ConnectionResetError, BrokenPipeError):
        return None


def addr(g, vq, base, log_addr, flags=VRING_F_LOG):
    return struct.pack("<IIQQQQ", vq, flags, base + g.desc_off(vq),
                       base + g.used_off(vq), base + g.avail_off(vq),
                       log_addr)


def logging(d, log_fd, log_size, log_addr=None, vqs=(0, 1), protocol=0,
            features=0, late=False):
    """A frontend that acked LOG_SHMFD and VHOST_F_LOG_ALL and gave the
    log (@log_size bytes of @log_fd) and rings logging their used ring at
    @log_addr(vq) (default: their guest-physical address), each with an
    err eventfd.  With @late the log is left for the caller to give, once
    the rings run.  Returns (fe, g, kicks, errs)."""
    fe = Frontend(d.path)
    g = Guest()
    fe.call(SET_OWNER)
    assert fe.u64(SET_PROTOCOL_FEATURES, PF_LOG_SHMFD | protocol) == 0, \
        "LOG_SHMFD refused"
    assert fe.u64(SET_FEATURES, F_VERSION_1 | F_LOG_ALL | features) == 0, \
        "VHOST_F_LOG_ALL refused"
    assert fe.call(SET_MEM_TABLE, g.table(), [g.fd]) == 0
    assert late or set_log_base(fe, log_fd, log_size) == 0, \
        "a valid log refused"
    kicks, errs = {}, {}
    for vq in vqs:
        la = log_addr(vq) if log_addr else REGION_GPA + g.used_off(vq)
        assert fe.state(SET_VRING_NUM, vq, g.num) == 0
        assert fe.state(SET_VRING_BASE, vq, 0) == 0
        assert fe.call(SET_VRING_ADDR, addr(g, vq, REGION_QVA, la)) == 0
        errs[vq] = efd()
        assert fe.u64(SET_VRING_ERR, vq, [errs[vq]]) == 0
        assert fe.u64(SET_VRING_CALL, vq, [efd()]) == 0
        kicks[vq] = efd()
        assert fe.u64(SET_VRING_KICK, vq, [kicks[vq]]) == 0
    return fe, g, kicks, errs


def traffic(g, kicks):
    """A TX frame and RX buffers posted, kicked, frames on the tap."""
    tx_chain(g)
    g.post(1, 0, 0)
    g.set_avail_idx(1, 1)
    os.eventfd_write(kicks[1], 1)
    rx_post(g, 2)
    os.eventfd_write(kicks[0], 1)
    inject_frames(2)


def assert_stopped(d, fe, g, errs, what):
    """Both rings stopped for want of a log: err fired, nothing received."""
    for vq, e in errs.items():
        assert readable(e, 2), "%s: vq %d not stopped" % (what, vq)
    assert g.used_idx(0) == 0, "%s: RX frame delivered unlogged" % what
    assert d.p.poll() is None, "daemon died"
    assert fe.alive(), "%s: daemon no longer serving" % what


def log_tiny(d):
    """A 1-byte log (pages 0 to 7) for a guest at 1 MiB: every write is
    outside it.  The rings stop; no byte past the log is touched."""
    fd = log_file(PAGE)
    fe, g, kicks, errs = logging(d, fd, 1)
    traffic(g, kicks)
    assert_stopped(d, fe, g, errs, "1-byte log")
    assert file_bytes(fd) == bytes(PAGE), "written outside a 1-byte log"
    done(fe, g)
    os.close(fd)


def log_used_outside(d):
    """The log covers the guest, but a ring's log_guest_addr lies far
    beyond it (or wraps past 2^64): that ring stops at its first used
    write, and the file past the log stays untouched."""
    for far in (0x7f0000000000, (1 << 64) - 8):
        fd = log_file(2 * PAGE)
        size = (REGION_GPA + (1 << 20)) // PAGE // 8
        fe, g, kicks, errs = logging(d, fd, size, log_addr=lambda vq: far,
                                     vqs=(1,))
        tx_chain(g)
        g.post(1, 0, 0)
        g.set_avail_idx(1, 1)
        os.eventfd_write(kicks[1], 1)
        assert readable(errs[1], 2), \
            "log_guest_addr %#x outside the log: ring not stopped" % far
        assert file_bytes(fd)[size:] == bytes(2 * PAGE - size), \
            "log_guest_addr %#x: written past the log" % far
        assert fe.alive()
        done(fe, g)
        os.close(fd)


def log_used_outside_nothing_more(d):
    """Rings already running when the log arrives (as at a migration's
    start), their used ring logged far beyond a log that covers the
    guest: the first round after it stops each ring at its first used
    write (the flags), with chains waiting.  The ring then takes none of
    them: no TX chain used, no RX frame in a buffer or the used ring (a
    ring that went on would write its used ring unlogged, and the frame
    it kept for the restart would reach the guest twice); err fires."""
    far = 0x7f0000000000
    fd = log_file(2 * PAGE)
    size = (REGION_GPA + (1 << 20)) // PAGE // 8
    fe, g, kicks, errs = logging(d, fd, size, log_addr=lambda vq: far,
                                 late=True)
    time.sleep(0.1)
    for head in range(3):
        tx_chain(g, head=head)
        g.post(1, head, head)
    g.set_avail_idx(1, 3)
    rx_post(g, 2)
    assert set_log_base(fe, fd, size) == 0, "a valid log refused"
    os.eventfd_write(kicks[1], 1)
    os.eventfd_write(kicks[0], 1)
    inject_frames(2)
    for vq in (0, 1):
        assert readable(errs[vq], 2), "vq %d not stopped" % vq
    time.sleep(0.2)
    assert g.used_idx(1) == 0, \
        "TX: %d chains used after the ring stopped" % g.used_idx(1)
    assert g.used_idx(0) == 0, \
        "RX: %d frames delivered after the ring stopped" % g.used_idx(0)
    assert fe.alive()
    done(fe, g)
    os.close(fd)


def log_bad_base(d):
    """Logs that cannot be: refused (non-zero reply or connection closed),
    and the daemon serves the next frontend."""
    cases = [("offset past the file", PAGE, PAGE, lambda: log_file(PAGE)),
             ("size past the file", 2 * PAGE, 0, lambda: log_file(PAGE)),
             ("offset + size wrapping 2^64", 2 * PAGE, (1 << 64) - PAGE,
              lambda: log_file(PAGE)),
             ("size 0", 0, 0, lambda: log_file(PAGE)),
             ("a pipe", PAGE, 0, lambda: os.pipe()[0]),
             ("an eventfd", 8, 0, lambda: efd()),
             ("a read-only file", PAGE, 0, read_only),
             ("a write-sealed memfd", PAGE, 0, sealed)]
    for what, size, off, make in cases:
        fd = make()
        fe = Frontend(d.path)
        fe.call(SET_OWNER)
        assert fe.u64(SET_PROTOCOL_FEATURES, PF_LOG_SHMFD) == 0
        r = set_log_base(fe, fd, size, off)
        assert r != 0, "log with %s accepted" % what
        fe.close()
        os.close(fd)
        probe = Frontend(d.path)
        assert probe.alive(), "daemon not serving after a log with %s" % what
        probe.close()
    # Without LOG_SHMFD there is no fd to log into.
    fd = log_file(PAGE)
    fe = Frontend(d.path)
    fe.call(SET_OWNER)
    assert set_log_base(fe, fd, PAGE) != 0, "SET_LOG_BASE without LOG_SHMFD"
    fe.close()
    os.close(fd)


def read_only():
    fd = log_file(PAGE)
    ro = os.open("/proc/self/fd/%d" % fd, os.O_RDONLY)
    os.close(fd)
    return ro


def sealed():
    fd = os.memfd_create("ivu-attack-sealed", os.MFD_ALLOW_SEALING)
    os.ftruncate(fd, PAGE)
    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE)
    return fd


def log_vring_addr(d):
    """SET_VRING_ADDR with an unknown flag, or a log_guest_addr not
    aligned as a used ring (logging asked for or not), is refused."""
    g = Guest()
    for what, flags, la in (("flag 0x2", 2, 0), ("flags 0x3", 3, 0),
                            ("log_guest_addr 0x1002", VRING_F_LOG, 0x1002),
                            ("log_guest_addr 0x1001, no log", 0, 0x1001)):
        refused(d, SET_VRING_ADDR, addr(g, 0, REGION_QVA, la, flags),
                what=what)
    fe = Frontend(d.path)
    fe.call(SET_OWNER)
    assert fe.call(SET_VRING_ADDR, addr(g, 0, REGION_QVA, 0x1004)) == 0, \
        "log_guest_addr 0x1004 refused"
    fe.close()
    g.close()


def log_truncated(d):
    """The frontend shrinks the log's file under running rings: the
    daemon's next mark faults; it must survive it (the rings stop)."""
    fd = log_file(PAGE)
    fe, g, kicks, errs = logging(d, fd, PAGE)
    os.ftruncate(fd, 0)
    traffic(g, kicks)
    time.sleep(0.3)
    assert d.p.poll() is None, "daemon died when the log's file shrank"
    assert fe.alive()
    done(fe, g)
    os.close(fd)


def bit(log, gpa):
    pfn = gpa // PAGE
    return log[pfn // 8] >> (pfn % 8) & 1


def log_marks(d):
    """A good log: the RX buffers and used ring the daemon wrote are
    marked by guest-physical page, a page it only read is not, and the
    SET_LOG_FD eventfd fires."""
    size = (REGION_GPA + (1 << 20)) // PAGE // 8
    fd = log_file(size)
    fe, g, kicks, errs = logging(d, fd, size, vqs=(0,))
    ev = efd()
    assert fe.call(SET_LOG_FD, b"", [ev]) == 0
    offs = rx_post(g, 2)
    os.eventfd_write(kicks[0], 1)
    inject_frames(1)
    wait_used(g, 0, 1)
    assert g.used_idx(0) >= 1, "no frame received"
    log = file_bytes(fd)
    head = struct.unpack_from("<I", g.m, g.used_off(0) + 4)[0]
    assert bit(log, REGION_GPA + offs[head]), "RX buffer page not marked"
    assert bit(log, REGION_GPA + g.used_off(0)), "used ring page not marked"
    assert not bit(log, REGION_GPA + g.desc_off(0)), \
        "descriptor table page (only read) marked"
    assert readable(ev, 1), "SET_LOG_FD eventfd not signalled"
    assert not readable(errs[0], 0)
    done(fe, g)
    os.close(fd)
    os.close(ev)


def log_iotlb_gpa(d):
    """With the device IOTLB (IOVAs at 1 GiB map the guest at 1 MiB): the
    pages marked are the guest-physical ones, never the IOVAs, for the
    RX buffer and for the used ring (whose log_guest_addr, as QEMU sends
    it, is an IOVA)."""
    size = (IOVA + (1 << 20)) // PAGE // 8 + 1
    fd = log_file(size)
    fe = Frontend(d.path)
    g = Guest()
    fe.call(SET_OWNER)
    assert fe.u64(SET_PROTOCOL_FEATURES, PF_LOG_SHMFD | PF_REPLY_ACK |
                  PF_BACKEND_REQ) == 0
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    assert fe.call(SET_BACKEND_REQ_FD, b"", [theirs.fileno()]) == 0
    theirs.close()
    assert fe.u64(SET_FEATURES, F_VERSION_1 | F_IOMMU | F_LOG_ALL) == 0
    assert fe.call(SET_MEM_TABLE, g.table(), [g.fd]) == 0
    assert set_log_base(fe, fd, size) == 0
    assert iotlb(fe, T_UPDATE, IOVA, g.size, REGION_QVA, 3) == 0
    assert fe.state(SET_VRING_NUM, 0, g.num) == 0
    assert fe.state(SET_VRING_BASE, 0, 0) == 0
    assert fe.call(SET_VRING_ADDR, addr(g, 0, IOVA, IOVA + g.used_off(0))) == 0
    assert fe.u64(SET_VRING_CALL, 0, [efd()]) == 0
    k = efd()
    assert fe.u64(SET_VRING_KICK, 0, [k]) == 0
    gpa, off = g.buf(2048)
    g.set_desc(0, 0, IOVA + (gpa - REGION_GPA), 2048, D_WRITE)
    g.post(0, 0, 0)
    g.set_avail_idx(0, 1)
    os.eventfd_write(k, 1)
    inject_frames(1)
    wait_used(g, 0, 1)
    assert g.used_idx(0) == 1, "no frame received through the IOTLB"
    log = file_bytes(fd)
    assert bit(log, gpa), "RX buffer's guest-physical page not marked"
    assert bit(log, REGION_GPA + g.used_off(0)), \
        "used ring's guest-physical page not marked"
    iova_bytes = log[IOVA // PAGE // 8:]
    assert iova_bytes == bytes(len(iova_bytes)), "an IOVA page was marked"
    ours.close()
    done(fe, g)
    os.close(fd)


def rarp_announce(d):
    """SEND_RARP (RARP acked) puts a broadcast RARP request for the MAC
    on the tap; without RARP acked it is refused."""
    mac = bytes([0x52, 0x54, 0x00, 0x12, 0x34, 0x56])
    sk = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x8035))
    sk.bind((TAP, 0))
    fe = Frontend(d.path)
    fe.call(SET_OWNER)
    assert fe.u64(SET_PROTOCOL_FEATURES, PF_RARP) == 0, "RARP refused"
    assert fe.call(SEND_RARP, mac + b"\0\0") == 0, "SEND_RARP refused"
    assert readable(sk, 2), "no RARP frame on the tap"
    f = sk.recv(2048)
    sk.close()
    assert f[0:6] == b"\xff" * 6 and f[6:12] == mac, "bad addresses"
    assert f[12:14] == b"\x80\x35", "not RARP"
    assert f[14:22] == b"\0\1\x08\0\6\4\0\3", "not a RARP request"
    assert f[22:28] == mac and f[32:38] == mac, "MAC not in the request"
    assert fe.alive()
    fe.close()
    fe = Frontend(d.path)
    fe.call(SET_OWNER)
    try:
        assert fe.call(SEND_RARP, mac + b"\0\0") != 0, \
            "SEND_RARP accepted without RARP"
    except (Closed, ConnectionResetError, BrokenPipeError):
        pass
    fe.close()
