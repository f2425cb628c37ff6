# SPDX-License-Identifier: GPL-2.0
"""The restart checks of attack-ivhost-user: a frontend that dies leaves
the daemon ready for the next with nothing leaked, and a frontend that
comes back after the daemon restarted (QEMU reconnecting) resumes its
rings where SET_VRING_BASE and the guest's used index say.  Listed in
attack_checks.CHECKS; they use its helpers."""
import os
import socket
import time

from attack_client import *  # noqa: F401,F403
from attack_checks import (TAP, done, efd, readable, rx_post,  # noqa: E402
                           running, used_elem, wait_used)
from attack_iotlb import (IOVA, T_UPDATE, backend_msgs,  # noqa: E402
                          iotlb, iotlb_running)

CONNECTIONS = 100
# Growth allowed over 100 connections after the warm-up: the allocator's
# own slack, far below what one leaked guest region (1 MiB, touched)
# or one leaked IOTLB per connection would add.
RSS_SLACK_KB = 1024


def proc_status(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def footprint(d):
    """(open fds, mapping lines, VmRSS kB) of the daemon."""
    pid = d.p.pid
    with open("/proc/%d/maps" % pid) as f:
        maps = sum(1 for _ in f)
    return (len(os.listdir("/proc/%d/fd" % pid)), maps,
            proc_status(pid, "VmRSS"))


def served(d):
    """The next frontend is served: the one before it was let go (one
    frontend at a time, so its release happened first)."""
    fe = Frontend(d.path)
    try:
        assert fe.alive(), "a frontend was not served after a disconnect"
    finally:
        fe.close()


def tx_frames(g, kick, n, vq=1):
    """Post @n small TX frames and kick; the guest touches its memory."""
    for i in range(n):
        gpa, off = g.buf(14 + 12 + 60)
        g.m[off:off + 86] = bytes(12) + b"\xff" * 6 + \
            b"\x02\0\0\0\0\1\x88\xb5" + b"r" * 60
        g.set_desc(vq, i, gpa, 86)
        g.post(vq, i, i)
    g.set_avail_idx(vq, n)
    os.eventfd_write(kick, 1)


def setup_closed_at_once(d):
    Frontend(d.path).close()


def setup_mem_table(d):
    fe = Frontend(d.path)
    g = Guest()
    fe.call(SET_OWNER)
    assert fe.u64(SET_FEATURES, F_VERSION_1) == 0
    assert fe.call(SET_MEM_TABLE, g.table(), [g.fd]) == 0
    # a second table replaces the first
    g2 = Guest()
    assert fe.call(SET_MEM_TABLE, g2.table(), [g2.fd]) == 0
    done(fe, g)
    g2.close()


def setup_rings_traffic(d):
    fe, g, kicks = running(d, F_VERSION_1 | F_MRG_RXBUF | F_EVENT_IDX)
    tx_frames(g, kicks[1], 4)
    rx_post(g, 4)
    os.eventfd_write(kicks[0], 1)
    assert wait_used(g, 1, 4) == 4, "TX frames not taken"
    done(fe, g)


def setup_rings_stopped(d):
    fe, g, kicks = running(d)
    tx_frames(g, kicks[1], 2)
    assert wait_used(g, 1, 2) == 2, "TX frames not taken"
    for vq in (0, 1):
        fe.state(GET_VRING_BASE, vq, 0)
    fe.call(RESET_OWNER)
    done(fe, g)


def setup_iotlb(d):
    """IOTLB on, a backend channel, a mapping, a miss left unanswered."""
    fe, g, kicks, sk = iotlb_running(d)
    assert iotlb(fe, T_UPDATE, IOVA, 0x10000, REGION_QVA, 3) == 0
    tx_frames(g, kicks[1], 1)
    assert backend_msgs(sk, 1.0), "no MISS for a frame beyond the mapping"
    sk.close()
    done(fe, g)


def setup_cut_mid_message(d):
    fe, g, _ = running(d)
    fe.send(SET_MEM_TABLE, g.table()[:20], [os.dup(g.fd)],
            size=len(g.table()))
    done(fe, g)


def setup_memfd_shrunk(d):
    """The guest's memory shrinks under running rings (SIGBUS caught)."""
    err = efd()
    fe, g, kicks = running(d, err=lambda vq: err)
    tx_frames(g, kicks[1], 1)
    wait_used(g, 1, 1)
    g.set_avail_idx(1, 2)
    os.ftruncate(g.fd, 0)
    os.eventfd_write(kicks[1], 1)
    assert readable(err, 2), "ring not stopped after the memory shrank"
    fe.close()
    os.close(g.fd)
    os.close(err)


SETUPS = (setup_closed_at_once, setup_mem_table, setup_rings_traffic,
          setup_rings_stopped, setup_iotlb, setup_cut_mid_message,
          setup_memfd_shrunk)


def leak_100_connections(d):
    """100 frontends, each with its own setup (none, memory tables, rings
    with traffic, rings stopped and reset, the IOTLB with a backend
    channel and a miss outstanding, a message cut short, guest memory
    shrunk under running rings), each gone
    without a goodbye: the daemon ends with the fds and mappings it had,
    and its RSS within RSS_SLACK_KB of where it was."""
    for s in SETUPS:            # warm-up: the allocator's first growth
        s(d)
        served(d)
    time.sleep(0.2)
    base = footprint(d)
    for i in range(CONNECTIONS):
        SETUPS[i % len(SETUPS)](d)
        served(d)
    end = time.monotonic() + 3
    now = footprint(d)
    while now[:2] != base[:2] and time.monotonic() < end:
        time.sleep(0.05)
        now = footprint(d)
    if os.environ.get("IVU_ATTACK_VERBOSE"):
        print("# fds, maps, rss kB: %s -> %s" % (base, now))
    assert now[0] == base[0], "fds %d -> %d after %d connections" % (
        base[0], now[0], CONNECTIONS)
    assert now[1] == base[1], "mappings %d -> %d after %d connections" % (
        base[1], now[1], CONNECTIONS)
    assert now[2] - base[2] <= RSS_SLACK_KB, \
        "RSS %d kB -> %d kB after %d connections" % (base[2], now[2],
                                                     CONNECTIONS)


def tap_sniffer():
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x88b5))
    s.bind((TAP, 0))
    s.setblocking(False)
    return s


def sniffed_payloads(s):
    out = []
    while True:
        try:
            out.append(s.recv(4096)[14:])
        except BlockingIOError:
            return out


def resume_from_vring_base(d):
    """QEMU restarting a backend's rings sends SET_VRING_BASE with the
    next avail entry (after a dead backend: the guest's used index), and
    the used index is the guest's.  The restarted daemon takes exactly
    the chains after it, none before (no buffer used twice), and
    returns them at the guest's used index (none lost)."""
    fe, g, kicks = running(d)
    tap = tap_sniffer()
    for i in range(5):
        gpa, off = g.buf(12 + 14 + 8)
        g.m[off:off + 34] = bytes(12) + b"\xff" * 6 + \
            b"\x02\0\0\0\0\1\x88\xb5" + b"chain-%02d" % i
        g.set_desc(1, i, gpa, 34)
        g.post(1, i, i)
    g.set_avail_idx(1, 3)
    os.eventfd_write(kicks[1], 1)
    assert wait_used(g, 1, 3) == 3, "the first 3 chains were not used"
    fe.close()
    time.sleep(0.2)
    got = sniffed_payloads(tap)
    tap.close()
    d.restart()                 # the daemon gone and started again
    tap = tap_sniffer()         # on its tap, created anew
    # The guest goes on: two more chains, posted while no backend ran.
    g.set_avail_idx(1, 5)
    fe = Frontend(d.path)
    fe.call(SET_OWNER)
    assert fe.u64(SET_FEATURES, F_VERSION_1) == 0
    assert fe.call(SET_MEM_TABLE, g.table(), [g.fd]) == 0
    kick = efd()
    for vq in (0, 1):
        assert fe.state(SET_VRING_NUM, vq, g.num) == 0
        assert fe.state(SET_VRING_BASE, vq, 3 if vq else 0) == 0
        assert fe.call(SET_VRING_ADDR, g.addr_payload(vq)) == 0
        assert fe.u64(SET_VRING_CALL, vq, [efd()]) == 0
        assert fe.u64(SET_VRING_KICK, vq, [kick if vq else efd()]) == 0
    os.eventfd_write(kick, 1)
    wait_used(g, 1, 5)
    time.sleep(0.2)
    got += sniffed_payloads(tap)
    tap.close()
    heads = [used_elem(g, 1, i)[0] for i in range(g.used_idx(1))]
    done(fe, g)
    frames = [p[:8] for p in got]
    assert heads == [0, 1, 2, 3, 4], "used ring after the restart: %s" % heads
    assert frames == [b"chain-%02d" % i for i in range(5)], \
        "frames on the tap: %s" % frames


RESTART_CHECKS = [
    ("restart-leak-100-connections", leak_100_connections),
    ("restart-resume-from-vring-base", resume_from_vring_base),
]
