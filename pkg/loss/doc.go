// Package loss is the data2vec regression loss: smooth L1 with beta (L2 when
// beta = 0) between predictions and teacher targets at masked positions,
// reduced as `mean` (over M*D elements; official vision code) or `d2v`
// (sum * scale / M with scale 1/sqrt(D) by default; fairseq audio/text).
// The graph op lives in pkg/ops; this package picks its coefficient and holds
// the plain-Go twin used as the test oracle.
//
// It may import pkg/ops and Gorgonia; no data or training code.
package loss
