/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the libFuzzer targets: a cursor over the fuzz input
 * that yields zeros once exhausted, a decoder of 64-bit values biased
 * towards the boundaries that matter (0, 2^64 - 1, small values, values
 * next to existing edges), and the oracle's failure report.
 */
#ifndef _FUZZ_COMMON_H
#define _FUZZ_COMMON_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/kernel.h>
#include <linux/types.h>

/**
 * struct fuzz_in - what is left of the input
 * @p: next byte
 * @left: bytes left
 */
struct fuzz_in {
	const u8 *p;
	size_t left;
};

static inline u8 fuzz_u8(struct fuzz_in *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static inline u16 fuzz_u16(struct fuzz_in *in)
{
	return fuzz_u8(in) | (u16)fuzz_u8(in) << 8;
}

static inline u32 fuzz_u32(struct fuzz_in *in)
{
	return fuzz_u16(in) | (u32)fuzz_u16(in) << 16;
}

static inline u64 fuzz_u64(struct fuzz_in *in)
{
	return fuzz_u32(in) | (u64)fuzz_u32(in) << 32;
}

/*
 * A value for an address or a size.  @near, when not 0, is an edge the
 * value may land next to (an existing entry's start or last).
 */
static inline u64 fuzz_val(struct fuzz_in *in, u64 near)
{
	u8 sel = fuzz_u8(in);

	switch (sel & 7) {
	case 0:
		return 0;
	case 1:
		return ~0ULL - fuzz_u8(in);
	case 2:
		return fuzz_u64(in);
	case 3:
		return near + (s8)fuzz_u8(in) % 3;
	case 4:
		return (u64)fuzz_u8(in) << 12;
	case 5:
		return 1ULL << (fuzz_u8(in) & 63);
	default:
		return fuzz_u8(in) & 63;
	}
}

/* The oracle disagrees with the code under test: report and abort. */
static inline void __noreturn __printf(1, 2) fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "ORACLE MISMATCH: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

#define FUZZ_CHECK(cond, fmt, ...)					\
	do {								\
		if (!(cond))						\
			fuzz_fail("%s:%d: %s: " fmt, __FILE__, __LINE__, \
				  #cond, ##__VA_ARGS__);		\
	} while (0)

#endif /* _FUZZ_COMMON_H */
