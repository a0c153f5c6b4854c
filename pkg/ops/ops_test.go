package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// opCase describes one op under test: input shapes and values, which inputs
// to differentiate, the graph builder and a naive plain-Go reference.
type opCase struct {
	name   string
	shapes []tensor.Shape
	vals   [][]float64 // nil entries are filled with N(0,1)
	diff   []bool
	build  func(in []*G.Node) (*G.Node, error)
	ref    func(in [][]float64) []float64
}

func randn(r *rand.Rand, n int, std float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = r.NormFloat64() * std
	}
	return v
}

// run builds the case in float64, returns the forward output and the
// gradients of sum(out * w) w.r.t. every differentiable input.
func (c opCase) run(t *testing.T, in [][]float64, w []float64) ([]float64, [][]float64) {
	t.Helper()
	g := G.NewGraph()
	nodes := make([]*G.Node, len(in))
	for i, v := range in {
		val := tensor.New(tensor.WithShape(c.shapes[i].Clone()...), tensor.WithBacking(append([]float64(nil), v...)))
		nodes[i] = G.NewTensor(g, tensor.Float64, c.shapes[i].Dims(), G.WithShape(c.shapes[i].Clone()...), G.WithName(fmt.Sprintf("in%d", i)), G.WithValue(val))
	}
	out, err := c.build(nodes)
	if err != nil {
		t.Fatal(err)
	}
	cost := out
	if !out.IsScalar() {
		wn := G.NewTensor(g, tensor.Float64, out.Dims(), G.WithShape(out.Shape().Clone()...), G.WithName("w"),
			G.WithValue(tensor.New(tensor.WithShape(out.Shape().Clone()...), tensor.WithBacking(w))))
		cost = G.Must(G.Sum(G.Must(G.HadamardProd(out, wn))))
	}
	var wrt G.Nodes
	for i, d := range c.diff {
		if d {
			wrt = append(wrt, nodes[i])
		}
	}
	grads, err := G.Grad(cost, wrt...)
	if err != nil {
		t.Fatal(err)
	}
	var outV G.Value
	G.Read(out, &outV)
	gv := make([]G.Value, len(grads))
	for i := range grads {
		G.Read(grads[i], &gv[i])
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	fwd := flat(outV)
	res := make([][]float64, len(in))
	j := 0
	for i, d := range c.diff {
		if d {
			res[i] = append([]float64(nil), flat(gv[j])...)
			j++
		}
	}
	return append([]float64(nil), fwd...), res
}

func flat(v G.Value) []float64 {
	switch x := v.(type) {
	case *G.F64:
		return []float64{float64(*x)}
	case tensor.Tensor:
		return x.Data().([]float64)
	}
	panic(fmt.Sprintf("unexpected %T", v))
}

func dot(a, b []float64) float64 {
	if len(b) == 0 {
		return a[0]
	}
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func relErr(a, b []float64) float64 {
	var num, den float64
	for i := range a {
		num = math.Max(num, math.Abs(a[i]-b[i]))
		den = math.Max(den, math.Abs(b[i]))
	}
	return num / math.Max(den, 1e-12)
}

// check compares the forward with the reference and every gradient entry
// with a float64 central difference of the reference (eps 1e-6).
func (c opCase) check(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	in := make([][]float64, len(c.shapes))
	for i, s := range c.shapes {
		if i < len(c.vals) && c.vals[i] != nil {
			in[i] = c.vals[i]
		} else {
			in[i] = randn(r, s.TotalSize(), 1)
		}
	}
	want := c.ref(in)
	var w []float64
	if len(want) > 1 {
		w = randn(r, len(want), 1)
	}
	got, grads := c.run(t, in, w)
	if e := relErr(got, want); e > 1e-12 {
		t.Fatalf("forward: rel err %.3g vs reference", e)
	}
	const eps = 1e-6
	for i, d := range c.diff {
		if !d {
			continue
		}
		fd := make([]float64, len(in[i]))
		for j := range in[i] {
			old := in[i][j]
			in[i][j] = old + eps
			p := dot(c.ref(in), w)
			in[i][j] = old - eps
			m := dot(c.ref(in), w)
			in[i][j] = old
			fd[j] = (p - m) / (2 * eps)
		}
		if e := relErr(grads[i], fd); e > 1e-6 {
			t.Errorf("input %d gradient: rel err %.3g vs finite differences", i, e)
		}
	}
}

func TestOps(t *testing.T) {
	for _, c := range cases() {
		t.Run(c.name, c.check)
	}
}

// TestEmitHandsOver: Emit's forward copies its input into dst and signals
// once per run without blocking, and a wrong-size dst or an unbuffered
// channel is refused.
func TestEmitHandsOver(t *testing.T) {
	g := G.NewGraph()
	xt := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6}))
	x := G.NodeFromAny(g, xt, G.WithName("x"))
	dst, ready := make([]float64, 6), make(chan struct{}, 1)
	y, err := Emit(x, dst, ready)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	for run := 0; run < 2; run++ { // the second signal finds the first unread: no block
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		vm.Reset()
	}
	select {
	case <-ready:
	default:
		t.Fatal("no signal")
	}
	if !slices.Equal(dst, xt.Data().([]float64)) || !slices.Equal(y.Value().Data().([]float64), dst) {
		t.Fatalf("dst %v, output %v, want the input", dst, y.Value())
	}
	if _, err := Emit(x, make([]float64, 5), ready); err == nil {
		t.Error("a 5-value destination for 6 values was accepted")
	}
	if _, err := Emit(x, dst, make(chan struct{})); err == nil {
		t.Error("an unbuffered channel was accepted")
	}
}
