package ops

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// refConv1D is the convolution straight from its formula:
// y[s*Lout+t, o] = b[o] + sum_{k,c} x[s*L + t*stride+k-pad, g*Cg+c] * w[k*Cg+c, o], g = o/Og.
func refConv1D(bs, l, cin, cout, k, stride, pad, groups int) func([][]float64) []float64 {
	return func(a [][]float64) []float64 {
		x, w, b := a[0], a[1], a[2]
		lout := (l+2*pad-k)/stride + 1
		cg, og := cin/groups, cout/groups
		y := make([]float64, bs*lout*cout)
		for s := 0; s < bs; s++ {
			for t := 0; t < lout; t++ {
				for o := 0; o < cout; o++ {
					g := o / og
					v := b[o]
					for kk := 0; kk < k; kk++ {
						u := t*stride + kk - pad
						if u < 0 || u >= l {
							continue
						}
						for c := 0; c < cg; c++ {
							v += x[(s*l+u)*cin+g*cg+c] * w[(kk*cg+c)*cout+o]
						}
					}
					y[(s*lout+t)*cout+o] = v
				}
			}
		}
		return y
	}
}

// convInputCase is convCase through Conv1DInput: no gradient for x.
func convInputCase(name string, bs, l, cin, cout, k, stride, pad, groups int) opCase {
	c := convCase(name, bs, l, cin, cout, k, stride, pad, groups)
	c.diff = []bool{false, true, true}
	c.build = func(n []*G.Node) (*G.Node, error) { return Conv1DInput(n[0], n[1], n[2], bs, stride, pad, groups) }
	return c
}

func convCase(name string, bs, l, cin, cout, k, stride, pad, groups int) opCase {
	return opCase{
		name:   name,
		shapes: []tensor.Shape{sh(bs*l, cin), sh(k*cin/groups, cout), sh(cout)},
		diff:   []bool{true, true, true},
		build: func(n []*G.Node) (*G.Node, error) {
			return Conv1D(n[0], n[1], n[2], bs, stride, pad, groups)
		},
		ref: refConv1D(bs, l, cin, cout, k, stride, pad, groups),
	}
}

func TestConv1D(t *testing.T) {
	for _, c := range []opCase{
		convCase("k3-s1-p1", 2, 5, 2, 3, 3, 1, 1, 1),
		convCase("k10-s5-wav2vec-first", 2, 23, 1, 3, 10, 5, 0, 1), // Lout 3, last 3 steps unread
		convCase("k10-s5-cin2", 2, 20, 2, 3, 10, 5, 0, 1),          // Lout 3
		convCase("k2-s2", 2, 7, 3, 2, 2, 2, 0, 1),                  // odd L: last step unread
		convCase("grouped-k3-p1", 2, 5, 4, 4, 3, 1, 1, 2),          // positional conv shape
		convCase("grouped-k4-p2-s2", 2, 6, 6, 4, 4, 2, 2, 2),       // even kernel, Cin != Cout
		convCase("depthwise-k3-p2", 1, 3, 3, 6, 3, 1, 2, 3),        // groups = Cin, pad past the kernel's reach
		convCase("k-equals-padded-len", 3, 2, 2, 2, 4, 1, 1, 1),    // Lout 1
		convInputCase("input-k10-s5", 2, 23, 1, 3, 10, 5, 0, 1),    // the waveform layer: no dx
	} {
		t.Run(c.name, c.check)
	}
}

// TestConv1DOutputShape checks Lout = (L + 2*pad - K)/stride + 1 at wav2vec's
// first layer (16000 samples -> 3199 frames).
func TestConv1DOutputShape(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(2*16000, 1), G.WithName("x"))
	w := G.NewMatrix(g, tensor.Float32, G.WithShape(10, 8), G.WithName("w"))
	b := G.NewVector(g, tensor.Float32, G.WithShape(8), G.WithName("b"))
	y, err := Conv1D(x, w, b, 2, 5, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := (tensor.Shape{2 * 3199, 8}); !y.Shape().Eq(want) {
		t.Fatalf("shape %v, want %v", y.Shape(), want)
	}
}

func TestConv1DErrors(t *testing.T) {
	for _, c := range []struct {
		name                       string
		x, w, b                    tensor.Shape
		batch, stride, pad, groups int
		want                       string
	}{
		{"cin-groups", sh(10, 3), sh(3, 4), sh(4), 2, 1, 0, 2, "divisible by groups"},
		{"cout-groups", sh(10, 4), sh(6, 3), sh(3), 2, 1, 0, 2, "divisible by groups"},
		{"w-rows", sh(10, 4), sh(5, 4), sh(4), 2, 1, 0, 2, "want (K*Cin/groups, Cout)"},
		{"w-cols", sh(10, 4), sh(6, 4), sh(3), 2, 1, 0, 2, "input 2"},
		{"too-short", sh(10, 2), sh(12, 2), sh(2), 2, 1, 0, 1, "shorter than the kernel"},
		{"batch", sh(10, 2), sh(4, 2), sh(2), 3, 1, 0, 1, "not a multiple of batch"},
		{"stride", sh(10, 2), sh(4, 2), sh(2), 2, 0, 0, 1, "stride >= 1"},
		{"pad", sh(10, 2), sh(4, 2), sh(2), 2, 1, -1, 1, "pad >= 0"},
		{"b-dims", sh(10, 2), sh(4, 2), sh(1, 2), 2, 1, 0, 1, "1-D b"},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := G.NewGraph()
			x := G.NewTensor(g, tensor.Float64, c.x.Dims(), G.WithShape(c.x...), G.WithName("x"))
			w := G.NewTensor(g, tensor.Float64, c.w.Dims(), G.WithShape(c.w...), G.WithName("w"))
			b := G.NewTensor(g, tensor.Float64, c.b.Dims(), G.WithShape(c.b...), G.WithName("b"))
			_, err := Conv1D(x, w, b, c.batch, c.stride, c.pad, c.groups)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestConv1DFloat32 runs the float32 kernel (the assembly gemm path) at a
// size where gemm splits over workers, against the float64 reference.
func TestConv1DFloat32(t *testing.T) {
	k := conv1d{b: 4, l: 1000, cin: 16, cout: 32, k: 3, stride: 2, pad: 1, groups: 2} // dW: 2*24*16*2000 flops > gemm split threshold
	r := rand.New(rand.NewPCG(5, 6))
	in64 := make([][]float64, 3)
	in32 := make([]any, 3)
	gin := make([]any, 3)
	for i, s := range k.inShapes() {
		in64[i] = randn(r, s.TotalSize(), 1)
		v := make([]float32, len(in64[i]))
		for j := range v {
			v[j] = float32(in64[i][j])
			in64[i][j] = float64(v[j])
		}
		in32[i], gin[i] = v, make([]float32, len(v))
	}
	want := refConv1D(k.b, k.l, k.cin, k.cout, k.k, k.stride, k.pad, k.groups)(in64)
	out := make([]float32, k.outShape().TotalSize())
	k.fwd(out, in32)
	got := make([]float64, len(out))
	for i, v := range out {
		got[i] = float64(v)
	}
	if e := relErr(got, want); e > 1e-5 {
		t.Fatalf("float32 forward: rel err %.3g", e)
	}
	// Backward twice: the same bits (pooled scratch, deterministic gemm).
	gout := rand32(len(out))
	k.bwd(gin, in32, out, gout)
	// the bias gradient is the plain row-order column sum, bit for bit, and
	// every gradient agrees with the float64 path
	db := make([]float32, k.cout)
	for r := 0; r < len(gout)/k.cout; r++ {
		for j := range db {
			db[j] += gout[r*k.cout+j]
		}
	}
	for j, v := range gin[2].([]float32) {
		if v != db[j] {
			t.Fatalf("bias gradient %d = %v, plain column sum %v", j, v, db[j])
		}
	}
	gin64 := make([]any, 3)
	in64a := make([]any, 3)
	for i := range gin64 {
		gin64[i], in64a[i] = make([]float64, len(in64[i])), in64[i]
	}
	gout64 := make([]float64, len(gout))
	for i, v := range gout {
		gout64[i] = float64(v)
	}
	k.bwd(gin64, in64a, nil, gout64)
	for i := range gin {
		g32 := gin[i].([]float32)
		g := make([]float64, len(g32))
		for j, v := range g32 {
			g[j] = float64(v)
		}
		if e := relErr(g, gin64[i].([]float64)); e > 1e-5 {
			t.Fatalf("float32 input %d gradient: rel err %.3g against float64", i, e)
		}
	}
	k.bwd(gin, in32, out, gout)
	first := make([][]float32, 3)
	for i := range gin {
		first[i] = append([]float32(nil), gin[i].([]float32)...)
	}
	k.bwd(gin, in32, out, gout)
	for i := range gin {
		for j, v := range gin[i].([]float32) {
			if v != first[i][j] {
				t.Fatalf("input %d gradient %d differs between runs: %v vs %v", i, j, v, first[i][j])
			}
		}
	}
}

func BenchmarkConv1D(b *testing.B) {
	for _, k := range []conv1d{
		{b: 4, l: 4000, cin: 1, cout: 64, k: 10, stride: 5, groups: 1},         // wav2vec first layer, small channels
		{b: 4, l: 800, cin: 64, cout: 64, k: 3, stride: 2, groups: 1},          // a later feature-encoder layer
		{b: 4, l: 200, cin: 64, cout: 64, k: 16, stride: 1, pad: 8, groups: 4}, // positional conv, small
	} {
		b.Run(fmt.Sprint(k.name()), func(b *testing.B) { benchKernel(b, k) })
	}
}
