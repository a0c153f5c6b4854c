// Package vmath holds vectorised float32 elementwise kernels for the
// training hot loops: exp, row softmax, and the exact (erf) GELU with its
// derivative, LayerNorm rows, AdamW, column sums and reductions, and the
// data2vec 2.0 decoder convolution's kernels (TapSum/TapSum2: sums of
// shifted scaled rows; DotShifts: dot products with shifted windows;
// Transpose: 8x8 blocks in registers). On amd64 CPUs with AVX2 and FMA they run as 8-lane assembly
// kernels; elsewhere (or with -tags purego, or after SetFallback(true)) as
// pure-Go loops with the same special-value semantics that compute in
// float64 internally. All functions run on the caller's goroutine and do
// not allocate; callers split large slices over goroutines themselves.
//
// It may import the standard library and golang.org/x/sys/cpu only.
package vmath
