// SPDX-License-Identifier: GPL-2.0
/*
 * The device IOTLB over vhost-user: a placeholder until issue 17.
 *
 * This backend does not offer VIRTIO_F_IOMMU_PLATFORM yet, so a frontend
 * has no reason to send IOTLB_MSG; one that does gets a non-zero reply
 * (QEMU always asks for one).  Issue 17 puts here the transport half of
 * the shared IOTLB core (drivers/vhost/iotlb.c and devtlb_msg.c compiled
 * as they are, like chain.c and memtable.c): UPDATE and INVALIDATE from
 * the socket, acked once no ring still uses the old translation, MISS
 * and ACCESS_FAIL on the backend channel (d->backend_fd), never waited
 * for on the socket's thread.
 */
#include <errno.h>

#include "ivu.h"

/**
 * ivu_iotlb_msg() - handle a VHOST_USER_IOTLB_MSG
 * @d: the device
 * @msg: the message
 *
 * Return: -EOPNOTSUPP: no IOTLB yet.
 */
int ivu_iotlb_msg(struct ivu_dev *d, const struct vhost_iotlb_msg *msg)
{
	(void)d;
	ivu_dbg("IOTLB message type %u iova 0x%llx: not supported",
		msg->type, msg->iova);
	return -EOPNOTSUPP;
}
