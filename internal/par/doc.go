// Package par runs loops over [0,n) on GOMAXPROCS goroutines: the one
// parallel-for of the training step (ops kernels, AdamW, GEMM splits).
//
// It may import the standard library only.
package par
