// SPDX-License-Identifier: GPL-2.0
/*
 * Descriptor-chain validation for split virtqueues.
 *
 * The rules, each enforced by a check below:
 *  - a head, and every "next", indexes inside its table;
 *  - a chain visits at most as many descriptors as its table holds: a
 *    longer walk must revisit one, so it is a loop;
 *  - an indirect descriptor sits in the ring's own table, carries no NEXT
 *    flag, and describes a non-empty table of whole descriptors;
 *  - an indirect table holds no indirect descriptor;
 *  - readable descriptors all come before writable ones.
 *
 * Locking: none; the state belongs to the caller.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/errno.h>
#include <linux/virtio_ring.h>

#include "chain.h"
#include "kunit_export.h"

/**
 * ivhost_chain_start() - begin walking the chain at @head
 * @c: walk state to initialise
 * @ring_num: number of entries in the ring
 * @head: index of the chain's first descriptor, as read from the avail ring
 *
 * Context: any.
 * Return: 0, or -EINVAL if @head is outside the ring.
 */
int ivhost_chain_start(struct ivhost_chain *c, u32 ring_num, u32 head)
{
	if (head >= ring_num)
		return -EINVAL;
	c->table_size = ring_num;
	c->budget = ring_num;
	c->idx = head;
	c->indirect = false;
	c->writable = false;
	return 0;
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_chain_start);

static int ivhost_chain_check_order(struct ivhost_chain *c, u16 flags)
{
	if (flags & VRING_DESC_F_WRITE) {
		c->writable = true;
		return 0;
	}
	return c->writable ? -EINVAL : 0;
}

/**
 * ivhost_chain_step() - validate the descriptor fetched at &c->idx
 * @c: walk state
 * @d: the descriptor, in CPU byte order
 *
 * On %IVHOST_CHAIN_NEXT, &c->idx names the descriptor to fetch next.
 *
 * Context: any.
 * Return: an &enum ivhost_chain_step, -ELOOP if the chain loops, or
 * -EINVAL if the descriptor breaks another rule.
 */
int ivhost_chain_step(struct ivhost_chain *c, const struct ivhost_desc *d)
{
	int err;

	if (!c->budget)
		return -ELOOP;
	c->budget--;

	if (d->flags & VRING_DESC_F_INDIRECT) {
		if (c->indirect || (d->flags & VRING_DESC_F_NEXT))
			return -EINVAL;
		return IVHOST_CHAIN_INDIRECT;
	}

	err = ivhost_chain_check_order(c, d->flags);
	if (err)
		return err;

	if (!(d->flags & VRING_DESC_F_NEXT))
		return IVHOST_CHAIN_DONE;
	if (d->next >= c->table_size)
		return -EINVAL;
	if (!c->budget)
		return -ELOOP;
	c->idx = d->next;
	return IVHOST_CHAIN_NEXT;
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_chain_step);

/**
 * ivhost_chain_enter_indirect() - continue the walk in an indirect table
 * @c: walk state, after ivhost_chain_step() returned %IVHOST_CHAIN_INDIRECT
 * @d: the indirect descriptor
 *
 * The walk goes on at entry 0 of the table @d describes.
 *
 * Context: any.
 * Return: 0, -EINVAL if the table length is zero or not a whole number of
 * descriptors, or -E2BIG if it holds more than %IVHOST_INDIRECT_MAX.
 */
int ivhost_chain_enter_indirect(struct ivhost_chain *c,
				const struct ivhost_desc *d)
{
	u32 n;

	if (c->indirect || !d->len || d->len % sizeof(struct vring_desc))
		return -EINVAL;
	n = d->len / sizeof(struct vring_desc);
	if (n > IVHOST_INDIRECT_MAX)
		return -E2BIG;
	c->table_size = n;
	c->budget = n;
	c->idx = 0;
	c->indirect = true;
	return 0;
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_chain_enter_indirect);
