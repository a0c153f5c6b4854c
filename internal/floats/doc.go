// Package floats holds the two questions the training code asks of a
// []float32 or []float64 passed as any: how long is it, and is it the
// same memory as another one.
//
// It may import the standard library only.
package floats
