package model

import (
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/d2v/d2v/pkg/ops"
)

// Audio is the speech local encoder of data2vec (wav2vec 2.0 backbone):
//
//	waveform (B*L, 1) -> len(Conv) x [Conv1d(no bias) -> LayerNorm(C) -> GELU]
//	                  -> LayerNorm(C) -> Linear(C, D)       = local features (B*T, D)
//
// one conv layer per (kernel, stride) row of Conv, all ConvDim channels wide
// (fairseq extractor_mode layer_norm; the wav2vec 2.0 table is
// config.Wav2VecConv). Its positions are the convolutional
// positional encoding, added to the masked features (see PosEncoder):
//
//	pos(h) = PosDepth x [Conv1d(D, D, k, pad k/2, PosGroups groups) -> LayerNorm(no affine) -> GELU]
//
// with k = max(3, PosWidth/PosDepth) (fairseq pos_conv_depth > 1; the base
// recipe has PosWidth 95, depth 5: k 19, groups 16). k must be odd, so that
// "same" padding keeps the length without fairseq's SamePad trim.
type Audio struct {
	Samples   int      // L, waveform samples per clip (fixed crop)
	Conv      [][2]int // (kernel, stride) of each feature-encoder conv layer
	ConvDim   int      // C, channels of every conv layer
	Dim       int      // D
	PosWidth  int
	PosGroups int
	PosDepth  int
	LNEps     float64
}

// NumTokens is the number of feature frames T for Samples through the conv
// layers: each gives (len - kernel)/stride + 1, and 0 once a layer's input
// is shorter than its kernel.
func (m Audio) NumTokens() int {
	l := m.Samples
	for _, ks := range m.Conv {
		if ks[0] < 1 || ks[1] < 1 || l < ks[0] {
			return 0
		}
		l = (l-ks[0])/ks[1] + 1
	}
	return l
}

// PosKernel is the kernel of each positional conv layer.
func (m Audio) PosKernel() int { return max(3, m.PosWidth/max(m.PosDepth, 1)) }

// Validate reports an impossible audio encoder.
func (m Audio) Validate() error {
	switch {
	case len(m.Conv) < 1:
		return fmt.Errorf("audio: no conv layer")
	case m.ConvDim < 1:
		return fmt.Errorf("audio: conv_dim must be >= 1, got %d", m.ConvDim)
	case m.PosDepth < 1 || m.PosGroups < 1 || m.Dim%m.PosGroups != 0:
		return fmt.Errorf("audio: pos_conv_depth %d must be >= 1 and pos_conv_groups %d must divide dim %d", m.PosDepth, m.PosGroups, m.Dim)
	case m.PosKernel()%2 == 0:
		return fmt.Errorf("audio: positional conv kernel max(3, pos_conv_width/pos_conv_depth) = %d must be odd", m.PosKernel())
	case m.NumTokens() < 2:
		return fmt.Errorf("audio: %d samples give %d frames through %d conv layers, need >= 2", m.Samples, m.NumTokens(), len(m.Conv))
	}
	return nil
}

func (m Audio) Name() string               { return "audio" }
func (m Audio) InputShape(batch int) []int { return []int{batch * m.Samples, 1} }
func (m Audio) PosTable() []float64        { return make([]float64, m.NumTokens()*m.Dim) }

func convName(prefix string, i int) string { return fmt.Sprintf("%s.fe.conv.%d", prefix, i) }
func posName(prefix string, i int) string  { return fmt.Sprintf("%s.pos_conv.%d", prefix, i) }

// Declare registers the feature encoder and the positional convolution.
func (m Audio) Declare(p *Params, prefix string) {
	cin := 1
	for i, ks := range m.Conv {
		c := convName(prefix, i)
		p.Add(c+".w", ks[0]*cin, m.ConvDim)
		p.Add(c+".ln.g", m.ConvDim)
		p.Add(c+".ln.b", m.ConvDim)
		cin = m.ConvDim
	}
	p.Add(prefix+".fe.ln.g", m.ConvDim)
	p.Add(prefix+".fe.ln.b", m.ConvDim)
	p.Add(prefix+".fe.proj.w", m.ConvDim, m.Dim)
	p.Add(prefix+".fe.proj.b", m.Dim)
	k := m.PosKernel()
	for i := 0; i < m.PosDepth; i++ {
		p.Add(posName(prefix, i)+".w", k*m.Dim/m.PosGroups, m.Dim)
		p.Add(posName(prefix, i)+".b", m.Dim)
	}
}

// Init follows fairseq: Kaiming-normal conv weights (std sqrt(2/fan_in)),
// unit LayerNorm gains, positional convs from N(0, 4/(k*D)) with zero bias;
// the projection is Xavier-uniform, as the patch projection.
func (m Audio) Init(p *Params, prefix string, _ float64, r *rand.Rand) {
	cin := 1
	for i, ks := range m.Conv {
		c := convName(prefix, i)
		p.Normal(c+".w", math.Sqrt(2/float64(ks[0]*cin)), r)
		p.Const(c+".ln.g", 1)
		cin = m.ConvDim
	}
	p.Const(prefix+".fe.ln.g", 1)
	p.XavierUniform(prefix+".fe.proj.w", r)
	k := m.PosKernel()
	for i := 0; i < m.PosDepth; i++ {
		p.Normal(posName(prefix, i)+".w", math.Sqrt(4/float64(k*m.Dim)), r)
	}
}

// Build runs the feature encoder: waveform (B*L, 1) -> (B*T, D).
func (m Audio) Build(g *Graph, prefix string, x *G.Node) (*G.Node, error) {
	batch := x.Shape()[0] / m.Samples
	h := x
	for i, ks := range m.Conv {
		c := convName(prefix, i)
		var err error
		conv := ops.Conv1D
		if i == 0 {
			conv = ops.Conv1DInput // the waveform: no input gradient
		}
		if h, err = conv(h, g.Param(c+".w"), g.Const("zeros", 0, m.ConvDim), batch, ks[1], 0, 1); err != nil {
			return nil, err
		}
		if h, err = ops.LayerNorm(h, g.Param(c+".ln.g"), g.Param(c+".ln.b"), m.LNEps); err != nil {
			return nil, err
		}
		if h, err = ops.GELU(h); err != nil {
			return nil, err
		}
	}
	h, err := ops.LayerNorm(h, g.Param(prefix+".fe.ln.g"), g.Param(prefix+".fe.ln.b"), m.LNEps)
	if err != nil {
		return nil, err
	}
	return ops.Linear(h, g.Param(prefix+".fe.proj.w"), g.Param(prefix+".fe.proj.b"))
}

// BuildPos is the convolutional positional encoding of the masked features
// h (B*T, D); Embedding adds it to h.
func (m Audio) BuildPos(g *Graph, prefix string, h *G.Node) (*G.Node, error) {
	batch := h.Shape()[0] / m.NumTokens()
	k := m.PosKernel()
	one, zero := g.Const("ones", 1, m.Dim), g.Const("zeros", 0, m.Dim)
	for i := 0; i < m.PosDepth; i++ {
		c := posName(prefix, i)
		var err error
		if h, err = ops.Conv1D(h, g.Param(c+".w"), g.Param(c+".b"), batch, 1, k/2, m.PosGroups); err != nil {
			return nil, err
		}
		if h, err = ops.LayerNorm(h, one, zero, m.LNEps); err != nil {
			return nil, err
		}
		if h, err = ops.GELU(h); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// PosEncoder is a modality whose positions depend on the input (speech's
// convolutional positional encoding): Embedding adds BuildPos of the
// masked local features instead of a position table.
type PosEncoder interface {
	BuildPos(g *Graph, prefix string, h *G.Node) (*G.Node, error)
}

// Const returns a constant node of the given shape filled with v, shared by
// name and shape within the graph; it is not a parameter and gets no update.
func (g *Graph) Const(name string, v float64, shape ...int) *G.Node {
	key := fmt.Sprintf("const.%s%v", name, shape)
	if n, ok := g.nodes[key]; ok {
		return n
	}
	t := tensor.New(tensor.Of(g.Dtype), tensor.WithShape(shape...))
	vals := make([]float64, t.Size())
	for i := range vals {
		vals[i] = v
	}
	setFloats(t, vals)
	n := G.NodeFromAny(g.G, t, G.WithName(key))
	g.nodes[key] = n
	return n
}
