# SPDX-License-Identifier: GPL-2.0
"""The datapath threads (issue 19) for attack-ivhost-user: the rings run
while the control socket is stalled by its frontend, and with RX and TX
on two workers both move frames while messages keep coming.  Listed in
attack_checks.CHECKS; they use its helpers."""
import os
import select
import struct
import time

from attack_client import *  # noqa: F401,F403
from attack_checks import done, inject_frames, running, wait_used  # noqa: E402
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


THREAD_CHECKS = [
    ("stall-mid-message-rings-run", stall_mid_message),
    ("threads-traffic-with-messages", threads_traffic_with_messages),
]
