//go:build d2vcuda || d2vcudahost

package cuda

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/d2v/d2v/pkg/gpu"
)

// pair runs the same call on the GPU and on gpu.Emu, with the same
// buffers' contents, so each kernel is checked on its own.
type pair struct {
	t   *testing.T
	g   *Device
	e   *gpu.Emu
	r   *rand.Rand
	bg  []gpu.Buf
	be  []gpu.Buf
	out []int
}

// buf makes a random buffer of n values (scaled by s) on both devices.
func (p *pair) buf(n int, s float32) int {
	v := make([]float32, n)
	for i := range v {
		v[i] = s * float32(p.r.NormFloat64())
	}
	g, e := p.g.Alloc(n), p.e.Alloc(n)
	p.g.Upload(g, v)
	p.e.Upload(e, v)
	p.bg, p.be = append(p.bg, g), append(p.be, e)
	return len(p.bg) - 1
}

func (p *pair) set(i int, v []float32) { p.g.Upload(p.bg[i], v); p.e.Upload(p.be[i], v) }

// same copies every Emu buffer to the GPU, so each call starts from equal
// inputs (earlier calls may differ in the last bits by summation order).
func (p *pair) same() {
	for i, b := range p.be {
		v := make([]float32, b.N)
		p.e.Download(v, b)
		p.g.Upload(p.bg[i], v)
	}
}

// compare checks buffers i... agree to tol (max abs error / max abs value).
func (p *pair) compare(name string, tol float64, idx ...int) {
	p.t.Helper()
	if err := p.g.Sync(); err != nil {
		p.t.Fatalf("%s: %v", name, err)
	}
	for _, i := range idx {
		a, b := make([]float32, p.bg[i].N), make([]float32, p.be[i].N)
		p.g.Download(a, p.bg[i])
		p.e.Download(b, p.be[i])
		var num, den float64
		for j := range a {
			num = math.Max(num, math.Abs(float64(a[j]-b[j])))
			den = math.Max(den, math.Abs(float64(b[j])))
		}
		if r := num / math.Max(den, 1e-30); r > tol || math.IsNaN(r) {
			p.t.Errorf("%s: buffer %d: rel err %.3g > %g", name, i, r, tol)
		}
	}
}

func TestKernelsMatchEmu(t *testing.T) {
	g, err := Open(0)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	t.Logf("device: %s", g.Name())
	p := &pair{t: t, g: g, e: gpu.NewEmu(), r: rand.New(rand.NewPCG(1, 2))}
	const n, d, tt, b = 96, 80, 24, 4 // rows, width (not a multiple of 32), T, B (b*tt == n)
	y, x, a, w := p.buf(n*d, 1), p.buf(n*d, 1), p.buf(n*d, 1), p.buf(d, 1)
	bb, mean, rstd := p.buf(d, 1), p.buf(n, 1), p.buf(n, 1)
	call := func(name string, f func(dev gpu.Device, bs []gpu.Buf), tol float64, outs ...int) {
		t.Run(name, func(t *testing.T) {
			p.t = t
			p.same()
			f(p.g, p.bg)
			f(p.e, p.be)
			p.compare(name, tol, outs...)
		})
	}
	call("Fill", func(v gpu.Device, s []gpu.Buf) { v.Fill(s[y], 0.5) }, 0, y)
	call("Add", func(v gpu.Device, s []gpu.Buf) { v.Add(s[y], s[x], s[a]) }, 0, y)
	call("AddTo", func(v gpu.Device, s []gpu.Buf) { v.AddTo(s[y], s[x]) }, 0, y)
	call("Scale", func(v gpu.Device, s []gpu.Buf) { v.Scale(s[y], 0.3) }, 0, y)
	call("Copy", func(v gpu.Device, s []gpu.Buf) { v.Copy(s[y], s[a]) }, 0, y)
	call("BiasRows", func(v gpu.Device, s []gpu.Buf) { v.BiasRows(s[y], s[w], n, d) }, 0, y)
	call("ColSum", func(v gpu.Device, s []gpu.Buf) { v.ColSum(s[w], s[x], n, d) }, 1e-5, w)
	idx := p.buf(n/2, 0)
	ids := make([]float32, n/2)
	for i := range ids {
		ids[i] = float32(p.r.IntN(n))
	}
	p.set(idx, ids)
	call("GatherRows", func(v gpu.Device, s []gpu.Buf) { v.GatherRows(s[y], s[x], s[idx], n/2, d) }, 0, y)
	call("ScatterAddRows", func(v gpu.Device, s []gpu.Buf) { v.ScatterAddRows(s[y], s[idx], s[x], n/2, d) }, 1e-6, y)
	mask := p.buf(n, 0)
	mk := make([]float32, n)
	for i := range mk {
		mk[i] = float32(p.r.IntN(2))
	}
	p.set(mask, mk)
	pos := p.buf(tt*d, 1)
	call("MaskPos", func(v gpu.Device, s []gpu.Buf) { v.MaskPos(s[y], s[x], s[w], s[pos], s[mask], n, tt, d) }, 0, y)
	call("MaskPosBwd", func(v gpu.Device, s []gpu.Buf) { v.MaskPosBwd(s[y], s[w], s[pos], s[mask], s[x], n, tt, d) }, 1e-5, y, w, pos)
	call("LayerNorm", func(v gpu.Device, s []gpu.Buf) { v.LayerNorm(s[y], s[mean], s[rstd], s[x], s[w], s[bb], n, d, 1e-5) }, 1e-5, y, mean, rstd)
	dg := p.buf(d, 1)
	call("LayerNormBwd", func(v gpu.Device, s []gpu.Buf) {
		v.LayerNormBwd(s[y], s[dg], s[bb], s[x], s[w], s[mean], s[rstd], s[a], n, d)
	}, 1e-5, y, dg, bb)
	// erff and expf are within 2 ulp on the GPU (Go: float64, rounded); an
	// indexing bug shows as an O(1) error, so this tolerance hides none.
	const tr = 1e-5
	call("GELU", func(v gpu.Device, s []gpu.Buf) { v.GELU(s[y], s[x]) }, tr, y)
	call("GELUBwd", func(v gpu.Device, s []gpu.Buf) { v.GELUBwd(s[y], s[x], s[a]) }, tr, y)
	call("Softmax", func(v gpu.Device, s []gpu.Buf) { v.Copy(s[y], s[x]); v.Softmax(s[y], n, d) }, tr, y)
	call("SoftmaxBwd", func(v gpu.Device, s []gpu.Buf) { v.SoftmaxBwd(s[a], s[y], s[x], n, d) }, 1e-5, a)
	call("NormRows", func(v gpu.Device, s []gpu.Buf) { v.Copy(s[y], s[x]); v.NormRows(s[y], n, d, 1e-5) }, 1e-6, y)
	call("NormCols", func(v gpu.Device, s []gpu.Buf) { v.Copy(s[y], s[x]); v.NormCols(s[y], b, tt, d, 1e-5) }, 1e-6, y)
	for _, beta := range []float32{0, 0.25, 4} {
		var lg, le float64
		call("RegLoss", func(v gpu.Device, s []gpu.Buf) {
			l, err := v.RegLoss(s[y], s[x], s[a], beta, 0.01)
			if err != nil {
				t.Fatal(err)
			}
			if v == gpu.Device(p.g) {
				lg = l
			} else {
				le = l
			}
		}, 1e-6, y)
		if math.Abs(lg-le) > 1e-6*math.Abs(le) {
			t.Errorf("RegLoss beta %g: gpu %v, emu %v", beta, lg, le)
		}
	}
	sg, _ := p.g.SumSq(p.bg[x])
	se, _ := p.e.SumSq(p.be[x])
	if math.Abs(sg-se) > 1e-9*se {
		t.Errorf("SumSq: gpu %v, emu %v", sg, se)
	}
	m2, v2 := p.buf(n*d, 0.1), p.buf(n*d, 0)
	p.set(v2, make([]float32, n*d))
	c := gpu.AdamW{B1: 0.9, B2: 0.98, Eps: 1e-6, Step: 5e-4, Coef: 0.7, Shrink: 1 - 5e-6, BC2: 0.14}
	call("AdamW", func(v gpu.Device, s []gpu.Buf) { v.AdamW(s[y], s[x], s[m2], s[v2], c) }, 1e-6, y, m2, v2)
	call("EMA", func(v gpu.Device, s []gpu.Buf) { v.EMA(s[y], s[x], 0.999, 0.001) }, 1e-7, y)
	for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		call("Gemm", func(v gpu.Device, s []gpu.Buf) { // (3 batches of) C(20,16) = A(20,24) B(24,16), strided in place
			v.Gemm(gpu.Gemm{TA: tr[0], TB: tr[1], M: 20, N: 16, K: 24, Alpha: 0.5, Beta: 1, A: s[x], LDA: d, SA: 24 * d,
				B: s[a], LDB: d, SB: 24 * d, C: s[y], LDC: d, SC: 20 * d, Count: 3})
		}, 1e-5, y)
	}
}
