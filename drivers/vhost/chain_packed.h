/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ivhost packed-ring logic (VIRTIO_F_RING_PACKED, virtio 1.1 section 2.7):
 * the pure state machines that decide whether a packed descriptor chain
 * is well formed, where the ring's positions go as they wrap, whether the
 * driver asked to be notified, and how the ring state travels in
 * VHOST_SET/GET_VRING_BASE.  Like chain.c, it touches no guest memory:
 * the ring code fetches each descriptor and feeds it here.  Compiled into
 * the module and, as it is, into ivhost-user.
 */
#ifndef _IVHOST_CHAIN_PACKED_H
#define _IVHOST_CHAIN_PACKED_H

#include <linux/types.h>

#include "chain.h"

/* Largest packed ring: positions carry a 15-bit index and a wrap bit. */
#define IVHOST_PACKED_NUM_MAX	32768U

/**
 * struct ivhost_packed_pos - a position in a packed ring
 * @idx: ring slot, below the ring size
 * @wrap: the wrap counter at that slot; it starts at 1 and flips each
 *	time the position passes the end of the ring
 */
struct ivhost_packed_pos {
	u16 idx;
	bool wrap;
};

/**
 * struct ivhost_packed_chain - walk state of one packed descriptor chain
 * @num: ring size
 * @pos: ring position of the descriptor to fetch next, while the walk is
 *	in the ring; after the chain, the position following it
 * @count: ring descriptors the chain has taken (an indirect descriptor
 *	counts as one); the used position moves on by this much
 * @id: the buffer ID, from the chain's last descriptor in the ring
 * @table_size: descriptors in the indirect table, while @indirect
 * @tidx: index in the indirect table of the descriptor to fetch next
 * @indirect: the walk is inside an indirect table
 * @writable: a device-writable descriptor has been seen; no readable one
 *	may follow it
 */
struct ivhost_packed_chain {
	u32 num;
	struct ivhost_packed_pos pos;
	u32 count;
	u16 id;
	u32 table_size;
	u32 tidx;
	bool indirect;
	bool writable;
};

bool ivhost_packed_desc_avail(u16 flags, bool wrap);
u16 ivhost_packed_used_flags(bool wrap, bool written);
void ivhost_packed_advance(struct ivhost_packed_pos *p, u32 num, u32 n);
int ivhost_packed_chain_start(struct ivhost_packed_chain *c, u32 num,
			      struct ivhost_packed_pos head);
int ivhost_packed_chain_step(struct ivhost_packed_chain *c,
			     const struct ivhost_desc *d);
int ivhost_packed_chain_enter_indirect(struct ivhost_packed_chain *c,
				       const struct ivhost_desc *d);
bool ivhost_packed_need_event(u16 off_wrap, u16 flags,
			      struct ivhost_packed_pos old,
			      struct ivhost_packed_pos new, u32 num);
u32 ivhost_packed_state_encode(struct ivhost_packed_pos avail,
			       struct ivhost_packed_pos used);
int ivhost_packed_state_decode(u32 state, u32 num,
			       struct ivhost_packed_pos *avail,
			       struct ivhost_packed_pos *used);

#endif /* _IVHOST_CHAIN_PACKED_H */
