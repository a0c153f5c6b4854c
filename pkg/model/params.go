package model

import (
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Params is an ordered registry of named parameter tensors of one dtype.
type Params struct {
	Dtype  tensor.Dtype
	order  []string
	byName map[string]*tensor.Dense
	data   map[string]any // each tensor's backing slice, boxed once (Dense.Data allocates)
}

// NewParams returns an empty registry for float32 or float64 tensors.
func NewParams(dt tensor.Dtype) *Params {
	return &Params{Dtype: dt, byName: map[string]*tensor.Dense{}, data: map[string]any{}}
}

// Add registers a zero tensor; a duplicate name panics (a programming error:
// Gorgonia would silently tie two nodes with the same name and shape).
func (p *Params) Add(name string, shape ...int) *tensor.Dense {
	if _, ok := p.byName[name]; ok {
		panic(fmt.Sprintf("model: duplicate parameter %q", name))
	}
	t := tensor.New(tensor.Of(p.Dtype), tensor.WithShape(shape...))
	p.order = append(p.order, name)
	p.byName[name] = t
	p.data[name] = t.Data()
	return t
}

// Data returns the backing slice ([]float32 or []float64) of the tensor
// named name, or nil; it does not allocate.
func (p *Params) Data(name string) any { return p.data[name] }

// Get returns the tensor named name, or nil.
func (p *Params) Get(name string) *tensor.Dense { return p.byName[name] }

// Names lists the parameters in registration order.
func (p *Params) Names() []string { return append([]string(nil), p.order...) }

// Len is the number of parameter tensors.
func (p *Params) Len() int { return len(p.order) }

// Count is the number of scalar parameters whose names satisfy keep (all if nil).
func (p *Params) Count(keep func(string) bool) int {
	n := 0
	for _, name := range p.order {
		if keep == nil || keep(name) {
			n += p.byName[name].Shape().TotalSize()
		}
	}
	return n
}

// Float32s returns the backing slice of a float32 parameter.
func (p *Params) Float32s(name string) []float32 { return p.data[name].([]float32) }

// Set fills a parameter from float64 values (any dtype), checking the size.
func (p *Params) Set(name string, v []float64) error {
	t := p.byName[name]
	if t == nil {
		return fmt.Errorf("model: no parameter %q", name)
	}
	if len(v) != t.Shape().TotalSize() {
		return fmt.Errorf("model: %q has %d values, got %d", name, t.Shape().TotalSize(), len(v))
	}
	setFloats(t, v)
	return nil
}

// setFloats copies float64 values into a float32 or float64 tensor.
func setFloats(t *tensor.Dense, v []float64) {
	switch d := t.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32(v[i])
		}
	case []float64:
		copy(d, v)
	}
}

// Values returns a float64 copy of a parameter.
func (p *Params) Values(name string) []float64 {
	switch d := p.byName[name].Data().(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	case []float64:
		return append([]float64(nil), d...)
	}
	return nil
}

// fill sets a parameter with f(i).
func (p *Params) fill(name string, f func() float64) {
	switch d := p.byName[name].Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32(f())
		}
	case []float64:
		for i := range d {
			d[i] = f()
		}
	}
}

// TruncNormal fills a parameter from N(0, std^2) truncated at +-2 std.
func (p *Params) TruncNormal(name string, std float64, r *rand.Rand) {
	p.fill(name, func() float64 {
		for {
			if v := r.NormFloat64(); math.Abs(v) <= 2 {
				return v * std
			}
		}
	})
}

// Normal fills a parameter from N(0, std^2), untruncated (torch's normal_
// and kaiming_normal_).
func (p *Params) Normal(name string, std float64, r *rand.Rand) {
	p.fill(name, func() float64 { return r.NormFloat64() * std })
}

// XavierUniform fills a (fan_in, fan_out) weight from U(-a, a) with
// a = sqrt(6/(fan_in+fan_out)) (Glorot & Bengio 2010).
func (p *Params) XavierUniform(name string, r *rand.Rand) {
	s := p.byName[name].Shape()
	a := math.Sqrt(6 / float64(s[0]+s[1]))
	p.fill(name, func() float64 { return (2*r.Float64() - 1) * a })
}

// Const fills a parameter with c.
func (p *Params) Const(name string, c float64) { p.fill(name, func() float64 { return c }) }

// Graph is one Gorgonia graph with nodes bound to registry tensors.
type Graph struct {
	G     *G.ExprGraph
	Dtype tensor.Dtype
	nodes map[string]*G.Node
	srcs  []*Params
}

// NewGraph starts a graph whose parameter nodes come from the given
// registries (searched in order).
func NewGraph(dt tensor.Dtype, srcs ...*Params) *Graph {
	return &Graph{G: G.NewGraph(), Dtype: dt, nodes: map[string]*G.Node{}, srcs: srcs}
}

// Param returns the node bound to the named parameter, creating it once.
// The node shares the tensor's memory: in-place updates are seen by the graph.
func (g *Graph) Param(name string) *G.Node {
	if n, ok := g.nodes[name]; ok {
		return n
	}
	for _, p := range g.srcs {
		if t := p.Get(name); t != nil {
			n := G.NodeFromAny(g.G, t, G.WithName(name))
			g.nodes[name] = n
			return n
		}
	}
	panic(fmt.Sprintf("model: graph has no parameter %q", name))
}

// Input creates a named input node bound to a new zero tensor of the given
// shape; callers overwrite its backing slice in place before each run.
func (g *Graph) Input(name string, shape ...int) (*G.Node, *tensor.Dense) {
	t := tensor.New(tensor.Of(g.Dtype), tensor.WithShape(shape...))
	return G.NodeFromAny(g.G, t, G.WithName(name)), t
}

// Nodes returns the parameter nodes for names, in that order (the order in
// which gradients are requested and the optimiser sees them).
func (g *Graph) Nodes(names []string) G.Nodes {
	out := make(G.Nodes, len(names))
	for i, n := range names {
		out[i] = g.Param(n)
	}
	return out
}
