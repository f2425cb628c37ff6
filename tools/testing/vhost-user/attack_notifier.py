# SPDX-License-Identifier: GPL-2.0
"""The host notifier checks of attack-ivhost-user (--host-notifier): the
VRING_HOST_NOTIFIER_MSG registrations on the backend channel (format, the
page's fd, NEED_REPLY), registration again after GET_VRING_BASE and a
restart, withdrawal, kicks through the doorbell page alone, the kick
counters, the fallback to eventfd kicks when the frontend refuses, and
the channel shared with the IOTLB's messages.  Listed in
attack_checks.CHECKS; they use its helpers.

The oracle is the protocol (shared/reference/vhost-user.md, 5): request 3,
payload u64 index (bit 8 NOFD: withdraw), u64 size 4096, u64 offset, one
fd; a kick is the guest's 16-bit store of the queue index into the page.
"""
import array
import mmap
import os
import re
import signal
import socket
import struct
import time

from attack_client import *  # noqa: F401,F403
from attack_checks import (done, efd, idle_cpu, inject_frames,  # noqa: E402
                           readable, rx_post, wait_used)
from attack_iotlb import (F_IOMMU, IOVA, T_MISS, T_UPDATE, iotlb,  # noqa: E402
                          iotlb_start, tap_sniffer, sniffed, tx_at_new_iova)

PF_MQ, PF_REPLY_ACK, PF_BACKEND_REQ = 1 << 0, 1 << 3, 1 << 5
PF_SEND_FD, PF_HOST_NOTIFIER = 1 << 10, 1 << 11
PF_NB = PF_REPLY_ACK | PF_BACKEND_REQ | PF_SEND_FD | PF_HOST_NOTIFIER
HOST_NOTIFIER_MSG = 3
NB_NOFD = 0x100
PAGE = 4096


def nb_msgs(sk, timeout, want=None):
    """Backend requests arriving within @timeout (stopping early once
    @want arrived): dicts req, flags, size, payload, fds.  The framing is
    checked: a header, then exactly size bytes."""
    out = []
    end = time.monotonic() + timeout
    while want is None or len(out) < want:
        left = end - time.monotonic()
        if left <= 0 or not readable(sk, left):
            break
        fds = array.array("i")
        hdr, anc, _, _ = sk.recvmsg(12, socket.CMSG_SPACE(8 * 4))
        if not hdr:
            break
        for level, typ, data in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                fds.frombytes(data[:len(data) - len(data) % 4])
        while len(hdr) < 12:
            more = sk.recv(12 - len(hdr))
            assert more, "backend channel: header cut short"
            hdr += more
        req, flags, size = struct.unpack("<III", hdr)
        assert size <= 632, "backend request %d of %d bytes" % (req, size)
        payload = b""
        while len(payload) < size:
            more = sk.recv(size - len(payload))
            assert more, "backend channel: payload cut short"
            payload += more
        out.append(dict(req=req, flags=flags, size=size, payload=payload,
                        fds=list(fds)))
    return out


def answer(sk, v):
    """The frontend's answer to a registration (NEED_REPLY), as QEMU's."""
    sk.send(struct.pack("<IIIQ", HOST_NOTIFIER_MSG, 0x5, 8, v))


def area(m):
    return struct.unpack("<QQQ", m["payload"])


def nb_frontend(d, proto=PF_NB, features=F_VERSION_1, sndbuf=None,
                restart=True):
    """A frontend of a daemon with --host-notifier (restarted with it
    unless @restart is false): protocol features @proto acked, a backend
    channel (the daemon's end with SO_SNDBUF @sndbuf if given); returns
    (fe, g, our end of the channel)."""
    if restart:
        try:
            d.restart("--host-notifier")
        except RuntimeError as e:
            raise AssertionError("no daemon with --host-notifier: %s" %
                                 str(e)[-200:])
    fe = Frontend(d.path)
    g = Guest()
    fe.call(SET_OWNER)
    offered = fe.call(GET_PROTOCOL_FEATURES, flags=1)
    assert offered & PF_NB == PF_NB, \
        "--host-notifier: protocol features 0x%x lack 0x%x" % (offered, PF_NB)
    assert fe.u64(SET_PROTOCOL_FEATURES, proto) == 0
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    if sndbuf:
        theirs.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    assert fe.call(SET_BACKEND_REQ_FD, b"", [theirs.fileno()]) == 0
    theirs.close()
    assert fe.u64(SET_FEATURES, features) == 0
    assert fe.call(SET_MEM_TABLE, g.table(), [g.fd]) == 0
    return fe, g, ours


def start_vq(fe, g, vq, base=0):
    assert fe.state(SET_VRING_NUM, vq, g.num) == 0
    assert fe.state(SET_VRING_BASE, vq, base) == 0
    assert fe.call(SET_VRING_ADDR, g.addr_payload(vq)) == 0
    assert fe.u64(SET_VRING_CALL, vq, [efd()]) == 0
    k = efd()
    assert fe.u64(SET_VRING_KICK, vq, [k]) == 0
    return k


def registrations(sk, n, reply=0, timeout=3):
    """Wait for @n registrations, check each, answer @reply; returns
    {vq: (mmap of its page, fd)}."""
    msgs = nb_msgs(sk, timeout, n)
    assert len(msgs) == n, "%d host notifier registrations, want %d" % (
        len(msgs), n)
    pages = {}
    for m in msgs:
        assert m["req"] == HOST_NOTIFIER_MSG, "backend request %d" % m["req"]
        assert m["flags"] == 0x9, \
            "registration flags 0x%x (version 1 | NEED_REPLY)" % m["flags"]
        assert m["size"] == 24, "registration of %d bytes" % m["size"]
        idx, size, off = area(m)
        assert not idx & NB_NOFD, "registration with NOFD set"
        assert size == PAGE, "notifier size %d, QEMU takes 4096" % size
        assert len(m["fds"]) == 1, "registration with %d fds" % len(m["fds"])
        fd = m["fds"][0]
        assert off % PAGE == 0 and os.fstat(fd).st_size >= off + PAGE, \
            "offset 0x%x outside the fd" % off
        pages[idx & 0xff] = (mmap.mmap(fd, PAGE, offset=off), fd)
        answer(sk, reply)
    return pages


def ring(pages, vq):
    """The guest's kick: a 16-bit store of the queue index."""
    struct.pack_into("<H", pages[vq][0], 0, vq)


def close_pages(pages):
    for m, fd in pages.values():
        m.close()
        os.close(fd)


def kick_counters(d):
    """The 'ivhost-user: kicks' line and the per-vq ones after SIGUSR1."""
    d.p.send_signal(signal.SIGUSR1)
    time.sleep(0.3)
    lines = d.logtext().splitlines()
    tot = [ln for ln in lines if ln.startswith("ivhost-user: kicks ")]
    assert tot, "no 'ivhost-user: kicks' line on SIGUSR1"
    w = tot[-1].replace(";", "").split()
    total = dict(zip(w[2::2], w[3::2]))
    per = {}
    for ln in lines:
        m = re.match(r"ivhost-user: vq (\d+): kicks eventfd (\d+) "
                     r"doorbell (\d+)$", ln)
        if m:
            per[int(m[1])] = (int(m[2]), int(m[3]))
    return total, per


def tx_frame(g, head, marker):
    gpa, off = g.buf(256)
    frame = b"\xff" * 6 + b"\x02\0\0\0\0\1\x88\xb5" + marker + b"n" * 60
    g.m[off:off + 12 + len(frame)] = bytes(12) + frame
    g.set_desc(1, head, gpa, 12 + len(frame))
    g.post(1, head, head)
    g.set_avail_idx(1, head + 1)


def notifier_register(d):
    """Without --host-notifier, HOST_NOTIFIER and BACKEND_SEND_FD are not
    offered; with it, and acked, every ring start sends one registration:
    request 3, NEED_REPLY, size 4096, the page's fd; acked without
    HOST_NOTIFIER, none is sent."""
    fe = Frontend(d.path)
    fe.call(SET_OWNER)
    pf = fe.call(GET_PROTOCOL_FEATURES, flags=1)
    assert not pf & (PF_SEND_FD | PF_HOST_NOTIFIER), \
        "host notifiers offered without --host-notifier (0x%x)" % pf
    assert fe.u64(SET_PROTOCOL_FEATURES, PF_HOST_NOTIFIER) != 0, \
        "HOST_NOTIFIER acked though not offered"
    fe.close()
    fe, g, sk = nb_frontend(d, proto=PF_REPLY_ACK | PF_BACKEND_REQ)
    start_vq(fe, g, 0)
    start_vq(fe, g, 1)
    got = nb_msgs(sk, 0.5)
    assert not got, "%d backend messages without HOST_NOTIFIER acked" % len(got)
    sk.close()
    done(fe, g)
    fe, g, sk = nb_frontend(d)
    start_vq(fe, g, 0)
    start_vq(fe, g, 1)
    pages = registrations(sk, 2)
    assert sorted(pages) == [0, 1], "registrations for vqs %s" % sorted(pages)
    assert pages[0][0][:2] != b"\0\0" and pages[1][0][:2] != b"\1\0", \
        "a fresh doorbell page already holds its queue's kick"
    assert not nb_msgs(sk, 0.3), "more than one registration per start"
    total, _ = kick_counters(d)
    assert total.get("doorbell") == "0", \
        "doorbell kicks counted before the guest rang: %s" % total
    assert fe.alive()
    close_pages(pages)
    sk.close()
    done(fe, g)


def notifier_doorbell(d):
    """A store of the queue index into the registered page, and no
    eventfd kick: a TX frame reaches the tap; held RX frames go into the
    buffers the guest then posts.  A second store serves a second frame.
    Idle, the polled doorbells cost little CPU.  The counters show these
    kicks as doorbell kicks, none by eventfd."""
    fe, g, sk = nb_frontend(d)
    start_vq(fe, g, 0)
    start_vq(fe, g, 1)
    pages = registrations(sk, 2)
    tap = tap_sniffer()
    for n, marker in ((1, b"DOORBELL-TX-ONE"), (2, b"DOORBELL-TX-TWO")):
        tx_frame(g, n - 1, marker)
        time.sleep(0.1)
        assert g.used_idx(1) == n - 1, "TX frame %d moved without a kick" % n
        ring(pages, 1)
        assert wait_used(g, 1, n) == n, "TX frame %d not used after the doorbell" % n
        time.sleep(0.1)
        assert sniffed(tap, marker) == 1, "TX frame %d not on the tap" % n
    tap.close()
    inject_frames(2)
    time.sleep(0.2)
    assert g.used_idx(0) == 0, "RX frame placed with no buffer"
    rx_post(g, 4)
    ring(pages, 0)
    assert wait_used(g, 0, 2) >= 2, "RX frames not placed after the doorbell"
    # the doorbells stay registered and polled: a bounded cost when idle
    time.sleep(0.2)
    spent = idle_cpu(d)
    assert spent < 0.25, "%.2f s CPU in 0.5 s, doorbells idle" % spent
    total, per = kick_counters(d)
    assert total.get("eventfd") == "0", "eventfd kicks counted: %s" % total
    assert int(total.get("doorbell", 0)) >= 3, "doorbell kicks: %s" % total
    assert per.get(1, (None, 0))[1] >= 2 and per[1][0] == 0, \
        "vq 1 kicks (eventfd, doorbell) %s" % (per.get(1),)
    assert per.get(0, (None, 0))[1] >= 1, "vq 0 kicks %s" % (per.get(0),)
    close_pages(pages)
    sk.close()
    done(fe, g)


def notifier_reregister(d):
    """GET_VRING_BASE withdraws the ring's notifier (NOFD, no fd, no
    NEED_REPLY); the doorbell then moves nothing; the restart registers
    it again and the doorbell serves the ring."""
    fe, g, sk = nb_frontend(d)
    start_vq(fe, g, 0)
    start_vq(fe, g, 1)
    pages = registrations(sk, 2)
    r = fe.call(GET_VRING_BASE, struct.pack("<II", 1, 0))
    assert struct.unpack("<II", r) == (1, 0)
    msgs = nb_msgs(sk, 2, 1)
    assert msgs, "no withdrawal after GET_VRING_BASE"
    m = msgs[0]
    assert m["req"] == HOST_NOTIFIER_MSG and m["size"] == 24, \
        "withdrawal request %d size %d" % (m["req"], m["size"])
    assert area(m)[0] == 1 | NB_NOFD, "withdrawal u64 0x%x" % area(m)[0]
    assert not m["fds"], "withdrawal with an fd"
    assert m["flags"] & 0x3 == 1 and not m["flags"] & 0x8, \
        "withdrawal flags 0x%x (no NEED_REPLY)" % m["flags"]
    assert not nb_msgs(sk, 0.3), "more messages after one stop"
    tx_frame(g, 0, b"STOPPED")
    ring(pages, 1)
    time.sleep(0.3)
    assert g.used_idx(1) == 0, "the doorbell of a stopped ring moved a frame"
    close_pages({1: pages.pop(1)})
    start_vq(fe, g, 1, base=0)     # its start round sends the waiting frame
    assert wait_used(g, 1, 1) == 1, "restarted ring did not run"
    again = registrations(sk, 1)
    assert list(again) == [1], "registration after restart for %s" % list(again)
    tx_frame(g, 1, b"AFTER-RESTART")
    time.sleep(0.1)
    ring(again, 1)
    assert wait_used(g, 1, 2) == 2, "doorbell not served after re-registration"
    _, per = kick_counters(d)
    assert per[1][0] == 0, "eventfd kicks on vq 1: %s" % (per[1],)
    close_pages(pages)
    close_pages(again)
    sk.close()
    done(fe, g)


def notifier_refused(d):
    """The frontend answers non-zero (QEMU without page-per-vq): one log
    line says kicks stay on the eventfd; they do; the page is not served,
    and a restart on this connection does not register again.  The next
    connection registers again."""
    fe, g, sk = nb_frontend(d)
    kicks = {0: start_vq(fe, g, 0), 1: start_vq(fe, g, 1)}
    pages = registrations(sk, 2, reply=1)
    time.sleep(0.3)
    lines = [ln for ln in d.logtext().splitlines() if "host notifier" in ln]
    assert len(lines) == 1, "%d log lines on the refusals: %s" % (
        len(lines), lines)
    assert "eventfd" in lines[0], "log line does not say eventfd: %s" % lines[0]
    tx_frame(g, 0, b"REFUSED-DB")
    ring(pages, 1)
    time.sleep(0.3)
    assert g.used_idx(1) == 0, "a refused doorbell was served"
    os.eventfd_write(kicks[1], 1)
    assert wait_used(g, 1, 1) == 1, "eventfd kick not served after a refusal"
    fe.call(GET_VRING_BASE, struct.pack("<II", 1, 0))
    start_vq(fe, g, 1, base=1)
    regs = [m for m in nb_msgs(sk, 0.5)
            if not area(m)[0] & NB_NOFD]
    assert not regs, "registered again on the connection that refused"
    total, per = kick_counters(d)
    assert per[1] == (1, 0), "vq 1 kicks (eventfd, doorbell) %s" % (per[1],)
    close_pages(pages)
    sk.close()
    done(fe, g)
    one_registration(d).close()


def one_registration(d, then=None):
    """The next frontend (the same daemon) starts vq 1: its doorbell is
    registered; @then(channel) runs, the daemon still serves it."""
    fe, g, sk = nb_frontend(d, restart=False)
    start_vq(fe, g, 1)
    close_pages(registrations(sk, 1))
    if then:
        then(sk)
        time.sleep(0.3)
    assert fe.alive()
    done(fe, g)
    return sk


def notifier_bad_answers(d):
    """A frontend that writes garbage on the backend channel, or closes
    its end, costs the daemon the channel only: it goes on serving (the
    runner checks it does not spin on the closed channel)."""
    fe, g, sk = nb_frontend(d)
    start_vq(fe, g, 1)
    close_pages(registrations(sk, 1))
    sk.send(struct.pack("<III", 99, 0x5, 4000) + b"x" * 64)
    time.sleep(0.3)
    assert fe.alive(), "daemon stopped serving after a garbage answer"
    assert "backend channel" in d.logtext(), "garbage answer not logged"
    sk.close()
    done(fe, g)

    def close_idle(sk):
        sk.close()
        time.sleep(0.2)
        spent = idle_cpu(d)
        assert spent < 0.25, \
            "%.2f s CPU in 0.5 s, backend channel closed" % spent
    one_registration(d, close_idle)


def notifier_iotlb_channel(d):
    """The IOTLB's MISS messages and the registrations share a backend
    channel the frontend does not read for a while (a small buffer):
    once read, every message is whole (MISS: 32 bytes, no fd;
    registration: 24 bytes, one fd), none lost."""
    fe, g, sk = nb_frontend(d, features=F_VERSION_1 | F_IOMMU, sndbuf=4096)
    kicks = iotlb_start(fe, g, (1,))
    assert iotlb(fe, T_UPDATE, IOVA, 2 * VQ_STRIDE, REGION_QVA, 3) == 0
    gpa, off = g.buf(256)
    frame = b"\xff" * 6 + b"\x02\0\0\0\0\1\x88\xb5" + b"i" * 100
    g.m[off:off + 12 + len(frame)] = bytes(12) + frame
    restarts = 0
    for i in range(40):
        tx_at_new_iova(fe, g, kicks[1], i, gpa, 12 + len(frame))
        if i % 8 == 7:
            # a stop and a start: a withdrawal and a registration
            fe.call(GET_VRING_BASE, struct.pack("<II", 1, 0))
            kicks = iotlb_start_at(fe, g, 1, i + 1)
            # GET_VRING_BASE flushed the IOTLB: the rings again
            assert iotlb(fe, T_UPDATE, IOVA, 2 * VQ_STRIDE, REGION_QVA,
                         3) == 0
            restarts += 1
    assert fe.alive()
    msgs = nb_msgs(sk, 3)
    miss = [m for m in msgs if m["req"] == 1]
    regs = [m for m in msgs if m["req"] == HOST_NOTIFIER_MSG and
            not area(m)[0] & NB_NOFD]
    assert all(m["size"] == 32 and not m["fds"] for m in miss), \
        "a malformed MISS among %d" % len(miss)
    assert all(m["size"] == 24 and len(m["fds"]) == 1 for m in regs), \
        "a malformed registration among %d" % len(regs)
    # a start whose ring stopped before the channel had room for its
    # registration needs none; the running ring's must be the last word
    assert 1 <= len(regs) <= 1 + restarts, \
        "%d registrations for %d starts" % (len(regs), 1 + restarts)
    last = [m for m in msgs if m["req"] == HOST_NOTIFIER_MSG][-1]
    assert not area(last)[0] & NB_NOFD, \
        "the running ring's doorbell was left withdrawn"
    assert miss and all(struct.unpack_from("<B", m["payload"], 25)[0] == T_MISS
                        for m in miss), "IOTLB messages other than MISS"
    # a withdrawal may be superseded by the next registration while the
    # channel is full; anything else is neither
    other = len(msgs) - len(miss) - len(regs)
    assert 0 <= other <= restarts and all(
        m["req"] == HOST_NOTIFIER_MSG and area(m)[0] & NB_NOFD and
        not m["fds"] for m in msgs if m not in miss and m not in regs), \
        "%d messages besides %d MISS and %d registrations" % (
            other, len(miss), len(regs))
    for m in regs:
        os.close(m["fds"][0])
    sk.close()
    done(fe, g)


def iotlb_start_at(fe, g, vq, base):
    """Restart ring @vq at IOVAs from avail index @base."""
    assert fe.state(SET_VRING_BASE, vq, base) == 0
    assert fe.call(SET_VRING_ADDR, struct.pack(
        "<IIQQQQ", vq, 0, IOVA + g.desc_off(vq), IOVA + g.used_off(vq),
        IOVA + g.avail_off(vq), 0)) == 0
    k = efd()
    assert fe.u64(SET_VRING_KICK, vq, [k]) == 0
    return {vq: k}


def notifier_armed_late(d):
    """A registration held back (64 answers overdue) goes out when the
    frontend answers one, on the backend channel's event: the ring's
    doorbell is armed then, and its worker, asleep with no doorbell to
    poll, must be woken to poll it: the guest's store into the page
    serves the ring (no eventfd kick)."""
    fe, g, sk = nb_frontend(d)
    for _ in range(64):
        start_vq(fe, g, 1)
        fe.call(GET_VRING_BASE, struct.pack("<II", 1, 0))
    start_vq(fe, g, 1)
    msgs = nb_msgs(sk, 1)
    regs = [m for m in msgs if not area(m)[0] & NB_NOFD]
    for m in msgs:
        for fd in m["fds"]:
            os.close(fd)
    assert len(regs) == 64, "%d registrations with 64 answers due" % len(
        regs)
    answer(sk, 0)      # for a stale one: the held-back one goes out
    pages = registrations(sk, 1)
    assert list(pages) == [1], "registration for %s" % list(pages)
    time.sleep(0.2)
    tx_frame(g, 0, b"ARMED-LATE")
    ring(pages, 1)
    assert wait_used(g, 1, 1) == 1, \
        "doorbell armed by the backend channel's event not polled"
    _, per = kick_counters(d)
    assert per[1][0] == 0, "eventfd kicks on vq 1: %s" % (per[1],)
    close_pages(pages)
    sk.close()
    done(fe, g)
