package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Benchmarks time each kernel's forward and backward directly on float32
// slices at the default model's shapes (B=64, T=49, D=64, H=4, FFN 256).
const bB, bT, bD, bH, bF = 64, 49, 64, 4, 256

func rand32(n int) []float32 {
	r := rand.New(rand.NewPCG(3, 4))
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func benchKernel(b *testing.B, k kernel) {
	in := make([]any, len(k.inShapes()))
	gin := make([]any, len(in))
	for i, s := range k.inShapes() {
		in[i] = rand32(s.TotalSize())
		if k.diff()[i] {
			gin[i] = make([]float32, s.TotalSize())
		}
	}
	if m, ok := k.(maskPos); ok { // 0/1 mask
		mask := in[3].([]float32)
		for i := range mask {
			mask[i] = float32(i % 2)
		}
		_ = m
	}
	if g, ok := k.(gather); ok {
		idx := in[1].([]float32)
		for i := range idx {
			idx[i] = float32(i % g.r)
		}
	}
	if g, ok := k.(gatherFill); ok { // every 5th row filled
		idx := in[2].([]float32)
		for i := range idx {
			idx[i] = float32(i%g.r - boolInt(i%5 == 0)*(i%g.r+1))
		}
	}
	out := make([]float32, max(1, k.outShape().TotalSize()))
	gout := rand32(len(out))
	b.Run("fwd", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			k.fwd(out, in)
		}
	})
	b.Run("bwd", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			k.bwd(gin, in, out, gout)
		}
	})
}

func BenchmarkKernels(b *testing.B) {
	N := bB * bT
	for _, k := range []kernel{
		linear{n: N, in: bD, out: bD},
		linear{n: N, in: bD, out: bF},
		layerNorm{n: N, d: bD, eps: 1e-5},
		gelu{shape: tensor.Shape{N, bF}},
		attention{b: bB, t: bT, tk: bT, d: bD, h: bH},
		maskPos{n: N, t: bT, d: bD},
		gather{r: N, d: bD, m: bB * 29},
		gatherFill{r: N, d: bD, m: N},
		regLoss{m: bB * 29, d: bD, beta: 2, coef: 1},
		softmaxCE{b: bB, c: 10},
		weightedPool{b: bB, t: bT, d: bD},
	} {
		b.Run(k.name(), func(b *testing.B) { benchKernel(b, k) })
	}
}

// BenchmarkGraphOverhead times a Gorgonia tape run of one GELU node, to see
// the adapter's cost beyond the kernel.
func BenchmarkGraphOverhead(b *testing.B) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(bB*bT, bF), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(bB*bT, bF), tensor.WithBacking(rand32(bB*bT*bF)))))
	y := G.Must(GELU(x))
	cost := G.Must(G.Sum(y))
	if _, err := G.Grad(cost, x); err != nil {
		b.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := m.RunAll(); err != nil {
			b.Fatal(fmt.Sprint(err))
		}
		m.Reset()
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
