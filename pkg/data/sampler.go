package data

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
)

// Sampler yields fixed-size batches of dataset indices for a global step.
// Epoch e is a permutation of 0..n-1 that is a pure function of (seed, e),
// so the batch for a step never depends on history: a run resumed at step
// s sees exactly the batches it would have seen without stopping.
// The last n%batch indices of each epoch's permutation are dropped so
// every batch has the same shape. A Sampler caches one epoch and is not
// safe for concurrent use; give each goroutine its own.
type Sampler struct {
	n, batch int
	seed     int64
	epoch    int64 // epoch held in perm; -1 before the first call
	perm     []int
}

// NewSampler returns a sampler over n items in batches of batch.
func NewSampler(n, batch int, seed int64) (*Sampler, error) {
	switch {
	case n <= 0:
		return nil, fmt.Errorf("data: sampler: dataset is empty (n = %d)", n)
	case batch <= 0:
		return nil, fmt.Errorf("data: sampler: batch size must be > 0, got %d", batch)
	case batch > n:
		return nil, fmt.Errorf("data: sampler: batch size %d is larger than the dataset (%d items); lower the batch size", batch, n)
	}
	return &Sampler{n: n, batch: batch, seed: seed, epoch: -1, perm: make([]int, n)}, nil
}

// StepsPerEpoch is n / batch: the number of full batches in one epoch.
func (s *Sampler) StepsPerEpoch() int64 { return int64(s.n / s.batch) }

// Epoch returns the epoch a global step falls in.
func (s *Sampler) Epoch(step int64) int64 { return step / s.StepsPerEpoch() }

// Indices fills dst (len batch) with the dataset indices for global step
// step >= 0. It panics on a negative step or a wrong len(dst).
func (s *Sampler) Indices(step int64, dst []int) {
	if step < 0 || len(dst) != s.batch {
		panic(fmt.Sprintf("data: Sampler.Indices: step %d, len(dst) %d; want step >= 0, len %d", step, len(dst), s.batch))
	}
	e, pos := step/s.StepsPerEpoch(), int(step%s.StepsPerEpoch())
	if e != s.epoch {
		s.fillPerm(e)
	}
	copy(dst, s.perm[pos*s.batch:(pos+1)*s.batch])
}

// fillPerm writes the permutation of epoch e.
func (s *Sampler) fillPerm(e int64) {
	Permute(s.perm, uint64(s.seed), uint64(e)^0x9e3779b97f4a7c15)
	s.epoch = e
}

// Permute fills dst with a permutation of 0..len(dst)-1 that is a pure
// function of the key (a, b), by a Fisher-Yates shuffle over a PCG seeded
// with the SplitMix64 of each half. It draws with its own bounded-integer
// routine rather than rand.Shuffle so the order stays fixed even if the
// standard library changes its algorithm: checkpoints must resume to
// identical batches.
func Permute(dst []int, a, b uint64) {
	src := rand.NewPCG(splitmix64(a), splitmix64(b))
	for i := range dst {
		dst[i] = i
	}
	for i := len(dst) - 1; i > 0; i-- {
		j := int(boundedUint64(src, uint64(i+1)))
		dst[i], dst[j] = dst[j], dst[i]
	}
}

// boundedUint64 returns a uniform value in [0, n) by Lemire's
// multiply-and-reject method.
func boundedUint64(src *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(src.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(src.Uint64(), n)
		}
	}
	return hi
}

// splitmix64 is the SplitMix64 finaliser (Steele et al., 2014): a
// bijective mixer that turns nearby seeds into unrelated PCG states.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
