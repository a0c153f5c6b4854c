package feed

import (
	"math"
	"testing"
)

// TestFingerprintBytesArePinned: checkpoints store data fingerprints and
// --resume compares them, so the hashed bytes (uint64 length, then the
// values little-endian: ints as uint64, floats as float32 bits) must not
// change between builds.
func TestFingerprintBytesArePinned(t *testing.T) {
	f := newFingerprint()
	f.ints([]int{1, 2, 3, -4})
	f.ints(nil)
	f.floats([]float32{1.5, -2, float32(math.Inf(1))})
	const want = "e6e67ee3073cc5cb598ff33077d9b5dbd025978164ae62d7d45a0378e8574ae4"
	if got := f.sum(); got != want {
		t.Fatalf("fingerprint %s, want %s", got, want)
	}
}
