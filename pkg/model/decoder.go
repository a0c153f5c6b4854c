package model

import (
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/d2v/d2v/pkg/ops"
)

// DecoderKind is the data2vec 2.0 decoder's convolution: over the T
// positions in order (text, speech) or over the patch grid (images).
type DecoderKind string

const (
	Decoder1D DecoderKind = "1d" // fairseq Decoder1d: Conv1d over T
	Decoder2D DecoderKind = "2d" // fairseq Decoder2d: Conv2d over a sqrt(T) x sqrt(T) grid
)

// Valid reports whether k is a known kind.
func (k DecoderKind) Valid() bool { return k == Decoder1D || k == Decoder2D }

// DecoderPrefix is the name prefix of every decoder parameter; the names are
// the checkpoint keys and the reference fixture's (decoder.conv.0.w, ...).
const DecoderPrefix = "decoder"

// Decoder is data2vec 2.0's light convolutional decoder (fairseq
// modalities/modules.py Decoder1d / Decoder2d), student-only, dropped
// downstream. It mirrors the PyTorch reference's ConvDecoder:
//
//	x (N*T, D): the decoder input, row r*T+t = position t of clone r (Input
//	            builds it: the student's visible outputs put back at their
//	            positions, decoder.mask_emb in every masked slot)
//	for i < Layers:
//	    z = conv_i(x)      grouped "same" conv, Cin -> Dd channels, Cin = D
//	                       for i = 0 else Dd; kernel K (K x K over the grid
//	                       in 2-D, position t = row t/side, column t%side);
//	                       an even K trims the last step (row and column)
//	    z = GELU(LN(z))    LayerNorm over the Dd channels without affine
//	                       (eps LNEps), exact erf GELU
//	    z = z + x          when Residual and x has Dd channels: layer 0 has
//	                       no residual when D != Dd
//	    x = z
//	y = x @ proj.0.w + proj.0.b                          ProjLayers 1: Dd -> D
//	y = GELU(x @ proj.0.w + proj.0.b) @ proj.1.w + ...   ProjLayers 2: Dd -> 2Dd -> D
//
// There is no input projection (fairseq has none). Parameters, all under
// DecoderPrefix, in this order:
//
//	decoder.mask_emb   (D)                 fill of the masked slots
//	decoder.conv.{i}.w (Dd, Cin/g, K)      1-D, PyTorch's Conv1d layout
//	                   (Dd, Cin/g, K, K)   2-D, PyTorch's Conv2d layout
//	decoder.conv.{i}.b (Dd)
//	decoder.proj.{j}.w (in, out)           stored (in, out): y = x @ W + b
//	decoder.proj.{j}.b (out)
//
// Use: d.Validate(), d.Declare(p) and d.Init(p, rng) once; per graph
// x, err := d.Input(g, studentOut, place) (place from ops.CloneIndex),
// then y, err := d.Build(g, x).
type Decoder struct {
	Kind       DecoderKind
	Dim        int     // D: encoder width, the decoder's input and output channels
	DecDim     int     // Dd: channels of every conv layer
	Kernel     int     // K, >= 1 (odd in every recipe)
	Groups     int     // g: divides D and Dd
	Layers     int     // number of conv layers, >= 1
	Residual   bool    // fairseq decoder_residual (off in the text recipes)
	ProjLayers int     // 1, or 2 (1-D only, as fairseq)
	Positions  int     // T per row; 2-D: a perfect square
	LNEps      float64 // LayerNorm epsilon (1e-5 as the reference)
}

// Side is the grid side sqrt(T) of a 2-D decoder (0 when T is not a square).
func (d Decoder) Side() int {
	s := int(math.Sqrt(float64(d.Positions)) + 0.5)
	if s*s != d.Positions {
		return 0
	}
	return s
}

// Validate reports a decoder that cannot be built, naming the setting.
func (d Decoder) Validate() error {
	switch {
	case !d.Kind.Valid():
		return fmt.Errorf("decoder: kind must be 1d or 2d, got %q", d.Kind)
	case d.Dim < 1 || d.DecDim < 1 || d.Kernel < 1 || d.Layers < 1 || d.Positions < 1:
		return fmt.Errorf("decoder: dim %d, dec_dim %d, kernel %d, layers %d and positions %d must all be >= 1", d.Dim, d.DecDim, d.Kernel, d.Layers, d.Positions)
	case d.Groups < 1 || d.Dim%d.Groups != 0 || d.DecDim%d.Groups != 0:
		return fmt.Errorf("decoder: groups %d must divide dim %d and dec_dim %d", d.Groups, d.Dim, d.DecDim)
	case d.ProjLayers != 1 && d.ProjLayers != 2:
		return fmt.Errorf("decoder: proj_layers must be 1 or 2, got %d", d.ProjLayers)
	case d.Kind == Decoder2D && d.ProjLayers != 1:
		return fmt.Errorf("decoder: a 2d decoder has one projection layer (fairseq Decoder2d), got proj_layers %d", d.ProjLayers)
	case d.Kind == Decoder2D && d.Side() == 0:
		return fmt.Errorf("decoder: a 2d decoder needs a square number of positions, got %d", d.Positions)
	case d.LNEps <= 0:
		return fmt.Errorf("decoder: ln_eps must be > 0, got %g", d.LNEps)
	}
	return nil
}

func decConv(i int) string { return fmt.Sprintf("%s.conv.%d", DecoderPrefix, i) }
func decProj(j int) string { return fmt.Sprintf("%s.proj.%d", DecoderPrefix, j) }

// MaskEmbName is the name of the learned mask vector.
const MaskEmbName = DecoderPrefix + ".mask_emb"

// projDims lists the (in, out) of each projection layer (fairseq
// projection_layers with projection_ratio 2: the first one doubles).
func (d Decoder) projDims() [][2]int {
	var dims [][2]int
	cur := d.DecDim
	for j := 0; j < d.ProjLayers-1; j++ {
		nxt := cur
		if j == 0 {
			nxt = 2 * cur
		}
		dims = append(dims, [2]int{cur, nxt})
		cur = nxt
	}
	return append(dims, [2]int{cur, d.Dim})
}

// convIn is the input channel count of conv layer i.
func (d Decoder) convIn(i int) int {
	if i == 0 {
		return d.Dim
	}
	return d.DecDim
}

// Declare registers the decoder's parameters (see Decoder) in p.
func (d Decoder) Declare(p *Params) {
	p.Add(MaskEmbName, d.Dim)
	for i := 0; i < d.Layers; i++ {
		shape := []int{d.DecDim, d.convIn(i) / d.Groups, d.Kernel}
		if d.Kind == Decoder2D {
			shape = append(shape, d.Kernel)
		}
		p.Add(decConv(i)+".w", shape...)
		p.Add(decConv(i)+".b", d.DecDim)
	}
	for j, io := range d.projDims() {
		p.Add(decProj(j)+".w", io[0], io[1])
		p.Add(decProj(j)+".b", io[1])
	}
}

// Init draws the mask vector from N(0, 0.01^2) (the reference's stand-in
// for fairseq's N(0, 0.01) noise) and every conv and projection weight and
// bias from PyTorch's default U(-1/sqrt(fan_in), 1/sqrt(fan_in)): fairseq
// leaves the convs at that default and resets the projections to it
// (Decoder reset_parameters). fan_in is Cin/g * K (K*K in 2-D) for a conv
// and `in` for a projection.
func (d Decoder) Init(p *Params, r *rand.Rand) {
	p.Normal(MaskEmbName, 0.01, r)
	uniform := func(name string, fanIn int) {
		a := 1 / math.Sqrt(float64(fanIn))
		p.fill(name, func() float64 { return (2*r.Float64() - 1) * a })
	}
	taps := d.Kernel
	if d.Kind == Decoder2D {
		taps *= d.Kernel
	}
	for i := 0; i < d.Layers; i++ {
		fan := d.convIn(i) / d.Groups * taps
		uniform(decConv(i)+".w", fan)
		uniform(decConv(i)+".b", fan)
	}
	for j, io := range d.projDims() {
		uniform(decProj(j)+".w", io[0])
		uniform(decProj(j)+".b", io[0])
	}
}

// Input builds the decoder input (N*T, D) from the student output studentOut
// (N*(E+K), D) and place (N*T), ops.CloneIndex's decoder index: each row is
// the student row it names, or decoder.mask_emb where it is -1 (masked).
func (d Decoder) Input(g *Graph, studentOut, place *G.Node) (*G.Node, error) {
	x, err := ops.GatherFill(studentOut, g.Param(MaskEmbName), place)
	if err != nil {
		return nil, fmt.Errorf("%s input: %w", DecoderPrefix, err)
	}
	return x, nil
}

// Build runs the decoder on x (N*T, D), N rows of d.Positions positions,
// and returns the predictions (N*T, D).
func (d Decoder) Build(g *Graph, x *G.Node) (y *G.Node, err error) {
	if x.Dims() != 2 || x.Shape()[1] != d.Dim || x.Shape()[0]%d.Positions != 0 {
		return nil, fmt.Errorf("%s: input %v is not (N*%d, %d)", DecoderPrefix, x.Shape(), d.Positions, d.Dim)
	}
	n := x.Shape()[0] / d.Positions
	where := DecoderPrefix
	defer func() {
		if r := recover(); r != nil {
			y, err = nil, fmt.Errorf("%s: %v", where, r)
		}
	}()
	one, zero := g.Const("ones", 1, d.DecDim), g.Const("zeros", 0, d.DecDim)
	for i := 0; i < d.Layers; i++ {
		c := decConv(i)
		where = c
		var z *G.Node
		if d.Kind == Decoder2D {
			z = G.Must(ops.ConvSame2D(x, g.Param(c+".w"), g.Param(c+".b"), n, d.Side(), d.Side(), d.Groups))
		} else {
			z = G.Must(ops.ConvSame1D(x, g.Param(c+".w"), g.Param(c+".b"), n, d.Groups))
		}
		z = G.Must(ops.GELU(G.Must(ops.LayerNorm(z, one, zero, d.LNEps))))
		if d.Residual && d.convIn(i) == d.DecDim {
			z = G.Must(ops.Add(z, x))
		}
		x = z
	}
	dims := d.projDims()
	for j := range dims {
		where = decProj(j)
		x = G.Must(lin(g, decProj(j), x))
		if j+1 < len(dims) {
			x = G.Must(ops.GELU(x))
		}
	}
	return x, nil
}
