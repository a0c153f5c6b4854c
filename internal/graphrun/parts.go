package graphrun

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/d2v/d2v/internal/par"
	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/vmath"
)

// RunParts runs f(0..n-1) at once with the cores shared between them
// (par.Share), or in turn with fewer cores than parts (caches stay warm),
// and returns the first part's error.
func RunParts(n int, f func(k int) error) error {
	defer par.Share(n)()
	errs := make([]error, n)
	if runtime.GOMAXPROCS(0) < n {
		for k := range n {
			errs[k] = f(k)
		}
	} else {
		var wg sync.WaitGroup
		for k := 1; k < n; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[k] = f(k)
			}()
		}
		errs[0] = f(0)
		wg.Wait()
	}
	for k, err := range errs {
		if err != nil {
			return fmt.Errorf("batch part %d of %d: %w", k+1, n, err)
		}
	}
	return nil
}

// PartBounds cuts b samples into n contiguous parts: part k is [lo[k], lo[k+1]).
func PartBounds(b, n int) []int {
	lo := make([]int, n+1)
	for k := range lo {
		lo[k] = k * b / n
	}
	return lo
}

// SumGrads sets dst[i] = sum_k w[k] * grads[k][i] for every gradient i
// (lengths sizes), in fixed blocks over the cores.
func SumGrads(dst []any, grads [][]any, w []float64, sizes []int) {
	par.ForBlocks(sizes, 1<<14, func(_, i, lo, hi int) {
		switch d := dst[i].(type) {
		case []float32:
			weightedSum(d[lo:hi], grads, w, i, lo)
		case []float64:
			weightedSum(d[lo:hi], grads, w, i, lo)
		}
	})
}

// weightedSum sets dst to sum_k w[k] * grads[k][p][lo:lo+len(dst)], in
// part order, each product rounded (vmath.AXPBY for float32).
func weightedSum[F float32 | float64](dst []F, grads [][]any, w []float64, p, lo int) {
	hi := lo + len(dst)
	g := func(k int) []F { return grads[k][p].([]F)[lo:hi] }
	if d32, ok := any(dst).([]float32); ok {
		g32 := func(k int) []float32 { return any(g(k)).([]float32) }
		if len(grads) == 1 {
			vmath.AXPBY(d32, g32(0), g32(0), float32(w[0]), 0)
			return
		}
		vmath.AXPBY(d32, g32(0), g32(1), float32(w[0]), float32(w[1]))
		for k := 2; k < len(grads); k++ {
			vmath.AXPBY(d32, d32, g32(k), 1, float32(w[k]))
		}
		return
	}
	for j, v := range g(0) {
		dst[j] = F(w[0]) * v
	}
	for k := 1; k < len(grads); k++ {
		for j, v := range g(k) {
			dst[j] += F(w[k]) * v
		}
	}
}

// PerSample is the number of input values per sample of m.
func PerSample(m model.Modality) int {
	n := 1
	for _, v := range m.InputShape(1) {
		n *= v
	}
	return n
}

// PartSamples returns samples [lo, hi) of v (per values each).
func PartSamples(v any, lo, hi, per int) any {
	switch x := v.(type) {
	case []float32:
		return x[lo*per : hi*per]
	case []float64:
		return x[lo*per : hi*per]
	}
	return v
}
