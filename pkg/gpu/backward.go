package gpu

import "fmt"

// bwdBufs is the backward pass's scratch, reused by every block.
type bwdBufs struct {
	dy, dx          Buf // block output / input gradients (swapped per block), (N, D)
	acc, t1, t2, da Buf // (N, D)
	dq, dk, dv      Buf // (N, D)
	dgu, du         Buf // (N, F)
	dp              Buf // (B, H, T, T)
	dpos            Buf // (T, D) when positions are fixed (discarded)
	dsel, dh1, dhg  Buf // head: (M, D), (M, hd), (M, hd)
}

func (e *Engine) newBwd() bwdBufs {
	d := e.dev
	nd := func() Buf { return d.Alloc(e.N * e.D) }
	hd := e.D * e.cfg.Spec.HeadLayers
	b := bwdBufs{dy: nd(), dx: nd(), acc: nd(), t1: nd(), t2: nd(), da: nd(), dq: nd(), dk: nd(), dv: nd(),
		dgu: d.Alloc(e.N * e.F), du: d.Alloc(e.N * e.F), dp: d.Alloc(e.B * e.H * e.T * e.T),
		dsel: d.Alloc(e.M * e.D), dh1: d.Alloc(e.M * hd), dhg: d.Alloc(e.M * hd)}
	if !e.cfg.Spec.LearnedPos {
		b.dpos = d.Alloc(e.T * e.D)
	}
	return b
}

// ffnBwd writes the FFN's parameter gradients and din = d(loss)/d(ffn input).
func (e *Engine) ffnBwd(b *blockActs, name string, din, df Buf) {
	s := &e.bw
	e.linearBwd(s.dgu, false, b.gu, df, name+".ffn.fc2", e.N, e.F, e.D)
	e.dev.GELUBwd(s.du, b.u, s.dgu)
	e.linearBwd(din, false, b.ffnIn, s.du, name+".ffn.fc1", e.N, e.D, e.F)
}

// attnBwd writes the attention's parameter gradients and din = d(loss)/d(attention input), given do.
func (e *Engine) attnBwd(b *blockActs, name string, din, do Buf) {
	s, N, D := &e.bw, e.N, e.D
	e.linearBwd(s.da, false, b.a, do, name+".attn.o", N, D, D)
	e.attentionBwd(b, s.dq, s.dk, s.dv, s.da, s.dp)
	e.linearBwd(din, false, b.attnIn, s.dq, name+".attn.q", N, D, D)
	e.linearBwd(din, true, b.attnIn, s.dk, name+".attn.k", N, D, D)
	e.linearBwd(din, true, b.attnIn, s.dv, name+".attn.v", N, D, D)
}

// blockBwd maps dy (the block output's gradient) to dx (its input's).
func (e *Engine) blockBwd(b *blockActs, name string, dx, dy Buf) {
	s, d, N := &e.bw, e.dev, e.N
	if e.cfg.Spec.NormFirst {
		d.Copy(s.acc, dy) // d r1 = dy + LN2'(ffn'(dy))
		e.ffnBwd(b, name, s.t1, dy)
		e.lnBwd(s.t2, b.r1, b.mean2, b.rstd2, s.t1, name+".ln2", N)
		d.AddTo(s.acc, s.t2)
		e.attnBwd(b, name, s.t1, s.acc) // dx = d r1 + LN1'(attn'(d r1))
		e.lnBwd(s.t2, b.x0, b.mean1, b.rstd1, s.t1, name+".ln1", N)
		d.Add(dx, s.acc, s.t2)
		return
	}
	e.lnBwd(s.t2, b.r2, b.mean2, b.rstd2, dy, name+".ln2", N) // d r2
	d.Copy(s.acc, s.t2)                                       // d x1 = d r2 + ffn'(d r2)
	e.ffnBwd(b, name, s.t1, s.t2)
	d.AddTo(s.acc, s.t1)
	e.lnBwd(s.t2, b.r1, b.mean1, b.rstd1, s.acc, name+".ln1", N) // d r1
	e.attnBwd(b, name, s.t1, s.t2)                               // dx = d r1 + attn'(d r1)
	d.Add(dx, s.t2, s.t1)
}

// studentBwd back-propagates e.dpred through the head, the encoder and the
// embedding, writing every gradient in e.g.
func (e *Engine) studentBwd() {
	a, s, d, N, D, M := e.st, &e.bw, e.dev, e.N, e.D, e.M
	if e.cfg.Spec.HeadLayers == 2 {
		e.linearBwd(s.dhg, false, a.hg, e.dpred, "head.fc2", M, 2*D, D)
		d.GELUBwd(s.dh1, a.h1, s.dhg)
		e.linearBwd(s.dsel, false, a.sel, s.dh1, "head.fc1", M, D, 2*D)
	} else {
		e.linearBwd(s.dsel, false, a.sel, e.dpred, "head.fc1", M, D, D)
	}
	d.Fill(s.dy, 0)
	d.ScatterAddRows(s.dy, e.in.idx, s.dsel, M, D) // (M, D) -> (N, D)
	dy, dx := s.dy, s.dx
	if e.cfg.Spec.NormFirst {
		last := a.blk[len(a.blk)-1].out
		e.lnBwd(dx, last, a.fmean, a.frstd, dy, "student.final_ln", N)
		dy, dx = dx, dy
	}
	for i := len(a.blk) - 1; i >= 0; i-- {
		e.blockBwd(&a.blk[i], fmt.Sprintf("student.blocks.%d", i), dx, dy)
		dy, dx = dx, dy
	}
	if e.cfg.Spec.EmbedLN {
		e.lnBwd(dx, a.h0, a.emean, a.erstd, dy, "student.embed_ln", N)
		dy, dx = dx, dy
	}
	dpos := s.dpos
	if e.cfg.Spec.LearnedPos {
		dpos = e.g["student.pos"]
	}
	de := dx
	d.MaskPosBwd(de, e.g["student.mask_emb"], dpos, e.in.mask, dy, N, e.T, D)
	if e.tokens {
		d.Fill(e.g["student.embed.w"], 0)
		d.ScatterAddRows(e.g["student.embed.w"], e.in.x, de, N, D)
		return
	}
	e.linearBwd(Buf{}, false, e.in.x, de, "student.patch", N, e.P, D)
}
