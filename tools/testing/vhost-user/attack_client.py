# SPDX-License-Identifier: GPL-2.0
"""A hostile vhost-user frontend and guest, for attack-ivhost-user.

Python 3 standard library only.  A Frontend speaks the protocol over the
unix socket (any header, size, flags and fds it is told to send); a Guest
is a memfd laid out as one memory region with a ring per vq, whose
descriptors and indexes the test writes directly.
"""
import mmap
import os
import select
import socket
import struct
import time

GET_FEATURES, SET_FEATURES, SET_OWNER, RESET_OWNER, SET_MEM_TABLE = 1, 2, 3, 4, 5
SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE, GET_VRING_BASE = 8, 9, 10, 11
SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR = 12, 13, 14
GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM = 15, 16, 17
SET_VRING_ENABLE, NET_SET_MTU, SET_BACKEND_REQ_FD = 18, 20, 21

NEED_REPLY = 0x9          # version 1 | NEED_REPLY
NOFD = 0x100

F_MRG_RXBUF = 1 << 15
F_EVENT_IDX = 1 << 29
F_INDIRECT = 1 << 28
F_VERSION_1 = 1 << 32

D_NEXT, D_WRITE, D_INDIRECT = 1, 2, 4

REGION_GPA = 0x100000
REGION_QVA = 0x7f0000000000
VQ_STRIDE = 0x10000       # each vq's ring area in the region
BUF_BASE = 0x80000        # buffers, above the rings


class Closed(Exception):
    """The daemon closed the connection (or sent nothing in time)."""


class Frontend:
    """One connection to the daemon."""

    def __init__(self, path, timeout=3.0):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.timeout = timeout

    def close(self):
        if self.s:
            self.s.close()
            self.s = None

    def send(self, req, payload=b"", fds=(), flags=NEED_REPLY, size=None):
        hdr = struct.pack("<III", req, flags,
                          len(payload) if size is None else size)
        anc = []
        if fds:
            anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                    struct.pack("%di" % len(fds), *fds))]
        self.s.sendmsg([hdr + payload], anc)

    def recv_exact(self, n, timeout=None):
        buf = b""
        end = time.monotonic() + (timeout or self.timeout)
        while len(buf) < n:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.s], [], [], left)[0]:
                raise Closed("no reply within %.1fs" % (timeout or self.timeout))
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise Closed("connection closed")
            buf += chunk
        return buf

    def reply(self, req, timeout=None):
        req_r, flags, size = struct.unpack("<III", self.recv_exact(12, timeout))
        if req_r != req or flags != 0x5:
            raise Closed("bad reply header %d 0x%x" % (req_r, flags))
        return self.recv_exact(size, timeout)

    def call(self, req, payload=b"", fds=(), flags=NEED_REPLY, size=None):
        """Send; return the u64 reply (NEED_REPLY) or the payload."""
        self.send(req, payload, fds, flags, size)
        r = self.reply(req)
        return struct.unpack("<Q", r)[0] if len(r) == 8 and req not in (
            GET_VRING_BASE,) else r

    def u64(self, req, v, fds=(), flags=NEED_REPLY):
        return self.call(req, struct.pack("<Q", v), fds, flags)

    def state(self, req, index, num, flags=NEED_REPLY):
        return self.call(req, struct.pack("<II", index, num), flags=flags)

    def alive(self):
        """A GET_FEATURES round trip works."""
        try:
            return self.call(GET_FEATURES, flags=1) != 0
        except (Closed, OSError):
            return False


def send_until_stuck(s, msg, count, stuck_s=1.0):
    """Send @msg @count times on socket @s, made non-blocking, without
    reading anything, until the peer closes or takes nothing for @stuck_s
    seconds; returns how many whole messages it took."""
    s.setblocking(False)
    data = msg * 1000
    off, total, stuck = 0, len(msg) * count, None
    while off < total:
        at = off % len(data)
        try:
            off += s.send(data[at:at + total - off])
            stuck = None
        except BlockingIOError:
            stuck = stuck or time.monotonic()
            if time.monotonic() - stuck > stuck_s:
                break
            time.sleep(0.01)
        except OSError:
            break
    return off // len(msg)


def mem_table(regions):
    """SET_MEM_TABLE payload: regions of (gpa, size, qva, offset)."""
    p = struct.pack("<II", len(regions), 0)
    for r in regions:
        p += struct.pack("<QQQQ", *r)
    return p


class Guest:
    """A guest: one memfd region with rings for its vqs."""

    def __init__(self, size=1 << 20, num=256):
        self.size = size
        self.num = num
        self.fd = os.memfd_create("ivu-attack-guest")
        os.ftruncate(self.fd, size)
        self.m = mmap.mmap(self.fd, size)
        self.next_buf = BUF_BASE

    def region(self):
        return (REGION_GPA, self.size, REGION_QVA, 0)

    def table(self):
        return mem_table([self.region()])

    def close(self):
        try:
            self.m.close()
        except (BufferError, ValueError):
            pass
        os.close(self.fd)

    # Ring layout of vq i: desc, avail at +0x1000... (num <= 256)
    def desc_off(self, vq):
        return vq * VQ_STRIDE

    def avail_off(self, vq):
        return vq * VQ_STRIDE + 0x4000

    def used_off(self, vq):
        return vq * VQ_STRIDE + 0x8000

    def addr_payload(self, vq, flags=0):
        return struct.pack("<IIQQQQ", vq, flags,
                           REGION_QVA + self.desc_off(vq),
                           REGION_QVA + self.used_off(vq),
                           REGION_QVA + self.avail_off(vq), 0)

    def set_desc(self, vq, i, addr, length, flags=0, nxt=0, table=None):
        off = (self.desc_off(vq) if table is None else table) + 16 * i
        struct.pack_into("<QIHH", self.m, off, addr, length, flags, nxt)

    def buf(self, length):
        """A buffer in guest memory: its gpa and region offset."""
        off = self.next_buf
        self.next_buf += (length + 15) & ~15
        return REGION_GPA + off, off

    def post(self, vq, idx_slot, head):
        struct.pack_into("<H", self.m, self.avail_off(vq) + 4 +
                         2 * (idx_slot % self.num), head)

    def set_avail_idx(self, vq, idx):
        struct.pack_into("<H", self.m, self.avail_off(vq) + 2, idx)

    def used_idx(self, vq):
        return struct.unpack_from("<H", self.m, self.used_off(vq) + 2)[0]


def eventfd(initval=0, nonblock=False):
    return os.eventfd(initval, os.EFD_NONBLOCK if nonblock else 0)


def setup_device(fe, g, features=F_VERSION_1, vqs=(0, 1), kick=None,
                 call=None, err=None, num=None):
    """Owner, features, memory and started rings; returns the kick fds."""
    num = num or g.num
    fe.call(SET_OWNER)
    assert fe.u64(SET_FEATURES, features) == 0
    assert fe.call(SET_MEM_TABLE, g.table(), [g.fd]) == 0
    kicks = {}
    for vq in vqs:
        assert fe.state(SET_VRING_NUM, vq, num) == 0
        assert fe.state(SET_VRING_BASE, vq, 0) == 0
        assert fe.call(SET_VRING_ADDR, g.addr_payload(vq)) == 0
        if err is not None:
            assert fe.u64(SET_VRING_ERR, vq, [err(vq)]) == 0
        c = call(vq) if call else eventfd(nonblock=True)
        assert fe.u64(SET_VRING_CALL, vq, [c]) == 0
        k = kick(vq) if kick else eventfd(nonblock=True)
        assert fe.u64(SET_VRING_KICK, vq, [k]) == 0
        kicks[vq] = k
    return kicks
