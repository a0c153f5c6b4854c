//go:build amd64 && !purego

package vmath

// LayerNorm kernels (layernorm_amd64.s); n is a positive multiple of 8.

//go:noescape
func sumAVX(x *float32, n int) float32

//go:noescape
func sqDevAVX(x *float32, n int, mean float32) float32

//go:noescape
func lnApplyAVX(y, x, gm, b *float32, n int, mean, rstd float32)

//go:noescape
func lnBwdSumsAVX(x, gm, dy, dg, db *float32, n int, mean, rstd float32) (m1, m2 float32)

//go:noescape
func lnBwdDxAVX(dx, x, gm, dy *float32, n int, mean, rstd, a, c float32)
