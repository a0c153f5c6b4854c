package model

import (
	"fmt"
	"math/rand/v2"
	"strings"

	G "gorgonia.org/gorgonia"

	"github.com/d2v/d2v/pkg/ops"
)

// Encoder is the shared Transformer: Depth blocks and, when NormFirst, a final LN.
type Encoder struct {
	Spec Spec
	// NoFinalLN drops the pre-LN final LayerNorm (the data2vec 2.0 teacher
	// with scope blocks: fairseq EMAs only the blocks, and its targets never
	// read the final LN). Layers.Out is then the last block's output.
	NoFinalLN bool
}

// Layers holds what each block exposes: its output and its FFN output before
// the last residual (the data2vec target candidates).
type Layers struct {
	Out    *G.Node   // encoder output (after the final LN when pre-LN), (B*T, D)
	Blocks []*G.Node // per-block output, (B*T, D)
	FFNs   []*G.Node // per-block FFN output, (B*T, D)
}

func blk(prefix string, i int) string { return fmt.Sprintf("%s.blocks.%d", prefix, i) }

// Declare registers the block (and final LN) parameters under prefix.
func (e Encoder) Declare(p *Params, prefix string) {
	D, F := e.Spec.Dim, e.Spec.FFN
	for i := 0; i < e.Spec.Depth; i++ {
		b := blk(prefix, i)
		for _, ln := range []string{"ln1", "ln2"} {
			p.Add(b+"."+ln+".g", D)
			p.Add(b+"."+ln+".b", D)
		}
		for _, n := range []string{"q", "k", "v", "o"} {
			p.Add(b+".attn."+n+".w", D, D)
			p.Add(b+".attn."+n+".b", D)
		}
		p.Add(b+".ffn.fc1.w", D, F)
		p.Add(b+".ffn.fc1.b", F)
		p.Add(b+".ffn.fc2.w", F, D)
		p.Add(b+".ffn.fc2.b", D)
	}
	if e.Spec.NormFirst && !e.NoFinalLN {
		p.Add(prefix+".final_ln.g", D)
		p.Add(prefix+".final_ln.b", D)
	}
}

// Init draws weights from a truncated normal and sets LN gains to 1, biases to 0.
func (e Encoder) Init(p *Params, prefix string, r *rand.Rand) {
	for _, n := range p.Names() {
		if !strings.HasPrefix(n, prefix+".blocks.") && !strings.HasPrefix(n, prefix+".final_ln.") {
			continue
		}
		switch {
		case strings.HasSuffix(n, ".w"):
			p.TruncNormal(n, e.Spec.InitStd, r)
		case strings.HasSuffix(n, ".g"):
			p.Const(n, 1)
		}
	}
}

// Build runs the blocks on h (B*T, D) for a batch of `batch` sequences.
func (e Encoder) Build(g *Graph, prefix string, h *G.Node, batch int) (*Layers, error) {
	return e.BuildAt(g, prefix, h, batch, nil)
}

// BuildAt is Build when only the rows idx (M, the same number in every
// sample, in sample order) of the output are used, as the student's loss
// uses only its masked positions: the last block computes K and V for
// every row and everything else only at those rows, so L.Out and the
// last entries of L.Blocks and L.FFNs are (M, D). idx nil: every row.
func (e Encoder) BuildAt(g *Graph, prefix string, h *G.Node, batch int, idx *G.Node) (*Layers, error) {
	L := &Layers{}
	for i := 0; i < e.Spec.Depth; i++ {
		var f *G.Node
		var err error
		var rows *G.Node
		if i == e.Spec.Depth-1 {
			rows = idx
		}
		if h, f, err = e.block(g, blk(prefix, i), h, batch, rows); err != nil {
			return nil, fmt.Errorf("%s: %w", blk(prefix, i), err)
		}
		L.Blocks = append(L.Blocks, h)
		L.FFNs = append(L.FFNs, f)
	}
	L.Out = h
	if e.Spec.NormFirst && !e.NoFinalLN {
		out, err := ops.LayerNorm(h, g.Param(prefix+".final_ln.g"), g.Param(prefix+".final_ln.b"), e.Spec.LNEps)
		if err != nil {
			return nil, err
		}
		L.Out = out
	}
	return L, nil
}

func (e Encoder) ln(g *Graph, b, name string, x *G.Node) (*G.Node, error) {
	return ops.LayerNorm(x, g.Param(b+"."+name+".g"), g.Param(b+"."+name+".b"), e.Spec.LNEps)
}

func lin(g *Graph, name string, x *G.Node) (*G.Node, error) {
	return ops.Linear(x, g.Param(name+".w"), g.Param(name+".b"))
}

// attn is self-attention on z, or with zq = z's selected rows (not nil),
// attention of those rows' queries over every row of z.
func (e Encoder) attn(g *Graph, b string, z, zq *G.Node, batch int) (*G.Node, error) {
	if zq == nil {
		zq = z
	}
	q, err := lin(g, b+".attn.q", zq)
	if err != nil {
		return nil, err
	}
	k := G.Must(lin(g, b+".attn.k", z))
	v := G.Must(lin(g, b+".attn.v", z))
	a, err := ops.Attention(q, k, v, batch, e.Spec.Heads) // (B*Tq, D), heads are column blocks
	if err != nil {
		return nil, err
	}
	return lin(g, b+".attn.o", a)
}

func (e Encoder) ffn(g *Graph, b string, z *G.Node) (*G.Node, error) {
	u, err := lin(g, b+".ffn.fc1", z)
	if err != nil {
		return nil, err
	}
	return lin(g, b+".ffn.fc2", G.Must(ops.GELU(u)))
}

// block: pre-LN  h += attn(ln1(h)); f = ffn(ln2(h)); h += f
//
//	post-LN h = ln1(h + attn(h)); f = ffn(h); h = ln2(h + f)
//
// With rows (not nil) every row-wise step after K and V runs on those
// rows only: the queries, the residual and everything after them.
func (e Encoder) block(g *Graph, b string, h *G.Node, batch int, rows *G.Node) (out, f *G.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	pick := func(x *G.Node) *G.Node {
		if rows == nil {
			return nil
		}
		return G.Must(ops.Gather(x, rows))
	}
	if e.Spec.NormFirst {
		z := G.Must(e.ln(g, b, "ln1", h))
		zq, hq := pick(z), pick(h)
		a := G.Must(e.attn(g, b, z, zq, batch))
		if hq != nil {
			h = hq
		}
		h = G.Must(ops.Add(h, a))
		f = G.Must(e.ffn(g, b, G.Must(e.ln(g, b, "ln2", h))))
		return G.Must(ops.Add(h, f)), f, nil
	}
	hq := pick(h)
	a := G.Must(e.attn(g, b, h, hq, batch))
	if hq != nil {
		h = hq
	}
	h = G.Must(e.ln(g, b, "ln1", G.Must(ops.Add(h, a))))
	f = G.Must(e.ffn(g, b, h))
	return G.Must(e.ln(g, b, "ln2", G.Must(ops.Add(h, f)))), f, nil
}

// Head is the regression head on top of the student.
type Head struct{ Spec Spec }

// Declare registers head.fc1 (and head.fc2 for 2 layers).
func (hd Head) Declare(p *Params) {
	D := hd.Spec.Dim
	if hd.Spec.HeadLayers == 2 {
		p.Add("head.fc1.w", D, 2*D)
		p.Add("head.fc1.b", 2*D)
		p.Add("head.fc2.w", 2*D, D)
		p.Add("head.fc2.b", D)
		return
	}
	p.Add("head.fc1.w", D, D)
	p.Add("head.fc1.b", D)
}

// Init draws the head weights.
func (hd Head) Init(p *Params, r *rand.Rand) {
	p.TruncNormal("head.fc1.w", hd.Spec.InitStd, r)
	if hd.Spec.HeadLayers == 2 {
		p.TruncNormal("head.fc2.w", hd.Spec.InitStd, r)
	}
}

// Build maps x (M, D) to predictions (M, D).
func (hd Head) Build(g *Graph, x *G.Node) (*G.Node, error) {
	y, err := lin(g, "head.fc1", x)
	if err != nil || hd.Spec.HeadLayers == 1 {
		return y, err
	}
	return lin(g, "head.fc2", G.Must(ops.GELU(y)))
}
