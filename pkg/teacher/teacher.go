package teacher

import (
	"fmt"
	"math"
	"strings"

	"github.com/d2v/d2v/internal/par"
	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/vmath"
)

// Decay is the EMA decay after `updates` optimiser steps: linear from start
// to end over `anneal` updates, then end (fairseq get_annealed_rate,
// evaluated with the number of updates completed, this one included).
func Decay(start, end float64, updates, anneal int) float64 {
	if anneal <= 0 || updates >= anneal {
		return end
	}
	return end - (end-start)*(1-float64(updates)/float64(anneal))
}

// Pairs lists (teacher name, student name) for every teacher parameter and
// checks that each has a student twin of the same shape.
func Pairs(t, s *model.Params) ([][2]string, error) {
	var out [][2]string
	for _, tn := range t.Names() {
		rest, ok := strings.CutPrefix(tn, "teacher.")
		if !ok {
			return nil, fmt.Errorf("teacher: parameter %q lacks the teacher. prefix", tn)
		}
		sn := "student." + rest
		st := s.Get(sn)
		if st == nil {
			return nil, fmt.Errorf("teacher: %q has no student twin %q", tn, sn)
		}
		if !st.Shape().Eq(t.Get(tn).Shape()) {
			return nil, fmt.Errorf("teacher: %q has shape %v, student %q has %v", tn, t.Get(tn).Shape(), sn, st.Shape())
		}
		out = append(out, [2]string{tn, sn})
	}
	return out, nil
}

// Update sets teacher = d*teacher + (1-d)*student in place for every pair.
// d = 1 freezes the teacher; d = 0 copies the student.
func Update(t, s *model.Params, pairs [][2]string, d float64) {
	sizes := make([]int, len(pairs))
	for i, p := range pairs {
		sizes[i] = t.Get(p[0]).Shape().TotalSize()
	}
	// element-wise, so the blocks only spread the work over the cores
	par.ForBlocks(sizes, 1<<14, func(_, i, lo, hi int) {
		p := pairs[i]
		switch tv := t.Data(p[0]).(type) {
		case []float32:
			vmath.EMA(tv[lo:hi], s.Data(p[1]).([]float32)[lo:hi], float32(d), float32(1-d))
		case []float64:
			sv := s.Data(p[1]).([]float64)
			for j := lo; j < hi; j++ {
				tv[j] = d*tv[j] + (1-d)*sv[j]
			}
		}
	})
}

// Norm is a parameter-free target normalisation.
type Norm string

const (
	NormLayer    Norm = "layer"    // over the D features of each (b, t)
	NormInstance Norm = "instance" // over the T positions of each (b, channel)
	NormNone     Norm = "none"
)

// Float is float32 or float64.
type Float interface{ ~float32 | ~float64 }

// normalize applies n in place to x (B, T, D); biased variance, eps as torch.
func normalize[F Float](x []F, b, t, d int, n Norm, eps float64) {
	switch n {
	case NormLayer:
		for r := 0; r < b*t; r++ {
			NormStrided(x[r*d:], d, 1, eps)
		}
	case NormInstance:
		for s := 0; s < b; s++ {
			for c := 0; c < d; c++ {
				NormStrided(x[s*t*d+c:], t, d, eps)
			}
		}
	}
}

// NormStrided normalises the n values x[0], x[stride], ... to zero mean and
// unit variance, with float64 two-pass statistics: the parameter-free norm of
// the targets (a row for layer norm, a channel over time for instance norm).
func NormStrided[F Float](x []F, n, stride int, eps float64) {
	var mean float64
	for i := 0; i < n; i++ {
		mean += float64(x[i*stride])
	}
	mean /= float64(n)
	var v float64
	for i := 0; i < n; i++ {
		dv := float64(x[i*stride]) - mean
		v += dv * dv
	}
	r := 1 / math.Sqrt(v/float64(n)+eps)
	for i := 0; i < n; i++ {
		x[i*stride] = F((float64(x[i*stride]) - mean) * r)
	}
}

// TargetSpec says how targets are built from the teacher's layers.
type TargetSpec struct {
	TopK             int
	LayerNorm, Final Norm
	Eps              float64
}

// Averaged is the number of the n top layers averaged into the targets:
// TopK, at most n (the one place the top-K is clamped; step.New rejects a
// TopK outside [1, depth], config.Validate a teacher.top_k outside it).
func (s TargetSpec) Averaged(n int) int { return min(s.TopK, n) }

// Targets averages the last TopK of layers (each (B*T*D), normalised by
// LayerNorm), applies Final, and returns the rows at masked positions
// (row-major b outer, t inner) as (M, D). It does not modify layers.
func Targets[F Float](layers [][]F, b, t, d int, spec TargetSpec, mask []bool) []F {
	var buf Buffers[F]
	return buf.Targets(layers, b, t, d, spec, mask)
}

// Buffers is Targets' working memory, kept from one step to the next so
// that steady-state target building allocates nothing.
type Buffers[F Float] struct{ avg, tmp, out []F }

// Targets is the package's Targets in buf's memory: the result is valid
// until the next call.
func (buf *Buffers[F]) Targets(layers [][]F, b, t, d int, spec TargetSpec, mask []bool) []F {
	k := spec.Averaged(len(layers))
	n := b * t * d
	if cap(buf.avg) < n {
		buf.avg, buf.tmp = make([]F, n), make([]F, n)
	}
	avg, tmp := buf.avg[:n], buf.tmp[:n]
	clear(avg)
	for _, l := range layers[len(layers)-k:] {
		copy(tmp, l)
		normalize(tmp, b, t, d, spec.LayerNorm, spec.Eps)
		for i, v := range tmp {
			avg[i] += v
		}
	}
	inv := 1 / F(k)
	for i := range avg {
		avg[i] *= inv
	}
	normalize(avg, b, t, d, spec.Final, spec.Eps)
	out := buf.out[:0]
	for r, m := range mask {
		if m {
			out = append(out, avg[r*d:(r+1)*d]...)
		}
	}
	buf.out = out
	return out
}

// Std is the collapse statistic of fairseq's compute_var: the per-feature
// standard deviation over the n rows of x (n, d) (unbiased, +1e-6 inside the
// root), averaged over features.
func Std[F Float](x []F, n, d int) float64 {
	if n < 2 {
		return 0
	}
	var total float64
	for c := 0; c < d; c++ {
		var mean float64
		for r := 0; r < n; r++ {
			mean += float64(x[r*d+c])
		}
		mean /= float64(n)
		var v float64
		for r := 0; r < n; r++ {
			dv := float64(x[r*d+c]) - mean
			v += dv * dv
		}
		total += math.Sqrt(v/float64(n-1) + 1e-6)
	}
	return total / float64(d)
}
