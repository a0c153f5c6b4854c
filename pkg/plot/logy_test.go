package plot

import (
	"path/filepath"
	"testing"
)

// TestLogYFlatRange: a log axis whose points all have one y value (a run's
// first checkpoint plots a single loss point) draws instead of panicking;
// gonum would widen the range to [y-1, y+1], which is <= 0 for y <= 1.
func TestLogYFlatRange(t *testing.T) {
	for _, tt := range []struct {
		name string
		s    Series
	}{
		{"one point below 1", Series{Name: "loss", X: []float64{2}, Y: []float64{0.5}}},
		{"one point at 1", Series{Name: "loss", X: []float64{2}, Y: []float64{1}}},
		{"flat below 1", Series{Name: "loss", X: []float64{1, 2, 3}, Y: []float64{0.01, 0.01, 0.01}}},
		{"one drawable point", Series{Name: "loss", X: []float64{1, 2}, Y: []float64{-1, 0.3}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "x.png")
			if err := Lines(p, "loss", "step", "loss", []Series{tt.s}, true); err != nil {
				t.Fatal(err)
			}
			checkSize(t, decode(t, p), pixels(LinesWidth), pixels(LinesHeight))
		})
	}
}
