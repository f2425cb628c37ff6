# SPDX-License-Identifier: GPL-2.0
"""Packed virtqueues (VIRTIO_F_RING_PACKED, virtio 1.1 section 2.7) on
ivhost-user, for attack-ivhost-user: a guest that drives packed rings by
the spec, written here from the spec (descriptors at consecutive slots,
the AVAIL/USED flag bits against the wrap counters, used descriptors in
place, the event suppression areas), and the ring state that
GET/SET_VRING_BASE carry as QEMU 7.2 encodes it (index in bits 0-14 with
its wrap counter in bit 15: avail in the low half, used in the high)."""
import os
import socket
import struct
import time

from attack_client import *  # noqa: F401,F403
from attack_checks import TAP, efd, readable, done, inject_frames  # noqa: F401

F_RING_PACKED = 1 << 34
F_AVAIL, F_USED = 1 << 7, 1 << 15
EV_ENABLE, EV_DISABLE, EV_DESC = 0, 1, 2
HDR = 12                        # VERSION_1's virtio-net header


def state(avail, awrap, used, uwrap):
    """GET/SET_VRING_BASE's num for these positions."""
    return (avail | awrap << 15) | (used | uwrap << 15) << 16


class Packed:
    """The driver side of packed vq @vq of Guest @g, of size @num."""

    def __init__(self, g, vq, num, idx=0, wrap=1):
        self.g, self.vq, self.num = g, vq, num
        self.idx, self.wrap = idx, wrap         # next slot we make available
        self.uidx, self.uwrap = idx, wrap       # next used descriptor
        self.next_id = 0

    def slot(self, i):
        return self.g.desc_off(self.vq) + 16 * i

    def post(self, bufs, write=False, extra=0, head_last=True):
        """Make one chain available: @bufs is a list of (gpa, len); @extra
        flags go on every descriptor.  Returns its buffer ID."""
        bid = self.next_id
        self.next_id = (self.next_id + 1) & 0xffff
        descs = []
        idx, wrap = self.idx, self.wrap
        for k, (gpa, length) in enumerate(bufs):
            fl = extra | (D_WRITE if write else 0)
            fl |= D_NEXT if k < len(bufs) - 1 else 0
            fl |= F_AVAIL if wrap else F_USED
            descs.append((idx, gpa, length, bid, fl))
            idx += 1
            if idx == self.num:
                idx, wrap = 0, 1 - wrap
        # the head's flags last: it makes the whole chain available
        for i, gpa, length, b, fl in descs[1:] + descs[:1]:
            struct.pack_into("<QIHH", self.g.m, self.slot(i), gpa, length, b,
                             fl)
        self.idx, self.wrap = idx, wrap
        return bid

    def used(self):
        """The used descriptor at the next used position, or None: (id,
        len, flags).  take(n) moves that position on by @n slots."""
        _, length, bid, fl = struct.unpack_from("<QIHH", self.g.m,
                                                self.slot(self.uidx))
        if bool(fl & F_AVAIL) != bool(self.uwrap) or \
           bool(fl & F_USED) != bool(self.uwrap):
            return None
        return bid, length, fl

    def take(self, n):
        self.uidx += n
        if self.uidx >= self.num:
            self.uidx -= self.num
            self.uwrap = 1 - self.uwrap

    def wait_used(self, timeout=2):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            u = self.used()
            if u:
                return u
            time.sleep(0.01)
        return None

    def driver_event(self, off_wrap, flags):
        struct.pack_into("<HH", self.g.m, self.g.avail_off(self.vq), off_wrap,
                         flags)

    def device_event(self):
        return struct.unpack_from("<HH", self.g.m, self.g.used_off(self.vq))


def packed_running(d, num, features=F_VERSION_1, base=state(0, 1, 0, 1),
                   vqs=(0, 1), err=None):
    """A frontend with packed rings of size @num started at @base."""
    fe = Frontend(d.path)
    g = Guest()
    fe.call(SET_OWNER)
    assert fe.u64(SET_FEATURES, features | F_RING_PACKED) == 0, \
        "VIRTIO_F_RING_PACKED refused"
    assert fe.call(SET_MEM_TABLE, g.table(), [g.fd]) == 0
    kicks, calls, errs = {}, {}, {}
    for vq in vqs:
        assert fe.state(SET_VRING_NUM, vq, num) == 0, \
            "packed ring of %d refused" % num
        assert fe.state(SET_VRING_BASE, vq, base) == 0, \
            "packed base 0x%08x refused" % base
        assert fe.call(SET_VRING_ADDR, g.addr_payload(vq)) == 0
        errs[vq] = efd()
        assert fe.u64(SET_VRING_ERR, vq, [errs[vq]]) == 0
        calls[vq] = efd()
        assert fe.u64(SET_VRING_CALL, vq, [calls[vq]]) == 0
        kicks[vq] = efd()
        assert fe.u64(SET_VRING_KICK, vq, [kicks[vq]]) == 0
    return fe, g, kicks, calls, errs


def get_base(fe, vq):
    r = fe.call(GET_VRING_BASE, struct.pack("<II", vq, 0))
    return struct.unpack("<II", r)[1]


def tap_sniffer():
    sk = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    sk.bind((TAP, 0))
    sk.setblocking(False)
    return sk


def sniffed(sk, timeout=1.0):
    frames = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            frames.append(sk.recv(65536))
        except BlockingIOError:
            time.sleep(0.02)
    return frames


def packed_base(d):
    """SET_VRING_NUM takes any size up to 32768 for a packed ring (a split
    one: powers of two); SET_VRING_BASE refuses an index not below the
    size and GET_VRING_BASE gives back what it was given."""
    fe = Frontend(d.path)
    fe.call(SET_OWNER)
    assert fe.u64(SET_FEATURES, F_VERSION_1) == 0
    assert fe.state(SET_VRING_NUM, 0, 100) != 0, "split ring of 100 accepted"
    assert fe.u64(SET_FEATURES, F_VERSION_1 | F_RING_PACKED) == 0, \
        "VIRTIO_F_RING_PACKED refused"
    for num in (1, 100, 32768):
        assert fe.state(SET_VRING_NUM, 0, num) == 0, "packed %d refused" % num
    assert fe.state(SET_VRING_NUM, 0, 32769) != 0, "packed 32769 accepted"
    assert fe.state(SET_VRING_NUM, 0, 100) == 0
    for bad in (state(100, 1, 0, 1), state(0, 1, 100, 0),
                state(0x7fff, 0, 0, 1)):
        assert fe.state(SET_VRING_BASE, 0, bad) != 0, \
            "base 0x%08x accepted for a ring of 100" % bad
    for good in (state(99, 0, 99, 0), state(7, 1, 3, 0), state(0, 1, 0, 1)):
        assert fe.state(SET_VRING_BASE, 0, good) == 0, \
            "base 0x%08x refused" % good
        got = get_base(fe, 0)
        assert got == good, "GET_VRING_BASE 0x%08x, set 0x%08x" % (got, good)
    fe.close()


def packed_tx_wrap(d):
    """TX chains of two descriptors (header, frame) in a ring of 5 over
    three laps: each frame reaches the tap; each used descriptor is at its
    chain's first slot with its buffer ID, length 0 and AVAIL = USED = the
    used wrap counter (no WRITE); the state then is 15 slots on: 0/0."""
    fe, g, kicks, _, _ = packed_running(d, 5)
    tap = tap_sniffer()
    p = Packed(g, 1, 5)
    for n in range(15 // 2 + 1):
        mark = b"PACKED-TX-%03d" % n
        frame = b"\xff" * 6 + b"\x02\0\0\0\0\1\x88\xb5" + mark + b"t" * 60
        hg, ho = g.buf(HDR)
        fg, fo = g.buf(len(frame))
        g.m[ho:ho + HDR] = bytes(HDR)
        g.m[fo:fo + len(frame)] = frame
        if n == 15 // 2:        # the last one takes one slot: 15 in all
            hg, ho = g.buf(HDR + len(frame))
            g.m[ho:ho + HDR + len(frame)] = bytes(HDR) + frame
            bid = p.post([(hg, HDR + len(frame))])
            slots = 1
        else:
            bid = p.post([(hg, HDR), (fg, len(frame))])
            slots = 2
        os.eventfd_write(kicks[1], 1)
        u = p.wait_used()
        assert u, "chain %d (slot %d wrap %d) not used" % (n, p.uidx, p.uwrap)
        want = F_AVAIL | F_USED if p.uwrap else 0
        assert u == (bid, 0, want), \
            "chain %d: used (id %d, len %d, flags 0x%x), want (%d, 0, 0x%x)" \
            % (n, u[0], u[1], u[2], bid, want)
        p.take(slots)
        got = [f for f in sniffed(tap, 0.3) if mark in f]
        assert len(got) == 1, "frame %d: %d on the tap" % (n, len(got))
    assert (p.idx, p.wrap) == (0, 0)
    got = get_base(fe, 1)
    assert got == state(0, 0, 0, 0), "GET_VRING_BASE 0x%08x, want 0" % got
    tap.close()
    done(fe, g)


def rx_frame_ok(g, u, bufs):
    """@u's buffers (by ID in @bufs) hold an inject_frames() frame."""
    off = bufs[u[0]] + HDR + 12
    return g.m[off:off + 2] == b"\x88\xb5"


def packed_rx_mergeable_wrap(d):
    """Mergeable RX in a ring of 6 started at slot 4: two 64-byte buffers
    (slots 4, 5) cannot hold a 200-byte frame, so they are given back and
    nothing is used; with two more after the wrap (slots 0, 1) the frame
    takes all four: used descriptors at 4, 5 (wrap 1) and 0, 1 (wrap 0),
    lengths 64, 64, 64, 20, WRITE set, num_buffers 4; the state: 2/0."""
    fe, g, kicks, _, _ = packed_running(
        d, 6, F_VERSION_1 | F_MRG_RXBUF, base=state(4, 1, 4, 1))
    p = Packed(g, 0, 6, idx=4, wrap=1)
    bufs = {}

    def post():
        gpa, off = g.buf(64)
        bufs[p.post([(gpa, 64)], write=True)] = off
    post()
    post()
    os.eventfd_write(kicks[0], 1)
    inject_frames(1, 200)
    time.sleep(0.5)
    assert p.used() is None, "a used descriptor for a frame that did not fit"
    post()
    post()
    os.eventfd_write(kicks[0], 1)
    want = [(4, 1, 64), (5, 1, 64), (0, 0, 64), (1, 0, 20)]
    for k, (slot, wrap, length) in enumerate(want):
        u = p.wait_used()
        assert u, "no used descriptor at slot %d wrap %d" % (slot, wrap)
        assert (p.uidx, p.uwrap) == (slot, wrap)
        fl = (F_AVAIL | F_USED if wrap else 0) | D_WRITE
        assert u[1:] == (length, fl), \
            "slot %d: len %d flags 0x%x, want %d 0x%x" % (
                slot, u[1], u[2], length, fl)
        assert u[0] in bufs, "slot %d: unknown buffer ID %d" % (slot, u[0])
        if k == 0:
            nb = struct.unpack_from("<H", g.m, bufs[u[0]] + 10)[0]
            assert nb == 4, "num_buffers %d, want 4" % nb
            assert rx_frame_ok(g, u, bufs), "not the injected frame"
        p.take(1)
    got = get_base(fe, 0)
    assert got == state(2, 0, 2, 0), "GET_VRING_BASE 0x%08x" % got
    done(fe, g)


def packed_events(d):
    """Event suppression with EVENT_IDX: a waiting ring asks for a kick at
    its next position (device area DESC, off_wrap); the first used
    descriptor always interrupts, then only the one at the driver area's
    DESC position does, and DISABLE silences them."""
    fe, g, kicks, calls, _ = packed_running(d, 4, F_VERSION_1 | F_EVENT_IDX)
    p = Packed(g, 1, 4)

    def tx(expect_call, why):
        gpa, off = g.buf(HDR + 60)
        g.m[off:off + HDR + 60] = bytes(HDR) + b"\xff" * 60
        p.post([(gpa, HDR + 60)])
        os.eventfd_write(kicks[1], 1)
        assert p.wait_used(), why + ": not used"
        p.take(1)
        time.sleep(0.1)
        called = readable(calls[1], 0.3)
        if called:
            os.eventfd_read(calls[1])
        assert called == expect_call, why + (": interrupted" if called else
                                             ": no interrupt")
        dev = p.device_event()
        assert dev == (p.idx | p.wrap << 15, EV_DESC), \
            why + ": device area %r, want off_wrap 0x%x DESC" % (
                dev, p.idx | p.wrap << 15)

    p.driver_event(2 | 1 << 15, EV_DESC)        # slot 2, wrap 1
    tx(True, "first used descriptor (slot 0)")
    tx(False, "slot 1, event at slot 2")
    tx(True, "slot 2, event at slot 2")
    p.driver_event(0, EV_DISABLE)
    tx(False, "slot 3, DISABLE")
    p.driver_event(0, EV_ENABLE)
    tx(True, "slot 0 (wrap 0), ENABLE")
    p.driver_event(2 | 1 << 15, EV_DESC)        # wrap 1 is the past now
    tx(False, "slot 1 (wrap 0), event at slot 2 of the last lap")
    done(fe, g)


def packed_broken(d):
    """Malformed packed chains stop the ring (error eventfd, nothing used):
    a chain longer than the ring, INDIRECT with NEXT, an indirect table
    whose length is not a multiple of 16, a buffer outside guest memory."""
    def longer(g, p):
        gpa, _ = g.buf(64)
        # every slot NEXT, the head's flags last: the walk wraps round
        for i in range(1, 4):
            struct.pack_into("<QIHH", g.m, p.slot(i), gpa, 64, 0,
                             D_NEXT | F_AVAIL)
        struct.pack_into("<QIHH", g.m, p.slot(0), gpa, 64, 0,
                         D_NEXT | F_AVAIL)

    def ind_next(g, p):
        gpa, _ = g.buf(64)
        p.post([(gpa, 32), (gpa, 64)])
        fl = struct.unpack_from("<H", g.m, p.slot(0) + 14)[0]
        struct.pack_into("<H", g.m, p.slot(0) + 14, fl | D_INDIRECT)

    def ind_len(g, p):
        gpa, _ = g.buf(64)
        p.post([(gpa, 40)], extra=D_INDIRECT)

    def outside(g, p):
        p.post([(REGION_GPA + g.size - 8, 64)])

    for what, mutate in (("chain longer than the ring", longer),
                         ("INDIRECT with NEXT", ind_next),
                         ("indirect table of 40 bytes", ind_len),
                         ("buffer outside guest memory", outside)):
        fe, g, kicks, _, errs = packed_running(d, 4, F_VERSION_1 | F_INDIRECT)
        p = Packed(g, 1, 4)
        mutate(g, p)
        os.eventfd_write(kicks[1], 1)
        assert readable(errs[1], 2), what + ": err eventfd not signalled"
        assert p.used() is None, what + ": chain used"
        assert fe.alive()
        done(fe, g)


PACKED_CHECKS = [
    ("packed-base", packed_base),
    ("packed-tx-wrap", packed_tx_wrap),
    ("packed-rx-mergeable-wrap", packed_rx_mergeable_wrap),
    ("packed-events", packed_events),
    ("packed-broken", packed_broken),
]
