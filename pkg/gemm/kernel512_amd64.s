//go:build !purego

#include "textflag.h"

// func kern16x16(k int, a *float32, rs, ps int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, load int)
//
// The AVX-512F micro-kernel: the same contract as kern6x16 (see kernGo)
// for a 16x16 tile. Z0..Z15 accumulate row r in Z(r); Z16..Z19 hold a row
// of B; each A(r,p) is broadcast from memory inside the FMA ({1to16}).
// Rows of A are addressed from five pointers, each plus 0, 1, 2, 4 or 8
// row strides: SI = row 0, R10 = row 3, R13 = row 6, AX = row 9, DX =
// row 11; R9 = rs bytes, R12 = ps bytes, DI = b, R11 = bs bytes. Every
// accumulator sees the same FMA sequence in p order as kern6x16, so the
// two kernels give bit-identical results.

#define STEP(bz) \
	VMOVUPS (DI), bz; \
	ADDQ R11, DI; \
	VFMADD231PS.BCST (SI), bz, Z0; \
	VFMADD231PS.BCST (SI)(R9*1), bz, Z1; \
	VFMADD231PS.BCST (SI)(R9*2), bz, Z2; \
	VFMADD231PS.BCST (R10), bz, Z3; \
	VFMADD231PS.BCST (SI)(R9*4), bz, Z4; \
	VFMADD231PS.BCST (R10)(R9*2), bz, Z5; \
	VFMADD231PS.BCST (R13), bz, Z6; \
	VFMADD231PS.BCST (R10)(R9*4), bz, Z7; \
	VFMADD231PS.BCST (SI)(R9*8), bz, Z8; \
	VFMADD231PS.BCST (AX), bz, Z9; \
	VFMADD231PS.BCST (R13)(R9*4), bz, Z10; \
	VFMADD231PS.BCST (DX), bz, Z11; \
	VFMADD231PS.BCST (DX)(R9*1), bz, Z12; \
	VFMADD231PS.BCST (AX)(R9*4), bz, Z13; \
	VFMADD231PS.BCST (R13)(R9*8), bz, Z14; \
	VFMADD231PS.BCST (DX)(R9*4), bz, Z15; \
	ADDQ R12, SI; \
	ADDQ R12, R10; \
	ADDQ R12, R13; \
	ADDQ R12, AX; \
	ADDQ R12, DX

#define STORE_LOAD(r) \
	VMULPS Z30, r, r; \
	VFMADD231PS (DX), Z31, r; \
	VMOVUPS r, (DX); \
	ADDQ R8, DX

#define STORE_OVER(r) \
	VMULPS Z30, r, r; \
	VMOVUPS r, (DX); \
	ADDQ R8, DX

TEXT ·kern16x16(SB), NOSPLIT, $0-80
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rs+16(FP), R9
	SHLQ $2, R9
	MOVQ ps+24(FP), R12
	SHLQ $2, R12
	MOVQ b+32(FP), DI
	MOVQ bs+40(FP), R11
	SHLQ $2, R11
	LEAQ (SI)(R9*2), R10
	ADDQ R9, R10         // row 3
	LEAQ (R10)(R9*2), R13
	ADDQ R9, R13         // row 6
	LEAQ (R13)(R9*2), AX
	ADDQ R9, AX          // row 9
	LEAQ (AX)(R9*2), DX  // row 11

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15

	MOVQ CX, BX
	SHRQ $2, BX
	ANDQ $3, CX
	TESTQ BX, BX
	JZ   tail

loop4:
	STEP(Z16)
	STEP(Z17)
	STEP(Z18)
	STEP(Z19)
	DECQ BX
	JNZ  loop4

tail:
	TESTQ CX, CX
	JZ    store

loop1:
	STEP(Z16)
	DECQ CX
	JNZ  loop1

store:
	VBROADCASTSS alpha+64(FP), Z30
	VBROADCASTSS beta+68(FP), Z31
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R8
	SHLQ $2, R8
	MOVQ load+72(FP), AX
	TESTQ AX, AX
	JZ   over

	STORE_LOAD(Z0)
	STORE_LOAD(Z1)
	STORE_LOAD(Z2)
	STORE_LOAD(Z3)
	STORE_LOAD(Z4)
	STORE_LOAD(Z5)
	STORE_LOAD(Z6)
	STORE_LOAD(Z7)
	STORE_LOAD(Z8)
	STORE_LOAD(Z9)
	STORE_LOAD(Z10)
	STORE_LOAD(Z11)
	STORE_LOAD(Z12)
	STORE_LOAD(Z13)
	STORE_LOAD(Z14)
	STORE_LOAD(Z15)
	VZEROUPPER
	RET

over:
	STORE_OVER(Z0)
	STORE_OVER(Z1)
	STORE_OVER(Z2)
	STORE_OVER(Z3)
	STORE_OVER(Z4)
	STORE_OVER(Z5)
	STORE_OVER(Z6)
	STORE_OVER(Z7)
	STORE_OVER(Z8)
	STORE_OVER(Z9)
	STORE_OVER(Z10)
	STORE_OVER(Z11)
	STORE_OVER(Z12)
	STORE_OVER(Z13)
	STORE_OVER(Z14)
	STORE_OVER(Z15)
	VZEROUPPER
	RET

// func packA16T(k int, src *float32, lda int, dst *float32)
//
// dst[p*16+r] = src[p*lda+r] for p < k, r < 16: packs a full 16-row panel
// of op(a) = a^T (sixteen adjacent columns of a) for kern16x16.
TEXT ·packA16T(SB), NOSPLIT, $0-32
	MOVQ k+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ lda+16(FP), R8
	SHLQ $2, R8
	MOVQ dst+24(FP), DI
	TESTQ CX, CX
	JZ   done

packloop:
	VMOVUPS (SI), Z0
	VMOVUPS Z0, (DI)
	ADDQ    R8, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     packloop

done:
	VZEROUPPER
	RET

// func packT16(blocks int, src *float32, ld int, dst *float32)
//
// dst[p*16+j] = src[j*ld+p] for p < 16*blocks, j < 16: transposes sixteen
// rows of a row-major matrix (ld elements apart) into the kernels' panel
// layout, one 16x16 block at a time, in registers (four shuffle stages).
// Reading whole rows keeps it fast when the rows alias in the cache (ld a
// multiple of 1024), where element-wise gathers thrash. Used for panels of
// op(b) = b^T and for in-place-hostile panels of op(a) = a.
TEXT ·packT16(SB), NOSPLIT, $0-32
	MOVQ blocks+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), R8
	SHLQ $2, R8
	MOVQ dst+24(FP), DI
	TESTQ CX, CX
	JZ   done

tloop:
	MOVQ SI, AX
	VMOVUPS (AX), Z0
	ADDQ R8, AX
	VMOVUPS (AX), Z1
	ADDQ R8, AX
	VMOVUPS (AX), Z2
	ADDQ R8, AX
	VMOVUPS (AX), Z3
	ADDQ R8, AX
	VMOVUPS (AX), Z4
	ADDQ R8, AX
	VMOVUPS (AX), Z5
	ADDQ R8, AX
	VMOVUPS (AX), Z6
	ADDQ R8, AX
	VMOVUPS (AX), Z7
	ADDQ R8, AX
	VMOVUPS (AX), Z8
	ADDQ R8, AX
	VMOVUPS (AX), Z9
	ADDQ R8, AX
	VMOVUPS (AX), Z10
	ADDQ R8, AX
	VMOVUPS (AX), Z11
	ADDQ R8, AX
	VMOVUPS (AX), Z12
	ADDQ R8, AX
	VMOVUPS (AX), Z13
	ADDQ R8, AX
	VMOVUPS (AX), Z14
	ADDQ R8, AX
	VMOVUPS (AX), Z15
	VUNPCKLPS Z1, Z0, Z16
	VUNPCKHPS Z1, Z0, Z17
	VUNPCKLPS Z3, Z2, Z18
	VUNPCKHPS Z3, Z2, Z19
	VUNPCKLPS Z5, Z4, Z20
	VUNPCKHPS Z5, Z4, Z21
	VUNPCKLPS Z7, Z6, Z22
	VUNPCKHPS Z7, Z6, Z23
	VUNPCKLPS Z9, Z8, Z24
	VUNPCKHPS Z9, Z8, Z25
	VUNPCKLPS Z11, Z10, Z26
	VUNPCKHPS Z11, Z10, Z27
	VUNPCKLPS Z13, Z12, Z28
	VUNPCKHPS Z13, Z12, Z29
	VUNPCKLPS Z15, Z14, Z30
	VUNPCKHPS Z15, Z14, Z31
	VUNPCKLPD Z18, Z16, Z0
	VUNPCKHPD Z18, Z16, Z1
	VUNPCKLPD Z19, Z17, Z2
	VUNPCKHPD Z19, Z17, Z3
	VUNPCKLPD Z22, Z20, Z4
	VUNPCKHPD Z22, Z20, Z5
	VUNPCKLPD Z23, Z21, Z6
	VUNPCKHPD Z23, Z21, Z7
	VUNPCKLPD Z26, Z24, Z8
	VUNPCKHPD Z26, Z24, Z9
	VUNPCKLPD Z27, Z25, Z10
	VUNPCKHPD Z27, Z25, Z11
	VUNPCKLPD Z30, Z28, Z12
	VUNPCKHPD Z30, Z28, Z13
	VUNPCKLPD Z31, Z29, Z14
	VUNPCKHPD Z31, Z29, Z15
	VSHUFF32X4 $0x88, Z4, Z0, Z16
	VSHUFF32X4 $0xdd, Z4, Z0, Z20
	VSHUFF32X4 $0x88, Z5, Z1, Z17
	VSHUFF32X4 $0xdd, Z5, Z1, Z21
	VSHUFF32X4 $0x88, Z6, Z2, Z18
	VSHUFF32X4 $0xdd, Z6, Z2, Z22
	VSHUFF32X4 $0x88, Z7, Z3, Z19
	VSHUFF32X4 $0xdd, Z7, Z3, Z23
	VSHUFF32X4 $0x88, Z12, Z8, Z24
	VSHUFF32X4 $0xdd, Z12, Z8, Z28
	VSHUFF32X4 $0x88, Z13, Z9, Z25
	VSHUFF32X4 $0xdd, Z13, Z9, Z29
	VSHUFF32X4 $0x88, Z14, Z10, Z26
	VSHUFF32X4 $0xdd, Z14, Z10, Z30
	VSHUFF32X4 $0x88, Z15, Z11, Z27
	VSHUFF32X4 $0xdd, Z15, Z11, Z31
	VSHUFF32X4 $0x88, Z24, Z16, Z0
	VSHUFF32X4 $0xdd, Z24, Z16, Z8
	VSHUFF32X4 $0x88, Z25, Z17, Z1
	VSHUFF32X4 $0xdd, Z25, Z17, Z9
	VSHUFF32X4 $0x88, Z26, Z18, Z2
	VSHUFF32X4 $0xdd, Z26, Z18, Z10
	VSHUFF32X4 $0x88, Z27, Z19, Z3
	VSHUFF32X4 $0xdd, Z27, Z19, Z11
	VSHUFF32X4 $0x88, Z28, Z20, Z4
	VSHUFF32X4 $0xdd, Z28, Z20, Z12
	VSHUFF32X4 $0x88, Z29, Z21, Z5
	VSHUFF32X4 $0xdd, Z29, Z21, Z13
	VSHUFF32X4 $0x88, Z30, Z22, Z6
	VSHUFF32X4 $0xdd, Z30, Z22, Z14
	VSHUFF32X4 $0x88, Z31, Z23, Z7
	VSHUFF32X4 $0xdd, Z31, Z23, Z15
	VMOVUPS Z0, 0(DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VMOVUPS Z4, 256(DI)
	VMOVUPS Z5, 320(DI)
	VMOVUPS Z6, 384(DI)
	VMOVUPS Z7, 448(DI)
	VMOVUPS Z8, 512(DI)
	VMOVUPS Z9, 576(DI)
	VMOVUPS Z10, 640(DI)
	VMOVUPS Z11, 704(DI)
	VMOVUPS Z12, 768(DI)
	VMOVUPS Z13, 832(DI)
	VMOVUPS Z14, 896(DI)
	VMOVUPS Z15, 960(DI)
	ADDQ $64, SI
	ADDQ $1024, DI
	DECQ CX
	JNZ  tloop

done:
	VZEROUPPER
	RET
