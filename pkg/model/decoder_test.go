package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/d2v/d2v/pkg/ops"
)

// refDecoder is the decoder straight from the reference's description, in
// float64 loops written apart from the ops: the fill of the masked slots,
// then per layer a zero-padded cross-correlation (pad K/2 before, SamePad
// trim after), LayerNorm over channels without affine, exact GELU and the
// residual, then the projections. out (N*(E+K), D) and place as
// ops.CloneIndex writes them.
func refDecoder(d Decoder, p map[string][]float64, out, place []float64) []float64 {
	D, T := d.Dim, d.Positions
	n := len(place) / T
	x := make([]float64, 0, n*T*D)
	for _, f := range place {
		if f < 0 {
			x = append(x, p[MaskEmbName]...)
		} else {
			x = append(x, out[int(f)*D:int(f)*D+D]...)
		}
	}
	gh, gw, kh := 1, T, 1
	if d.Kind == Decoder2D {
		gh, gw, kh = d.Side(), d.Side(), d.Kernel
	}
	kw, cin := d.Kernel, D
	for i := 0; i < d.Layers; i++ {
		w, b := p[fmt.Sprintf("decoder.conv.%d.w", i)], p[fmt.Sprintf("decoder.conv.%d.b", i)]
		cg, og, co := cin/d.Groups, d.DecDim/d.Groups, d.DecDim
		z := make([]float64, n*T*co)
		for s := 0; s < n; s++ {
			for r := 0; r < gh; r++ {
				for c := 0; c < gw; c++ {
					zr := z[((s*gh+r)*gw+c)*co:]
					for o := 0; o < co; o++ {
						v := b[o]
						for ci := 0; ci < cg; ci++ {
							for a := 0; a < kh; a++ {
								for e := 0; e < kw; e++ {
									rr, cc := r+a-kh/2, c+e-kw/2
									if rr < 0 || rr >= gh || cc < 0 || cc >= gw {
										continue
									}
									v += w[((o*cg+ci)*kh+a)*kw+e] * x[((s*gh+rr)*gw+cc)*cin+(o/og)*cg+ci]
								}
							}
						}
						zr[o] = v
					}
				}
			}
		}
		for r := 0; r < n*T; r++ {
			row := z[r*co : (r+1)*co]
			var mu, va float64
			for _, v := range row {
				mu += v / float64(co)
			}
			for _, v := range row {
				va += (v - mu) * (v - mu) / float64(co)
			}
			for j, v := range row {
				h := (v - mu) / math.Sqrt(va+d.LNEps)
				row[j] = 0.5 * h * (1 + math.Erf(h/math.Sqrt2))
				if d.Residual && cin == co {
					row[j] += x[r*cin+j]
				}
			}
		}
		x, cin = z, co
	}
	dims := d.projDims()
	for j, io := range dims {
		w, b := p[fmt.Sprintf("decoder.proj.%d.w", j)], p[fmt.Sprintf("decoder.proj.%d.b", j)]
		y := make([]float64, n*T*io[1])
		for r := 0; r < n*T; r++ {
			for o := 0; o < io[1]; o++ {
				v := b[o]
				for c := 0; c < io[0]; c++ {
					v += x[r*io[0]+c] * w[c*io[1]+o]
				}
				if j+1 < len(dims) {
					v = 0.5 * v * (1 + math.Erf(v/math.Sqrt2))
				}
				y[r*io[1]+o] = v
			}
		}
		x = y
	}
	return x
}

// decoderGraph builds Input + Build in dtype dt on the given student output
// and place, and the cost sum(y * w); it returns the graph, the output, the
// cost and the student-output node.
func decoderGraph(t *testing.T, d Decoder, p *Params, out, place []float64, rowsOut int, w []float64) (*Graph, *G.Node, *G.Node, *G.Node) {
	t.Helper()
	g := NewGraph(p.Dtype, p)
	on, ot := g.Input("student_out", rowsOut, d.Dim)
	pn, pt := g.Input("place", len(place))
	setFloats(ot, out)
	setFloats(pt, place)
	x, err := d.Input(g, on, pn)
	if err != nil {
		t.Fatal(err)
	}
	y, err := d.Build(g, x)
	if err != nil {
		t.Fatal(err)
	}
	wn, wt := g.Input("w", y.Shape()...)
	setFloats(wt, w)
	cost := G.Must(G.Sum(G.Must(G.HadamardProd(y, wn))))
	return g, y, cost, on
}

// decoderCase is a small decoder with N = 2 clone rows and a fixed mask.
type decoderCase struct {
	name  string
	d     Decoder
	mask  []bool // (2*T)
	extra int
}

func decoderCases() []decoderCase {
	const X, o = true, false
	base := Decoder{Dim: 4, DecDim: 4, Kernel: 3, Groups: 2, Layers: 2, Residual: true, ProjLayers: 1, LNEps: 1e-5}
	two := base
	two.Kind, two.Positions = Decoder2D, 9 // 3x3 grid, every layer with a residual
	one := base
	one.Kind, one.Positions, one.DecDim, one.Kernel, one.ProjLayers = Decoder1D, 5, 6, 5, 2 // D != Dd: no residual at layer 0
	even := base
	even.Kind, even.Positions, even.Kernel, even.Groups, even.Residual, even.Layers = Decoder1D, 5, 4, 1, false, 3
	even2 := two
	even2.Kernel, even2.Groups, even2.DecDim = 2, 1, 3
	return []decoderCase{
		{"2d-k3-g2-cls", two, []bool{X, o, X, X, o, X, X, X, o, o, X, X, X, X, X, o, X, o}, 1},
		{"1d-k5-widen-proj2", one, []bool{o, X, X, o, o, X, o, o, X, o}, 0},
		{"1d-k4-even-no-residual", even, []bool{o, X, X, o, o, X, o, o, X, o}, 0},
		{"2d-k2-even-narrow", even2, []bool{X, o, X, X, o, X, X, X, o, o, X, X, X, X, X, o, X, o}, 1},
	}
}

// TestDecoderGradCheck checks Input + Build in float64 against refDecoder
// (forward) and every gradient, of every decoder parameter tensor and of
// the student output, against central differences of refDecoder (eps 1e-6).
func TestDecoderGradCheck(t *testing.T) {
	for _, c := range decoderCases() {
		t.Run(c.name, func(t *testing.T) {
			d := c.d
			if err := d.Validate(); err != nil {
				t.Fatal(err)
			}
			T := d.Positions
			k := 0
			for _, m := range c.mask[:T] {
				if !m {
					k++
				}
			}
			rowsOut := 2 * (c.extra + k)
			place := make([]float64, 2*T)
			if err := ops.CloneIndex(nil, place, nil, c.mask, 2, T, 1, c.extra); err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(3, 4))
			p := NewParams(tensor.Float64)
			d.Declare(p)
			d.Init(p, r)
			p.Normal(MaskEmbName, 1, r) // O(1), so that its gradient is not lost in the LayerNorm
			out := make([]float64, rowsOut*d.Dim)
			for i := range out {
				out[i] = r.NormFloat64()
			}
			w := make([]float64, 2*T*d.Dim)
			for i := range w {
				w[i] = r.NormFloat64()
			}
			g, y, cost, on := decoderGraph(t, d, p, out, place, rowsOut, w)
			names := p.Names()
			wrt := append(g.Nodes(names), on)
			grads, err := G.Grad(cost, wrt...)
			if err != nil {
				t.Fatal(err)
			}
			vm := G.NewTapeMachine(g.G)
			defer vm.Close()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			vals := map[string][]float64{}
			for _, n := range names {
				vals[n] = p.Values(n)
			}
			want := refDecoder(d, vals, out, place)
			if e := relErr(y.Value().Data().([]float64), want); e > 1e-12 {
				t.Fatalf("forward: rel err %.3g vs reference", e)
			}
			loss := func() float64 {
				var s float64
				for i, v := range refDecoder(d, vals, out, place) {
					s += v * w[i]
				}
				return s
			}
			const eps = 1e-6
			for i, node := range grads {
				name, x := "student_out", out
				if i < len(names) {
					name, x = names[i], vals[names[i]]
				}
				fd := make([]float64, len(x))
				for j := range x {
					old := x[j]
					x[j] = old + eps
					lp := loss()
					x[j] = old - eps
					lm := loss()
					x[j] = old
					fd[j] = (lp - lm) / (2 * eps)
				}
				if e := relErr(node.Value().Data().([]float64), fd); e > 1e-6 {
					t.Errorf("%s gradient: rel err %.3g vs finite differences", name, e)
				}
			}
		})
	}
}

func relErr(a, b []float64) float64 {
	var num, den float64
	for i := range a {
		num = math.Max(num, math.Abs(a[i]-b[i]))
		den = math.Max(den, math.Abs(b[i]))
	}
	return num / math.Max(den, 1e-12)
}

// TestDecoderDeclare pins the names and shapes of the two public
// data2vec 2.0 fixtures' decoders (the reference README's table).
func TestDecoderDeclare(t *testing.T) {
	for _, c := range []struct {
		name string
		d    Decoder
		want []string
	}{
		{"patches-2d", Decoder{Kind: Decoder2D, Dim: 32, DecDim: 32, Kernel: 3, Groups: 4, Layers: 2, Residual: true, ProjLayers: 1, Positions: 64, LNEps: 1e-5},
			[]string{"decoder.mask_emb(32)", "decoder.conv.0.w(32,8,3,3)", "decoder.conv.0.b(32)", "decoder.conv.1.w(32,8,3,3)", "decoder.conv.1.b(32)",
				"decoder.proj.0.w(32,32)", "decoder.proj.0.b(32)"}},
		{"tokens-1d", Decoder{Kind: Decoder1D, Dim: 32, DecDim: 48, Kernel: 5, Groups: 4, Layers: 3, Residual: true, ProjLayers: 2, Positions: 16, LNEps: 1e-5},
			[]string{"decoder.mask_emb(32)", "decoder.conv.0.w(48,8,5)", "decoder.conv.0.b(48)", "decoder.conv.1.w(48,12,5)", "decoder.conv.1.b(48)",
				"decoder.conv.2.w(48,12,5)", "decoder.conv.2.b(48)", "decoder.proj.0.w(48,96)", "decoder.proj.0.b(96)", "decoder.proj.1.w(96,32)", "decoder.proj.1.b(32)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := c.d.Validate(); err != nil {
				t.Fatal(err)
			}
			p := NewParams(tensor.Float32)
			c.d.Declare(p)
			var got []string
			for _, n := range p.Names() {
				s := strings.Trim(strings.ReplaceAll(fmt.Sprint(p.Get(n).Shape()), ", ", ","), "()")
				got = append(got, fmt.Sprintf("%s(%s)", n, s))
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("got  %v\nwant %v", got, c.want)
			}
		})
	}
}

func TestDecoderValidate(t *testing.T) {
	ok := Decoder{Kind: Decoder2D, Dim: 8, DecDim: 8, Kernel: 3, Groups: 2, Layers: 1, ProjLayers: 1, Positions: 9, LNEps: 1e-5}
	for _, c := range []struct {
		name string
		edit func(*Decoder)
		want string
	}{
		{"kind", func(d *Decoder) { d.Kind = "3d" }, `kind must be 1d or 2d, got "3d"`},
		{"groups", func(d *Decoder) { d.Groups = 3 }, "groups 3 must divide dim 8"},
		{"square", func(d *Decoder) { d.Positions = 10 }, "square number of positions, got 10"},
		{"proj-2d", func(d *Decoder) { d.ProjLayers = 2 }, "one projection layer"},
		{"proj", func(d *Decoder) { d.Kind, d.ProjLayers = Decoder1D, 3 }, "proj_layers must be 1 or 2"},
		{"layers", func(d *Decoder) { d.Layers = 0 }, "must all be >= 1"},
		{"eps", func(d *Decoder) { d.LNEps = 0 }, "ln_eps"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := ok
			c.edit(&d)
			if err := d.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want one containing %q", err, c.want)
			}
		})
	}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestDecoderInit: the same seed gives the same values, another seed
// others; conv and projection values lie within PyTorch's default bound
// 1/sqrt(fan_in) and fill it; the mask vector has std about 0.01.
func TestDecoderInit(t *testing.T) {
	d := Decoder{Kind: Decoder2D, Dim: 32, DecDim: 48, Kernel: 3, Groups: 4, Layers: 2, Residual: true, ProjLayers: 1, Positions: 16, LNEps: 1e-5}
	draw := func(seed uint64) *Params {
		p := NewParams(tensor.Float64)
		d.Declare(p)
		d.Init(p, rand.New(rand.NewPCG(seed, 0)))
		return p
	}
	a, b, c := draw(1), draw(1), draw(2)
	fans := map[string]int{"decoder.conv.0": 32 / 4 * 9, "decoder.conv.1": 48 / 4 * 9, "decoder.proj.0": 48}
	for _, n := range a.Names() {
		va, vb, vc := a.Values(n), b.Values(n), c.Values(n)
		if !slices.Equal(va, vb) {
			t.Fatalf("%s: the same seed gave different values", n)
		}
		if slices.Equal(va, vc) {
			t.Fatalf("%s: seeds 1 and 2 gave the same values", n)
		}
		if n == MaskEmbName {
			var ss float64
			for _, v := range va {
				ss += v * v
			}
			if std := math.Sqrt(ss / float64(len(va))); std < 0.005 || std > 0.02 {
				t.Errorf("%s: std %.4f, want about 0.01", n, std)
			}
			continue
		}
		bound := 1 / math.Sqrt(float64(fans[n[:strings.LastIndex(n, ".")]]))
		var hi float64
		for _, v := range va {
			hi = math.Max(hi, math.Abs(v))
		}
		if hi > bound || hi < bound/2 {
			t.Errorf("%s: largest |value| %.4f, want within (%.4f/2, %.4f]", n, hi, bound, bound)
		}
	}
}
