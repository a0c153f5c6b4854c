//go:build !purego

#include "textflag.h"

// func colsumAVX(dst, src *float32, rows, ld, blocks int)
//
// ColSum (colsum.go) on blocks*32 columns: for each block of 32 columns,
// four ymm accumulators start at +0 and add the rows in order, then are
// stored. rows >= 1.
TEXT ·colsumAVX(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), R9
	MOVQ ld+24(FP), R8
	SHLQ $2, R8
	MOVQ blocks+32(FP), CX

block:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ   SI, AX
	MOVQ   R9, BX

row:
	VADDPS (AX), Y0, Y0
	VADDPS 32(AX), Y1, Y1
	VADDPS 64(AX), Y2, Y2
	VADDPS 96(AX), Y3, Y3
	ADDQ   R8, AX
	DECQ   BX
	JNZ    row

	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	DECQ    CX
	JNZ     block

	VZEROUPPER
	RET
