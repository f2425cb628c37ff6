/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of the device IOTLB: misses, updates, invalidations and
 * evictions, under events/ivhost/ in tracefs.  A device is named by its
 * number (the name of its directory under /sys/kernel/debug/ivhost),
 * never by a kernel address.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM ivhost

#if !defined(_IVHOST_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _IVHOST_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(ivhost_iotlb_miss,
	    TP_PROTO(u32 dev, unsigned int vq, u64 iova, u8 perm),
	    TP_ARGS(dev, vq, iova, perm),
	    TP_STRUCT__entry(__field(u32, dev)
			     __field(unsigned int, vq)
			     __field(u64, iova)
			     __field(u8, perm)),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->vq = vq;
			   __entry->iova = iova;
			   __entry->perm = perm;),
	    TP_printk("dev=%u vq=%u iova=0x%llx perm=%u", __entry->dev,
		      __entry->vq, __entry->iova, __entry->perm)
);

DECLARE_EVENT_CLASS(ivhost_iotlb_range,
		    TP_PROTO(u32 dev, u64 start, u64 last, u64 uaddr,
			     u8 perm),
		    TP_ARGS(dev, start, last, uaddr, perm),
		    TP_STRUCT__entry(__field(u32, dev)
				     __field(u64, start)
				     __field(u64, last)
				     __field(u64, uaddr)
				     __field(u8, perm)),
		    TP_fast_assign(__entry->dev = dev;
				   __entry->start = start;
				   __entry->last = last;
				   __entry->uaddr = uaddr;
				   __entry->perm = perm;),
		    TP_printk("dev=%u [0x%llx, 0x%llx] uaddr=0x%llx perm=%u",
			      __entry->dev, __entry->start, __entry->last,
			      __entry->uaddr, __entry->perm)
);

DEFINE_EVENT(ivhost_iotlb_range, ivhost_iotlb_update,
	     TP_PROTO(u32 dev, u64 start, u64 last, u64 uaddr,
		      u8 perm),
	     TP_ARGS(dev, start, last, uaddr, perm)
);

DEFINE_EVENT(ivhost_iotlb_range, ivhost_iotlb_invalidate,
	     TP_PROTO(u32 dev, u64 start, u64 last, u64 uaddr,
		      u8 perm),
	     TP_ARGS(dev, start, last, uaddr, perm)
);

DEFINE_EVENT(ivhost_iotlb_range, ivhost_iotlb_evict,
	     TP_PROTO(u32 dev, u64 start, u64 last, u64 uaddr,
		      u8 perm),
	     TP_ARGS(dev, start, last, uaddr, perm)
);

#endif /* _IVHOST_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
