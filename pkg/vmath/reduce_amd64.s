//go:build !purego

#include "textflag.h"

// func sumSquaresAVX(acc *[16]float64, x *float32, blocks int)
//
// SumSquares (reduce.go) on blocks*16 elements: lanes 0-3, 4-7, 8-11 and
// 12-15 of acc live in Y0-Y3; each group of 4 float32s is widened to
// float64 and its squares added with FMA (exact products). blocks >= 1.
TEXT ·sumSquaresAVX(SB), NOSPLIT, $0-24
	MOVQ acc+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ blocks+16(FP), CX
	VMOVUPD (DI), Y0
	VMOVUPD 32(DI), Y1
	VMOVUPD 64(DI), Y2
	VMOVUPD 96(DI), Y3

loop:
	VCVTPS2PD   (SI), Y4
	VCVTPS2PD   16(SI), Y5
	VCVTPS2PD   32(SI), Y6
	VCVTPS2PD   48(SI), Y7
	VFMADD231PD Y4, Y4, Y0
	VFMADD231PD Y5, Y5, Y1
	VFMADD231PD Y6, Y6, Y2
	VFMADD231PD Y7, Y7, Y3
	ADDQ        $64, SI
	DECQ        CX
	JNZ         loop

	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	VZEROUPPER
	RET

// func axpbyAVX(dst, x, y *float32, blocks int, a, b float32)
//
// AXPBY (reduce.go) on blocks*8 elements: dst = a*x + b*y with two
// rounded products and a rounded sum, as the Go loop. blocks >= 1.
TEXT ·axpbyAVX(SB), NOSPLIT, $0-40
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         y+16(FP), DX
	MOVQ         blocks+24(FP), CX
	VBROADCASTSS a+32(FP), Y0
	VBROADCASTSS b+36(FP), Y1
	XORQ         AX, AX

loop:
	VMULPS  (SI)(AX*1), Y0, Y2
	VMULPS  (DX)(AX*1), Y1, Y3
	VADDPS  Y3, Y2, Y2
	VMOVUPS Y2, (DI)(AX*1)
	ADDQ    $32, AX
	DECQ    CX
	JNZ     loop

	VZEROUPPER
	RET

// func tapSumAVX(y, x *float32, off *int, w *float32, terms, blocks int)
//
// TapSum (reduce.go) on blocks*32 elements of y, held in Y0-Y3 while the
// terms are added in order: w[k] broadcast, times x[off[k]+i..], fused
// into the sum (VFMADD231PS). terms, blocks >= 1.
TEXT ·tapSumAVX(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ off+16(FP), DX
	MOVQ w+24(FP), R8
	MOVQ terms+32(FP), R9
	MOVQ blocks+40(FP), BX

block:
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	XORQ    CX, CX

term:
	MOVQ         (DX)(CX*8), AX
	LEAQ         (SI)(AX*4), R10
	VBROADCASTSS (R8)(CX*4), Y4
	VFMADD231PS  (R10), Y4, Y0
	VFMADD231PS  32(R10), Y4, Y1
	VFMADD231PS  64(R10), Y4, Y2
	VFMADD231PS  96(R10), Y4, Y3
	INCQ         CX
	CMPQ         CX, R9
	JNE          term

	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, DI
	ADDQ    $128, SI
	DECQ    BX
	JNZ     block

	VZEROUPPER
	RET

// func tapSum2AVX(y0, y1, x *float32, off *int, w0, w1 *float32, terms, blocks int)
//
// TapSum2 (reduce.go): tapSumAVX for two outputs at once, y0 in Y0-Y3 and
// y1 in Y4-Y7; each block of x is loaded once (Y10-Y13) and fused into
// both with its own weight (Y8, Y9). terms, blocks >= 1.
TEXT ·tapSum2AVX(SB), NOSPLIT, $0-64
	MOVQ y0+0(FP), DI
	MOVQ y1+8(FP), R11
	MOVQ x+16(FP), SI
	MOVQ off+24(FP), DX
	MOVQ w0+32(FP), R8
	MOVQ w1+40(FP), R12
	MOVQ terms+48(FP), R9
	MOVQ blocks+56(FP), BX

block2:
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	VMOVUPS (R11), Y4
	VMOVUPS 32(R11), Y5
	VMOVUPS 64(R11), Y6
	VMOVUPS 96(R11), Y7
	XORQ    CX, CX

term2:
	MOVQ         (DX)(CX*8), AX
	LEAQ         (SI)(AX*4), R10
	VBROADCASTSS (R8)(CX*4), Y8
	VBROADCASTSS (R12)(CX*4), Y9
	VMOVUPS      (R10), Y10
	VMOVUPS      32(R10), Y11
	VMOVUPS      64(R10), Y12
	VMOVUPS      96(R10), Y13
	VFMADD231PS  Y10, Y8, Y0
	VFMADD231PS  Y11, Y8, Y1
	VFMADD231PS  Y12, Y8, Y2
	VFMADD231PS  Y13, Y8, Y3
	VFMADD231PS  Y10, Y9, Y4
	VFMADD231PS  Y11, Y9, Y5
	VFMADD231PS  Y12, Y9, Y6
	VFMADD231PS  Y13, Y9, Y7
	INCQ         CX
	CMPQ         CX, R9
	JNE          term2

	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, (R11)
	VMOVUPS Y5, 32(R11)
	VMOVUPS Y6, 64(R11)
	VMOVUPS Y7, 96(R11)
	ADDQ    $128, DI
	ADDQ    $128, R11
	ADDQ    $128, SI
	DECQ    BX
	JNZ     block2

	VZEROUPPER
	RET

// func dotShiftsAVX(acc *[8][8]float32, d, x *float32, off *[8]int, blocks int)
//
// DotShifts (reduce.go) on blocks*8 elements for eight terms at once:
// Y0-Y7 hold the eight terms' lanes, Y8 the block of d; each term's block
// of x (at off[k]) is multiplied by it and added in one fused step
// (VFMADD231PS). The eight x pointers live in DX, DI, R8-R13 (no
// R14/R15); acc is loaded again at the end. blocks >= 1.
TEXT ·dotShiftsAVX(SB), NOSPLIT, $0-40
	MOVQ   d+8(FP), SI
	MOVQ   x+16(FP), BX
	MOVQ   off+24(FP), AX
	MOVQ   blocks+32(FP), CX
	MOVQ   (AX), DX
	LEAQ   (BX)(DX*4), DX
	MOVQ   8(AX), DI
	LEAQ   (BX)(DI*4), DI
	MOVQ   16(AX), R8
	LEAQ   (BX)(R8*4), R8
	MOVQ   24(AX), R9
	LEAQ   (BX)(R9*4), R9
	MOVQ   32(AX), R10
	LEAQ   (BX)(R10*4), R10
	MOVQ   40(AX), R11
	LEAQ   (BX)(R11*4), R11
	MOVQ   48(AX), R12
	LEAQ   (BX)(R12*4), R12
	MOVQ   56(AX), R13
	LEAQ   (BX)(R13*4), R13
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ   AX, AX

loop:
	VMOVUPS     (SI)(AX*1), Y8
	VFMADD231PS (DX)(AX*1), Y8, Y0
	VFMADD231PS (DI)(AX*1), Y8, Y1
	VFMADD231PS (R8)(AX*1), Y8, Y2
	VFMADD231PS (R9)(AX*1), Y8, Y3
	VFMADD231PS (R10)(AX*1), Y8, Y4
	VFMADD231PS (R11)(AX*1), Y8, Y5
	VFMADD231PS (R12)(AX*1), Y8, Y6
	VFMADD231PS (R13)(AX*1), Y8, Y7
	ADDQ        $32, AX
	DECQ    CX
	JNZ     loop

	MOVQ    acc+0(FP), DI
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	VMOVUPS Y6, 192(DI)
	VMOVUPS Y7, 224(DI)
	VZEROUPPER
	RET

// func transpose8AVX(dst *float32, ldd int, src *float32, lds int, blocks int)
//
// Transpose (reduce.go) of an 8 x 8*blocks block of src into dst, 8x8 at a
// time: eight rows loaded, interleaved in pairs (VUNPCKL/HPS), in fours
// (VSHUFPS) and across lanes (VPERM2F128), stored as eight rows of dst.
// blocks >= 1.
TEXT ·transpose8AVX(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R8
	SHLQ $2, R8
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R9
	SHLQ $2, R9
	MOVQ blocks+32(FP), CX
	LEAQ (R9)(R9*2), R10 // 3*lds
	LEAQ (R8)(R8*2), R11 // 3*ldd

block:
	MOVQ    SI, AX
	VMOVUPS (AX), Y0
	VMOVUPS (AX)(R9*1), Y1
	VMOVUPS (AX)(R9*2), Y2
	VMOVUPS (AX)(R10*1), Y3
	LEAQ    (AX)(R9*4), AX
	VMOVUPS (AX), Y4
	VMOVUPS (AX)(R9*1), Y5
	VMOVUPS (AX)(R9*2), Y6
	VMOVUPS (AX)(R10*1), Y7

	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15

	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7

	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15

	MOVQ    DI, AX
	VMOVUPS Y8, (AX)
	VMOVUPS Y9, (AX)(R8*1)
	VMOVUPS Y10, (AX)(R8*2)
	VMOVUPS Y11, (AX)(R11*1)
	LEAQ    (AX)(R8*4), AX
	VMOVUPS Y12, (AX)
	VMOVUPS Y13, (AX)(R8*1)
	VMOVUPS Y14, (AX)(R8*2)
	VMOVUPS Y15, (AX)(R11*1)

	ADDQ $32, SI
	LEAQ (DI)(R8*8), DI
	DECQ CX
	JNZ  block

	VZEROUPPER
	RET
