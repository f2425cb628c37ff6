// SPDX-License-Identifier: GPL-2.0
/*
 * ivhost core: device lifecycle, ownership, and the generic vhost ioctls
 * (memory table and virtqueue configuration).  The device IOTLB's side
 * of a device (its callbacks, the IOTLB messages on the device file) is
 * in vq_iotlb.c.
 *
 * Locking: see ivhost.h for the order, dev->mutex then vq->mutex.  Every
 * ioctl here runs under dev->mutex; those that touch a vq also take that
 * vq's mutex.  Objects the worker uses (memory table, eventfds, ring
 * addresses) are replaced under the vq mutex and released after it is
 * dropped, so no round can see a freed one.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cgroup.h>
#include <linux/file.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vhost.h>

#include "ivhost.h"

static unsigned int max_mem_regions = 64;
module_param(max_mem_regions, uint, 0444);
MODULE_PARM_DESC(max_mem_regions,
		 "Most regions accepted by VHOST_SET_MEM_TABLE (default 64)");

static void ivhost_vq_reset(struct ivhost_vq *vq)
{
	vq->num = 0;
	vq->desc_addr = 0;
	vq->avail_addr = 0;
	vq->used_addr = 0;
	vq->addr_set = false;
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
	vq->rings_valid = false;
	vq->ring_split = 0;
	vq->tlbq.span.perm = 0;
	vq->tlbq.budget = 0;
	vq->frame_descs = 0;
	vq->walked = 0;
	vq->need_start = false;
	vq->addr_flags = 0;
	vq->log_addr = 0;
	vq->last_avail_idx = 0;
	vq->avail_idx = 0;
	vq->last_used_idx = 0;
	vq->signalled_used = 0;
	vq->signalled_used_valid = false;
	vq->used_flags = 0;
	vq->avail_pos = (struct ivhost_packed_pos){ .idx = 0, .wrap = true };
	vq->used_pos = vq->avail_pos;
	vq->signalled_pos = vq->avail_pos;
	vq->seen_ahead = 0;
	vq->unsignalled = 0;
	vq->ntaken = 0;
	vq->taken_slots = 0;
	vq->broken = false;
	vq->features = 0;
	vq->mem = NULL;
	vq->kick = NULL;
	vq->call_ctx = NULL;
	vq->err_ctx = NULL;
	vq->backend = NULL;
	vq->log_base = NULL;
	vq->log_ctx = NULL;
	vq->busyloop_timeout = 0;
}

/**
 * ivhost_dev_init() - initialise a device and its virtqueues
 * @dev: the device
 * @vqs: its virtqueues, with &ivhost_vq.handle_kick set
 * @nvqs: number of entries in @vqs
 *
 * Context: process context.
 * Return: 0, or -ENOMEM.
 */
int ivhost_dev_init(struct ivhost_dev *dev, struct ivhost_vq **vqs,
		    unsigned int nvqs)
{
	struct ivhost_vq *vq;
	unsigned int i;

	mutex_init(&dev->mutex);
	dev->mm = NULL;
	RCU_INIT_POINTER(dev->worker, NULL);
	init_llist_head(&dev->work_list);
	dev->vqs = vqs;
	dev->nvqs = nvqs;
	dev->features = 0;
	dev->mem = NULL;
	dev->max_regions = max_mem_regions;
	dev->log_base = NULL;
	dev->log_ctx = NULL;
	dev->backend_features = 0;
	ivhost_dev_tlb_init(dev);
	dev->debugfs = NULL;

	for (i = 0; i < nvqs; i++) {
		vq = vqs[i];
		vq->iov = kmalloc_array(IVHOST_IOV_MAX, sizeof(*vq->iov),
					GFP_KERNEL_ACCOUNT);
		if (!vq->iov)
			goto free_iovs;
		vq->dev = dev;
		vq->index = i;
		mutex_init(&vq->mutex);
		atomic_set(&vq->waiters, 0);
		ivhost_vq_reset(vq);
		ivhost_poll_init(&vq->kick_poll, vq->handle_kick, EPOLLIN, dev);
	}
	ivhost_debugfs_add(dev);
	return 0;

free_iovs:
	while (i--)
		kfree(vqs[i]->iov);
	return -ENOMEM;
}
EXPORT_SYMBOL_GPL(ivhost_dev_init);

/**
 * ivhost_dev_check_owner() - is the caller the device's owner?
 * @dev: the device
 *
 * Context: process context.
 * Return: 0 if the caller runs in the owner's address space, else -EPERM.
 */
int ivhost_dev_check_owner(struct ivhost_dev *dev)
{
	return dev->mm && dev->mm == current->mm ? 0 : -EPERM;
}
EXPORT_SYMBOL_GPL(ivhost_dev_check_owner);

static long ivhost_dev_set_owner(struct ivhost_dev *dev)
{
	struct task_struct *worker;
	int err;

	if (dev->mm)
		return -EBUSY;
	dev->mm = get_task_mm(current);
	if (!dev->mm)
		return -EINVAL;
	err = ivhost_worker_start(dev);
	if (err)
		goto put_mm;
	/* The worker's CPU time and memory are the owner's. */
	worker = rcu_dereference_protected(dev->worker,
					   lockdep_is_held(&dev->mutex));
	err = cgroup_attach_task_all(current, worker);
	if (err)
		goto stop_worker;
	return 0;

stop_worker:
	ivhost_worker_stop(dev);
put_mm:
	mmput(dev->mm);
	dev->mm = NULL;
	return err;
}

/**
 * ivhost_dev_stop_kicks() - stop listening to every vq's kick eventfd
 * @dev: the device
 *
 * Context: process context, under &dev->mutex.
 */
static void ivhost_dev_stop_kicks(struct ivhost_dev *dev)
	__must_hold(&dev->mutex)
{
	unsigned int i;

	lockdep_assert_held(&dev->mutex);
	for (i = 0; i < dev->nvqs; i++)
		ivhost_poll_stop(&dev->vqs[i]->kick_poll);
}

static void ivhost_vq_release(struct ivhost_vq *vq)
{
	if (vq->kick)
		fput(vq->kick);
	if (vq->call_ctx)
		eventfd_ctx_put(vq->call_ctx);
	if (vq->err_ctx)
		eventfd_ctx_put(vq->err_ctx);
	ivhost_vq_reset(vq);
}

/**
 * ivhost_dev_cleanup() - return a device to its state after init
 * @dev: the device; the caller has detached every backend
 *
 * Stops the worker, drops the owner's address space, every eventfd and
 * the memory table.  Used by VHOST_RESET_OWNER and on release.
 *
 * Context: process context, under &dev->mutex.
 */
void ivhost_dev_cleanup(struct ivhost_dev *dev)
	__must_hold(&dev->mutex)
{
	unsigned int i;

	lockdep_assert_held(&dev->mutex);
	ivhost_dev_stop_kicks(dev);
	ivhost_worker_stop(dev);
	for (i = 0; i < dev->nvqs; i++)
		ivhost_vq_release(dev->vqs[i]);
	ivhost_memtable_free(dev->mem);
	dev->mem = NULL;
	dev->features = 0;
	dev->log_base = NULL;
	dev->backend_features = 0;
	ivhost_devtlb_reset(&dev->tlb);
	if (dev->log_ctx) {
		eventfd_ctx_put(dev->log_ctx);
		dev->log_ctx = NULL;
	}
	if (dev->mm) {
		mmput(dev->mm);
		dev->mm = NULL;
	}
}
EXPORT_SYMBOL_GPL(ivhost_dev_cleanup);

/**
 * ivhost_dev_free() - release what ivhost_dev_init() allocated
 * @dev: the device, after ivhost_dev_cleanup()
 *
 * Context: process context.
 */
void ivhost_dev_free(struct ivhost_dev *dev)
{
	unsigned int i;

	ivhost_debugfs_remove(dev);
	ivhost_devtlb_destroy(&dev->tlb);
	for (i = 0; i < dev->nvqs; i++) {
		kfree(dev->vqs[i]->iov);
		dev->vqs[i]->iov = NULL;
	}
}
EXPORT_SYMBOL_GPL(ivhost_dev_free);

/* Logging is on while VHOST_F_LOG_ALL is negotiated and a log is set. */
static void ivhost_vq_sync_log(struct ivhost_dev *dev, struct ivhost_vq *vq)
	__must_hold(&vq->mutex)
{
	lockdep_assert_held(&vq->mutex);
	vq->log_ctx = dev->log_ctx;
	vq->log_base = ivhost_has_feature(vq, VHOST_F_LOG_ALL) ?
		       dev->log_base : NULL;
}

static void ivhost_dev_sync_log(struct ivhost_dev *dev)
	__must_hold(&dev->mutex)
{
	unsigned int i;

	lockdep_assert_held(&dev->mutex);
	for (i = 0; i < dev->nvqs; i++) {
		ivhost_vq_lock(dev->vqs[i]);
		ivhost_vq_sync_log(dev, dev->vqs[i]);
		mutex_unlock(&dev->vqs[i]->mutex);
	}
}

static long ivhost_set_log_base(struct ivhost_dev *dev, u64 __user *argp)
{
	u64 base;

	if (copy_from_user(&base, argp, sizeof(base)))
		return -EFAULT;
	if (base && !access_ok(u64_to_user_ptr(base), 1))
		return -EFAULT;
	dev->log_base = u64_to_user_ptr(base);
	ivhost_dev_sync_log(dev);
	return 0;
}

static long ivhost_set_log_fd(struct ivhost_dev *dev, int __user *argp)
{
	struct eventfd_ctx *ctx = NULL, *old;
	int fd;

	if (get_user(fd, argp))
		return -EFAULT;
	if (fd != -1) {
		ctx = eventfd_ctx_fdget(fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
	}
	old = dev->log_ctx;
	dev->log_ctx = ctx;
	/* After this no vq signals the old eventfd. */
	ivhost_dev_sync_log(dev);
	if (old)
		eventfd_ctx_put(old);
	return 0;
}

/**
 * ivhost_dev_check_layout() - may these features be set now?
 * @dev: the device
 * @features: the features about to be set
 *
 * The ring layout follows the features: a packed ring is a virtio 1
 * thing, and a vq with a backend keeps its layout (QEMU sets features
 * again with queues running, with the same layout).
 *
 * Context: process context, under &dev->mutex; takes each vq's mutex.
 * Return: 0; -EINVAL for VIRTIO_F_RING_PACKED without
 * VIRTIO_F_VERSION_1; -EBUSY if the layout would change under a backend.
 */
int ivhost_dev_check_layout(struct ivhost_dev *dev, u64 features)
	__must_hold(&dev->mutex)
{
	u64 packed = BIT_ULL(VIRTIO_F_RING_PACKED);
	unsigned int i;
	bool busy;

	lockdep_assert_held(&dev->mutex);
	if ((features & packed) && !(features & BIT_ULL(VIRTIO_F_VERSION_1)))
		return -EINVAL;
	if (!((features ^ dev->features) & packed))
		return 0;
	for (i = 0; i < dev->nvqs; i++) {
		ivhost_vq_lock(dev->vqs[i]);
		busy = dev->vqs[i]->backend;
		mutex_unlock(&dev->vqs[i]->mutex);
		if (busy)
			return -EBUSY;
	}
	return 0;
}
EXPORT_SYMBOL_GPL(ivhost_dev_check_layout);

/**
 * ivhost_dev_set_features() - hand negotiated features to every vq
 * @dev: the device
 * @features: the features, already checked against what the device offers
 *
 * Context: process context, under &dev->mutex.
 * Return: 0; -EINVAL for VIRTIO_F_RING_PACKED without VIRTIO_F_VERSION_1;
 * -EBUSY if it would switch the ring layout of a vq with a backend.
 */
int ivhost_dev_set_features(struct ivhost_dev *dev, u64 features)
	__must_hold(&dev->mutex)
{
	struct ivhost_vq *vq;
	unsigned int i;
	bool iotlb;
	int err;

	lockdep_assert_held(&dev->mutex);
	err = ivhost_dev_check_layout(dev, features);
	if (err)
		return err;
	iotlb = (features | dev->features) &
		BIT_ULL(VIRTIO_F_ACCESS_PLATFORM);
	WRITE_ONCE(dev->features, features);
	for (i = 0; i < dev->nvqs; i++) {
		vq = dev->vqs[i];
		ivhost_vq_lock(vq);
		vq->features = features;
		ivhost_vq_set_rings(vq);
		ivhost_vq_sync_log(dev, vq);
		mutex_unlock(&vq->mutex);
	}
	/*
	 * Negotiating ACCESS_PLATFORM (again) or dropping it starts from an
	 * empty IOTLB.  The vqs already stopped using the old one above:
	 * rounds translate only under their vq mutex, and the rings are
	 * translated afresh.  The misses the queues waited for are gone
	 * with it: every queue runs, so that it asks again (QEMU sets
	 * features with queues running, at each migration's start and end).
	 */
	if (iotlb)
		ivhost_dev_tlb_flush(dev);
	return 0;
}
EXPORT_SYMBOL_GPL(ivhost_dev_set_features);

/* The regions, read once: nregions is checked before it sizes anything. */
static struct vhost_memory_region *
ivhost_copy_regions(struct vhost_memory __user *argp, u32 max, u32 *nregions)
{
	struct vhost_memory hdr;

	if (copy_from_user(&hdr, argp, sizeof(hdr)))
		return ERR_PTR(-EFAULT);
	if (hdr.nregions > max)
		return ERR_PTR(-E2BIG);
	if (hdr.padding)
		return ERR_PTR(-EOPNOTSUPP);
	*nregions = hdr.nregions;
	return memdup_user(argp->regions,
			   array_size(hdr.nregions,
				      sizeof(struct vhost_memory_region)));
}

/*
 * An empty region, or one whose guest or user range wraps or leaves the
 * user address space, is -EFAULT, as vhost_net reports the ones it
 * rejects.  Overlaps are left to ivhost_memtable_build() (-EINVAL).
 */
static int ivhost_regions_access_ok(const struct vhost_memory_region *regs,
				    u32 n)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (ivhost_region_check(&regs[i]) ||
		    !access_ok(u64_to_user_ptr(regs[i].userspace_addr),
			       regs[i].memory_size))
			return -EFAULT;
	return 0;
}

static long ivhost_set_mem_table(struct ivhost_dev *dev,
				 struct vhost_memory __user *argp)
{
	struct vhost_memory_region *regs;
	struct ivhost_memtable *mt, *old;
	struct ivhost_vq *vq;
	unsigned int i;
	u32 n;
	int err;

	regs = ivhost_copy_regions(argp, dev->max_regions, &n);
	if (IS_ERR(regs))
		return PTR_ERR(regs);
	err = ivhost_regions_access_ok(regs, n);
	if (err)
		goto free_regs;
	mt = ivhost_memtable_build(regs, n);
	if (IS_ERR(mt)) {
		err = PTR_ERR(mt);
		goto free_regs;
	}

	old = dev->mem;
	dev->mem = mt;
	for (i = 0; i < dev->nvqs; i++) {
		vq = dev->vqs[i];
		ivhost_vq_lock(vq);
		vq->mem = mt;
		ivhost_vq_set_rings(vq);
		mutex_unlock(&vq->mutex);
	}
	/* No round still translates through the old table. */
	ivhost_memtable_free(old);
	err = 0;

free_regs:
	kvfree(regs);
	return err;
}

static long ivhost_vring_set_num(struct ivhost_vq *vq,
				 struct vhost_vring_state *s)
{
	if (vq->backend)
		return -EBUSY;
	if (!s->num || s->num > IVHOST_VRING_NUM_MAX)
		return -EINVAL;
	/*
	 * A split ring's size is a power of two; without RING_PACKED acked
	 * (yet) the ring is split.  Features acked later are checked again
	 * when the ring starts.
	 */
	if (!ivhost_has_feature(vq, VIRTIO_F_RING_PACKED) &&
	    !is_power_of_2(s->num))
		return -EINVAL;
	vq->num = s->num;
	/* Ring translations were made for the old size. */
	ivhost_vq_set_rings(vq);
	return 0;
}

/*
 * Reconfiguration clears a broken queue.  A packed ring also forgets the
 * chains the failed round took without using them: they are lost, as a
 * split ring's are, and must not go on counting against the ring.
 */
static void ivhost_vq_revive(struct ivhost_vq *vq)
{
	vq->broken = false;
	vq->ntaken = 0;
	vq->taken_slots = 0;
}

/*
 * Packed: bits 0-14 the avail index, 15 its wrap counter, 16-30 the used
 * index, 31 its wrap counter; indexes beyond a ring size set already are
 * refused (a size set later is checked when the ring starts).
 */
static long ivhost_vring_set_packed_base(struct ivhost_vq *vq, u32 state)
{
	struct ivhost_packed_pos avail, used;
	int err;

	err = ivhost_packed_state_decode(state, vq->num, &avail, &used);
	if (err)
		return err;
	vq->avail_pos = avail;
	vq->used_pos = used;
	vq->signalled_pos = used;
	ivhost_vq_revive(vq);
	return 0;
}

static long ivhost_vring_set_base(struct ivhost_vq *vq,
				  struct vhost_vring_state *s)
{
	if (vq->backend)
		return -EBUSY;
	if (ivhost_vq_packed(vq))
		return ivhost_vring_set_packed_base(vq, s->num);
	if (s->num > 0xffff)
		return -EINVAL;
	vq->last_avail_idx = s->num;
	vq->avail_idx = s->num;
	ivhost_vq_revive(vq);
	return 0;
}

static bool ivhost_rings_access_ok(u32 num, const struct vhost_vring_addr *a,
				   bool packed)
{
	size_t event = sizeof(__virtio16);
	size_t area = sizeof(struct vring_packed_desc_event);

	if (packed)
		return access_ok(u64_to_user_ptr(a->desc_user_addr),
				 num * sizeof(struct vring_packed_desc)) &&
		       access_ok(u64_to_user_ptr(a->avail_user_addr), area) &&
		       access_ok(u64_to_user_ptr(a->used_user_addr), area);
	return access_ok(u64_to_user_ptr(a->desc_user_addr),
			 num * sizeof(struct vring_desc)) &&
	       access_ok(u64_to_user_ptr(a->avail_user_addr),
			 struct_size((struct vring_avail *)NULL, ring, num) +
			 event) &&
	       access_ok(u64_to_user_ptr(a->used_user_addr),
			 struct_size((struct vring_used *)NULL, ring, num) +
			 event);
}

/**
 * ivhost_vq_access_ok() - is the vq's ring configured and addressable?
 * @vq: the vq
 *
 * With the device IOTLB the addresses are IOVAs, checked when the rings
 * are translated.
 *
 * Context: under &vq->mutex.
 * Return: true if the ring size and all three ring addresses are set and,
 * without the device IOTLB, lie in userspace.
 */
bool ivhost_vq_access_ok(struct ivhost_vq *vq)
	__must_hold(&vq->mutex)
{
	struct vhost_vring_addr a = {
		.desc_user_addr = vq->desc_addr,
		.avail_user_addr = vq->avail_addr,
		.used_user_addr = vq->used_addr,
	};

	lockdep_assert_held(&vq->mutex);
	if (!vq->num || !vq->addr_set)
		return false;
	return ivhost_vq_iotlb(vq) ||
	       ivhost_rings_access_ok(vq->num, &a, ivhost_vq_packed(vq));
}
EXPORT_SYMBOL_GPL(ivhost_vq_access_ok);

static long ivhost_vring_set_addr(struct ivhost_vq *vq,
				  struct vhost_vring_addr *a)
{
	if (a->flags & ~BIT(VHOST_VRING_F_LOG))
		return -EOPNOTSUPP;
	/* Packed: the driver area is 4-byte aligned too. */
	if ((a->desc_user_addr & (16 - 1)) || (a->avail_user_addr & (2 - 1)) ||
	    (a->used_user_addr & (4 - 1)) || (a->log_guest_addr & (4 - 1)) ||
	    (ivhost_vq_packed(vq) && (a->avail_user_addr & (4 - 1))))
		return -EINVAL;
	/* IOVAs are not userspace addresses: nothing to check yet. */
	if (!ivhost_vq_iotlb(vq) && vq->num &&
	    !ivhost_rings_access_ok(vq->num, a, ivhost_vq_packed(vq)))
		return -EINVAL;
	vq->desc_addr = a->desc_user_addr;
	vq->avail_addr = a->avail_user_addr;
	vq->used_addr = a->used_user_addr;
	vq->addr_set = true;
	ivhost_vq_set_rings(vq);
	vq->addr_flags = a->flags;
	vq->log_addr = a->log_guest_addr;
	ivhost_vq_revive(vq);
	return 0;
}

static long ivhost_vring_set_kick(struct ivhost_vq *vq, int fd)
{
	struct eventfd_ctx *ctx;
	struct file *file = NULL, *old;
	int err;

	if (fd != -1) {
		file = fget(fd);
		if (!file)
			return -EBADF;
		ctx = eventfd_ctx_fileget(file);
		if (IS_ERR(ctx)) {
			fput(file);
			return PTR_ERR(ctx);
		}
		eventfd_ctx_put(ctx);
	}
	ivhost_poll_stop(&vq->kick_poll);
	old = vq->kick;
	vq->kick = file;
	err = file ? ivhost_poll_start(&vq->kick_poll, file) : 0;
	if (old)
		fput(old);
	return err;
}

static long ivhost_vring_set_eventfd(struct eventfd_ctx **slot, int fd)
{
	struct eventfd_ctx *ctx = NULL;

	if (fd != -1) {
		ctx = eventfd_ctx_fdget(fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
	}
	swap(*slot, ctx);
	if (ctx)
		eventfd_ctx_put(ctx);
	return 0;
}

static long ivhost_vring_state_ioctl(struct ivhost_vq *vq, unsigned int cmd,
				     struct vhost_vring_state *s)
{
	switch (cmd) {
	case VHOST_SET_VRING_NUM:
		return ivhost_vring_set_num(vq, s);
	case VHOST_SET_VRING_BASE:
		return ivhost_vring_set_base(vq, s);
	case VHOST_GET_VRING_BASE:
		s->num = ivhost_vq_packed(vq) ?
			 ivhost_packed_state_encode(vq->avail_pos,
						    vq->used_pos) :
			 vq->last_avail_idx;
		return 0;
	case VHOST_SET_VRING_BUSYLOOP_TIMEOUT:
		vq->busyloop_timeout = s->num;
		return 0;
	case VHOST_GET_VRING_BUSYLOOP_TIMEOUT:
		s->num = vq->busyloop_timeout;
		return 0;
	}
	return -ENOIOCTLCMD;
}

static long ivhost_vring_file_ioctl(struct ivhost_vq *vq, unsigned int cmd,
				    int fd)
{
	switch (cmd) {
	case VHOST_SET_VRING_KICK:
		return ivhost_vring_set_kick(vq, fd);
	case VHOST_SET_VRING_CALL:
		return ivhost_vring_set_eventfd(&vq->call_ctx, fd);
	case VHOST_SET_VRING_ERR:
		return ivhost_vring_set_eventfd(&vq->err_ctx, fd);
	}
	return -ENOIOCTLCMD;
}

/* Copy the argument in, and find the vq it names; vring ioctls only. */
static long ivhost_vring_ioctl(struct ivhost_dev *dev, unsigned int cmd,
			       void __user *argp)
{
	union {
		struct vhost_vring_state state;
		struct vhost_vring_addr addr;
		struct vhost_vring_file file;
	} u;
	struct ivhost_vq *vq;
	u32 idx;
	long r;

	if (copy_from_user(&u, argp, _IOC_SIZE(cmd)))
		return -EFAULT;
	/* Every vring argument starts with the u32 vq index. */
	idx = u.state.index;
	if (idx >= dev->nvqs)
		return -ENOBUFS;
	vq = dev->vqs[array_index_nospec(idx, dev->nvqs)];

	ivhost_vq_lock(vq);
	switch (cmd) {
	case VHOST_SET_VRING_ADDR:
		r = ivhost_vring_set_addr(vq, &u.addr);
		break;
	case VHOST_SET_VRING_KICK:
	case VHOST_SET_VRING_CALL:
	case VHOST_SET_VRING_ERR:
		r = ivhost_vring_file_ioctl(vq, cmd, u.file.fd);
		break;
	default:
		r = ivhost_vring_state_ioctl(vq, cmd, &u.state);
		break;
	}
	mutex_unlock(&vq->mutex);

	if (!r && (cmd == VHOST_GET_VRING_BASE ||
		   cmd == VHOST_GET_VRING_BUSYLOOP_TIMEOUT) &&
	    copy_to_user(argp, &u.state, sizeof(u.state)))
		r = -EFAULT;
	return r;
}

static bool ivhost_is_vring_ioctl(unsigned int cmd)
{
	switch (cmd) {
	case VHOST_SET_VRING_NUM:
	case VHOST_SET_VRING_ADDR:
	case VHOST_SET_VRING_BASE:
	case VHOST_GET_VRING_BASE:
	case VHOST_SET_VRING_KICK:
	case VHOST_SET_VRING_CALL:
	case VHOST_SET_VRING_ERR:
	case VHOST_SET_VRING_BUSYLOOP_TIMEOUT:
	case VHOST_GET_VRING_BUSYLOOP_TIMEOUT:
		return true;
	}
	return false;
}

/**
 * ivhost_dev_ioctl() - the ioctls every ivhost device shares
 * @dev: the device
 * @cmd: ioctl number
 * @argp: userspace argument
 *
 * Handles VHOST_SET_OWNER, VHOST_SET_MEM_TABLE, the dirty log ioctls and
 * the vring ioctls.
 * Everything but VHOST_SET_OWNER requires the caller to be the owner,
 * including ioctls no device handles: like vhost_net, a non-owner gets
 * -EPERM for those, the owner -ENOIOCTLCMD.
 *
 * Context: process context, under &dev->mutex.
 * Return: 0 or a negative errno; -ENOIOCTLCMD for an ioctl it does not
 * handle.
 */
long ivhost_dev_ioctl(struct ivhost_dev *dev, unsigned int cmd,
		      void __user *argp)
	__must_hold(&dev->mutex)
{
	long r;

	lockdep_assert_held(&dev->mutex);
	if (cmd == VHOST_SET_OWNER)
		return ivhost_dev_set_owner(dev);
	r = ivhost_dev_check_owner(dev);
	if (r)
		return r;
	switch (cmd) {
	case VHOST_SET_MEM_TABLE:
		return ivhost_set_mem_table(dev, argp);
	case VHOST_SET_LOG_BASE:
		return ivhost_set_log_base(dev, argp);
	case VHOST_SET_LOG_FD:
		return ivhost_set_log_fd(dev, argp);
	}
	if (ivhost_is_vring_ioctl(cmd))
		return ivhost_vring_ioctl(dev, cmd, argp);
	return -ENOIOCTLCMD;
}
EXPORT_SYMBOL_GPL(ivhost_dev_ioctl);

static int __init ivhost_init(void)
{
	ivhost_debugfs_init();
	return 0;
}
module_init(ivhost_init);

static void __exit ivhost_exit(void)
{
	ivhost_debugfs_exit();
}
module_exit(ivhost_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The ivhost developers");
MODULE_DESCRIPTION("ivhost core: vhost devices with a device IOTLB");
