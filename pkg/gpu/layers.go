package gpu

import (
	"fmt"
	"math"

	"github.com/d2v/d2v/pkg/teacher"
)

// blockActs is what one block keeps for its backward, all (N, ·).
// Pre-LN:  z1 = LN1(x0); r1 = x0 + attn(z1); z2 = LN2(r1); r2 = r1 + ffn(z2); out = r2.
// Post-LN: r1 = x0 + attn(x0); x1 = LN1(r1); r2 = x1 + ffn(x1); out = LN2(r2).
type blockActs struct {
	x0                     Buf // block input (the previous output; not owned)
	z1, z2, x1             Buf // LN outputs (pre: z1, z2; post: x1)
	mean1, rstd1           Buf
	mean2, rstd2           Buf
	q, k, v, a, o          Buf
	p                      Buf // softmax probabilities (B, H, T, T)
	r1, r2, out            Buf
	u, gu, f               Buf // fc1 output, GELU(u), fc2 output
	attnIn, ffnIn, ffnBase Buf // aliases: the attention input, the FFN input, the FFN residual base
}

// acts is one forward pass (student or teacher).
type acts struct {
	emb, h0, eln, emean, erstd Buf // local encoder, mask+pos, embedding LN
	blk                        []blockActs
	fin, fmean, frstd          Buf // final LN (pre-LN)
	out                        Buf // encoder output
	sel, h1, hg                Buf // masked rows, head fc1, GELU (2-layer head)
}

func (e *Engine) newActs() *acts {
	d := e.dev
	nd := func() Buf { return d.Alloc(e.N * e.D) }
	a := &acts{emb: nd(), h0: nd()}
	if e.cfg.Spec.EmbedLN {
		a.eln, a.emean, a.erstd = nd(), d.Alloc(e.N), d.Alloc(e.N)
	}
	pre := e.cfg.Spec.NormFirst
	for i := 0; i < e.cfg.Spec.Depth; i++ {
		b := blockActs{mean1: d.Alloc(e.N), rstd1: d.Alloc(e.N), mean2: d.Alloc(e.N), rstd2: d.Alloc(e.N),
			q: nd(), k: nd(), v: nd(), a: nd(), o: nd(), p: d.Alloc(e.B * e.H * e.T * e.T),
			r1: nd(), r2: nd(), u: d.Alloc(e.N * e.F), gu: d.Alloc(e.N * e.F), f: nd()}
		if pre {
			b.z1, b.z2 = nd(), nd()
			b.attnIn, b.ffnIn, b.ffnBase, b.out = b.z1, b.z2, b.r1, b.r2
		} else {
			b.x1, b.out = nd(), nd()
			b.ffnIn, b.ffnBase = b.x1, b.x1
		}
		a.blk = append(a.blk, b)
	}
	if pre {
		a.fin, a.fmean, a.frstd = nd(), d.Alloc(e.N), d.Alloc(e.N)
	}
	hd := e.D * e.cfg.Spec.HeadLayers
	a.sel, a.h1 = d.Alloc(e.M*e.D), d.Alloc(e.M*hd)
	if e.cfg.Spec.HeadLayers == 2 {
		a.hg = d.Alloc(e.M * hd)
	}
	return a
}

// linear: y (n, out) = x (n, in) @ w (in, out) + b; weights stored (in, out).
func (e *Engine) linear(y, x Buf, name string, n, in, out int) {
	e.dev.BiasRows(y, e.w[name+".b"], n, out)
	e.dev.Gemm(Gemm{M: n, N: out, K: in, Alpha: 1, A: x, LDA: in, B: e.w[name+".w"], LDB: out, Beta: 1, C: y, LDC: out})
}

// linearBwd writes the weight and bias gradients of name and, when dx is
// non-empty, dx = dy @ w^T (added to dx when acc).
func (e *Engine) linearBwd(dx Buf, acc bool, x, dy Buf, name string, n, in, out int) {
	if dx.N > 0 {
		beta := float32(0)
		if acc {
			beta = 1
		}
		e.dev.Gemm(Gemm{TB: true, M: n, N: in, K: out, Alpha: 1, A: dy, LDA: out, B: e.w[name+".w"], LDB: out,
			Beta: beta, C: dx, LDC: in}) // (n,out)@(out,in)
	}
	e.dev.Gemm(Gemm{TA: true, M: in, N: out, K: n, Alpha: 1, A: x, LDA: in, B: dy, LDB: out, C: e.g[name+".w"], LDC: out})
	e.dev.ColSum(e.g[name+".b"], dy, n, out)
}

func (e *Engine) ln(y, mean, rstd, x Buf, name string, n int) {
	e.dev.LayerNorm(y, mean, rstd, x, e.w[name+".g"], e.w[name+".b"], n, e.D, float32(e.cfg.Spec.LNEps))
}

func (e *Engine) lnBwd(dx, x, mean, rstd, dy Buf, name string, n int) {
	e.dev.LayerNormBwd(dx, e.g[name+".g"], e.g[name+".b"], x, e.w[name+".g"], mean, rstd, dy, n, e.D)
}

func from(b Buf, off int) Buf { return b.Slice(off, b.N) }

// attention: per head h, the column block [h*dh, (h+1)*dh) of q, k, v
// (N, D); one strided-batched GEMM over the B samples per head.
func (e *Engine) attention(b *blockActs) {
	T, D, dh := e.T, e.D, e.D/e.H
	scale := float32(1 / math.Sqrt(float64(dh)))
	tt := T * T
	for h := 0; h < e.H; h++ {
		q, k, p := from(b.q, h*dh), from(b.k, h*dh), from(b.p, h*tt)
		e.dev.Gemm(Gemm{TB: true, M: T, N: T, K: dh, Alpha: scale, A: q, LDA: D, SA: T * D, B: k, LDB: D, SB: T * D,
			C: p, LDC: T, SC: e.H * tt, Count: e.B}) // S = s Q K^T, (T, T) per (b, h)
	}
	e.dev.Softmax(b.p, e.B*e.H*T, T)
	for h := 0; h < e.H; h++ {
		v, a, p := from(b.v, h*dh), from(b.a, h*dh), from(b.p, h*tt)
		e.dev.Gemm(Gemm{M: T, N: dh, K: T, Alpha: 1, A: p, LDA: T, SA: e.H * tt, B: v, LDB: D, SB: T * D,
			C: a, LDC: D, SC: T * D, Count: e.B}) // O = P V
	}
}

// attentionBwd writes dq, dk, dv from da (all (N, D)), using dp as scratch.
func (e *Engine) attentionBwd(b *blockActs, dq, dk, dv, da, dp Buf) {
	T, D, dh := e.T, e.D, e.D/e.H
	scale := float32(1 / math.Sqrt(float64(dh)))
	tt := T * T
	for h := 0; h < e.H; h++ {
		e.dev.Gemm(Gemm{TB: true, M: T, N: T, K: dh, Alpha: 1, A: from(da, h*dh), LDA: D, SA: T * D,
			B: from(b.v, h*dh), LDB: D, SB: T * D, C: from(dp, h*tt), LDC: T, SC: e.H * tt, Count: e.B}) // dP = dO V^T
	}
	e.dev.SoftmaxBwd(dp, b.p, dp, e.B*e.H*T, T) // dS
	for h := 0; h < e.H; h++ {
		ds, p := from(dp, h*tt), from(b.p, h*tt)
		e.dev.Gemm(Gemm{M: T, N: dh, K: T, Alpha: scale, A: ds, LDA: T, SA: e.H * tt, B: from(b.k, h*dh), LDB: D, SB: T * D,
			C: from(dq, h*dh), LDC: D, SC: T * D, Count: e.B}) // dQ = s dS K
		e.dev.Gemm(Gemm{TA: true, M: T, N: dh, K: T, Alpha: scale, A: ds, LDA: T, SA: e.H * tt, B: from(b.q, h*dh), LDB: D, SB: T * D,
			C: from(dk, h*dh), LDC: D, SC: T * D, Count: e.B}) // dK = s dS^T Q
		e.dev.Gemm(Gemm{TA: true, M: T, N: dh, K: T, Alpha: 1, A: p, LDA: T, SA: e.H * tt, B: from(da, h*dh), LDB: D, SB: T * D,
			C: from(dv, h*dh), LDC: D, SC: T * D, Count: e.B}) // dV = P^T dO
	}
}

// block runs block name on x0 and returns its output.
func (e *Engine) block(b *blockActs, name string, x0 Buf) Buf {
	d, N, D, F := e.dev, e.N, e.D, e.F
	b.x0 = x0
	if e.cfg.Spec.NormFirst {
		e.ln(b.z1, b.mean1, b.rstd1, x0, name+".ln1", N)
	} else {
		b.attnIn = x0
	}
	for _, p := range []struct {
		y Buf
		n string
	}{{b.q, "q"}, {b.k, "k"}, {b.v, "v"}} {
		e.linear(p.y, b.attnIn, name+".attn."+p.n, N, D, D)
	}
	e.attention(b)
	e.linear(b.o, b.a, name+".attn.o", N, D, D)
	d.Add(b.r1, x0, b.o)
	if e.cfg.Spec.NormFirst {
		e.ln(b.z2, b.mean2, b.rstd2, b.r1, name+".ln2", N)
	} else {
		e.ln(b.x1, b.mean1, b.rstd1, b.r1, name+".ln1", N)
	}
	e.linear(b.u, b.ffnIn, name+".ffn.fc1", N, D, F)
	d.GELU(b.gu, b.u)
	e.linear(b.f, b.gu, name+".ffn.fc2", N, F, D)
	d.Add(b.r2, b.ffnBase, b.f)
	if !e.cfg.Spec.NormFirst {
		e.ln(b.out, b.mean2, b.rstd2, b.r2, name+".ln2", N)
	}
	return b.out
}

// forward runs the embedding (parameters under emb) and the blocks (under
// enc) on input x with mask, leaving the encoder output in a.out.
func (e *Engine) forward(a *acts, emb, enc string, x, mask Buf) {
	d, N, D := e.dev, e.N, e.D
	if e.tokens {
		d.GatherRows(a.emb, e.w[emb+".embed.w"], x, N, D)
	} else {
		e.linear(a.emb, x, emb+".patch", N, e.P, D)
	}
	pos := e.pos
	if e.cfg.Spec.LearnedPos {
		pos = e.w[emb+".pos"]
	}
	d.MaskPos(a.h0, a.emb, e.w[emb+".mask_emb"], pos, mask, N, e.T, D)
	h := a.h0
	if e.cfg.Spec.EmbedLN {
		e.ln(a.eln, a.emean, a.erstd, h, emb+".embed_ln", N)
		h = a.eln
	}
	for i := range a.blk {
		h = e.block(&a.blk[i], fmt.Sprintf("%s.blocks.%d", enc, i), h)
	}
	a.out = h
	if e.cfg.Spec.NormFirst {
		e.ln(a.fin, a.fmean, a.frstd, h, enc+".final_ln", N)
		a.out = a.fin
	}
}

// targets runs the teacher on the unmasked input and leaves the targets
// at the masked rows in e.tgt (teacher.Targets).
func (e *Engine) targets() {
	d, t := e.dev, e.cfg.Target
	emb := "teacher"
	if e.cfg.Scope == "blocks" {
		emb = "student" // the teacher has no embedding of its own
	}
	e.forward(e.tc, emb, "teacher", e.in.xt, e.in.zero)
	k := t.Averaged(len(e.tc.blk))
	d.Fill(e.avg, 0)
	for _, b := range e.tc.blk[len(e.tc.blk)-k:] {
		l := b.out
		if e.cfg.TargetLayer == "ffn" {
			l = b.f
		}
		d.Copy(e.tmp, l)
		e.normalize(e.tmp, t.LayerNorm, float32(t.Eps))
		d.AddTo(e.avg, e.tmp)
	}
	d.Scale(e.avg, 1/float32(k))
	e.normalize(e.avg, t.Final, float32(t.Eps))
	d.GatherRows(e.tgt, e.avg, e.in.idx, e.M, e.D)
}

func (e *Engine) normalize(x Buf, n teacher.Norm, eps float32) {
	switch n {
	case teacher.NormLayer:
		e.dev.NormRows(x, e.N, e.D, eps)
	case teacher.NormInstance:
		e.dev.NormCols(x, e.B, e.T, e.D, eps)
	}
}

// student runs the student on the masked input and the head on its masked rows.
func (e *Engine) student() {
	a, D := e.st, e.D
	e.forward(a, "student", "student", e.in.x, e.in.mask)
	e.dev.GatherRows(a.sel, a.out, e.in.idx, e.M, D)
	if e.cfg.Spec.HeadLayers == 2 {
		e.linear(a.h1, a.sel, "head.fc1", e.M, D, 2*D)
		e.dev.GELU(a.hg, a.h1)
		e.linear(e.pred, a.hg, "head.fc2", e.M, 2*D, D)
		return
	}
	e.linear(e.pred, a.sel, "head.fc1", e.M, D, D)
}
