/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ivhost descriptor-chain validation: the pure state machine that decides
 * whether a split-ring descriptor chain is well formed.  It touches no guest
 * memory; vring.c fetches each descriptor and feeds it here.
 */
#ifndef _IVHOST_CHAIN_H
#define _IVHOST_CHAIN_H

#include <linux/types.h>

/* Largest indirect table accepted, in descriptors. */
#define IVHOST_INDIRECT_MAX	1024U

/**
 * struct ivhost_desc - a descriptor in CPU byte order
 * @addr: guest address of the buffer
 * @len: length of the buffer in bytes
 * @flags: VRING_DESC_F_* flags
 * @next: index of the next descriptor when VRING_DESC_F_NEXT is set
 */
struct ivhost_desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};

/**
 * struct ivhost_chain - walk state of one descriptor chain
 * @table_size: entries in the table being walked (ring size, or the
 *	number of descriptors in the indirect table)
 * @budget: descriptors that may still be visited in this table; running
 *	out means the chain revisits a descriptor, that is, it loops
 * @idx: index in the current table of the descriptor to fetch next
 * @indirect: the walk is inside an indirect table
 * @writable: a device-writable descriptor has been seen; no readable one
 *	may follow it
 */
struct ivhost_chain {
	u32 table_size;
	u32 budget;
	u16 idx;
	bool indirect;
	bool writable;
};

/**
 * enum ivhost_chain_step - what the walker does after a valid descriptor
 * @IVHOST_CHAIN_DONE: the descriptor was the last of the chain
 * @IVHOST_CHAIN_NEXT: fetch the descriptor at &ivhost_chain.idx next
 * @IVHOST_CHAIN_INDIRECT: the descriptor points at an indirect table;
 *	call ivhost_chain_enter_indirect() with it
 */
enum ivhost_chain_step {
	IVHOST_CHAIN_DONE,
	IVHOST_CHAIN_NEXT,
	IVHOST_CHAIN_INDIRECT,
};

int ivhost_chain_start(struct ivhost_chain *c, u32 ring_num, u32 head);
int ivhost_chain_step(struct ivhost_chain *c, const struct ivhost_desc *d);
int ivhost_chain_enter_indirect(struct ivhost_chain *c,
				const struct ivhost_desc *d);

#endif /* _IVHOST_CHAIN_H */
