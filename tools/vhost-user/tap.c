// SPDX-License-Identifier: GPL-2.0
/*
 * The tap: one queue per queue pair, each carrying the virtio-net header
 * in front of every frame (IFF_VNET_HDR), so the guest's offload
 * requests reach the host stack and the host's reach the guest, as with
 * vhost_net.  The daemon brings the interface up and leaves its
 * addresses to the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "ivu.h"

static int ivu_tap_ifreq(const char *name, unsigned long req,
			 struct ifreq *ifr)
{
	int s, r;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	strncpy(ifr->ifr_name, name, IFNAMSIZ - 1);
	r = ioctl(s, req, ifr) ? -errno : 0;
	close(s);
	return r;
}

static int ivu_tap_up(const char *name)
{
	struct ifreq ifr = { 0 };
	int r;

	r = ivu_tap_ifreq(name, SIOCGIFFLAGS, &ifr);
	if (r)
		return r;
	ifr.ifr_flags |= IFF_UP;
	return ivu_tap_ifreq(name, SIOCSIFFLAGS, &ifr);
}

/**
 * ivu_tap_open() - open (creating if needed) the tap's queues, bring it up
 * @name: interface name
 * @queues: queues to open; more than one needs IFF_MULTI_QUEUE
 * @fds: where to put one non-blocking fd per queue
 *
 * Return: 0, or a negative errno (nothing left open).
 */
int ivu_tap_open(const char *name, unsigned int queues, int *fds)
{
	struct ifreq ifr;
	unsigned int i;
	int err;

	if (strlen(name) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	for (i = 0; i < queues; i++) {
		fds[i] = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (fds[i] < 0) {
			err = -errno;
			goto fail;
		}
		memset(&ifr, 0, sizeof(ifr));
		strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
		if (queues > 1)
			ifr.ifr_flags |= IFF_MULTI_QUEUE;
		if (ioctl(fds[i], TUNSETIFF, &ifr)) {
			err = -errno;
			close(fds[i]);
			goto fail;
		}
	}
	err = ivu_tap_up(name);
	if (!err)
		return 0;
	i = queues;
fail:
	while (i--)
		close(fds[i]);
	return err;
}

/* The tap offloads the guest can receive (TUNSETOFFLOAD's meaning). */
static unsigned int ivu_tap_offloads(u64 features)
{
	unsigned int off = 0;

	if (!(features & (1ULL << VIRTIO_NET_F_GUEST_CSUM)))
		return 0;
	off |= TUN_F_CSUM;
	if (features & (1ULL << VIRTIO_NET_F_GUEST_TSO4))
		off |= TUN_F_TSO4;
	if (features & (1ULL << VIRTIO_NET_F_GUEST_TSO6))
		off |= TUN_F_TSO6;
	if ((off & (TUN_F_TSO4 | TUN_F_TSO6)) &&
	    (features & (1ULL << VIRTIO_NET_F_GUEST_ECN)))
		off |= TUN_F_TSO_ECN;
	if (features & (1ULL << VIRTIO_NET_F_GUEST_UFO))
		off |= TUN_F_UFO;
	return off;
}

/**
 * ivu_tap_configure() - set a tap queue's header size and offloads
 * @name: interface name, for the log
 * @fd: the queue
 * @hdr_len: virtio-net header size (10 or 12)
 * @features: the acked virtio features
 *
 * Return: 0, or a negative errno.
 */
int ivu_tap_configure(const char *name, int fd, unsigned int hdr_len,
		      u64 features)
{
	unsigned int off = ivu_tap_offloads(features);
	int sz = hdr_len;

	if (ioctl(fd, TUNSETVNETHDRSZ, &sz) ||
	    ioctl(fd, TUNSETOFFLOAD, (unsigned long)off)) {
		ivu_log("tap %s: header size %d, offloads 0x%x: %m",
			name, sz, off);
		return -errno;
	}
	ivu_dbg("tap %s: header %d bytes, offloads 0x%x", name, sz, off);
	return 0;
}

/**
 * ivu_tap_set_mtu() - give the tap the MTU the guest was given
 * @name: interface name
 * @mtu: the MTU
 *
 * Return: 0, or a negative errno.
 */
int ivu_tap_set_mtu(const char *name, unsigned int mtu)
{
	struct ifreq ifr = { 0 };

	ifr.ifr_mtu = mtu;
	return ivu_tap_ifreq(name, SIOCSIFMTU, &ifr);
}
