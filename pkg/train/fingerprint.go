package train

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math"
)

// A data fingerprint is the SHA-256 of the training examples exactly as a
// run feeds them (after decoding, resampling, normalisation, tokenisation,
// packing and data.limit). Checkpoints record it; --resume refuses data
// that changed since, which would otherwise continue a run silently on
// other examples than the ones its schedule and sampler were drawn for.

type fingerprint struct{ h hash.Hash }

func newFingerprint() *fingerprint { return &fingerprint{h: sha256.New()} }

func (f *fingerprint) ints(v []int) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(len(v)))
	f.h.Write(b[:])
	buf := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(buf[8*i:], uint64(x))
	}
	f.h.Write(buf)
}

func (f *fingerprint) floats(v []float32) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(len(v)))
	f.h.Write(b[:])
	buf := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
	}
	f.h.Write(buf)
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
