# SPDX-License-Identifier: GPL-2.0
"""Regression checks for what the hostile-frontend fuzzer
(tools/testing/fuzz/vhost-user) found in ivhost-user, for
attack-ivhost-user.  Listed in attack_checks.CHECKS."""
import os
import struct

from attack_client import *  # noqa: F401,F403
from attack_checks import efd  # noqa: E402


def ring_misaligned_mapping(d):
    """A region whose frontend address is 2 bytes off its mmap offset
    maps 16-byte aligned ring addresses to misaligned local ones: the
    ring must be refused (its kick answered non-zero, or the connection
    closed), never started on a misaligned used ring (UBSan's misaligned
    access in the daemon)."""
    g = Guest()
    fe = Frontend(d.path)
    fe.call(SET_OWNER)
    assert fe.u64(SET_FEATURES, F_VERSION_1) == 0
    table = mem_table([(REGION_GPA, g.size - 4096, REGION_QVA + 2, 0)])
    assert fe.call(SET_MEM_TABLE, table, [g.fd]) == 0
    assert fe.state(SET_VRING_NUM, 1, 256) == 0
    assert fe.call(SET_VRING_ADDR, g.addr_payload(1)) == 0
    k = efd()
    try:
        assert fe.u64(SET_VRING_KICK, 1, [k]) != 0, \
            "ring started on a misaligned mapping"
    except Closed:
        pass
    finally:
        os.close(k)
        fe.close()
        g.close()


FUZZVU_CHECKS = [
    ("ring-misaligned-mapping", ring_misaligned_mapping),
]
