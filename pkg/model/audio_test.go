package model

import (
	"strings"
	"testing"
)

var w2v = [][2]int{{10, 5}, {3, 2}, {3, 2}, {3, 2}, {3, 2}, {2, 2}, {2, 2}}

// TestAudioFrames: the wav2vec 2.0 stack gives one frame per 320 samples
// with a 400-sample receptive field: 16000 samples (1 s) -> 49 frames.
func TestAudioFrames(t *testing.T) {
	for _, c := range []struct{ samples, frames int }{{16000, 49}, {9600, 29}, {400, 1}, {399, 0}, {720, 2}} {
		if got := (Audio{Samples: c.samples, Conv: w2v}).NumTokens(); got != c.frames {
			t.Errorf("%d samples: %d frames, want %d", c.samples, got, c.frames)
		}
	}
}

func TestAudioValidate(t *testing.T) {
	ok := Audio{Samples: 9600, Conv: w2v, ConvDim: 8, Dim: 16, PosWidth: 15, PosGroups: 4, PosDepth: 3}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid encoder: %v", err)
	}
	if k := ok.PosKernel(); k != 5 {
		t.Errorf("PosKernel = %d, want 15/3 = 5", k)
	}
	for _, c := range []struct {
		edit func(*Audio)
		want string
	}{
		{func(a *Audio) { a.Conv = nil }, "no conv layer"},
		{func(a *Audio) { a.ConvDim = 0 }, "conv_dim"},
		{func(a *Audio) { a.PosGroups = 3 }, "must divide dim"},
		{func(a *Audio) { a.PosWidth = 16; a.PosDepth = 2 }, "must be odd"},
		{func(a *Audio) { a.Samples = 500 }, "need >= 2"},
	} {
		a := ok
		c.edit(&a)
		if err := a.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want one containing %q", a, err, c.want)
		}
	}
}
