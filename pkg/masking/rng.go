package masking

import "math/rand/v2"

// NewRNG returns a PCG generator whose stream is a pure function of
// (seed, step, sample): the mask of sample 3 at step 1200 is the same
// whether the run started at step 0 or was resumed at step 1100.
func NewRNG(seed, step int64, sample int) *rand.Rand {
	h := splitmix64(uint64(seed))
	h = splitmix64(h ^ uint64(step))
	h = splitmix64(h ^ uint64(sample))
	return rand.New(rand.NewPCG(h, splitmix64(h)))
}

// splitmix64 is the SplitMix64 finaliser (Steele et al., 2014). Chaining
// it over the inputs spreads nearby (seed, step, sample) triples over
// unrelated PCG states.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
