// SPDX-License-Identifier: GPL-2.0
/*
 * ivhost core: device lifecycle, ownership, and the generic vhost ioctls
 * (memory table and virtqueue configuration).
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

static unsigned int iotlb_entries = 2048;
module_param(iotlb_entries, uint, 0444);
MODULE_PARM_DESC(iotlb_entries,
		 "Most device IOTLB entries a device caches (default 2048, at least 1536)");

/*
 * Every queue of a device may have a frame in progress, of up to
 * IVHOST_FRAME_MAX_ENTRIES entries, and rings of up to 213 (a
 * 32768-entry ring's three parts, in 4 KiB pages), and ask ahead some
 * more; the cache holds all of it for two queues, so answering one
 * frame's misses never evicts what a frame in progress still needs.
 * ivhost-net has two queues per device.
 */
#define IVHOST_IOTLB_MIN_ENTRIES	1536U
static_assert(IVHOST_IOTLB_MIN_ENTRIES >=
	      2 * (IVHOST_FRAME_MAX_ENTRIES + 213 + 16));

/*
 * Run the vqs in @vqs (a bit per index), which the IOTLB woke: from
 * read(), write() and its deferred work, with no lock needed (the worker
 * is found under RCU).
 */
static void ivhost_dev_tlb_wake(struct ivhost_devtlb *tlb, unsigned long vqs)
{
	struct ivhost_dev *dev = container_of(tlb, struct ivhost_dev, tlb);
	unsigned int i;

	for_each_set_bit(i, &vqs, dev->nvqs)
		ivhost_work_queue(dev, &dev->vqs[i]->kick_poll.work);
}

/*
 * Translations of [start, last] changed: wait for every round in progress
 * (rounds hold their vq's mutex and translate only inside it; one that
 * sees us waiting ends after its frame), and make the next one translate
 * its rings again if they lie in the range.
 */
static void ivhost_dev_tlb_sync(struct ivhost_devtlb *tlb, u64 start,
				u64 last)
{
	struct ivhost_dev *dev = container_of(tlb, struct ivhost_dev, tlb);
	struct ivhost_vq *vq;
	unsigned int i;

	for (i = 0; i < dev->nvqs; i++) {
		vq = dev->vqs[i];
		ivhost_vq_lock(vq);
		ivhost_vq_forget(vq, start, last);
		mutex_unlock(&vq->mutex);
	}
}

static const struct ivhost_devtlb_ops ivhost_dev_tlb_ops = {
	.wake = ivhost_dev_tlb_wake,
	.sync = ivhost_dev_tlb_sync,
};

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
	ivhost_devtlb_init(&dev->tlb,
			   max_t(u32, iotlb_entries, IVHOST_IOTLB_MIN_ENTRIES),
			   &ivhost_dev_tlb_ops);
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
 * ivhost_dev_set_features() - hand negotiated features to every vq
 * @dev: the device
 * @features: the features, already checked against what the device offers
 *
 * Context: process context, under &dev->mutex.
 * Return: 0.
 */
int ivhost_dev_set_features(struct ivhost_dev *dev, u64 features)
	__must_hold(&dev->mutex)
{
	struct ivhost_vq *vq;
	unsigned int i;
	bool iotlb;

	lockdep_assert_held(&dev->mutex);
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
	 * translated afresh.
	 */
	if (iotlb) {
		ivhost_devtlb_reset(&dev->tlb);
		ivhost_dev_tlb_sync(&dev->tlb, 0, U64_MAX);
		/*
		 * The misses the queues waited for are gone with it: run
		 * every queue, so that it asks again (QEMU sets features
		 * with queues running, at each migration's start and end).
		 */
		ivhost_dev_tlb_wake(&dev->tlb, GENMASK(dev->nvqs - 1, 0));
	}
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
	if (!s->num || s->num > IVHOST_VRING_NUM_MAX || !is_power_of_2(s->num))
		return -EINVAL;
	vq->num = s->num;
	/* Ring translations were made for the old size. */
	ivhost_vq_set_rings(vq);
	return 0;
}

static long ivhost_vring_set_base(struct ivhost_vq *vq,
				  struct vhost_vring_state *s)
{
	if (vq->backend)
		return -EBUSY;
	if (s->num > 0xffff)
		return -EINVAL;
	vq->last_avail_idx = s->num;
	vq->avail_idx = s->num;
	vq->broken = false;
	return 0;
}

static bool ivhost_rings_access_ok(u32 num, const struct vhost_vring_addr *a)
{
	size_t event = sizeof(__virtio16);

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
	return ivhost_vq_iotlb(vq) || ivhost_rings_access_ok(vq->num, &a);
}
EXPORT_SYMBOL_GPL(ivhost_vq_access_ok);

static long ivhost_vring_set_addr(struct ivhost_vq *vq,
				  struct vhost_vring_addr *a)
{
	if (a->flags & ~BIT(VHOST_VRING_F_LOG))
		return -EOPNOTSUPP;
	if ((a->desc_user_addr & (16 - 1)) || (a->avail_user_addr & (2 - 1)) ||
	    (a->used_user_addr & (4 - 1)) || (a->log_guest_addr & (4 - 1)))
		return -EINVAL;
	/* IOVAs are not userspace addresses: nothing to check yet. */
	if (!ivhost_vq_iotlb(vq) && vq->num &&
	    !ivhost_rings_access_ok(vq->num, a))
		return -EINVAL;
	vq->desc_addr = a->desc_user_addr;
	vq->avail_addr = a->avail_user_addr;
	vq->used_addr = a->used_user_addr;
	vq->addr_set = true;
	ivhost_vq_set_rings(vq);
	vq->addr_flags = a->flags;
	vq->log_addr = a->log_guest_addr;
	vq->broken = false;
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
		s->num = vq->last_avail_idx;
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

/**
 * ivhost_dev_set_backend_features() - acknowledge backend features
 * @dev: the device
 * @features: VHOST_SET_BACKEND_FEATURES's argument
 *
 * Context: process context, under &dev->mutex, caller is the owner.
 * Return: 0, or -EOPNOTSUPP for a bit not in %IVHOST_BACKEND_FEATURES.
 */
int ivhost_dev_set_backend_features(struct ivhost_dev *dev, u64 features)
	__must_hold(&dev->mutex)
{
	lockdep_assert_held(&dev->mutex);
	if (features & ~IVHOST_BACKEND_FEATURES)
		return -EOPNOTSUPP;
	WRITE_ONCE(dev->backend_features, features);
	/* Without the feature BATCH_END is refused: drop the batch. */
	if (!(features & BIT_ULL(VHOST_BACKEND_F_IOTLB_BATCH)))
		ivhost_devtlb_batch_cancel(&dev->tlb);
	return 0;
}
EXPORT_SYMBOL_GPL(ivhost_dev_set_backend_features);

/**
 * ivhost_dev_read_iter() - read() of the device fd: one IOTLB message
 * @dev: the device
 * @to: the reader's buffer
 * @nonblock: the file is O_NONBLOCK
 *
 * Context: process context; may sleep.  Takes no device or vq mutex:
 * the vqs to wake are queued to the worker.
 * Return: as ivhost_devtlb_read().
 */
ssize_t ivhost_dev_read_iter(struct ivhost_dev *dev, struct iov_iter *to,
			     bool nonblock)
{
	bool v2 = READ_ONCE(dev->backend_features) &
		  BIT_ULL(VHOST_BACKEND_F_IOTLB_MSG_V2);
	unsigned long wake = 0;
	ssize_t ret;

	ret = ivhost_devtlb_read(&dev->tlb, to, nonblock, v2, &wake);
	if (wake)
		ivhost_dev_tlb_wake(&dev->tlb, wake);
	return ret;
}
EXPORT_SYMBOL_GPL(ivhost_dev_read_iter);

/**
 * ivhost_dev_write_iter() - write() of the device fd: one IOTLB message
 * @dev: the device
 * @from: the message
 *
 * The message is copied in first, then taken under the device mutex, so
 * it cannot race VHOST_RESET_OWNER, VHOST_SET_FEATURES or
 * VHOST_SET_BACKEND_FEATURES (it applies to the device as the caller's
 * owner set it up, or fails), and a writer whose buffer faults slowly
 * (userfaultfd, FUSE) holds no lock meanwhile.
 *
 * Context: process context; may sleep.  Takes &dev->mutex, and every
 * vq's mutex when the message removes translations.
 * Return: the message size; -EPERM if the caller is not the owner;
 * -EFAULT if VIRTIO_F_ACCESS_PLATFORM is not negotiated (there is no
 * IOTLB); otherwise as ivhost_devtlb_write().
 */
ssize_t ivhost_dev_write_iter(struct ivhost_dev *dev, struct iov_iter *from)
{
	union {
		struct vhost_msg v1;
		struct vhost_msg_v2 v2;
	} u;
	struct kvec kv = { .iov_base = &u };
	unsigned long wake = 0;
	struct iov_iter it;
	ssize_t ret;

	/* Checked again under the mutex; this keeps EPERM ahead of EFAULT. */
	if (READ_ONCE(dev->mm) != current->mm)
		return -EPERM;
	kv.iov_len = min(iov_iter_count(from), sizeof(u));
	if (copy_from_iter(&u, kv.iov_len, from) != kv.iov_len)
		return -EFAULT;
	iov_iter_kvec(&it, ITER_SOURCE, &kv, 1, kv.iov_len);

	mutex_lock(&dev->mutex);
	ret = ivhost_dev_check_owner(dev);
	if (ret)
		goto unlock;
	ret = -EFAULT;
	if (!(dev->features & BIT_ULL(VIRTIO_F_ACCESS_PLATFORM)))
		goto unlock;
	ret = ivhost_devtlb_write(&dev->tlb, &it, dev->backend_features,
				  &wake);
	ivhost_dev_tlb_wake(&dev->tlb, wake);
unlock:
	mutex_unlock(&dev->mutex);
	return ret;
}
EXPORT_SYMBOL_GPL(ivhost_dev_write_iter);

/**
 * ivhost_dev_poll() - poll() of the device fd
 * @dev: the device
 * @file: the device file
 * @wait: the poll table
 *
 * Context: process context.
 * Return: EPOLLIN while an IOTLB message waits; always writable.
 */
__poll_t ivhost_dev_poll(struct ivhost_dev *dev, struct file *file,
			 poll_table *wait)
{
	return ivhost_devtlb_poll(&dev->tlb, file, wait);
}
EXPORT_SYMBOL_GPL(ivhost_dev_poll);

/**
 * ivhost_dev_iotlb_stats() - a device's IOTLB counters
 * @dev: the device
 * @st: where to put them
 *
 * The hits are the IOTLB's and those the vqs served from their own last
 * translation.
 *
 * Context: any process context; takes the IOTLB's lock, not the vqs'.
 */
void ivhost_dev_iotlb_stats(struct ivhost_dev *dev,
			    struct ivhost_iotlb_stats *st)
{
	unsigned int i;

	ivhost_devtlb_get_stats(&dev->tlb, st);
	for (i = 0; i < dev->nvqs; i++)
		st->hits += READ_ONCE(dev->vqs[i]->span_hits);
}

/*
 * IVHOST_GET_IOTLB_STATS: the caller's struct may be older (smaller) or
 * newer (larger) than ours; copy what both know, say how much in ->size
 * and leave the rest of the caller's memory alone (see the uapi header).
 */
static long ivhost_dev_get_iotlb_stats(struct ivhost_dev *dev,
				       void __user *argp)
{
	struct ivhost_iotlb_stats st;
	struct ivhost_ioctl_hdr hdr;

	BUILD_BUG_ON(offsetof(struct ivhost_iotlb_stats, size) !=
		     offsetof(struct ivhost_ioctl_hdr, size) ||
		     offsetof(struct ivhost_iotlb_stats, flags) !=
		     offsetof(struct ivhost_ioctl_hdr, flags));
	BUILD_BUG_ON(sizeof(st) < IVHOST_IOTLB_STATS_SIZE_VER0);

	if (copy_from_user(&hdr, argp, sizeof(hdr)))
		return -EFAULT;
	if (hdr.size < IVHOST_IOTLB_STATS_SIZE_VER0 || hdr.flags)
		return -EINVAL;
	ivhost_dev_iotlb_stats(dev, &st);
	st.size = min_t(u32, hdr.size, sizeof(st));
	st.flags = 0;
	return copy_to_user(argp, &st, st.size) ? -EFAULT : 0;
}

/**
 * ivhost_dev_unlocked_ioctl() - ioctls any holder of the fd may make
 * @dev: the device
 * @cmd: ioctl number
 * @argp: userspace argument
 *
 * Context: process context, without &dev->mutex.
 * Return: 0 or a negative errno; -ENOIOCTLCMD for other ioctls.
 */
long ivhost_dev_unlocked_ioctl(struct ivhost_dev *dev, unsigned int cmd,
			       void __user *argp)
{
	u64 features = IVHOST_BACKEND_FEATURES;

	switch (cmd) {
	case VHOST_GET_BACKEND_FEATURES:
		return copy_to_user(argp, &features, sizeof(features)) ?
		       -EFAULT : 0;
	case IVHOST_GET_IOTLB_STATS:
		return ivhost_dev_get_iotlb_stats(dev, argp);
	}
	return -ENOIOCTLCMD;
}
EXPORT_SYMBOL_GPL(ivhost_dev_unlocked_ioctl);

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
