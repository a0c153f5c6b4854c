package feed

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
)

// A data fingerprint is the SHA-256 of the training examples exactly as a
// run feeds them (after decoding, resampling, normalisation, tokenisation,
// packing and data.limit). Checkpoints record it; --resume refuses data
// that changed since, which would otherwise continue a run silently on
// other examples than the ones its schedule and sampler were drawn for.

type fingerprint struct{ h hash.Hash }

func newFingerprint() *fingerprint { return &fingerprint{h: sha256.New()} }

// ints and floats hash the length (uint64) and then the values,
// little-endian: ints as uint64, floats by their float32 bits.
func (f *fingerprint) ints(v []int) {
	u := make([]uint64, len(v))
	for i, x := range v {
		u[i] = uint64(x)
	}
	f.put(len(v), u)
}

func (f *fingerprint) floats(v []float32) { f.put(len(v), v) }

func (f *fingerprint) put(n int, v any) {
	binary.Write(f.h, binary.LittleEndian, uint64(n)) // a hash.Hash never fails a write
	binary.Write(f.h, binary.LittleEndian, v)
}

func (f *fingerprint) sum() string { return hex.EncodeToString(f.h.Sum(nil)) }

func (s *imageSource) Fingerprint() string {
	f := newFingerprint()
	f.ints([]int{s.b.Set.N, s.b.Set.H, s.b.Set.W, s.b.Set.C})
	f.floats(s.b.Set.Pix)
	return f.sum()
}

func (s *textSource) Fingerprint() string {
	f := newFingerprint()
	for _, q := range s.seqs {
		f.ints(q)
	}
	return f.sum()
}

func (s *audioSource) Fingerprint() string {
	f := newFingerprint()
	for _, c := range s.set.Clips {
		f.floats(c.Samples)
	}
	return f.sum()
}
