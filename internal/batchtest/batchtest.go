// Package batchtest draws random step inputs for tests of the packages that
// run the data2vec step (pkg/step, pkg/downstream). It is imported only by
// tests; it depends on pkg/model alone, so pkg/step's in-package tests can
// use it without an import cycle.
package batchtest

import (
	"math/rand/v2"

	"github.com/d2v/d2v/pkg/model"
)

// Batch draws b samples of mod's input (token ids below the vocabulary for
// token modalities, standard normal values otherwise) and a mask with
// nMask masked positions per sample, all from r.
func Batch(mod model.Modality, nMask, b int, r *rand.Rand) ([]float64, []bool) {
	n := 1
	for _, v := range mod.InputShape(b) {
		n *= v
	}
	x := make([]float64, n)
	for i := range x {
		if tok, ok := mod.(model.Tokens); ok {
			x[i] = float64(r.IntN(tok.Vocab))
		} else {
			x[i] = r.NormFloat64()
		}
	}
	T := mod.NumTokens()
	mask := make([]bool, b*T)
	for i := 0; i < b; i++ {
		for _, t := range r.Perm(T)[:nMask] {
			mask[i*T+t] = true
		}
	}
	return x, mask
}
