package teacher

import (
	"slices"
	"testing"
)

// TestRepeatMasked: 2 samples x 3 clones over 4 positions of 2 features;
// each clone reads its own sample's rows at its own masked positions.
func TestRepeatMasked(t *testing.T) {
	const b, m, tt, d = 2, 3, 4, 2
	full := make([]float64, b*tt*d)
	for i := range full {
		full[i] = float64(i) // sample s, position p, channel c = 8s+2p+c
	}
	mask := []bool{
		true, false, false, true, // sample 0 clone 0: positions 0, 3
		false, true, true, false, // sample 0 clone 1: 1, 2
		true, true, false, false, // sample 0 clone 2: 0, 1
		false, false, true, true, // sample 1 clone 0: 2, 3
		true, false, true, false, // sample 1 clone 1: 0, 2
		false, true, false, true, // sample 1 clone 2: 1, 3
	}
	want := []float64{
		0, 1, 6, 7, 2, 3, 4, 5, 0, 1, 2, 3,
		12, 13, 14, 15, 8, 9, 12, 13, 10, 11, 14, 15,
	}
	got := RepeatMasked(nil, full, b, m, tt, d, mask)
	if !slices.Equal(got, want) {
		t.Fatalf("RepeatMasked = %v, want %v", got, want)
	}
	// The buffer is reused: a second call with a spare-capacity dst gives the same.
	if got2 := RepeatMasked(got[:0], full, b, m, tt, d, mask); !slices.Equal(got2, want) || &got2[0] != &got[0] {
		t.Error("RepeatMasked did not reuse dst's memory")
	}
}

func TestCloneMeans(t *testing.T) {
	const b, m, tt, d = 2, 2, 3, 2
	full := []float32{1, 10, 2, 20, 3, 30, -1, 0, -2, 0, -6, 3}
	want := []float32{2, 20, 2, 20, -3, 1, -3, 1}
	if got := CloneMeans(nil, full, b, m, tt, d); !slices.Equal(got, want) {
		t.Fatalf("CloneMeans = %v, want %v", got, want)
	}
}

func TestCloneBookkeepingPanicsOnBadSizes(t *testing.T) {
	for name, f := range map[string]func(){
		"repeat": func() { RepeatMasked(nil, make([]float64, 8), 1, 2, 4, 2, make([]bool, 4)) },
		"means":  func() { CloneMeans(nil, make([]float64, 7), 1, 2, 4, 2) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic on mismatched sizes", name)
				}
			}()
			f()
		}()
	}
}
