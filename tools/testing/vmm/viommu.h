/* SPDX-License-Identifier: GPL-2.0 */
/*
 * viommu.h - the test VMM as a vIOMMU, for devices with a device IOTLB
 * (VIRTIO_F_ACCESS_PLATFORM).
 *
 * Guest memory (struct vmm) is mapped at random IOVAs in pages of 4 KiB
 * or 2 MiB: a page table of its own maps IOVA pages to guest memory pages.
 * Ranges that must be contiguous in IOVA space (each ring, each per-head
 * data slot, each indirect table) get consecutive IOVA pages; everything
 * else is scattered.  A few pages of guest memory are kept spare, so an
 * IOVA page can be pointed at different memory while traffic runs.
 *
 * The miss server (a thread) reads MISS messages from the device fd and
 * answers each with one UPDATE of the page covering it, as QEMU does; it
 * counts, and remembers the last, ACCESS_FAIL message.
 *
 * On a vhost-user vmm (vu.c) the same calls go over the socket: an UPDATE
 * or INVALIDATE is an IOTLB_MSG whose 0 ack viommu_send() waits for (the
 * backend's barrier), MISS and ACCESS_FAIL are read from the backend
 * channel, and a message the backend sent with NEED_REPLY is replied to
 * once viommu_answer() sent its UPDATE (0), or 1 if it could not.
 *
 * The guest-driver side posts TX and RX buffers with IOVA descriptor
 * addresses and reaches their bytes through the same page table, so a
 * remapped page is seen by both the device and the driver.
 *
 * Conventions as vmm.h: 0 (or a count) or -errno; nothing printed.
 */
#ifndef IVHOST_VIOMMU_H
#define IVHOST_VIOMMU_H

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <linux/vhost.h>

#include "vmm.h"
#include "../../../include/uapi/linux/ivhost.h"

#define VIOMMU_4K_SHIFT		12
#define VIOMMU_2M_SHIFT		21

/* viommu_bringup() flags */
#define VIOMMU_BATCH		0x1	/* also ask for IOTLB_BATCH */
#define VIOMMU_V1		0x2	/* no IOTLB_MSG_V2: struct vhost_msg */

struct viommu {
	struct vmm *v;
	unsigned int shift;		/* page size 1 << shift */
	size_t ps;
	size_t npages;			/* pages of guest memory */
	size_t nslots;			/* IOVA pages of the window */
	uint64_t iova_base;		/* first IOVA of the window */
	int64_t *slot_of;		/* page -> IOVA slot, -1: unmapped */
	int64_t *page_of;		/* slot -> page, -1: unmapped */
	uint8_t *perm;			/* per page, VHOST_ACCESS_* */
	uint8_t *pinned;		/* per page: holds rings, never moved */
	int64_t *spare;			/* unmapped pages free for remapping */
	size_t nspare;
	uint64_t *slot_iova[VMM_NVQS];	/* per head: data slot IOVA */
	uint64_t *ind_iova[VMM_NVQS];	/* per head: indirect table IOVA */
	int v2;				/* IOTLB_MSG_V2 acknowledged */
	uint64_t backend_features;
	uint64_t rng;
	pthread_mutex_t lock;		/* the table and fd writes */
	pthread_t thr;
	int running;
	int stop_fd;
	/* miss server counters (under lock) */
	unsigned long misses, updates, unmapped, access_fails, others;
	unsigned long manual_updates;	/* by viommu_update_iova() */
	struct vhost_iotlb_msg last_fail;
	int vu_need_reply;		/* vhost-user: the last message read
					 * waits for its reply (under lock) */
};

/*
 * Open @path and bring it up as QEMU does with a vIOMMU: SET_OWNER,
 * features (@want & offered; @want should hold ACCESS_PLATFORM), backend
 * features (IOTLB_MSG_V2 unless VIOMMU_V1, IOTLB_BATCH with VIOMMU_BATCH,
 * each only if offered), guest memory of about @mem_size (0: enough for
 * both rings' slots) plus @nspare spare pages, SET_MEM_TABLE, both vqs of
 * @num entries with IOVA ring addresses.  Random layout from @seed.
 * The miss server is not started.
 */
int viommu_bringup(struct viommu *vi, struct vmm *v, const char *path,
		   uint64_t want, unsigned int num, unsigned int shift,
		   size_t nspare, uint64_t seed, unsigned int flags);
/* Stop the server, free the tables, vmm_close() the device. */
void viommu_close(struct viommu *vi);

/* The miss server thread. */
int viommu_start(struct viommu *vi);
void viommu_stop(struct viommu *vi);

/* Send one IOTLB message (v1 or v2 as negotiated): 0 or -errno. */
int viommu_send(struct viommu *vi, uint8_t type, uint64_t iova,
		uint64_t size, uint64_t uaddr, uint8_t perm);
/* The same with vi->lock already held (the table and the fd together). */
int viommu_send_locked(struct viommu *vi, uint8_t type, uint64_t iova,
		       uint64_t size, uint64_t uaddr, uint8_t perm);
/* Read one message, waiting up to @timeout_ms: 1, 0 on timeout, -errno.
 * Only while the server is stopped. */
int viommu_recv(struct viommu *vi, struct vhost_iotlb_msg *m, int timeout_ms);
/* Answer one MISS the way the server does (UPDATE of its page): 1 if
 * answered, 0 if the IOVA is not mapped, -errno. */
int viommu_answer(struct viommu *vi, const struct vhost_iotlb_msg *m);

/* Page table. */
uint64_t viommu_iova(struct viommu *vi, const void *p);	/* 0: unmapped */
void *viommu_ptr(struct viommu *vi, uint64_t iova);	/* NULL: unmapped */
/* The IOVA page (slot) and guest page of an IOVA, -1 if none. */
int64_t viommu_page_of_iova(struct viommu *vi, uint64_t iova);
/* UPDATE the mapping of the page holding @iova now (pre-fault). */
int viommu_update_iova(struct viommu *vi, uint64_t iova);
/* UPDATE the pages of both used rings, as QEMU does before it attaches
 * a backend (vhost_net reads and writes the used ring at attach). */
int viommu_map_used_rings(struct viommu *vi);
/* INVALIDATE the IOVA page holding @iova (the mapping stays in the
 * table, so the next miss maps it again). */
int viommu_invalidate_iova(struct viommu *vi, uint64_t iova);
/*
 * Point the IOVA page holding @iova at a spare guest page: INVALIDATE it
 * (the device stops using the old page), copy the old page's bytes to the
 * new one, switch the table, and make the old page spare.  Returns the
 * old page's address in *old (may be NULL).  Pinned pages are not moved
 * (-EPERM); no spare page: -ENOSPC.
 */
int viommu_remap_iova(struct viommu *vi, uint64_t iova, void **old);
/* Set the permission the server grants for the page holding @iova. */
int viommu_set_perm(struct viommu *vi, uint64_t iova, uint8_t perm);
/* Whether the page holding @iova may be moved (not a ring page). */
int viommu_movable(struct viommu *vi, uint64_t iova);

/* Copy to / from IOVA space through the table (under the lock). */
int viommu_write(struct viommu *vi, uint64_t iova, const void *src,
		 size_t len);
int viommu_read(struct viommu *vi, uint64_t iova, void *dst, size_t len);

/* Guest driver: as vmm_post_tx() / vmm_post_rx() / vmm_rx_frame(), with
 * IOVA descriptor addresses. */
int viommu_post_tx(struct viommu *vi, struct vmm_vq *q, const void *hdr,
		   size_t hdr_len, const void *data, size_t len,
		   enum vmm_post_mode mode, unsigned int nseg);
int viommu_post_rx(struct viommu *vi, struct vmm_vq *q, size_t len,
		   enum vmm_post_mode mode, unsigned int nseg);
size_t viommu_rx_copy(struct viommu *vi, struct vmm_vq *q, uint16_t head,
		      void *dst, size_t size);
ssize_t viommu_rx_frame(struct viommu *vi, struct vmm_vq *q, int mrg,
			void *buf, size_t size, unsigned int *nbufs,
			int timeout_ms);
/* The IOVA of the first data byte of @head's slot. */
uint64_t viommu_slot_iova(struct viommu *vi, struct vmm_vq *q,
			  uint16_t head);

/*
 * A TX stream like vmm_tx_stream() through the IOVA path: generated frames
 * are posted (layout rotating by seq when o->mode < 0) and checked byte
 * for byte on the tap.
 */
int viommu_tx_stream(struct viommu *vi, struct vmm_tap *t,
		     const struct vmm_tx_opts *o, struct vmm_tx_stats *st);

/* IVHOST_GET_IOTLB_STATS on @v with @st's size and flags set for this
 * header's struct: 0 or -errno (-ENOTTY on other devices).  Inline so
 * that tests which do not link viommu.c can use it.  The _get_ form
 * reads the counters of @vi's device.
 */
static inline int viommu_read_stats(struct vmm *v,
				    struct ivhost_iotlb_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return vmm_ioctl(v, IVHOST_GET_IOTLB_STATS, st);
}

int viommu_get_stats(struct viommu *vi, struct ivhost_iotlb_stats *st);

#endif
