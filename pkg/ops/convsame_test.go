package ops

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// refConvSame is written the way PyTorch and fairseq compute it, not from
// the kernel's formula: a cross-correlation of each sample's gh x gw grid,
// zero-padded by p = K/2 on every side (output (gh+2ph-kh+1) x (gw+2pw-kw+1)),
// then, for an even K, the last row/column dropped (SamePad), i.e. the first
// gh x gw outputs kept. w is (Cout, Cin/groups, kh, kw).
func refConvSame(bs, gh, gw, cin, cout, kh, kw, groups int) func([][]float64) []float64 {
	return func(a [][]float64) []float64 {
		x, w, b := a[0], a[1], a[2]
		ph, pw := kh/2, kw/2
		hp, wp := gh+2*ph, gw+2*pw // padded grid
		cg, og := cin/groups, cout/groups
		y := make([]float64, bs*gh*gw*cout)
		for s := 0; s < bs; s++ {
			pad := make([]float64, hp*wp*cin) // the padded input of sample s
			for r := 0; r < gh; r++ {
				for c := 0; c < gw; c++ {
					copy(pad[((r+ph)*wp+c+pw)*cin:], x[((s*gh+r)*gw+c)*cin:((s*gh+r)*gw+c+1)*cin])
				}
			}
			for r := 0; r < hp-kh+1 && r < gh; r++ {
				for c := 0; c < wp-kw+1 && c < gw; c++ {
					for o := 0; o < cout; o++ {
						v := b[o]
						for ci := 0; ci < cg; ci++ {
							for i := 0; i < kh; i++ {
								for j := 0; j < kw; j++ {
									v += w[((o*cg+ci)*kh+i)*kw+j] * pad[((r+i)*wp+c+j)*cin+(o/og)*cg+ci]
								}
							}
						}
						y[((s*gh+r)*gw+c)*cout+o] = v
					}
				}
			}
		}
		return y
	}
}

func convSame1DCase(name string, bs, t, cin, cout, k, groups int) opCase {
	return opCase{
		name:   name,
		shapes: []tensor.Shape{sh(bs*t, cin), sh(cout, cin/groups, k), sh(cout)},
		diff:   []bool{true, true, true},
		build:  func(n []*G.Node) (*G.Node, error) { return ConvSame1D(n[0], n[1], n[2], bs, groups) },
		ref:    refConvSame(bs, 1, t, cin, cout, 1, k, groups),
	}
}

func convSame2DCase(name string, bs, gh, gw, cin, cout, k, groups int) opCase {
	return opCase{
		name:   name,
		shapes: []tensor.Shape{sh(bs*gh*gw, cin), sh(cout, cin/groups, k, k), sh(cout)},
		diff:   []bool{true, true, true},
		build:  func(n []*G.Node) (*G.Node, error) { return ConvSame2D(n[0], n[1], n[2], bs, gh, gw, groups) },
		ref:    refConvSame(bs, gh, gw, cin, cout, k, k, groups),
	}
}

// TestConvSame runs every case through both paths: channels-last im2col
// and channels-first (convsame_cf.go).
func TestConvSame(t *testing.T) {
	old := convCFMaxCg
	defer func() { convCFMaxCg = old }()
	for _, path := range []struct {
		name  string
		maxCg int
	}{{"last", 0}, {"first", 1 << 30}} {
		convCFMaxCg = path.maxCg
		t.Run(path.name, testConvSame)
	}
}

func testConvSame(t *testing.T) {
	for _, c := range []opCase{
		convSame1DCase("1d-k3-g2", 2, 5, 4, 4, 3, 2),
		convSame1DCase("1d-k5-g4-widen", 2, 6, 4, 8, 5, 4), // decoder layer 0 with Dd != D
		convSame1DCase("1d-k4-even", 2, 5, 3, 3, 4, 1),     // SamePad trim
		convSame1DCase("1d-k7-longer-than-T", 1, 3, 2, 2, 7, 2),
		convSame2DCase("2d-k3-g2", 2, 3, 3, 4, 4, 3, 2),
		convSame2DCase("2d-k3-g1-nonsquare", 1, 2, 4, 3, 2, 3, 1),
		convSame2DCase("2d-k2-even", 2, 3, 3, 2, 2, 2, 1),
		convSame2DCase("2d-k5-larger-than-grid", 1, 2, 3, 2, 4, 5, 2),
		convSame2DCase("2d-1x1-grid-k1", 2, 1, 1, 2, 2, 1, 1), // a (Cout, Cg, 1, 1) weight, not mistaken for 1-D
	} {
		t.Run(c.name, c.check)
	}
	// the same op through several im2col chunks (one sample each)
	old := convChunkElems
	convChunkElems = 1
	defer func() { convChunkElems = old }()
	for _, c := range []opCase{
		convSame1DCase("chunked-1d", 3, 4, 4, 4, 3, 2),
		convSame2DCase("chunked-2d", 3, 2, 2, 2, 4, 3, 2),
	} {
		t.Run(c.name, c.check)
	}
}

func TestConvSameErrors(t *testing.T) {
	for _, c := range []struct {
		name    string
		x, w, b tensor.Shape
		twoD    bool
		batch   int
		groups  int
		want    string
	}{
		{"1d-w-dims", sh(10, 4), sh(4, 2, 3, 3), sh(4), false, 2, 2, "want w (Cout, Cin/groups, K)"},
		{"1d-batch", sh(10, 4), sh(4, 2, 3), sh(4), false, 3, 2, "not (batch*T, Cin)"},
		{"1d-groups", sh(10, 3), sh(4, 1, 3), sh(4), false, 2, 2, "divisible by groups"},
		{"1d-w-cin", sh(10, 4), sh(4, 4, 3), sh(4), false, 2, 2, "want (4, 2, kernel...)"},
		{"1d-b", sh(10, 4), sh(4, 2, 3), sh(3), false, 2, 2, "input 2"},
		{"2d-w-square", sh(18, 4), sh(4, 2, 3, 2), sh(4), true, 2, 2, "want w (Cout, Cin/groups, K, K)"},
		{"2d-grid", sh(16, 4), sh(4, 2, 3, 3), sh(4), true, 2, 2, "not (batch*height*width, Cin)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := G.NewGraph()
			x := G.NewTensor(g, tensor.Float64, c.x.Dims(), G.WithShape(c.x...), G.WithName("x"))
			w := G.NewTensor(g, tensor.Float64, c.w.Dims(), G.WithShape(c.w...), G.WithName("w"))
			b := G.NewTensor(g, tensor.Float64, c.b.Dims(), G.WithShape(c.b...), G.WithName("b"))
			var err error
			if c.twoD {
				_, err = ConvSame2D(x, w, b, c.batch, 3, 3, c.groups)
			} else {
				_, err = ConvSame1D(x, w, b, c.batch, c.groups)
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestConvSameFloat32 runs the float32 kernel (the assembly gemm) at the
// size of a small image decoder layer, in several chunks, against the
// float64 reference, and checks that two backward runs give the same bits.
func TestConvSameFloat32(t *testing.T) {
	old := convCFMaxCg
	defer func() { convCFMaxCg = old }()
	for _, path := range []struct {
		name  string
		maxCg int
	}{{"last", 0}, {"first", 1 << 30}} {
		convCFMaxCg = path.maxCg
		t.Run(path.name, testConvSameFloat32)
	}
}

func testConvSameFloat32(t *testing.T) {
	k := convSame{b: 6, gh: 8, gw: 8, cin: 32, cout: 32, kh: 3, kw: 3, groups: 4, twoD: true}
	old := convChunkElems
	convChunkElems = 2 * 64 * 9 * 32 // several chunks in either path: 2 samples (last), 5 samples (first)
	defer func() { convChunkElems = old }()
	r := rand.New(rand.NewPCG(7, 8))
	in64 := make([][]float64, 3)
	in32, gin, gin64, in64a := make([]any, 3), make([]any, 3), make([]any, 3), make([]any, 3)
	for i, s := range k.inShapes() {
		in64[i] = randn(r, s.TotalSize(), 1)
		v := make([]float32, len(in64[i]))
		for j := range v {
			v[j] = float32(in64[i][j])
			in64[i][j] = float64(v[j])
		}
		in32[i], gin[i] = v, make([]float32, len(v))
		gin64[i], in64a[i] = make([]float64, len(v)), in64[i]
	}
	want := refConvSame(k.b, k.gh, k.gw, k.cin, k.cout, k.kh, k.kw, k.groups)(in64)
	out := make([]float32, k.outShape().TotalSize())
	k.fwd(out, in32)
	if e := relErr(to64(out), want); e > 1e-5 {
		t.Fatalf("float32 forward: rel err %.3g", e)
	}
	gout := rand32(len(out))
	k.bwd(gin, in32, out, gout)
	k.bwd(gin64, in64a, nil, to64(gout))
	first := make([][]float32, 3)
	for i := range gin {
		first[i] = append([]float32(nil), gin[i].([]float32)...)
		if e := relErr(to64(first[i]), gin64[i].([]float64)); e > 1e-5 {
			t.Fatalf("float32 input %d gradient: rel err %.3g against float64", i, e)
		}
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

func to64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// BenchmarkConvSame times the decoder convs at the public fixtures' shapes
// and at a tiny-recipe size (B*M rows of the clone batch).
func BenchmarkConvSame(b *testing.B) {
	for _, k := range []convSame{
		{b: 4, gh: 8, gw: 8, cin: 32, cout: 32, kh: 3, kw: 3, groups: 4, twoD: true},     // d2v2_patches_2d decoder layer
		{b: 6, gh: 1, gw: 16, cin: 48, cout: 48, kh: 1, kw: 5, groups: 4},                // d2v2_tokens_1d decoder layer 1
		{b: 64, gh: 7, gw: 7, cin: 64, cout: 64, kh: 3, kw: 3, groups: 16, twoD: true},   // 2-D, B=8 x 8 clones, D=64
		{b: 32, gh: 8, gw: 8, cin: 128, cout: 128, kh: 3, kw: 3, groups: 16, twoD: true}, // 2-D, bench-s-patches width, 4 clones
		{b: 64, gh: 1, gw: 64, cin: 64, cout: 64, kh: 1, kw: 7, groups: 16},              // 1-D speech-like
		{b: 32, gh: 1, gw: 128, cin: 128, cout: 128, kh: 1, kw: 9, groups: 1},            // 1-D text-like
		{b: 32, gh: 8, gw: 8, cin: 128, cout: 128, kh: 3, kw: 3, groups: 4, twoD: true},  // Cg 32: the paths' crossover
		{b: 16, gh: 1, gw: 64, cin: 192, cout: 192, kh: 1, kw: 7, groups: 4},             // Cg 48
		{b: 16, gh: 8, gw: 8, cin: 128, cout: 128, kh: 5, kw: 5, groups: 16, twoD: true}, // configs/bench-v2-patches.yaml
		{b: 16, gh: 1, gw: 64, cin: 128, cout: 128, kh: 1, kw: 5, groups: 16},            // configs/bench-v2.yaml
	} {
		for _, path := range []struct {
			name  string
			maxCg int
		}{{"last", 0}, {"first", 1 << 30}} {
			b.Run(fmt.Sprintf("%s/%s", k.name(), path.name), func(b *testing.B) {
				old := convCFMaxCg
				defer func() { convCFMaxCg = old }()
				convCFMaxCg = path.maxCg
				benchKernel(b, k)
			})
		}
	}
}
