package model

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/d2v/d2v/pkg/ops"
)

// Modality turns raw input into tokens (B*T, D) for the shared encoder.
type Modality interface {
	Name() string                     // "image" | "tokens" | "audio"
	NumTokens() int                   // T, fixed at build time
	InputShape(batch int) []int       // shape of the raw input node
	Declare(p *Params, prefix string) // registers the local encoder's parameters
	Init(p *Params, prefix string, std float64, r *rand.Rand)
	Build(g *Graph, prefix string, x *G.Node) (*G.Node, error) // raw input -> (B*T, D)
	PosTable() []float64                                       // fixed sin-cos positions (T, D)
}

// Patches is a linear patch embedding: x (B*T, P) @ patch.w (P, D) + patch.b.
type Patches struct {
	T, PatchDim, Dim int
	GridH, GridW     int // for the 2-D sin-cos table
}

func (m Patches) Name() string               { return "image" }
func (m Patches) NumTokens() int             { return m.T }
func (m Patches) InputShape(batch int) []int { return []int{batch * m.T, m.PatchDim} }
func (m Patches) Declare(p *Params, prefix string) {
	p.Add(prefix+".patch.w", m.PatchDim, m.Dim)
	p.Add(prefix+".patch.b", m.Dim)
}

// Init uses Xavier-uniform for the patch projection, as MAE and data2vec 2.0
// do: with a truncated normal of std 0.02 a 16-pixel patch would project to
// ~0.08 against positions of ~0.7, and the encoder would mostly see positions.
func (m Patches) Init(p *Params, prefix string, std float64, r *rand.Rand) {
	p.XavierUniform(prefix+".patch.w", r)
}
func (m Patches) Build(g *Graph, prefix string, x *G.Node) (*G.Node, error) {
	return ops.Linear(x, g.Param(prefix+".patch.w"), g.Param(prefix+".patch.b"))
}
func (m Patches) PosTable() []float64 {
	if m.GridH*m.GridW == m.T {
		return SinCos2D(m.GridH, m.GridW, m.Dim)
	}
	return SinCos1D(m.T, m.Dim)
}

// Tokens is a token-embedding lookup: ids (B*T) -> embed.w[ids] (B*T, D).
type Tokens struct{ T, Vocab, Dim int }

func (m Tokens) Name() string               { return "tokens" }
func (m Tokens) NumTokens() int             { return m.T }
func (m Tokens) InputShape(batch int) []int { return []int{batch * m.T} }
func (m Tokens) Declare(p *Params, prefix string) {
	p.Add(prefix+".embed.w", m.Vocab, m.Dim)
}
func (m Tokens) Init(p *Params, prefix string, std float64, r *rand.Rand) {
	p.TruncNormal(prefix+".embed.w", std, r)
}
func (m Tokens) Build(g *Graph, prefix string, x *G.Node) (*G.Node, error) {
	return ops.Gather(g.Param(prefix+".embed.w"), x)
}
func (m Tokens) PosTable() []float64 { return SinCos1D(m.T, m.Dim) }

// Embedding is the part of the model before the blocks: the modality's local
// encoder, the mask embedding and the positions.
type Embedding struct {
	Mod  Modality
	Spec Spec
	// NoMaskEmb: the embedding never masks (data2vec 2.0, whose student
	// drops its masked tokens instead): no mask_emb parameter, and Build's
	// mask must be all zero.
	NoMaskEmb bool
}

// Declare registers the embedding parameters under prefix.
func (e Embedding) Declare(p *Params, prefix string) {
	e.Mod.Declare(p, prefix)
	if e.Spec.LearnedPos {
		p.Add(prefix+".pos", e.Mod.NumTokens(), e.Spec.Dim)
	}
	if !e.NoMaskEmb {
		p.Add(prefix+".mask_emb", e.Spec.Dim)
	}
	if e.Spec.EmbedLN {
		p.Add(prefix+".embed_ln.g", e.Spec.Dim)
		p.Add(prefix+".embed_ln.b", e.Spec.Dim)
	}
}

// Init draws the embedding parameters.
func (e Embedding) Init(p *Params, prefix string, r *rand.Rand) {
	e.Mod.Init(p, prefix, e.Spec.InitStd, r)
	if e.Spec.LearnedPos {
		p.TruncNormal(prefix+".pos", e.Spec.InitStd, r)
	}
	if !e.NoMaskEmb {
		p.TruncNormal(prefix+".mask_emb", e.Spec.InitStd, r)
	}
	if e.Spec.EmbedLN {
		p.Const(prefix+".embed_ln.g", 1)
	}
}

// Build returns h0 = where(mask, mask_emb, local(x)) + pos, (B*T, D),
// followed by the embedding LayerNorm when Spec.EmbedLN. For a PosEncoder
// modality the table is zero and h0 = m + pos(m) with m = where(mask,
// mask_emb, local(x)), as wav2vec 2.0 adds its positional convolution.
func (e Embedding) Build(g *Graph, prefix string, x, mask *G.Node) (*G.Node, error) {
	return e.BuildTap(g, prefix, x, mask, nil)
}

// BuildTap is Build with tap (if not nil) applied to the local encoder's
// output loc (B*T, D) before masking: the student hands its speech
// features to its teacher through it (ops.Emit).
func (e Embedding) BuildTap(g *Graph, prefix string, x, mask *G.Node, tap func(loc *G.Node) (*G.Node, error)) (*G.Node, error) {
	loc, err := e.Mod.Build(g, prefix, x)
	if err != nil {
		return nil, fmt.Errorf("%s local encoder: %w", e.Mod.Name(), err)
	}
	if tap != nil {
		if loc, err = tap(loc); err != nil {
			return nil, err
		}
	}
	return e.BuildLocal(g, prefix, loc, mask)
}

// BuildLocal is Build from the local encoder's output loc (B*T, D)
// instead of the raw input.
func (e Embedding) BuildLocal(g *Graph, prefix string, loc, mask *G.Node) (*G.Node, error) {
	var pos *G.Node
	if e.Spec.LearnedPos {
		pos = g.Param(prefix + ".pos")
	} else {
		tab := e.Mod.PosTable()
		t := tensor.New(tensor.Of(g.Dtype), tensor.WithShape(e.Mod.NumTokens(), e.Spec.Dim))
		setFloats(t, tab)
		pos = G.NodeFromAny(g.G, t, G.WithName(prefix+".pos_sincos"))
	}
	var memb *G.Node
	if e.NoMaskEmb { // a zero vector that no mask selects
		memb, _ = g.Input(prefix+".no_mask_emb", e.Spec.Dim)
	} else {
		memb = g.Param(prefix + ".mask_emb")
	}
	h, err := ops.MaskPos(loc, memb, pos, mask)
	if err != nil {
		return nil, err
	}
	if pe, ok := e.Mod.(PosEncoder); ok { // positions from the masked input (speech)
		p, err := pe.BuildPos(g, prefix, h)
		if err != nil {
			return nil, fmt.Errorf("%s positional encoder: %w", e.Mod.Name(), err)
		}
		h = G.Must(ops.Add(h, p)) // a buffered add, not Gorgonia's cloning one
	}
	if !e.Spec.EmbedLN {
		return h, nil
	}
	return ops.LayerNorm(h, g.Param(prefix+".embed_ln.g"), g.Param(prefix+".embed_ln.b"), e.Spec.LNEps)
}
