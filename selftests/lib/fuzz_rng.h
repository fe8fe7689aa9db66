/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fuzzers' random numbers: xorshift64*, seeded from the command line,
 * so that a seed names one run exactly (same seed, same inputs). The state
 * is per thread: each thread of a threaded fuzzer seeds its own sequence.
 */
#ifndef RVISOR_FUZZ_RNG_H
#define RVISOR_FUZZ_RNG_H

#include <stddef.h>
#include <stdint.h>

static __thread uint64_t rng_state;

static inline void rng_seed(uint64_t seed)
{
	rng_state = seed | 1;	/* never 0, which xorshift cannot leave */
}

static inline uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

/* A value below n. */
static inline uint32_t below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

static inline void fill(unsigned char *p, size_t n)
{
	while (n--)
		*p++ = (unsigned char)rnd();
}

#endif /* RVISOR_FUZZ_RNG_H */
