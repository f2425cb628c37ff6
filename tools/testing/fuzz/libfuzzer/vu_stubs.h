/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The libFuzzer targets of ivhost-user (fuzz_vu_*.c): what vu_stubs.c
 * gives them besides main.c's and tap.c's functions.
 */
#ifndef _VU_STUBS_H
#define _VU_STUBS_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

extern FILE *vu_real_stderr;
void vu_quiet(bool on);

/* An oracle failure: the report goes to the real stderr. */
#define VU_CHECK(cond, fmt, ...)					\
	do {								\
		if (!(cond)) {						\
			vu_quiet(false);				\
			fuzz_fail("%s:%d: %s: " fmt, __FILE__, __LINE__, \
				  #cond, ##__VA_ARGS__);		\
		}							\
	} while (0)

#endif /* _VU_STUBS_H */
