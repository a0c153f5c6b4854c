package model

import (
	"fmt"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/d2v/d2v/pkg/ops"
)

// BenchmarkDecoder times one forward and backward of the decoder alone
// (Input + Build + an L2 loss on every position) in float32 through a tape
// machine, at the tiny data2vec 2.0 recipes' shapes: 16 samples x 8 clones
// = 128 rows, D = Dd = 64, with the images' 7x7 grid, speech's 29 frames
// and text's 128 tokens; at the benchmark step's shapes; and at the 2-D
// public fixture's shape.
func BenchmarkDecoder(b *testing.B) {
	for _, c := range []struct {
		name  string
		d     Decoder
		rows  int
		keep  int
		extra int
	}{
		{"fixture-2d", Decoder{Kind: Decoder2D, Dim: 32, DecDim: 32, Kernel: 3, Groups: 4, Layers: 2, Residual: true, ProjLayers: 1, Positions: 64, LNEps: 1e-5}, 4, 12, 1},
		{"image-v2-tiny", Decoder{Kind: Decoder2D, Dim: 64, DecDim: 64, Kernel: 3, Groups: 16, Layers: 4, Residual: true, ProjLayers: 1, Positions: 49, LNEps: 1e-5}, 128, 9, 1},
		{"audio-v2-tiny", Decoder{Kind: Decoder1D, Dim: 64, DecDim: 64, Kernel: 7, Groups: 16, Layers: 4, Residual: true, ProjLayers: 1, Positions: 29, LNEps: 1e-5}, 128, 14, 0},
		{"text-v2-tiny", Decoder{Kind: Decoder1D, Dim: 64, DecDim: 64, Kernel: 9, Groups: 1, Layers: 5, ProjLayers: 2, Positions: 128, LNEps: 1e-5}, 128, 66, 0},
		// the benchmark step's shapes (8 samples x 2 clones, D = 128, the reference's decoder defaults K 5, 16 groups, 5 layers)
		{"bench-patches", Decoder{Kind: Decoder2D, Dim: 128, DecDim: 128, Kernel: 5, Groups: 16, Layers: 5, Residual: true, ProjLayers: 1, Positions: 64, LNEps: 1e-5}, 16, 12, 1},
		{"bench-tokens", Decoder{Kind: Decoder1D, Dim: 128, DecDim: 128, Kernel: 5, Groups: 16, Layers: 5, Residual: true, ProjLayers: 1, Positions: 64, LNEps: 1e-5}, 16, 32, 0},
	} {
		b.Run(c.name, func(b *testing.B) {
			d, T := c.d, c.d.Positions
			p := NewParams(tensor.Float32)
			d.Declare(p)
			r := rand.New(rand.NewPCG(1, 2))
			d.Init(p, r)
			mask := make([]bool, c.rows*T)
			for i := range c.rows {
				for _, t := range r.Perm(T)[:T-c.keep] {
					mask[i*T+t] = true
				}
			}
			g := NewGraph(tensor.Float32, p)
			on, ot := g.Input("student_out", c.rows*(c.extra+c.keep), d.Dim)
			for i, v := range rand32(ot.Shape().TotalSize(), r) {
				ot.Data().([]float32)[i] = v
			}
			pn, pt := g.Input("place", c.rows*T)
			if err := ops.CloneIndex(nil, pt.Data().([]float32), nil, mask, c.rows, T, 1, c.extra); err != nil {
				b.Fatal(err)
			}
			x := G.Must(d.Input(g, on, pn))
			y := G.Must(d.Build(g, x))
			tn, _ := g.Input("targets", y.Shape()...)
			cost := G.Must(ops.RegressionLoss(y, tn, 0, 1))
			if _, err := G.Grad(cost, append(g.Nodes(p.Names()), on)...); err != nil {
				b.Fatal(err)
			}
			vm := G.NewTapeMachine(g.G)
			defer vm.Close()
			if err := vm.RunAll(); err != nil { // the first run allocates every node's buffer
				b.Fatal(fmt.Sprint(err))
			}
			vm.Reset()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := vm.RunAll(); err != nil {
					b.Fatal(fmt.Sprint(err))
				}
				vm.Reset()
			}
			b.ReportMetric(float64(c.rows*T)*float64(b.N)/b.Elapsed().Seconds(), "pos/s")
		})
	}
}

func rand32(n int, r *rand.Rand) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}
