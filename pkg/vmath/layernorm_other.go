//go:build !amd64 || purego

package vmath

// Never called off amd64 (Accelerated is false there); they exist so the
// package compiles.

func sumAVX(x *float32, n int) float32                           { panic("vmath: no assembly") }
func sqDevAVX(x *float32, n int, mean float32) float32           { panic("vmath: no assembly") }
func lnApplyAVX(y, x, gm, b *float32, n int, mean, rstd float32) { panic("vmath: no assembly") }
func lnBwdSumsAVX(x, gm, dy, dg, db *float32, n int, mean, rstd float32) (m1, m2 float32) {
	panic("vmath: no assembly")
}
func lnBwdDxAVX(dx, x, gm, dy *float32, n int, mean, rstd, a, c float32) { panic("vmath: no assembly") }
