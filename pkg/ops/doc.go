// Package ops holds d2v's own Gorgonia operations.
//
// Gorgonia's stock InverseSqrt, Dropout and float32 SoftMax are silently wrong
// (found by checking them against plain-Go references, with the exact errors
// written up when the project started) and its broadcasts materialise copies, so every
// non-trivial piece of the data2vec step is a fused op here: Linear, LayerNorm,
// exact GELU, multi-head attention (with its own stable softmax), the
// mask-embedding/position mix, row gathers, the regression loss of data2vec
// (smooth L1 / L2 with mean or d2v reduction), softmax cross-entropy and
// weighted pooling (the mean over real tokens). data2vec 2.0 adds the
// decoder's grouped "same" convolutions over time or the patch grid
// (ConvSame1D, ConvSame2D) and the gather with a learned fill vector that
// moves tokens between the full and the visible-only layouts (GatherFill,
// indexed by CloneIndex).
//
// Each op is a kernel with a forward and a hand-written vector-Jacobian
// product over flat float32 or float64 slices. The adapter in op.go turns a
// kernel into a gorgonia.Op whose SymDiff emits one backward node computing all
// input gradients at once (packed into one vector) plus a cheap unpack node per
// input. Every kernel has a naive plain-Go reference in ref_test.go, a float64
// finite-difference gradient check and a benchmark.
//
// The package is one on purpose, a little over the ~2,000-line guide: every
// op, the convolutions included, is a kernel of that adapter (the unexported
// kernel interface, apply, dispatch and the shared GEMM and core helpers),
// so a sub-package would have to export the adapter only to be split off.
package ops
