//go:build !purego

#include "textflag.h"

// func kern6x16(k int, a *float32, rs, ps int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, load int)
//
// Computes the 6x16 tile acc[r][j] = sum_p A(r,p)*B(p,j), p = 0..k-1 in
// order, with A(r,p) at a + r*rs + p*ps and B(p,j) at b + p*bs + j (strides
// in elements), then stores c[r*ldc+j] = alpha*acc + beta*c (load != 0) or
// c = alpha*acc (load == 0, c is not read). Requires k >= 1.
//
// Registers: Y0..Y11 accumulators (row r in Y(2r), Y(2r+1)), Y12/Y13 the
// B row, Y14/Y15 A broadcasts. SI = a (rows 0..2), R10 = a + 3*rs (rows
// 3..5), R9 = rs bytes, R12 = ps bytes, DI = b, R11 = bs bytes.

#define STEP \
	VMOVUPS (DI), Y12; \
	VMOVUPS 32(DI), Y13; \
	ADDQ R11, DI; \
	VBROADCASTSS (SI), Y14; \
	VFMADD231PS Y12, Y14, Y0; \
	VFMADD231PS Y13, Y14, Y1; \
	VBROADCASTSS (SI)(R9*1), Y15; \
	VFMADD231PS Y12, Y15, Y2; \
	VFMADD231PS Y13, Y15, Y3; \
	VBROADCASTSS (SI)(R9*2), Y14; \
	VFMADD231PS Y12, Y14, Y4; \
	VFMADD231PS Y13, Y14, Y5; \
	VBROADCASTSS (R10), Y15; \
	VFMADD231PS Y12, Y15, Y6; \
	VFMADD231PS Y13, Y15, Y7; \
	VBROADCASTSS (R10)(R9*1), Y14; \
	VFMADD231PS Y12, Y14, Y8; \
	VFMADD231PS Y13, Y14, Y9; \
	VBROADCASTSS (R10)(R9*2), Y15; \
	VFMADD231PS Y12, Y15, Y10; \
	VFMADD231PS Y13, Y15, Y11; \
	ADDQ R12, SI; \
	ADDQ R12, R10

#define STORE_LOAD(r0, r1) \
	VMULPS Y14, r0, r0; \
	VMULPS Y14, r1, r1; \
	VFMADD231PS (DX), Y15, r0; \
	VFMADD231PS 32(DX), Y15, r1; \
	VMOVUPS r0, (DX); \
	VMOVUPS r1, 32(DX); \
	ADDQ R8, DX

#define STORE_OVER(r0, r1) \
	VMULPS Y14, r0, r0; \
	VMULPS Y14, r1, r1; \
	VMOVUPS r0, (DX); \
	VMOVUPS r1, 32(DX); \
	ADDQ R8, DX

TEXT ·kern6x16(SB), NOSPLIT, $0-80
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rs+16(FP), R9
	SHLQ $2, R9
	MOVQ ps+24(FP), R12
	SHLQ $2, R12
	MOVQ b+32(FP), DI
	MOVQ bs+40(FP), R11
	SHLQ $2, R11
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R8
	SHLQ $2, R8
	LEAQ (SI)(R9*2), R10
	ADDQ R9, R10

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	MOVQ CX, BX
	SHRQ $2, BX
	ANDQ $3, CX
	TESTQ BX, BX
	JZ   tail

loop4:
	STEP
	STEP
	STEP
	STEP
	DECQ BX
	JNZ  loop4

tail:
	TESTQ CX, CX
	JZ    store

loop1:
	STEP
	DECQ CX
	JNZ  loop1

store:
	VBROADCASTSS alpha+64(FP), Y14
	VBROADCASTSS beta+68(FP), Y15
	MOVQ load+72(FP), AX
	TESTQ AX, AX
	JZ   over

	STORE_LOAD(Y0, Y1)
	STORE_LOAD(Y2, Y3)
	STORE_LOAD(Y4, Y5)
	STORE_LOAD(Y6, Y7)
	STORE_LOAD(Y8, Y9)
	STORE_LOAD(Y10, Y11)
	VZEROUPPER
	RET

over:
	STORE_OVER(Y0, Y1)
	STORE_OVER(Y2, Y3)
	STORE_OVER(Y4, Y5)
	STORE_OVER(Y6, Y7)
	STORE_OVER(Y8, Y9)
	STORE_OVER(Y10, Y11)
	VZEROUPPER
	RET

// func packA6T(k int, src *float32, lda int, dst *float32)
//
// dst[p*6+r] = src[p*lda+r] for p < k, r < 6: packs a full 6-row panel of
// op(a) = a^T (six adjacent columns of a) into the kernel's panel layout.
TEXT ·packA6T(SB), NOSPLIT, $0-32
	MOVQ k+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ lda+16(FP), R8
	SHLQ $2, R8
	MOVQ dst+24(FP), DI
	TESTQ CX, CX
	JZ   done

packloop:
	MOVUPS (SI), X0
	MOVQ   16(SI), X1
	MOVUPS X0, (DI)
	MOVQ   X1, 16(DI)
	ADDQ   R8, SI
	ADDQ   $24, DI
	DECQ   CX
	JNZ    packloop

done:
	RET

// func packB16(k int, src *float32, ldb int, dst *float32)
//
// dst[p*16+j] = src[p*ldb+j] for p < k, j < 16: packs a full 16-column
// panel of op(b) = b into the kernel's panel layout.
TEXT ·packB16(SB), NOSPLIT, $0-32
	MOVQ k+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ ldb+16(FP), R8
	SHLQ $2, R8
	MOVQ dst+24(FP), DI
	TESTQ CX, CX
	JZ   done

packloop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    R8, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     packloop

done:
	VZEROUPPER
	RET

// func packBT16(k int, src *float32, idx *[8]int32, ldb int, dst *float32)
//
// dst[p*16+j] = src[j*ldb+p] for p < k, j < 16, with idx[j] = j*ldb for
// j < 8: packs a full 16-column panel of op(b) = b^T (sixteen rows of b)
// with two 8-lane gathers per k.
TEXT ·packBT16(SB), NOSPLIT, $0-40
	MOVQ k+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ idx+16(FP), AX
	MOVQ ldb+24(FP), R8
	SHLQ $5, R8           // 8 rows of b, in bytes
	MOVQ dst+32(FP), DI
	LEAQ (SI)(R8*1), R10
	VMOVDQU (AX), Y2
	TESTQ CX, CX
	JZ   done

gloop:
	VPCMPEQD Y4, Y4, Y4
	VPCMPEQD Y5, Y5, Y5
	VGATHERDPS Y4, (SI)(Y2*4), Y0
	VGATHERDPS Y5, (R10)(Y2*4), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    $4, SI
	ADDQ    $4, R10
	ADDQ    $64, DI
	DECQ    CX
	JNZ     gloop

done:
	VZEROUPPER
	RET
