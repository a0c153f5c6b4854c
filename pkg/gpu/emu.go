package gpu

import (
	"fmt"
	"math"

	"github.com/d2v/d2v/pkg/gemm"
	"github.com/d2v/d2v/pkg/ops"
	"github.com/d2v/d2v/pkg/teacher"
)

// Emu is a Device in host memory: each kernel is a plain loop with the
// arithmetic of its CUDA twin in pkg/cuda/kernels, GEMMs go to pkg/gemm.
// It checks the step's wiring on machines without a GPU; it is not fast.
type Emu struct {
	mem [][]float32
	err error
}

// NewEmu returns an empty emulated device.
func NewEmu() *Emu { return &Emu{} }

// Addresses: allocation i lives at byte (i+1)<<40, so a Buf resolves to
// its allocation and offset, and a stray address panics.
const emuShift = 40

func (e *Emu) s(b Buf) []float32 {
	i := int(b.Addr>>emuShift) - 1
	off := int(b.Addr&(1<<emuShift-1)) / 4
	if i < 0 || i >= len(e.mem) || off+b.N > len(e.mem[i]) {
		panic(fmt.Sprintf("gpu emu: buffer %#x+%d outside any allocation", b.Addr, b.N))
	}
	return e.mem[i][off : off+b.N]
}

func (e *Emu) Alloc(n int) Buf {
	e.mem = append(e.mem, make([]float32, n))
	return Buf{Addr: uint64(len(e.mem)) << emuShift, N: n}
}
func (e *Emu) Upload(dst Buf, src []float32)   { copy(e.s(dst), src[:dst.N]) }
func (e *Emu) Download(dst []float32, src Buf) { copy(dst[:src.N], e.s(src)) }
func (e *Emu) Sync() error                     { return e.err }
func (e *Emu) Close()                          { e.mem = nil }

func (e *Emu) Gemm(g Gemm) {
	a, b, c := e.s(g.A), e.s(g.B), e.s(g.C)
	for i := 0; i < max(g.Count, 1); i++ {
		gemm.Sgemm(g.TA, g.TB, g.M, g.N, g.K, g.Alpha, a[i*g.SA:], g.LDA, b[i*g.SB:], g.LDB, g.Beta, c[i*g.SC:], g.LDC)
	}
}

func (e *Emu) Fill(y Buf, v float32) {
	s := e.s(y)
	for i := range s {
		s[i] = v
	}
}
func (e *Emu) Copy(y, x Buf) { copy(e.s(y), e.s(x)) }
func (e *Emu) Add(y, a, b Buf) {
	ys, as, bs := e.s(y), e.s(a), e.s(b)
	for i := range ys {
		ys[i] = as[i] + bs[i]
	}
}
func (e *Emu) AddTo(y, x Buf) {
	ys, xs := e.s(y), e.s(x)
	for i := range ys {
		ys[i] += xs[i]
	}
}
func (e *Emu) Scale(y Buf, a float32) {
	ys := e.s(y)
	for i := range ys {
		ys[i] *= a
	}
}

func (e *Emu) BiasRows(y, b Buf, n, d int) {
	ys, bs := e.s(y), e.s(b)
	for r := 0; r < n; r++ {
		copy(ys[r*d:(r+1)*d], bs)
	}
}

func (e *Emu) ColSum(s, x Buf, n, d int) {
	ss, xs := e.s(s), e.s(x)
	for j := 0; j < d; j++ {
		var acc float32
		for r := 0; r < n; r++ {
			acc += xs[r*d+j]
		}
		ss[j] = acc
	}
}

func (e *Emu) GatherRows(y, src, idx Buf, m, d int) {
	ys, ss, is := e.s(y), e.s(src), e.s(idx)
	for i := 0; i < m; i++ {
		r := int(is[i])
		copy(ys[i*d:(i+1)*d], ss[r*d:(r+1)*d])
	}
}

func (e *Emu) ScatterAddRows(dst, idx, y Buf, m, d int) {
	ds, is, ys := e.s(dst), e.s(idx), e.s(y)
	for i := 0; i < m; i++ {
		r := int(is[i])
		for j := 0; j < d; j++ {
			ds[r*d+j] += ys[i*d+j]
		}
	}
}

func (e *Emu) MaskPos(y, emb, memb, pos, mask Buf, n, t, d int) {
	ys, es, ms, ps, ks := e.s(y), e.s(emb), e.s(memb), e.s(pos), e.s(mask)
	for r := 0; r < n; r++ {
		for j := 0; j < d; j++ {
			v := es[r*d+j]
			if ks[r] != 0 {
				v = ms[j]
			}
			ys[r*d+j] = v + ps[(r%t)*d+j]
		}
	}
}

func (e *Emu) MaskPosBwd(de, dmemb, dpos, mask, dy Buf, n, t, d int) {
	des, dms, dps, ks, dys := e.s(de), e.s(dmemb), e.s(dpos), e.s(mask), e.s(dy)
	for j := 0; j < d; j++ { // one CUDA thread per column j
		var m float32
		for r := 0; r < n; r++ {
			g := dys[r*d+j]
			if ks[r] != 0 {
				des[r*d+j] = 0
				m += g
			} else {
				des[r*d+j] = g
			}
		}
		dms[j] = m
		for p := 0; p < t; p++ {
			var s float32
			for r := p; r < n; r += t {
				s += dys[r*d+j]
			}
			dps[p*d+j] = s
		}
	}
}

// rowMeanRstd is the two-pass row statistic of ops.LayerNorm (float64 sums).
func rowMeanRstd(x []float32, eps float32) (float32, float32) {
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	mean := s / float64(len(x))
	var q float64
	for _, v := range x {
		d := float64(v) - mean
		q += d * d
	}
	return float32(mean), float32(1 / math.Sqrt(q/float64(len(x))+float64(eps)))
}

func (e *Emu) LayerNorm(y, mean, rstd, x, g, b Buf, n, d int, eps float32) {
	ys, ms, rs, xs, gs, bs := e.s(y), e.s(mean), e.s(rstd), e.s(x), e.s(g), e.s(b)
	for r := 0; r < n; r++ {
		mu, rsd := rowMeanRstd(xs[r*d:(r+1)*d], eps)
		ms[r], rs[r] = mu, rsd
		for j := 0; j < d; j++ {
			ys[r*d+j] = (xs[r*d+j]-mu)*rsd*gs[j] + bs[j]
		}
	}
}

func (e *Emu) LayerNormBwd(dx, dg, db, x, g, mean, rstd, dy Buf, n, d int) {
	dxs, dgs, dbs, xs, gs, ms, rs, dys := e.s(dx), e.s(dg), e.s(db), e.s(x), e.s(g), e.s(mean), e.s(rstd), e.s(dy)
	for r := 0; r < n; r++ { // one CUDA block per row
		var m1, m2 float32
		for j := 0; j < d; j++ {
			xh := (xs[r*d+j] - ms[r]) * rs[r]
			dxh := dys[r*d+j] * gs[j]
			m1 += dxh
			m2 += dxh * xh
		}
		m1 /= float32(d)
		m2 /= float32(d)
		for j := 0; j < d; j++ {
			xh := (xs[r*d+j] - ms[r]) * rs[r]
			dxs[r*d+j] = rs[r] * (dys[r*d+j]*gs[j] - m1 - xh*m2)
		}
	}
	for j := 0; j < d; j++ { // one CUDA thread per column
		var sg, sb float32
		for r := 0; r < n; r++ {
			xh := (xs[r*d+j] - ms[r]) * rs[r]
			sg += dys[r*d+j] * xh
			sb += dys[r*d+j]
		}
		dgs[j], dbs[j] = sg, sb
	}
}

const (
	invSqrt2   = 0.70710678118654752440
	invSqrt2Pi = 0.39894228040143267794
)

func (e *Emu) GELU(y, x Buf) {
	ys, xs := e.s(y), e.s(x)
	for i, v := range xs {
		ys[i] = float32(0.5 * float64(v) * (1 + math.Erf(float64(v)*invSqrt2)))
	}
}

func (e *Emu) GELUBwd(dx, x, dy Buf) {
	dxs, xs, dys := e.s(dx), e.s(x), e.s(dy)
	for i, v := range xs {
		f := float64(v)
		g := 0.5*(1+math.Erf(f*invSqrt2)) + f*invSqrt2Pi*math.Exp(-0.5*f*f)
		dxs[i] = dys[i] * float32(g)
	}
}

func (e *Emu) Softmax(p Buf, rows, n int) {
	ps := e.s(p)
	for r := 0; r < rows; r++ {
		row := ps[r*n : (r+1)*n]
		mx := row[0]
		for _, v := range row[1:] {
			mx = max(mx, v)
		}
		var s float32
		for j, v := range row {
			row[j] = float32(math.Exp(float64(v - mx)))
			s += row[j]
		}
		for j := range row {
			row[j] /= s
		}
	}
}

func (e *Emu) SoftmaxBwd(ds, p, dp Buf, rows, n int) {
	dss, ps, dps := e.s(ds), e.s(p), e.s(dp)
	for r := 0; r < rows; r++ {
		var s float32
		for j := r * n; j < (r+1)*n; j++ {
			s += ps[j] * dps[j]
		}
		for j := r * n; j < (r+1)*n; j++ {
			dss[j] = ps[j] * (dps[j] - s)
		}
	}
}

func (e *Emu) NormRows(x Buf, n, d int, eps float32) {
	xs := e.s(x)
	for r := 0; r < n; r++ {
		teacher.NormStrided(xs[r*d:], d, 1, float64(eps))
	}
}

func (e *Emu) NormCols(x Buf, b, t, d int, eps float32) {
	xs := e.s(x)
	for s := 0; s < b; s++ {
		for c := 0; c < d; c++ {
			teacher.NormStrided(xs[s*t*d+c:], t, d, float64(eps))
		}
	}
}

func (e *Emu) RegLoss(dpred, pred, tgt Buf, beta, coef float32) (float64, error) {
	dps, ps, ts := e.s(dpred), e.s(pred), e.s(tgt)
	var s float64
	for i := range ps {
		d := float64(ps[i] - ts[i])
		s += ops.ElementLoss(d, float64(beta))
		dps[i] = float32(float64(coef) * ops.ElementGrad(d, float64(beta)))
	}
	return s * float64(coef), e.err
}

func (e *Emu) SumSq(x Buf) (float64, error) {
	var s float64
	for _, v := range e.s(x) {
		s += float64(v) * float64(v)
	}
	return s, e.err
}

func (e *Emu) AdamW(w, g, m, v Buf, c AdamW) {
	ws, gs, ms, vs := e.s(w), e.s(g), e.s(m), e.s(v)
	for j := range ws {
		gj := gs[j] * c.Coef
		ms[j] = c.B1*ms[j] + (1-c.B1)*gj
		vs[j] = c.B2*vs[j] + (1-c.B2)*gj*gj
		ws[j] = ws[j]*c.Shrink - c.Step*ms[j]/(float32(math.Sqrt(float64(vs[j])))/c.BC2+c.Eps)
	}
}

func (e *Emu) EMA(t, s Buf, a, b float32) {
	ts, ss := e.s(t), e.s(s)
	for i := range ts {
		ts[i] = a*ts[i] + b*ss[i]
	}
}
