package graphrun

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Cache returns a graph value's backing slice, boxed once: Gorgonia's
// Dense.Data goes through reflect and allocates, and a node's value is the
// same memory from run to run (ops reuse their buffers).
type Cache struct {
	ptr uintptr
	n   int
	v   any
}

// Of returns v's backing slice, the boxed one from the last call when the memory is the same.
func (c *Cache) Of(v G.Value) any {
	t, ok := v.(*tensor.Dense)
	if !ok || t.IsScalar() {
		return ValueData(v)
	}
	if p, n := t.Uintptr(), t.DataSize(); c.v == nil || p != c.ptr || n != c.n {
		c.v, c.ptr, c.n = t.Data(), p, n
	}
	return c.v
}

// Fill copies src ([]float32 or []float64) into t, converting the dtype.
func Fill(t *tensor.Dense, src any) error { return FillData(t.Data(), src) }

// FillData copies src into dst ([]float32 or []float64), converting the dtype.
func FillData(dst, src any) error {
	switch dst := dst.(type) {
	case []float32:
		return convert(dst, src)
	case []float64:
		return convert(dst, src)
	}
	return fmt.Errorf("unsupported tensor type %T", dst)
}

func convert[D float32 | float64](dst []D, src any) error {
	switch s := src.(type) {
	case []float32:
		return copyAs(dst, s)
	case []float64:
		return copyAs(dst, s)
	}
	return fmt.Errorf("unsupported input type %T", src)
}

func copyAs[D, S float32 | float64](dst []D, src []S) error {
	if len(src) != len(dst) {
		return fmt.Errorf("input has %d values, want %d", len(src), len(dst))
	}
	for i, v := range src {
		dst[i] = D(v)
	}
	return nil
}

// ValueData is v's values as a slice ([]float32 or []float64; a scalar as one value).
func ValueData(v G.Value) any {
	switch x := v.(type) {
	case *G.F32:
		return []float32{float32(*x)}
	case *G.F64:
		return []float64{float64(*x)}
	case tensor.Tensor:
		return x.Data()
	}
	return nil
}

// Scalar is a scalar value as float64 (0 for anything else).
func Scalar(v G.Value) float64 {
	switch x := v.(type) {
	case *G.F32:
		return float64(*x)
	case *G.F64:
		return float64(*x)
	}
	return 0
}

// ZerosLike makes a zero slice of the type and length of s ([]float32 or []float64).
func ZerosLike(s any) any {
	if x, ok := s.([]float32); ok {
		return make([]float32, len(x))
	}
	return make([]float64, len(s.([]float64)))
}

// ZerosLikeAll makes a zero slice shaped like each of gs.
func ZerosLikeAll(gs []any) []any {
	out := make([]any, len(gs))
	for i, g := range gs {
		out[i] = ZerosLike(g)
	}
	return out
}

// Concat appends the parts' values, in order, to buf[:0] (buf may be
// nil: a new slice), so a buffer kept from the last pass is reused.
func Concat(buf any, vs []any) any {
	switch vs[0].(type) {
	case []float32:
		out, _ := buf.([]float32)
		return concatOf(out[:0], vs)
	default:
		out, _ := buf.([]float64)
		return concatOf(out[:0], vs)
	}
}

func concatOf[F float32 | float64](out []F, vs []any) []F {
	for _, v := range vs {
		out = append(out, v.([]F)...)
	}
	return out
}
