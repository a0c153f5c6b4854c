package ops

import (
	"fmt"
	"hash"
	"hash/fnv"
	"unsafe"

	"github.com/chewxy/hm"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Float is the element type a kernel runs on.
type Float interface{ ~float32 | ~float64 }

// kernel is a fused function with its hand-written vector-Jacobian product.
// Shapes are fixed when the kernel is built (the graph is static).
type kernel interface {
	// name describes the kernel and every parameter that changes its result;
	// Gorgonia merges nodes whose op hashes and inputs are equal.
	name() string
	inShapes() []tensor.Shape
	outShape() tensor.Shape
	diff() []bool
	// fwd writes out from in; slices are all []float32 or all []float64.
	fwd(out any, in []any)
	// bwd overwrites gin[i] (nil where !diff()[i]) with d(loss)/d(in[i])
	// given gout = d(loss)/d(out).
	bwd(gin []any, in []any, out any, gout any)
}

// apply builds the node computing k on the given inputs.
func apply(k kernel, in ...*G.Node) (*G.Node, error) {
	want := k.inShapes()
	if len(in) != len(want) {
		return nil, fmt.Errorf("%s: want %d inputs, got %d", k.name(), len(want), len(in))
	}
	for i, n := range in {
		if !n.Shape().Eq(want[i]) {
			return nil, fmt.Errorf("%s: input %d (%s) has shape %v, want %v", k.name(), i, n.Name(), n.Shape(), want[i])
		}
	}
	return G.ApplyOp(fwdOp{k: k, buf: &buffer{}}, in...)
}

func typeOf(dims int) hm.Type {
	a := hm.TypeVariable('a')
	if dims == 0 {
		return a
	}
	return G.TensorType{Dims: dims, Of: a}
}

func hashOf(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

// buffer is a node's output memory, reused from one run to the next. Every
// value our ops return is consumed within the run (gorgonia.Read copies), our
// ops are immutable (ReturnsPtr false: Gorgonia gives them a fresh register
// and never writes into their output), and every kernel overwrites all of
// its output, so reusing the memory is safe and steady-state steps allocate
// almost nothing.
type buffer struct {
	dt    tensor.Dtype
	data  any
	in    inputCache   // the inputs' slices, boxed once
	out   wrapCache    // the output tensor, built once
	gin   []any        // bwdOp: per-input views of the packed gradient
	gsz   []int        // bwdOp: per-input gradient sizes (0: not differentiable)
	shape tensor.Shape // fwdOp: the output shape, once (outShape allocates)
}

// inputCache keeps the []any of a node's input slices from run to run:
// boxing a slice (and Gorgonia's reflect-based Dense.Data) allocates, and
// inputs are almost always the same memory every run (reused buffers,
// parameters, fixed inputs). An entry is rebuilt when its memory changes.
type inputCache struct {
	vals []any
	ptr  []uintptr
	n    []int
	dt   []tensor.Dtype
}

// wrapCache keeps the tensor a node returned last run; it is returned
// again while its memory, shape and dtype are unchanged.
type wrapCache struct{ t *tensor.Dense }

func (b *buffer) get(dt tensor.Dtype, n int) any {
	if b.data == nil || b.dt != dt {
		b.dt, b.data = dt, alloc(dt, n)
	}
	return b.data
}

// fwdOp adapts a kernel's forward to gorgonia.Op and gorgonia.SDOp.
type fwdOp struct {
	k   kernel
	buf *buffer
}

func (o fwdOp) Arity() int { return len(o.k.inShapes()) }
func (o fwdOp) Type() hm.Type {
	ts := make([]hm.Type, 0, o.Arity()+1)
	for _, s := range o.k.inShapes() {
		ts = append(ts, typeOf(s.Dims()))
	}
	ts = append(ts, typeOf(o.k.outShape().Dims()))
	return hm.NewFnType(ts...)
}
func (o fwdOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return o.k.outShape().Clone(), nil }
func (o fwdOp) ReturnsPtr() bool                               { return false }
func (o fwdOp) CallsExtern() bool                              { return false }
func (o fwdOp) OverwritesInput() int                           { return -1 }
func (o fwdOp) WriteHash(h hash.Hash)                          { fmt.Fprint(h, o.k.name()) }
func (o fwdOp) Hashcode() uint32                               { return hashOf(o.k.name()) }
func (o fwdOp) String() string                                 { return o.k.name() }
func (o fwdOp) DiffWRT(int) []bool                             { return o.k.diff() }

func (o fwdOp) Do(vals ...G.Value) (G.Value, error) {
	in, dt, err := o.buf.in.slices(o.k.name, vals)
	if err != nil {
		return nil, err
	}
	if o.buf.shape == nil {
		o.buf.shape = o.k.outShape()
	}
	shape := o.buf.shape
	out := o.buf.get(dt, shape.TotalSize())
	o.k.fwd(out, in)
	return o.buf.out.view(dt, shape, out, 0, shape.TotalSize()), nil
}

// SymDiff emits one node computing every input gradient (packed in a vector)
// and one unpack node per differentiable input.
func (o fwdOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	children := append(append(G.Nodes{}, inputs...), output, grad)
	packed, err := G.ApplyOp(bwdOp{k: o.k, buf: &buffer{}}, children...)
	if err != nil {
		return nil, fmt.Errorf("%s backward: %w", o.k.name(), err)
	}
	res := make(G.Nodes, len(inputs))
	off := 0
	for i, d := range o.k.diff() {
		if !d {
			continue
		}
		s := o.k.inShapes()[i]
		if res[i], err = G.ApplyOp(unpackOp{off: off, shape: s, total: packedSize(o.k), c: &unpackCache{}}, packed); err != nil {
			return nil, err
		}
		off += s.TotalSize()
	}
	return res, nil
}

func packedSize(k kernel) int {
	n := 0
	for i, d := range k.diff() {
		if d {
			n += k.inShapes()[i].TotalSize()
		}
	}
	return n
}

// bwdOp computes all input gradients of a kernel into one packed vector.
type bwdOp struct {
	k   kernel
	buf *buffer
}

func (o bwdOp) Arity() int { return len(o.k.inShapes()) + 2 }
func (o bwdOp) Type() hm.Type {
	ts := make([]hm.Type, 0, o.Arity()+1)
	for _, s := range o.k.inShapes() {
		ts = append(ts, typeOf(s.Dims()))
	}
	od := typeOf(o.k.outShape().Dims())
	ts = append(ts, od, od, typeOf(1))
	return hm.NewFnType(ts...)
}
func (o bwdOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{packedSize(o.k)}, nil
}
func (o bwdOp) ReturnsPtr() bool      { return false }
func (o bwdOp) CallsExtern() bool     { return false }
func (o bwdOp) OverwritesInput() int  { return -1 }
func (o bwdOp) WriteHash(h hash.Hash) { fmt.Fprint(h, "∂", o.k.name()) }
func (o bwdOp) Hashcode() uint32      { return hashOf("∂" + o.k.name()) }
func (o bwdOp) String() string        { return "∂" + o.k.name() }

func (o bwdOp) Do(vals ...G.Value) (G.Value, error) {
	b := o.buf
	all, dt, err := b.in.slices(func() string { return "∂" + o.k.name() }, vals)
	if err != nil {
		return nil, err
	}
	if b.gsz == nil { // the layout, once: inShapes and diff allocate
		diff := o.k.diff()
		for i, s := range o.k.inShapes() {
			sz := 0
			if diff[i] {
				sz = s.TotalSize()
			}
			b.gsz = append(b.gsz, sz)
		}
	}
	n := len(b.gsz)
	total := 0
	for _, sz := range b.gsz {
		total += sz
	}
	fresh := b.data == nil || b.dt != dt // get allocates: the views below must follow
	packed := b.get(dt, total)
	if fresh || b.gin == nil {
		b.gin = make([]any, n)
		off := 0
		for i, sz := range b.gsz {
			if sz > 0 {
				b.gin[i] = sub(packed, off, off+sz)
				off += sz
			}
		}
	}
	o.k.bwd(b.gin, all[:n], all[n], all[n+1])
	return b.out.view(dt, tensor.Shape{total}, packed, 0, total), nil
}

// unpackOp exposes one input's gradient inside a packed vector.
type unpackOp struct {
	off, total int
	shape      tensor.Shape
	c          *unpackCache // per node: excluded from the hash (WriteHash uses String)
}

type unpackCache struct {
	in  inputCache
	out wrapCache
}

func (o unpackOp) Arity() int    { return 1 }
func (o unpackOp) Type() hm.Type { return hm.NewFnType(typeOf(1), typeOf(o.shape.Dims())) }
func (o unpackOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return o.shape.Clone(), nil
}
func (o unpackOp) ReturnsPtr() bool      { return false }
func (o unpackOp) CallsExtern() bool     { return false }
func (o unpackOp) OverwritesInput() int  { return -1 }
func (o unpackOp) WriteHash(h hash.Hash) { fmt.Fprint(h, o.String()) }
func (o unpackOp) Hashcode() uint32      { return hashOf(o.String()) }
func (o unpackOp) String() string {
	return fmt.Sprintf("unpack[%d:%d of %d]%v", o.off, o.off+o.shape.TotalSize(), o.total, o.shape)
}

// Do returns a view of the packed vector (no copy): the packed memory is the
// backward node's reused buffer, rewritten in full by the next run.
func (o unpackOp) Do(vals ...G.Value) (G.Value, error) {
	c := o.c
	if c == nil {
		c = &unpackCache{}
	}
	in, dt, err := c.in.slices(o.String, vals)
	if err != nil {
		return nil, err
	}
	return c.out.view(dt, o.shape, in[0], o.off, o.off+o.shape.TotalSize()), nil
}

// sameView reports whether t's memory is s[lo:hi].
func sameView(t *tensor.Dense, s any, lo, hi int) bool {
	if t.DataSize() != hi-lo {
		return false
	}
	switch x := s.(type) {
	case []float32:
		return hi > lo && t.Uintptr() == uintptr(unsafe.Pointer(&x[lo]))
	case []float64:
		return hi > lo && t.Uintptr() == uintptr(unsafe.Pointer(&x[lo]))
	}
	return false
}

// slices extracts the backing slices of tensors and scalars; all must share
// a dtype. op names the node in errors (called only then: names allocate).
// The returned slice is c's, valid until the next call.
func (c *inputCache) slices(op func() string, vals []G.Value) ([]any, tensor.Dtype, error) {
	if len(c.vals) != len(vals) {
		c.vals = make([]any, len(vals))
		c.ptr = make([]uintptr, len(vals))
		c.n = make([]int, len(vals))
		c.dt = make([]tensor.Dtype, len(vals))
	}
	out := c.vals
	var dt tensor.Dtype
	for i, v := range vals {
		switch x := v.(type) {
		case *tensor.Dense:
			if !x.IsNativelyAccessible() || x.RequiresIterator() {
				return nil, dt, fmt.Errorf("%s: input %d is not a contiguous tensor", op(), i)
			}
			if x.IsScalar() {
				out[i], c.ptr[i] = x.Data(), 0
				break
			}
			if p, n := x.Uintptr(), x.DataSize(); c.ptr[i] != p || c.n[i] != n || c.dt[i] != x.Dtype() || out[i] == nil {
				out[i], c.ptr[i], c.n[i], c.dt[i] = x.Data(), p, n, x.Dtype()
			}
		case tensor.Tensor:
			if !x.IsNativelyAccessible() || x.RequiresIterator() {
				return nil, dt, fmt.Errorf("%s: input %d is not a contiguous tensor", op(), i)
			}
			out[i], c.ptr[i] = x.Data(), 0
		case *G.F32:
			out[i], c.ptr[i] = []float32{float32(*x)}, 0
		case *G.F64:
			out[i], c.ptr[i] = []float64{float64(*x)}, 0
		default:
			return nil, dt, fmt.Errorf("%s: input %d has unsupported type %T", op(), i, v)
		}
		var d tensor.Dtype
		switch out[i].(type) {
		case []float32:
			d = tensor.Float32
		case []float64:
			d = tensor.Float64
		default:
			return nil, dt, fmt.Errorf("%s: input %d has dtype %T, want float32 or float64", op(), i, out[i])
		}
		if i == 0 {
			dt = d
		} else if d != dt {
			return nil, dt, fmt.Errorf("%s: input %d is %v, input 0 is %v", op(), i, d, dt)
		}
	}
	return out, dt, nil
}

func alloc(dt tensor.Dtype, n int) any {
	if dt == tensor.Float32 {
		return make([]float32, n)
	}
	return make([]float64, n)
}

func sub(s any, lo, hi int) any {
	if v, ok := s.([]float32); ok {
		return v[lo:hi]
	}
	return s.([]float64)[lo:hi]
}

func wrap(dt tensor.Dtype, shape tensor.Shape, data any) G.Value {
	if shape.IsScalar() {
		if dt == tensor.Float32 {
			return G.NewF32(data.([]float32)[0])
		}
		return G.NewF64(data.([]float64)[0])
	}
	return tensor.New(tensor.WithShape(shape.Clone()...), tensor.WithBacking(data))
}

// view returns data[lo:hi] as a tensor of shape: last run's tensor while
// it is still that memory with that shape and dtype (nothing resized or
// re-pointed it), else a new one (slicing data boxes, so only then).
func (c *wrapCache) view(dt tensor.Dtype, shape tensor.Shape, data any, lo, hi int) G.Value {
	if shape.IsScalar() {
		return wrap(dt, shape, sub(data, lo, hi))
	}
	if t := c.t; t != nil && t.Dtype() == dt && t.Shape().Eq(shape) && sameView(t, data, lo, hi) {
		return t
	}
	v := wrap(dt, shape, sub(data, lo, hi))
	c.t, _ = v.(*tensor.Dense)
	return v
}

// dispatch runs f32 or f64 depending on the slice type of probe.
func dispatch(probe any, f32 func(), f64 func()) {
	if _, ok := probe.([]float32); ok {
		f32()
		return
	}
	f64()
}

// as converts an any holding []T (or nil) to []T.
func as[T Float](s any) []T {
	if s == nil {
		return nil
	}
	return s.([]T)
}
