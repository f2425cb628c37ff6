/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace shim: tracepoints compile to nothing.  Each event becomes an
 * empty inline trace_<name>() taking the event's prototype, so the
 * arguments are still type-checked.
 */
#ifndef _TOOLS_INCLUDE_LINUX_TRACEPOINT_H
#define _TOOLS_INCLUDE_LINUX_TRACEPOINT_H

#include <linux/types.h>

#define TP_PROTO(args...)	args
#define TP_ARGS(args...)	args
#define PARAMS(args...)		args

#define FUZZ_TRACE_STUB(name, proto)					\
	_Pragma("GCC diagnostic push")					\
	_Pragma("GCC diagnostic ignored \"-Wunused-parameter\"")	\
	static inline void trace_##name(proto) {}			\
	_Pragma("GCC diagnostic pop")

#define TRACE_EVENT(name, proto, args, tstruct, assign, print) \
	FUZZ_TRACE_STUB(name, PARAMS(proto))
#define DECLARE_EVENT_CLASS(name, proto, args, tstruct, assign, print)
#define DEFINE_EVENT(template, name, proto, args) \
	FUZZ_TRACE_STUB(name, PARAMS(proto))

#endif /* _TOOLS_INCLUDE_LINUX_TRACEPOINT_H */
