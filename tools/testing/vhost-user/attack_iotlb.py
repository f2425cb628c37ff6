# SPDX-License-Identifier: GPL-2.0
"""The device IOTLB checks of attack-ivhost-user (VIRTIO_F_IOMMU_PLATFORM):
IOTLB_MSG replies, MISS and ACCESS_FAIL on the backend channel, frames
that wait for their translations, the barrier.  Listed in
attack_checks.CHECKS; they use its helpers."""
import os
import signal
import socket
import struct
import time

from attack_client import *  # noqa: F401,F403
from attack_checks import (TAP, done, efd, inject_frames, readable,  # noqa: E402
                           running, used_elem, wait_used)


IOTLB_MSG = 22
F_IOMMU = 1 << 33
PF_REPLY_ACK, PF_BACKEND_REQ = 1 << 3, 1 << 5
T_MISS, T_UPDATE, T_INVALIDATE, T_ACCESS_FAIL = 1, 2, 3, 4
IOVA = 0x40000000          # the guest region seen through the vIOMMU
IOVA_RO = 0x50000000       # a second, read-only window


def iotlb(fe, t, iova, size, uaddr=0, perm=0):
    """An IOTLB_MSG with NEED_REPLY, as QEMU sends it; the u64 reply."""
    return fe.call(IOTLB_MSG, struct.pack("<QQQBB6x", iova, size, uaddr,
                                          perm, t))


def iotlb_running(d, vqs=(0, 1), err=None, sndbuf=None, features=0):
    """A frontend that acked IOMMU_PLATFORM (and @features), with a
    backend channel (the daemon's end with SO_SNDBUF @sndbuf if given)
    and started rings at IOVAs; nothing mapped yet.  Returns (fe, g,
    kicks, backend socket)."""
    fe = Frontend(d.path)
    g = Guest()
    fe.call(SET_OWNER)
    assert fe.call(GET_FEATURES, flags=1) & F_IOMMU, \
        "VIRTIO_F_IOMMU_PLATFORM not offered"
    assert fe.u64(SET_PROTOCOL_FEATURES, PF_REPLY_ACK | PF_BACKEND_REQ) == 0
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    if sndbuf:
        theirs.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    assert fe.call(SET_BACKEND_REQ_FD, b"", [theirs.fileno()]) == 0
    theirs.close()
    assert fe.u64(SET_FEATURES, F_VERSION_1 | F_IOMMU | features) == 0, \
        "SET_FEATURES with IOMMU_PLATFORM refused"
    assert fe.call(SET_MEM_TABLE, g.table(), [g.fd]) == 0
    return fe, g, iotlb_start(fe, g, vqs, err), ours


def iotlb_start(fe, g, vqs, err=None):
    """Start rings @vqs at IOVAs; their kick eventfds by vq."""
    kicks = {}
    for vq in vqs:
        assert fe.state(SET_VRING_NUM, vq, g.num) == 0
        assert fe.state(SET_VRING_BASE, vq, 0) == 0
        assert fe.call(SET_VRING_ADDR, struct.pack(
            "<IIQQQQ", vq, 0, IOVA + g.desc_off(vq), IOVA + g.used_off(vq),
            IOVA + g.avail_off(vq), 0)) == 0
        if err is not None:
            assert fe.u64(SET_VRING_ERR, vq, [err]) == 0
        assert fe.u64(SET_VRING_CALL, vq, [efd()]) == 0
        kicks[vq] = efd()
        assert fe.u64(SET_VRING_KICK, vq, [kicks[vq]]) == 0
    return kicks


def backend_msgs(sk, timeout):
    """The backend requests that arrive within @timeout (header, iotlb)."""
    out, buf = [], b""
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0 or not readable(sk, left):
            break
        chunk = sk.recv(4096)
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 44:
            req, flags, size = struct.unpack_from("<III", buf)
            iova, _, _, perm, t = struct.unpack_from("<QQQBB", buf, 12)
            out.append((req, flags, size, t, iova, perm))
            buf = buf[12 + size:]
        end = min(end, time.monotonic() + 0.2)
    return out


def iotlb_update_replies(d):
    """IOTLB_MSG is acked with 0 once applied, refused (non-zero, the
    connection kept) for what the kernel device's write() refuses, and
    for an UPDATE whose uaddr no memory-table region covers."""
    fe, g, _, sk = iotlb_running(d, vqs=())
    q, size = REGION_QVA, g.size
    assert iotlb(fe, T_UPDATE, IOVA, size, q, 3) == 0, "valid UPDATE refused"
    assert iotlb(fe, T_UPDATE, IOVA, 4096, q, 1) == 0, "replacing UPDATE"
    for what, args in (
            ("perm 0", (IOVA, 4096, q, 0)),
            ("perm 4", (IOVA, 4096, q, 4)),
            ("size 0", (IOVA, 0, q, 3)),
            ("iova range wrapping 2^64", ((1 << 64) - 4096, 8192, q, 3)),
            ("uaddr range wrapping 2^64", (IOVA, 8192, (1 << 64) - 4096, 3)),
            ("uaddr outside every region", (IOVA, 4096, q + size, 3)),
            ("uaddr running past its region", (IOVA, 8192, q + size - 4096, 3)),
            ("uaddr below the region", (IOVA, 4096, q - 4096, 3))):
        r = iotlb(fe, T_UPDATE, *args)
        assert r != 0, "UPDATE with %s accepted" % what
    for what, iova, sz in (("iova 0 size 0 (everything)", 0, 0),
                           ("a range ending at 2^64", 0xfef00000,
                            (1 << 64) - 0xfef00000),
                           ("QEMU's lazy flush", 0, 0xfee00000),
                           ("one page", IOVA, 4096)):
        assert iotlb(fe, T_INVALIDATE, iova, sz) == 0, \
            "INVALIDATE %s refused" % what
    assert iotlb(fe, T_INVALIDATE, (1 << 64) - 4096, 8192) != 0, \
        "INVALIDATE wrapping past 2^64 accepted"
    for t in (T_MISS, T_ACCESS_FAIL, 5, 6, 0, 200):
        assert iotlb(fe, t, IOVA, 4096, q, 3) != 0, \
            "IOTLB_MSG type %d accepted" % t
    assert fe.alive()
    sk.close()
    done(fe, g)
    # Without IOMMU_PLATFORM acked there is no IOTLB to update.
    fe, g, _ = running(d, vqs=())
    assert iotlb(fe, T_UPDATE, IOVA, 4096, REGION_QVA, 3) != 0, \
        "UPDATE accepted without VIRTIO_F_IOMMU_PLATFORM"
    done(fe, g)


def tap_sniffer():
    sk = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    sk.bind((TAP, 0))
    sk.setblocking(False)
    return sk


def sniffed(sk, marker):
    n = 0
    while True:
        try:
            if marker in sk.recv(65536):
                n += 1
        except BlockingIOError:
            return n


def iotlb_tx_waits_for_miss(d):
    """With nothing mapped, a TX frame makes the daemon send MISS on the
    backend channel (no NEED_REPLY), and reaches the tap only once the
    UPDATEs answering them arrived: never before, never dropped.  Its
    counters then show the misses and updates."""
    fe, g, kicks, sk = iotlb_running(d)
    tap = tap_sniffer()
    marker = b"IOTLB-TX-MARKER"
    gpa, off = g.buf(14 + 12 + 100)
    frame = b"\xff" * 6 + b"\x02\0\0\0\0\1\x88\xb5" + marker + b"m" * 70
    g.m[off:off + 12 + len(frame)] = bytes(12) + frame
    g.set_desc(1, 0, IOVA + (gpa - REGION_GPA), 12 + len(frame))
    g.post(1, 0, 0)
    g.set_avail_idx(1, 1)
    os.eventfd_write(kicks[1], 1)
    answered = 0
    for _ in range(12):
        msgs = [m for m in backend_msgs(sk, 1.0) if m[3] == T_MISS]
        if not msgs:
            break
        assert g.used_idx(1) == 0 and not sniffed(tap, marker), \
            "frame sent before its translations were given"
        for req, flags, size, t, iova, perm in msgs:
            assert req == 1 and size == 32, "bad backend request %d/%d" % (
                req, size)
            assert flags & 0x3 == 1 and not flags & 0x8, \
                "MISS flags 0x%x (version 1, no NEED_REPLY)" % flags
            assert perm in (1, 2, 3), "MISS perm %d" % perm
            page = iova & ~0xfff
            assert IOVA <= page < IOVA + g.size, "MISS for iova 0x%x" % iova
            assert iotlb(fe, T_UPDATE, page, 4096,
                         REGION_QVA + page - IOVA, 3) == 0
            answered += 1
        if g.used_idx(1) == 1:
            break
    assert answered, "no MISS on the backend channel"
    assert wait_used(g, 1, 1) == 1, "TX chain not used after %d UPDATEs" % \
        answered
    time.sleep(0.2)
    assert sniffed(tap, marker) == 1, "TX frame did not reach the tap once"
    stat = iotlb_counters(d)
    assert int(stat.get("misses", 0)) >= answered and \
        int(stat.get("updates", 0)) >= answered and \
        int(stat.get("miss_msgs", 0)) >= answered, stat
    tap.close()
    sk.close()
    done(fe, g)


def tap_frames(tap, settle=0.2):
    """The frames waiting on the non-blocking tap socket @tap, read after
    @settle seconds for the last ones to arrive."""
    time.sleep(settle)
    seen = []
    while True:
        try:
            seen.append(tap.recv(65536))
        except BlockingIOError:
            return seen


def access_fails(sk, secs=3):
    """The ACCESS_FAIL messages on the backend channel @sk, waiting up to
    @secs seconds for the first."""
    fails = []
    end = time.monotonic() + secs
    while not fails and time.monotonic() < end:
        fails = [m for m in backend_msgs(sk, 0.5) if m[3] == T_ACCESS_FAIL]
    return fails


def map_with_ro_page(fe, g):
    """Maps all of @g's memory read-write at IOVA, and one page of it,
    filled with 0xee, read-only at IOVA_RO; returns that page's offset."""
    assert iotlb(fe, T_UPDATE, IOVA, g.size, REGION_QVA, 3) == 0
    gpa, off = g.buf(4096)
    page = (off + 4095) & ~0xfff
    assert iotlb(fe, T_UPDATE, IOVA_RO, 4096, REGION_QVA + page, 1) == 0
    g.m[page:page + 4096] = b"\xee" * 4096
    return page


def rx_post_first(g, kicks, sk):
    """Posts RX chain 0, kicks, sends one frame into the tap, and returns
    the ACCESS_FAIL messages that came on the backend channel @sk."""
    g.post(0, 0, 0)
    g.set_avail_idx(0, 1)
    os.eventfd_write(kicks[0], 1)
    inject_frames(1)
    return access_fails(sk)


def iotlb_access_fail(d):
    """A guest RX buffer whose IOVA is mapped read-only: the daemon does
    not write it, reports ACCESS_FAIL (iova, perm WO) on the backend
    channel and stops the ring (its error eventfd fires)."""
    err = efd()
    fe, g, kicks, sk = iotlb_running(d, vqs=(0,), err=err)
    page = map_with_ro_page(fe, g)
    g.set_desc(0, 0, IOVA_RO, 2048, D_WRITE)
    fails = rx_post_first(g, kicks, sk)
    assert fails, "no ACCESS_FAIL on the backend channel"
    _, flags, _, _, iova, perm = fails[0]
    assert not flags & 0x8, "ACCESS_FAIL with NEED_REPLY"
    assert iova == IOVA_RO and perm == 2, \
        "ACCESS_FAIL iova 0x%x perm %d" % (iova, perm)
    assert readable(err, 1), "ring not stopped (no error eventfd)"
    assert g.used_idx(0) == 0, "a chain was used"
    assert g.m[page:page + 4096] == b"\xee" * 4096, \
        "read-only guest memory written"
    os.close(err)
    sk.close()
    done(fe, g)


RX_RINGS = 0x10000     # vq 0's rings, below the buffers


def rx_frame_unmapped(fe, g, kicks):
    """Vq 0's rings mapped, one RX buffer posted and not mapped, a frame
    injected; the buffer's IOVA and offset in guest memory."""
    assert iotlb(fe, T_UPDATE, IOVA, RX_RINGS, REGION_QVA, 3) == 0
    gpa, off = g.buf(2048)
    iova = IOVA + (gpa - REGION_GPA)
    g.set_desc(0, 0, iova, 2048, D_WRITE)
    g.post(0, 0, 0)
    g.set_avail_idx(0, 1)
    os.eventfd_write(kicks[0], 1)
    inject_frames(1, 200)
    return iova, off


def iotlb_rx_waits_for_miss(d):
    """An RX frame whose guest buffer is not mapped yet waits for the
    UPDATE answering the MISS (perm WO) and is then delivered, whole."""
    fe, g, kicks, sk = iotlb_running(d, vqs=(0,))
    iova, off = rx_frame_unmapped(fe, g, kicks)
    misses = []
    end = time.monotonic() + 3
    while not misses and time.monotonic() < end:
        # The rings' own misses, from before their UPDATE, may come first.
        misses = [m for m in backend_msgs(sk, 0.5)
                  if m[3] == T_MISS and m[4] >= IOVA + RX_RINGS]
    assert misses, "no MISS for the RX buffer"
    assert misses[0][4] == iova and misses[0][5] == 2, \
        "MISS iova 0x%x perm %d" % (misses[0][4], misses[0][5])
    time.sleep(0.2)
    assert g.used_idx(0) == 0, "RX chain used before its UPDATE"
    page = iova & ~0xfff
    assert iotlb(fe, T_UPDATE, page, 8192, REGION_QVA + page - IOVA, 3) == 0
    assert wait_used(g, 0, 1) == 1, "held RX frame not delivered after UPDATE"
    _, length = used_elem(g, 0, 0)
    assert length == 12 + 200, "RX used length %d" % length
    assert g.m[off + 12:off + 12 + 14] == b"\xff" * 6 + b"\x02\0\0\0\0\1\x88\xb5", \
        "RX frame not in the buffer"
    sk.close()
    done(fe, g)


def iotlb_counters(d):
    """The last 'ivhost-user: iotlb' line after a SIGUSR1, as a dict."""
    d.p.send_signal(signal.SIGUSR1)
    time.sleep(0.3)
    line = [ln for ln in d.logtext().splitlines()
            if ln.startswith("ivhost-user: iotlb ")]
    assert line, "no 'ivhost-user: iotlb' counters line on SIGUSR1"
    words = line[-1].split()
    return dict(zip(words[2::2], words[3::2]))


def tx_at_new_iova(fe, g, kick, i, gpa, length):
    """TX frame @i (avail slot @i) of @length at @gpa, seen at an IOVA
    of its own: posted and kicked, then (its MISS sent first) mapped
    read-only by an UPDATE that must be acked at once; it must go out."""
    page = (gpa - REGION_GPA) & ~0xfff
    iova = 0x60000000 + i * 4096
    g.set_desc(1, i % g.num, iova + (gpa - REGION_GPA - page), length)
    g.post(1, i, i % g.num)
    g.set_avail_idx(1, i + 1)
    os.eventfd_write(kick, 1)
    time.sleep(0.005)               # its MISS first
    assert iotlb(fe, T_UPDATE, iova, 4096, REGION_QVA + page, 1) == 0, \
        "UPDATE %d not acked (the daemon blocked?)" % i
    assert wait_used(g, 1, i + 1) == i + 1, "frame %d not sent" % i


def iotlb_backend_full(d):
    """A frontend that does not read the backend channel: the daemon goes
    on serving the socket and moving frames (each UPDATE is sent without
    waiting for its MISS), keeps the MISS messages it could not send
    queued, none dropped, and sends them all once the channel is read."""
    fe, g, kicks, sk = iotlb_running(d, vqs=(1,), sndbuf=4096)
    rings = 2 * VQ_STRIDE               # up to vq 1's rings
    assert iotlb(fe, T_UPDATE, IOVA, rings, REGION_QVA, 3) == 0
    gpa, off = g.buf(256)
    frame = b"\xff" * 6 + b"\x02\0\0\0\0\1\x88\xb5" + b"f" * 100
    g.m[off:off + 12 + len(frame)] = bytes(12) + frame
    for i in range(80):
        tx_at_new_iova(fe, g, kicks[1], i, gpa, 12 + len(frame))
    assert fe.alive()
    st = iotlb_counters(d)
    assert int(st["msgs_queued"]) > 0, \
        "nothing left queued: the channel never filled (%s)" % st
    assert int(st["msgs_dropped"]) == 0, "MISS dropped: %s" % st
    sent = int(st["miss_msgs"])
    got = [m for m in backend_msgs(sk, 3) if m[3] == T_MISS]
    assert len(got) == sent, "%d MISS received of %d queued" % (len(got), sent)
    assert all(m[:3] == (1, 1, 32) for m in got), "a malformed MISS"
    sk.close()
    done(fe, g)


def tx_post_one(g, kicks, fill):
    """One TX chain (head 0) posted on vq 1 and kicked."""
    gpa, off = g.buf(256)
    frame = b"\xff" * 6 + b"\x02\0\0\0\0\1\x88\xb5" + fill * 100
    g.m[off:off + 12 + len(frame)] = bytes(12) + frame
    g.set_desc(1, 0, IOVA + gpa - REGION_GPA, 12 + len(frame))
    g.post(1, 0, 0)
    g.set_avail_idx(1, 1)
    os.eventfd_write(kicks[1], 1)


def tx_first_of_two(fe, g, kicks, fill):
    """Everything mapped RW, two TX chains (heads 0 and 1) written, the
    first posted and sent."""
    assert iotlb(fe, T_UPDATE, IOVA, g.size, REGION_QVA, 3) == 0
    frame = b"\xff" * 6 + b"\x02\0\0\0\0\1\x88\xb5" + fill * 100
    for i in range(2):
        gpa, off = g.buf(256)
        g.m[off:off + 12 + len(frame)] = bytes(12) + frame
        g.set_desc(1, i, IOVA + gpa - REGION_GPA, 12 + len(frame))
    g.post(1, 0, 0)
    g.set_avail_idx(1, 1)
    os.eventfd_write(kicks[1], 1)
    assert wait_used(g, 1, 1) == 1, "first frame not sent"


def iotlb_invalidate_drops_rings(d):
    """The barrier: once an INVALIDATE of a ring's page is acked, the
    daemon no longer uses its old translation of the ring; the next kick
    asks for it again (MISS) and moves nothing until the UPDATE."""
    fe, g, kicks, sk = iotlb_running(d, vqs=(1,))
    tx_first_of_two(fe, g, kicks, b"i")
    backend_msgs(sk, 0.3)
    desc = IOVA + g.desc_off(1)
    assert iotlb(fe, T_INVALIDATE, desc, 4096) == 0
    g.post(1, 1, 1)
    g.set_avail_idx(1, 2)
    os.eventfd_write(kicks[1], 1)
    got = [m for m in backend_msgs(sk, 1.0) if m[3] == T_MISS]
    assert any(m[4] & ~0xfff == desc for m in got), \
        "no MISS for the invalidated ring page (MISSes: %s)" % got
    assert g.used_idx(1) == 1, "ring used through an invalidated translation"
    assert iotlb(fe, T_UPDATE, desc, 4096, REGION_QVA + g.desc_off(1), 1) == 0
    assert wait_used(g, 1, 2) == 2, "second frame not sent after the UPDATE"
    sk.close()
    done(fe, g)


def iotlb_ask_ahead(d):
    """A TX chain that misses also has the first buffer of each of the
    next available chains asked for (up to 16), in the same burst of
    MISS messages: the frontend answers them in one round trip, not one
    per chain.  Before any UPDATE answers, MISSes for all five chains'
    pages are on the backend channel."""
    fe, g, kicks, sk = iotlb_running(d, vqs=(1,))
    assert iotlb(fe, T_UPDATE, IOVA, g.size, REGION_QVA, 3) == 0
    pages = []
    for i in range(5):
        gpa, off = g.buf(8192)
        page = (gpa - REGION_GPA + 4095) & ~0xfff
        g.m[page:page + 72] = bytes(12) + b"\xff" * 6 + \
            b"\x02\0\0\0\0\1\x88\xb5" + bytes(46)
        g.set_desc(1, i, IOVA + page, 12 + 60)
        g.post(1, i, i)
        assert iotlb(fe, T_INVALIDATE, IOVA + page, 4096) == 0
        pages.append(IOVA + page)
    g.set_avail_idx(1, 5)
    os.eventfd_write(kicks[1], 1)
    asked = {m[4] & ~0xfff for m in backend_msgs(sk, 1.0) if m[3] == T_MISS}
    assert set(pages) <= asked, \
        "MISSes before any answer: %s; chains' pages %s" % (
            sorted(map(hex, asked)), list(map(hex, pages)))
    assert g.used_idx(1) == 0, "chains used before their translations"
    for p in pages:
        assert iotlb(fe, T_UPDATE, p, 4096, REGION_QVA + p - IOVA, 3) == 0
    assert wait_used(g, 1, 5) == 5, "chains not used once answered"
    sk.close()
    done(fe, g)


def iotlb_used_ring_write_only(d):
    """The used ring mapped write-only (last write wins over an RW map of
    everything else): used->idx may not be read through it.  As the kernel
    device, the daemon reports ACCESS_FAIL (the used index, perm RO) and
    stops the ring (error eventfd), and moves no frame."""
    err = efd()
    fe, g, kicks, sk = iotlb_running(d, vqs=(1,), err=err)
    used = IOVA + g.used_off(1)
    # The used page first: an RW mapping of it must never be seen.
    assert iotlb(fe, T_UPDATE, used, 4096, REGION_QVA + g.used_off(1), 2) == 0
    assert iotlb(fe, T_UPDATE, IOVA, g.used_off(1), REGION_QVA, 3) == 0
    rest = g.used_off(1) + 4096
    assert iotlb(fe, T_UPDATE, IOVA + rest, g.size - rest,
                 REGION_QVA + rest, 3) == 0
    tx_post_one(g, kicks, b"w")
    fails = access_fails(sk, 2)
    assert g.used_idx(1) == 0, "a chain was used through a write-only used ring"
    assert fails, "no ACCESS_FAIL for reading a write-only used ring"
    assert used <= fails[0][4] < used + 4096 and fails[0][5] == 1, \
        "ACCESS_FAIL iova 0x%x perm %d" % (fails[0][4], fails[0][5])
    assert readable(err, 1), "ring not stopped (no error eventfd)"
    os.close(err)
    sk.close()
    done(fe, g)


def iotlb_backend_channel_replaced(d):
    """A backend channel whose peer is gone: the MISS that found it closed
    is not lost.  Once the frontend gives a new channel, the MISS arrives
    on it and the UPDATE answering it moves the frame, with no further
    kick (nobody knows the first MISS was never delivered)."""
    fe, g, _, sk = iotlb_running(d, vqs=())
    sk.close()                          # the frontend's end, gone
    kicks = iotlb_start(fe, g, (1,))    # its rings' MISS finds it closed
    tx_post_one(g, kicks, b"c")
    time.sleep(0.3)
    assert fe.alive()
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    assert fe.call(SET_BACKEND_REQ_FD, b"", [theirs.fileno()]) == 0
    theirs.close()
    got = [m for m in backend_msgs(ours, 0.8) if m[3] == T_MISS]
    assert got, "no MISS on the new backend channel: the ring waits forever"
    for _ in range(8):
        for m in got:
            page = m[4] & ~0xfff
            assert iotlb(fe, T_UPDATE, page, 4096,
                         REGION_QVA + page - IOVA, 3) == 0
        if wait_used(g, 1, 1, 0.3) == 1:
            break
        got = [m for m in backend_msgs(ours, 0.5) if m[3] == T_MISS]
    assert g.used_idx(1) == 1, "frame not sent after the new channel's MISS"
    ours.close()
    done(fe, g)


def iotlb_rx_miss_channel_replaced(d):
    """An RX frame waits for a MISS the daemon sent on a backend channel
    the frontend then replaced without reading it (and so never answers).
    The miss is not left outstanding: an RX ring has no kick to run it
    again, so it must be asked again on the new channel, and the UPDATE
    answering that moves the frame."""
    fe, g, kicks, old = iotlb_running(d, vqs=(0,))
    iova, _ = rx_frame_unmapped(fe, g, kicks)
    time.sleep(0.5)                     # the MISS is in the old channel
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    assert fe.call(SET_BACKEND_REQ_FD, b"", [theirs.fileno()]) == 0
    theirs.close()
    old.close()                         # unread
    got = [m for m in backend_msgs(ours, 2.5)
           if m[3] == T_MISS and m[4] == iova]
    assert got, "the RX buffer's MISS not asked again on the new channel"
    page = iova & ~0xfff
    assert iotlb(fe, T_UPDATE, page, 8192, REGION_QVA + page - IOVA, 3) == 0
    assert wait_used(g, 0, 1) == 1, "held RX frame not delivered"
    ours.close()
    done(fe, g)


def iotlb_cache_fits_queues(d):
    """With --queues 2, every ring of the device may have a frame in
    progress of 512 entries, its rings (up to 213 pages) and 16 asked
    ahead, all at once: the cache holds 4 * (512 + 213 + 16) translations
    without evicting any (the kernel device's promise, per queue pair)."""
    d.restart("--queues", "2")
    fe, g, _, sk = iotlb_running(d, vqs=())
    need = 4 * (512 + 213 + 16)
    for i in range(need):
        assert iotlb(fe, T_UPDATE, 0x80000000 + i * 8192, 4096,
                     REGION_QVA + BUF_BASE, 1) == 0
    st = iotlb_counters(d)
    assert int(st["evictions"]) == 0 and int(st["entries"]) == need, \
        "%s entries kept of %d, %s evicted" % (st["entries"], need,
                                               st["evictions"])
    sk.close()
    done(fe, g)


def iotlb_used_flags_write_only(d):
    """A used ring whose mapping an UPDATE turned write-only while the
    ring runs: the daemon goes on writing it (flags, used entries, index)
    but never reads it.  The guest leaves a bit in used->flags that the
    device does not own: had the daemon read the flags to change its
    NO_NOTIFY bit, the bit would come back; written from the device's own
    copy, it is gone."""
    fe, g, kicks, sk = iotlb_running(d, vqs=(1,))
    tx_first_of_two(fe, g, kicks, b"u")
    used = g.used_off(1)
    struct.pack_into("<H", g.m, used, 0x4000)
    assert iotlb(fe, T_UPDATE, IOVA + used, 4096, REGION_QVA + used, 2) == 0
    g.post(1, 1, 1)
    g.set_avail_idx(1, 2)
    os.eventfd_write(kicks[1], 1)
    assert wait_used(g, 1, 2) == 2, \
        "frame not sent through a write-only used ring"
    flags = struct.unpack_from("<H", g.m, used)[0]
    assert not flags & 0x4000, \
        "used->flags 0x%x: read through a write-only mapping" % flags
    sk.close()
    done(fe, g)


def iotlb_eviction_barrier(d):
    """Eviction is a barrier too: once UPDATEs beyond the cache's 2048
    entries evicted the descriptor table's translation, an UPDATE into
    the gap mapping the table's IOVA elsewhere is what the daemon reads;
    it never goes on reading the old table through a translation the
    cache no longer has."""
    fe, g, kicks, sk = iotlb_running(d, vqs=(1,))
    desc, new = g.desc_off(1), 0x30000  # the table, and its replacement
    rest = g.avail_off(1)
    frames = {}
    for i, tag in enumerate((b"FIRST", b"OLD-TABLE", b"NEW-TABLE")):
        gpa, off = g.buf(256)
        frames[tag] = b"\xff" * 6 + b"\x02\0\0\0\0\1\x88\xb5" + tag * 10
        g.m[off:off + 12 + len(frames[tag])] = bytes(12) + frames[tag]
        frames[tag] = (IOVA + gpa - REGION_GPA, 12 + len(frames[tag]))
    g.set_desc(1, 0, *frames[b"FIRST"])
    g.set_desc(1, 1, *frames[b"OLD-TABLE"])
    g.m[new:new + 16] = g.m[desc:desc + 16]
    struct.pack_into("<QIHH", g.m, new + 16, frames[b"NEW-TABLE"][0],
                     frames[b"NEW-TABLE"][1], 0, 0)

    def map_all(table):
        assert iotlb(fe, T_UPDATE, IOVA + desc, 4096, REGION_QVA + table,
                     1) == 0
        assert iotlb(fe, T_UPDATE, IOVA + rest, g.size - rest,
                     REGION_QVA + rest, 3) == 0
    map_all(desc)
    tap = tap_sniffer()
    g.post(1, 0, 0)
    g.set_avail_idx(1, 1)
    os.eventfd_write(kicks[1], 1)
    assert wait_used(g, 1, 1) == 1, "first frame not sent"
    for i in range(2 * 2048 + 256):     # no round meanwhile: no touch
        assert iotlb(fe, T_UPDATE, 0x80000000 + i * 4096, 4096,
                     REGION_QVA + BUF_BASE, 1) == 0
    assert int(iotlb_counters(d)["evictions"]) > 2048, "nothing evicted"
    map_all(new)                        # into the gaps eviction left
    g.post(1, 1, 1)
    g.set_avail_idx(1, 2)
    os.eventfd_write(kicks[1], 1)
    assert wait_used(g, 1, 2) == 2, "second frame not sent"
    seen = tap_frames(tap)
    assert not any(b"OLD-TABLE" in f for f in seen), \
        "descriptor read through an evicted translation"
    assert sum(b"NEW-TABLE" in f for f in seen) == 1, \
        "the new table's frame not sent once"
    tap.close()
    sk.close()
    done(fe, g)


def iotlb_frame_too_many_entries(d):
    """One frame may step into at most 512 distinct IOTLB entries (the
    kernel device's limit, which keeps every frame in progress inside the
    cache): a TX chain of 4 descriptors of 140 pages each, every page an
    entry of its own (contiguous behind, so few segments), is malformed:
    the ring stops (error eventfd) and the chain is not used."""
    err = efd()
    fe, g, kicks, sk = iotlb_running(d, vqs=(1,), err=err)
    assert iotlb(fe, T_UPDATE, IOVA, 2 * VQ_STRIDE, REGION_QVA, 3) == 0
    qva, pages, descs = REGION_QVA + 0x40000, 140, 4
    for k in range(descs):
        base = 0x70000000 + k * 0x1000000
        for p in range(pages):
            assert iotlb(fe, T_UPDATE, base + p * 4096, 4096,
                         qva + p * 4096, 1) == 0
        g.set_desc(1, k, base, pages * 4096,
                   D_NEXT if k < descs - 1 else 0, k + 1)
    g.post(1, 0, 0)
    g.set_avail_idx(1, 1)
    os.eventfd_write(kicks[1], 1)
    assert readable(err, 2), \
        "a frame in %d IOTLB entries did not stop the ring" % (descs * pages)
    assert g.used_idx(1) == 0, "the chain was used"
    os.close(err)
    sk.close()
    done(fe, g)


def iotlb_hot_span_survives(d):
    """A mapping every round uses survives a stream of one-shot UPDATEs
    that overflows the cache (2048 entries) many times: the eviction
    clock skips what was used since its last pass, whether the ring read
    it through a lookup or through its own copy of the entry (the span,
    which the ring's rounds count as used).  The TX buffer's page is
    mapped once; no MISS ever asks for it again, every frame goes out."""
    fe, g, kicks, sk = iotlb_running(d, vqs=(1,))
    assert iotlb(fe, T_UPDATE, IOVA, 2 * VQ_STRIDE, REGION_QVA, 3) == 0
    gpa, off = g.buf(256)
    frame = b"\xff" * 6 + b"\x02\0\0\0\0\1\x88\xb5" + b"h" * 100
    g.m[off:off + 12 + len(frame)] = bytes(12) + frame
    page = (gpa - REGION_GPA) & ~0xfff
    hot = 0x70000000
    assert iotlb(fe, T_UPDATE, hot, 4096, REGION_QVA + page, 1) == 0
    one_shot = 0
    for i in range(24):
        g.set_desc(1, i % g.num, hot + (gpa - REGION_GPA - page),
                   12 + len(frame))
        g.post(1, i, i % g.num)
        g.set_avail_idx(1, i + 1)
        os.eventfd_write(kicks[1], 1)
        assert wait_used(g, 1, i + 1) == i + 1, \
            "frame %d not sent: its hot page was evicted" % i
        for _ in range(256):
            assert iotlb(fe, T_UPDATE, 0x80000000 + one_shot * 4096, 4096,
                         REGION_QVA + BUF_BASE, 1) == 0
            one_shot += 1
    st = iotlb_counters(d)
    assert int(st["evictions"]) > 2 * 2048, "too few evictions: %s" % st
    asked = [m for m in backend_msgs(sk, 0.5)
             if m[3] == T_MISS and hot <= m[4] < hot + 4096]
    assert not asked, "the hot page evicted, asked for %d times" % len(asked)
    sk.close()
    done(fe, g)


def iotlb_span_keeps_perm(d):
    """An RX chain's indirect table in a read-only page (read: allowed)
    whose one descriptor asks to write the same page: the write is
    refused although the ring's copy of the entry (the table's) covers
    it: ACCESS_FAIL (iova, WO), the ring stopped, the page unwritten."""
    err = efd()
    fe, g, kicks, sk = iotlb_running(d, vqs=(0,), err=err,
                                     features=F_INDIRECT)
    page = map_with_ro_page(fe, g)
    g.set_desc(0, 0, IOVA_RO + 2048, 2048, D_WRITE, table=page)
    ro = bytes(g.m[page:page + 4096])
    g.set_desc(0, 0, IOVA_RO, 16, D_INDIRECT)
    fails = rx_post_first(g, kicks, sk)
    assert g.m[page:page + 4096] == ro, \
        "read-only guest memory written through the ring's copy"
    assert fails, "no ACCESS_FAIL on the backend channel"
    assert fails[0][4] == IOVA_RO + 2048 and fails[0][5] == 2, \
        "ACCESS_FAIL iova 0x%x perm %d" % (fails[0][4], fails[0][5])
    assert readable(err, 1), "ring not stopped (no error eventfd)"
    assert g.used_idx(0) == 0, "a chain was used"
    os.close(err)
    sk.close()
    done(fe, g)


def iotlb_flush_drops_span(d):
    """GET_VRING_BASE forgets every translation (the ring's copy of the
    entry it used last too): a TX frame at the same IOVA, mapped after
    the restart onto another page, is read from the new page."""
    fe, g, kicks, sk = iotlb_running(d, vqs=(1,))
    hot = 0x70000000
    pages = []
    for tag in (b"OLD-PAGE", b"NEW-PAGE"):
        gpa, off = g.buf(4096)
        page = (off + 4095) & ~0xfff
        frame = b"\xff" * 6 + b"\x02\0\0\0\0\1\x88\xb5" + tag * 10
        g.m[page:page + 12 + len(frame)] = bytes(12) + frame
        pages.append(page)
    length = 12 + len(frame)
    tap = tap_sniffer()
    for i, page in enumerate(pages):
        assert iotlb(fe, T_UPDATE, IOVA, 2 * VQ_STRIDE, REGION_QVA, 3) == 0
        assert iotlb(fe, T_UPDATE, hot, 4096, REGION_QVA + page, 1) == 0
        g.set_desc(1, i, hot, length)
        g.post(1, i, i)
        g.set_avail_idx(1, i + 1)
        os.eventfd_write(kicks[1], 1)
        assert wait_used(g, 1, i + 1) == i + 1, "frame %d not sent" % i
        if i:
            break
        r = fe.call(GET_VRING_BASE, struct.pack("<II", 1, 0))
        assert struct.unpack("<II", r) == (1, 1)
        kicks = iotlb_start(fe, g, ())
        assert fe.state(SET_VRING_BASE, 1, 1) == 0
        assert fe.call(SET_VRING_ADDR, struct.pack(
            "<IIQQQQ", 1, 0, IOVA + g.desc_off(1), IOVA + g.used_off(1),
            IOVA + g.avail_off(1), 0)) == 0
        kicks[1] = efd()
        assert fe.u64(SET_VRING_KICK, 1, [kicks[1]]) == 0
    seen = tap_frames(tap)
    old, new = (sum(t in f for f in seen) for t in (b"OLD-PAGE", b"NEW-PAGE"))
    assert (old, new) == (1, 1), \
        "frames from the old page %d, the new %d: read through a stale copy" \
        % (old, new)
    tap.close()
    sk.close()
    done(fe, g)
