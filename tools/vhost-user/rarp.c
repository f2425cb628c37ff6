// SPDX-License-Identifier: GPL-2.0
/*
 * SEND_RARP: after a live migration, QEMU asks the backend to announce
 * the guest's MAC address on its new host, so that switches learn where
 * it went.  QEMU asks only when the guest cannot announce itself (it did
 * not ack VIRTIO_NET_F_GUEST_ANNOUNCE, which this daemon does not offer)
 * and the RARP protocol feature was acked.  The announcement is a
 * broadcast RARP request (RFC 903) for the MAC, written to the tap as
 * if the guest had sent it.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "ivu.h"

#define IVU_RARP_LEN	60	/* the Ethernet minimum, padding included */

/* Build the frame at @f (IVU_RARP_LEN bytes, zeroed by the caller). */
static void ivu_rarp_build(u8 *f, const u8 *mac)
{
	static const u8 arp[] = {
		0x80, 0x35,		/* ethertype: RARP */
		0x00, 0x01,		/* hardware: Ethernet */
		0x08, 0x00,		/* protocol: IPv4 */
		6, 4,			/* address lengths */
		0x00, 0x03,		/* reverse request */
	};

	memset(f, 0xff, 6);		/* broadcast */
	memcpy(f + 6, mac, 6);
	memcpy(f + 12, arp, sizeof(arp));
	memcpy(f + 22, mac, 6);		/* sender hardware address */
	memcpy(f + 32, mac, 6);		/* target hardware address */
	/* Protocol addresses unknown (0), then padding. */
}

/**
 * ivu_rarp_send() - announce @mac on the tap
 * @d: the device
 * @mac: the guest's MAC address, 6 bytes
 *
 * The frame goes out on the first queue pair's tap queue, after a zeroed
 * virtio-net header of the size the tap expects now.
 * Return: 0, or a negative errno from the tap.
 */
int ivu_rarp_send(struct ivu_dev *d, const u8 *mac)
{
	u8 buf[12 + IVU_RARP_LEN] = { 0 };
	int sz = 0;
	size_t hdr;
	ssize_t n;

	if (ioctl(d->qp[0].tap_fd, TUNGETVNETHDRSZ, &sz) || sz < 10 || sz > 12)
		return -EINVAL;
	hdr = sz;
	ivu_rarp_build(buf + hdr, mac);
	n = write(d->qp[0].tap_fd, buf, hdr + IVU_RARP_LEN);
	if (n < 0)
		return -errno;
	ivu_log("announced %02x:%02x:%02x:%02x:%02x:%02x (RARP)", mac[0],
		mac[1], mac[2], mac[3], mac[4], mac[5]);
	return n == (ssize_t)(hdr + IVU_RARP_LEN) ? 0 : -EIO;
}
