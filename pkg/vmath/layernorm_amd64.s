//go:build !purego

#include "textflag.h"

// LayerNorm row kernels, 8 float32 lanes, n a positive multiple of 8.

// HSUM folds the 8 lanes of Y0 into X0's lane 0.
#define HSUM \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS       X1, X0, X0; \
	VHADDPS      X0, X0, X0; \
	VHADDPS      X0, X0, X0

// func sumAVX(x *float32, n int) float32
TEXT ·sumAVX(SB), NOSPLIT, $0-20
	MOVQ   x+0(FP), SI
	MOVQ   n+8(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

sum32:
	CMPQ   CX, $32
	JB     sum8
	VADDPS 0(SI), Y0, Y0
	VADDPS 32(SI), Y1, Y1
	VADDPS 64(SI), Y2, Y2
	VADDPS 96(SI), Y3, Y3
	ADDQ   $128, SI
	SUBQ   $32, CX
	JMP    sum32

sum8:
	TESTQ  CX, CX
	JZ     sumred
	VADDPS (SI), Y0, Y0
	ADDQ   $32, SI
	SUBQ   $8, CX
	JMP    sum8

sumred:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	HSUM
	VZEROUPPER
	MOVSS  X0, ret+16(FP)
	RET

// func sqDevAVX(x *float32, n int, mean float32) float32
TEXT ·sqDevAVX(SB), NOSPLIT, $0-28
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS mean+16(FP), Y4
	VXORPS       Y0, Y0, Y0
	VXORPS       Y1, Y1, Y1
	VXORPS       Y2, Y2, Y2
	VXORPS       Y3, Y3, Y3

sq32:
	CMPQ        CX, $32
	JB          sq8
	VSUBPS      0(SI), Y4, Y5 // mean - x: squared, the sign does not matter
	VSUBPS      32(SI), Y4, Y6
	VSUBPS      64(SI), Y4, Y7
	VSUBPS      96(SI), Y4, Y8
	VFMADD231PS Y5, Y5, Y0
	VFMADD231PS Y6, Y6, Y1
	VFMADD231PS Y7, Y7, Y2
	VFMADD231PS Y8, Y8, Y3
	ADDQ        $128, SI
	SUBQ        $32, CX
	JMP         sq32

sq8:
	TESTQ       CX, CX
	JZ          sqred
	VSUBPS      (SI), Y4, Y5
	VFMADD231PS Y5, Y5, Y0
	ADDQ        $32, SI
	SUBQ        $8, CX
	JMP         sq8

sqred:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	HSUM
	VZEROUPPER
	MOVSS  X0, ret+24(FP)
	RET

// func lnApplyAVX(y, x, gm, b *float32, n int, mean, rstd float32)
// y = (x - mean)*rstd*g + b
TEXT ·lnApplyAVX(SB), NOSPLIT, $0-48
	MOVQ         y+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         gm+16(FP), R8
	MOVQ         b+24(FP), R9
	MOVQ         n+32(FP), CX
	VBROADCASTSS mean+40(FP), Y4
	VBROADCASTSS rstd+44(FP), Y5
	XORQ         AX, AX

apply:
	VMOVUPS      (SI)(AX*1), Y0
	VSUBPS       Y4, Y0, Y0
	VMULPS       Y5, Y0, Y0
	VMULPS       (R8)(AX*1), Y0, Y0
	VADDPS       (R9)(AX*1), Y0, Y0
	VMOVUPS      Y0, (DI)(AX*1)
	ADDQ         $32, AX
	SUBQ         $8, CX
	JNZ          apply
	VZEROUPPER
	RET

// func lnBwdSumsAVX(x, gm, dy, dg, db *float32, n int, mean, rstd float32) (m1, m2 float32)
// xh = (x-mean)*rstd, dxh = dy*g; returns sum(dxh), sum(dxh*xh); dg += dy*xh, db += dy.
TEXT ·lnBwdSumsAVX(SB), NOSPLIT, $0-64
	MOVQ         x+0(FP), SI
	MOVQ         gm+8(FP), R8
	MOVQ         dy+16(FP), DX
	MOVQ         dg+24(FP), R10
	MOVQ         db+32(FP), R11
	MOVQ         n+40(FP), CX
	VBROADCASTSS mean+48(FP), Y4
	VBROADCASTSS rstd+52(FP), Y5
	VXORPS       Y0, Y0, Y0 // m1 lanes
	VXORPS       Y2, Y2, Y2 // m2 lanes
	XORQ         AX, AX

bsum:
	VMOVUPS      (SI)(AX*1), Y6
	VSUBPS       Y4, Y6, Y6
	VMULPS       Y5, Y6, Y6 // xh
	VMOVUPS      (DX)(AX*1), Y7 // dy
	VMULPS       (R8)(AX*1), Y7, Y8 // dxh
	VADDPS       Y8, Y0, Y0
	VFMADD231PS  Y8, Y6, Y2
	VMOVUPS      (R10)(AX*1), Y9
	VFMADD231PS  Y7, Y6, Y9
	VMOVUPS      Y9, (R10)(AX*1)
	VADDPS       (R11)(AX*1), Y7, Y10
	VMOVUPS      Y10, (R11)(AX*1)
	ADDQ         $32, AX
	SUBQ         $8, CX
	JNZ          bsum
	HSUM
	MOVSS        X0, m1+56(FP)
	VMOVAPS      Y2, Y0
	HSUM
	VZEROUPPER
	MOVSS        X0, m2+60(FP)
	RET

// func lnBwdDxAVX(dx, x, gm, dy *float32, n int, mean, rstd, a, c float32)
// dx = rstd*(dy*g - a - xh*c), xh = (x-mean)*rstd
TEXT ·lnBwdDxAVX(SB), NOSPLIT, $0-56
	MOVQ         dx+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         gm+16(FP), R8
	MOVQ         dy+24(FP), DX
	MOVQ         n+32(FP), CX
	VBROADCASTSS mean+40(FP), Y4
	VBROADCASTSS rstd+44(FP), Y5
	VBROADCASTSS a+48(FP), Y6
	VBROADCASTSS c+52(FP), Y7
	XORQ         AX, AX

bdx:
	VMOVUPS      (SI)(AX*1), Y0
	VSUBPS       Y4, Y0, Y0
	VMULPS       Y5, Y0, Y0 // xh
	VMOVUPS      (DX)(AX*1), Y1
	VMULPS       (R8)(AX*1), Y1, Y1 // dxh
	VSUBPS       Y6, Y1, Y1 // dxh - a
	VFNMADD231PS Y7, Y0, Y1 // - xh*c
	VMULPS       Y5, Y1, Y1
	VMOVUPS      Y1, (DI)(AX*1)
	ADDQ         $32, AX
	SUBQ         $8, CX
	JNZ          bdx
	VZEROUPPER
	RET
