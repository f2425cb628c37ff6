/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fuzzers' PRNG (rng.c): repeatable streams from (seed, stream).
 */
#ifndef FUZZ_RNG_H
#define FUZZ_RNG_H

#include <stdint.h>

struct fz_rng {
	uint64_t s[4];
};

void fz_rng_seed(struct fz_rng *r, uint64_t seed, uint64_t stream);
uint64_t fz_next(struct fz_rng *r);
/* Uniform in [0, n); 0 when n == 0. */
uint64_t fz_below(struct fz_rng *r, uint64_t n);
/* 1 with probability 1/n. */
int fz_one_in(struct fz_rng *r, unsigned int n);

#endif /* FUZZ_RNG_H */
