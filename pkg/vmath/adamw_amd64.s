//go:build !purego

#include "textflag.h"

// func adamwAVX(w, grad, m, v *float32, n int, c *AdamWConst)
//
// AdamW (adamw.go) on n elements, n a multiple of 8, 8 lanes at a time,
// with the Go loop's float32 operations in the same order: separate
// multiplies and adds (no FMA) and a true division, so the bits match.
// AdamWConst is {B1, B2, Eps, Step, Coef, Shrink, BC2} (4 bytes each).
TEXT ·adamwAVX(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), AX
	VBROADCASTSS 0(AX), Y8   // b1
	VBROADCASTSS 4(AX), Y9   // b2
	VBROADCASTSS 8(AX), Y10  // eps
	VBROADCASTSS 12(AX), Y11 // step
	VBROADCASTSS 16(AX), Y12 // coef
	VBROADCASTSS 20(AX), Y13 // shrink
	VBROADCASTSS 24(AX), Y14 // bc2
	MOVL    $0x3f800000, BX  // 1.0
	MOVL    BX, X15
	VBROADCASTSS X15, Y15
	VSUBPS  Y8, Y15, Y6      // 1-b1
	VSUBPS  Y9, Y15, Y7      // 1-b2
	XORQ    AX, AX
	SHRQ    $3, CX
	JZ      done

loop:
	VMOVUPS (SI)(AX*1), Y0
	VMULPS  Y12, Y0, Y0      // gj = g*coef
	VMOVUPS (R8)(AX*1), Y1
	VMULPS  Y1, Y8, Y1       // b1*m
	VMULPS  Y0, Y6, Y2       // (1-b1)*gj
	VADDPS  Y2, Y1, Y1       // m
	VMOVUPS Y1, (R8)(AX*1)
	VMOVUPS (R9)(AX*1), Y3
	VMULPS  Y3, Y9, Y3       // b2*v
	VMULPS  Y0, Y7, Y4       // (1-b2)*gj
	VMULPS  Y0, Y4, Y4       // ... *gj
	VADDPS  Y4, Y3, Y3       // v
	VMOVUPS Y3, (R9)(AX*1)
	VSQRTPS Y3, Y5
	VDIVPS  Y14, Y5, Y5      // sqrt(v)/bc2
	VADDPS  Y10, Y5, Y5      // + eps
	VMULPS  Y1, Y11, Y1      // step*m
	VDIVPS  Y5, Y1, Y1       // / den
	VMOVUPS (DI)(AX*1), Y2
	VMULPS  Y13, Y2, Y2      // w*shrink
	VSUBPS  Y1, Y2, Y2
	VMOVUPS Y2, (DI)(AX*1)
	ADDQ    $32, AX
	DECQ    CX
	JNZ     loop

done:
	VZEROUPPER
	RET
