package model

import (
	"fmt"
	"math"
)

// Spec is the architecture, fixed when a graph is built.
type Spec struct {
	Dim, Depth, Heads, FFN int
	NormFirst              bool    // pre-LN blocks + final LN; else post-LN, no final LN
	LNEps                  float64 // LayerNorm epsilon (1e-5 as torch)
	HeadLayers             int     // 1: Linear(D,D); 2: Linear(D,2D)-GELU-Linear(2D,D)
	LearnedPos             bool    // learned position table, else fixed sin-cos
	InitStd                float64 // std of the truncated-normal weight init
	EmbedLN                bool    // LayerNorm after the embedding (RoBERTa, data2vec text)
}

// Validate reports an impossible architecture.
func (s Spec) Validate() error {
	switch {
	case s.Dim <= 0 || s.Heads <= 0 || s.Dim%s.Heads != 0:
		return fmt.Errorf("model: dim %d must be a positive multiple of heads %d", s.Dim, s.Heads)
	case s.Depth < 1 || s.FFN < 1:
		return fmt.Errorf("model: depth %d and ffn %d must be >= 1", s.Depth, s.FFN)
	case s.HeadLayers != 1 && s.HeadLayers != 2:
		return fmt.Errorf("model: head_layers must be 1 or 2, got %d", s.HeadLayers)
	}
	return nil
}

// SinCos1D returns the fixed (T, D) sin-cos table of the Transformer paper:
// pos[t, 2i] = sin(t / 10000^(2i/D)), pos[t, 2i+1] = cos(...).
func SinCos1D(t, d int) []float64 {
	out := make([]float64, t*d)
	for p := 0; p < t; p++ {
		for i := 0; i < d/2; i++ {
			w := float64(p) / math.Pow(10000, float64(2*i)/float64(d))
			out[p*d+2*i], out[p*d+2*i+1] = math.Sin(w), math.Cos(w)
		}
	}
	return out
}

// SinCos2D returns the fixed (gh*gw, D) table used by MAE and data2vec 2.0
// images: the first D/2 channels encode the row, the last D/2 the column,
// each as [sin ..., cos ...] with frequencies 1/10000^(k/(D/4)).
func SinCos2D(gh, gw, d int) []float64 {
	out := make([]float64, gh*gw*d)
	q := d / 4
	for y := 0; y < gh; y++ {
		for x := 0; x < gw; x++ {
			row := out[(y*gw+x)*d:]
			for k := 0; k < q; k++ {
				om := 1 / math.Pow(10000, float64(k)/float64(q))
				row[k], row[q+k] = math.Sin(float64(y)*om), math.Cos(float64(y)*om)
				row[2*q+k], row[3*q+k] = math.Sin(float64(x)*om), math.Cos(float64(x)*om)
			}
		}
	}
	return out
}
