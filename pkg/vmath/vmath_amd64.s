//go:build !purego

#include "textflag.h"

// 8-lane float32 kernels for AVX2+FMA. Constants are 32-byte vectors used
// as memory operands. Tails (n%8 elements) go through VMASKMOVPS with a
// mask taken from masktab.

#define CONST8(name, v) \
	DATA name<>+0(SB)/8, v; \
	DATA name<>+8(SB)/8, v; \
	DATA name<>+16(SB)/8, v; \
	DATA name<>+24(SB)/8, v; \
	GLOBL name<>(SB), RODATA|NOPTR, $32

CONST8(log2e, $0x3fb8aa3b3fb8aa3b)  // log2(e)
CONST8(magic, $0x4b4000004b400000)  // 1.5*2^23: x + magic rounds x to an integer
CONST8(ln2hi, $0x3f3180003f318000)  // 0.693359375 (9 significant bits)
CONST8(ln2lo, $0xb95e8083b95e8083)  // ln2 - ln2hi = -2.12194440e-4
CONST8(c2, $0x3f0000003f000000)     // 1/2!
CONST8(c3, $0x3e2aaaab3e2aaaab)     // 1/3!
CONST8(c4, $0x3d2aaaab3d2aaaab)     // 1/4!
CONST8(c5, $0x3c0888893c088889)     // 1/5!
CONST8(c6, $0x3ab60b613ab60b61)     // 1/6!
CONST8(c7, $0x39500d0139500d01)     // 1/7!
CONST8(one, $0x3f8000003f800000)    // 1
CONST8(explo, $0xc2aeac4fc2aeac4f)  // -87.33654: below it exp gives 0
CONST8(exphi, $0x42b1721742b17217)  // 88.72283: above it exp gives +Inf
CONST8(inf, $0x7f8000007f800000)    // +Inf
CONST8(neginf, $0xff800000ff800000) // -Inf
CONST8(mhalf, $0xbf000000bf000000)  // -0.5
CONST8(absmask, $0x7fffffff7fffffff)
CONST8(asp, $0x3e6d33883e6d3388)      // 0.3275911/sqrt2 (A&S 7.1.26 p, on x not x/sqrt2)
CONST8(asa1, $0x3e0279063e027906)     // A&S a1..a5, halved
CONST8(asa2, $0xbe11a98ebe11a98e)
CONST8(asa3, $0x3f35f0e33f35f0e3)
CONST8(asa4, $0xbf3a00e3bf3a00e3)
CONST8(asa5, $0x3f07dc223f07dc22)
CONST8(isqrt2pi, $0x3ecc422a3ecc422a) // 1/sqrt(2 pi)

// masktab+4*(8-k) holds k all-ones lanes followed by zero lanes.
DATA masktab<>+0(SB)/8, $0xffffffffffffffff
DATA masktab<>+8(SB)/8, $0xffffffffffffffff
DATA masktab<>+16(SB)/8, $0xffffffffffffffff
DATA masktab<>+24(SB)/8, $0xffffffffffffffff
DATA masktab<>+32(SB)/8, $0
DATA masktab<>+40(SB)/8, $0
DATA masktab<>+48(SB)/8, $0
DATA masktab<>+56(SB)/8, $0
GLOBL masktab<>(SB), RODATA|NOPTR, $64

// EXPCORE sets P = exp(X) for X in [explo, exphi] (X is kept; N and R are
// clobbered). n = round(X*log2e) via the magic-number add (one rounding,
// of the exact product), r = X - n*ln2hi - n*ln2lo (the first step exact),
// p = degree-7 Taylor polynomial of e^r (|r| <= 0.347, truncation < 5e-9
// relative), and 2^n applied by adding n<<23 to p's bits. n goes through
// VCVTPS2DQ so that NaN and +-Inf give 0x80000000, whose shift is 0: a NaN
// X gives a NaN P. Other out-of-range X give garbage; callers fix them up.
// EXPRED leaves n (as a float) in N and r in R; EXPPOLY finishes.
#define EXPRED(X, N, R) \
	VMOVUPS magic<>(SB), N; \
	VFMADD231PS log2e<>(SB), X, N; \
	VSUBPS magic<>(SB), N, N; \
	VMOVAPS X, R; \
	VFNMADD231PS ln2hi<>(SB), N, R; \
	VFNMADD231PS ln2lo<>(SB), N, R

#define EXPPOLY(P, N, R) \
	VMOVUPS c7<>(SB), P; \
	VFMADD213PS c6<>(SB), R, P; \
	VFMADD213PS c5<>(SB), R, P; \
	VFMADD213PS c4<>(SB), R, P; \
	VFMADD213PS c3<>(SB), R, P; \
	VFMADD213PS c2<>(SB), R, P; \
	VFMADD213PS one<>(SB), R, P; \
	VFMADD213PS one<>(SB), R, P; \
	VCVTPS2DQ N, N; \
	VPSLLD $23, N, N; \
	VPADDD N, P, P

#define EXPCORE(X, P, N, R) \
	EXPRED(X, N, R); \
	EXPPOLY(P, N, R)

// EXPZERO sets P lanes to 0 where X < explo (ordered: NaN lanes kept).
#define EXPZERO(X, P, M) \
	VCMPPS $0x11, explo<>(SB), X, M; \
	VANDNPS P, M, P

// EXPINF sets P lanes to +Inf where X > exphi (ordered).
#define EXPINF(X, P, M) \
	VCMPPS $0x1e, exphi<>(SB), X, M; \
	VBLENDVPS M, inf<>(SB), P, P

// TAILMASK loads into M the mask of the first CX lanes (1 <= CX <= 7).
#define TAILMASK(M) \
	MOVQ $8, AX; \
	SUBQ CX, AX; \
	LEAQ masktab<>(SB), BX; \
	VMOVUPS (BX)(AX*4), M

// func expAVX(dst, src *float32, n int)
TEXT ·expAVX(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	CMPQ CX, $8
	JB   exptail

exploop:
	VMOVUPS (SI), Y0
	EXPCORE(Y0, Y1, Y2, Y3)
	EXPZERO(Y0, Y1, Y2)
	EXPINF(Y0, Y1, Y2)
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	CMPQ    CX, $8
	JAE     exploop

exptail:
	TESTQ CX, CX
	JZ    expdone
	TAILMASK(Y5)
	VMASKMOVPS (SI), Y5, Y0
	EXPCORE(Y0, Y1, Y2, Y3)
	EXPZERO(Y0, Y1, Y2)
	EXPINF(Y0, Y1, Y2)
	VMASKMOVPS Y1, Y5, (DI)

expdone:
	VZEROUPPER
	RET

// SUBERR sets D = fl(X - Y6) and X = (X - Y6) - D exactly (Knuth's
// TwoSum; T is clobbered), so that exp(x - max) keeps its accuracy where
// |x - max| is large and the rounding of x - max (up to 4e-6 relative
// error in exp for |x - max| ~ 100) would otherwise show.
#define SUBERR(X, D, T) \
	VSUBPS Y6, X, D; \
	VADDPS Y6, D, T; \
	VSUBPS T, X, X; \
	VSUBPS T, D, T; \
	VADDPS Y6, T, T; \
	VSUBPS T, X, X

// func softmaxAVX(x *float32, rows, n int)
//
// Per row: Y6 = row max (8 lanes, then reduced and broadcast); the row is
// overwritten with e = exp(x - max) while Y7 sums e in 8 lanes; then it is
// multiplied by 1/sum. x - max <= 0 for finite max, so only the zero
// fix-up is needed; NaN propagates. R8 = row start, DX = rows left,
// R9 = n, Y5 = tail mask, Y14 = -Inf, Y15 = 1.
TEXT ·softmaxAVX(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), R8
	MOVQ rows+8(FP), DX
	MOVQ n+16(FP), R9
	MOVQ R9, CX
	ANDQ $7, CX
	JZ   smnotail
	TAILMASK(Y5)

smnotail:
	VMOVUPS one<>(SB), Y15
	VMOVUPS neginf<>(SB), Y14

smrow:
	// max
	VMOVAPS Y14, Y6
	MOVQ    R8, SI
	MOVQ    R9, CX
	CMPQ    CX, $8
	JB      smmaxtail

smmaxloop:
	VMAXPS (SI), Y6, Y6
	ADDQ   $32, SI
	SUBQ   $8, CX
	CMPQ   CX, $8
	JAE    smmaxloop

smmaxtail:
	TESTQ      CX, CX
	JZ         smmaxdone
	VMASKMOVPS (SI), Y5, Y0
	VBLENDVPS  Y5, Y0, Y14, Y0
	VMAXPS     Y0, Y6, Y6

smmaxdone:
	VEXTRACTF128 $1, Y6, X0
	VMAXPS       X0, X6, X6
	VPERMILPS    $0x4e, X6, X0
	VMAXPS       X0, X6, X6
	VPERMILPS    $0xb1, X6, X0
	VMAXPS       X0, X6, X6
	VBROADCASTSS X6, Y6

	// exp and sum
	VXORPS Y7, Y7, Y7
	MOVQ   R8, SI
	MOVQ   R9, CX
	CMPQ   CX, $8
	JB     smexptail

smexploop:
	VMOVUPS (SI), Y0
	SUBERR(Y0, Y4, Y8)
	EXPRED(Y4, Y2, Y3)
	VADDPS  Y0, Y3, Y3
	EXPPOLY(Y1, Y2, Y3)
	EXPZERO(Y4, Y1, Y2)
	VMOVUPS Y1, (SI)
	VADDPS  Y1, Y7, Y7
	ADDQ    $32, SI
	SUBQ    $8, CX
	CMPQ    CX, $8
	JAE     smexploop

smexptail:
	TESTQ      CX, CX
	JZ         smexpdone
	VMASKMOVPS (SI), Y5, Y0
	SUBERR(Y0, Y4, Y8)
	EXPRED(Y4, Y2, Y3)
	VADDPS     Y0, Y3, Y3
	EXPPOLY(Y1, Y2, Y3)
	EXPZERO(Y4, Y1, Y2)
	VMASKMOVPS Y1, Y5, (SI)
	VANDPS     Y5, Y1, Y1
	VADDPS     Y1, Y7, Y7

smexpdone:
	VEXTRACTF128 $1, Y7, X0
	VADDPS       X0, X7, X7
	VPERMILPS    $0x4e, X7, X0
	VADDPS       X0, X7, X7
	VPERMILPS    $0xb1, X7, X0
	VADDPS       X0, X7, X7
	VDIVPS       X7, X15, X7
	VBROADCASTSS X7, Y7

	// scale
	MOVQ R8, SI
	MOVQ R9, CX
	CMPQ CX, $8
	JB   smscaletail

smscaleloop:
	VMULPS  (SI), Y7, Y0
	VMOVUPS Y0, (SI)
	ADDQ    $32, SI
	SUBQ    $8, CX
	CMPQ    CX, $8
	JAE     smscaleloop

smscaletail:
	TESTQ      CX, CX
	JZ         smnext
	VMASKMOVPS (SI), Y5, Y0
	VMULPS     Y0, Y7, Y0
	VMASKMOVPS Y0, Y5, (SI)

smnext:
	LEAQ (R8)(R9*4), R8
	DECQ DX
	JNZ  smrow
	VZEROUPPER
	RET

// PHI computes, for x in X: G = exp(-x^2/2) and F = Phi(x) =
// 0.5*(1+erf(x/sqrt2)), using A&S 7.1.26 for H = 0.5*erfc(|x|/sqrt2) =
// t*(a1'+t*(a2'+...))*G (a' = a/2), t = 1/(1+p'|x|), then F = 1-H for x
// with clear sign bit and F = H for x with the sign bit set. Y15 = 1.
// Clobbers Y1..Y5 (G = Y2, F = Y3).
#define PHI(X) \
	VMULPS       mhalf<>(SB), X, Y1; \
	VMULPS       X, Y1, Y1; \
	EXPCORE(Y1, Y2, Y3, Y4); \
	EXPZERO(Y1, Y2, Y3); \
	VANDPS       absmask<>(SB), X, Y3; \
	VMOVAPS      Y15, Y4; \
	VFMADD231PS  asp<>(SB), Y3, Y4; \
	VDIVPS       Y4, Y15, Y4; \
	VMOVUPS      asa5<>(SB), Y5; \
	VFMADD213PS  asa4<>(SB), Y4, Y5; \
	VFMADD213PS  asa3<>(SB), Y4, Y5; \
	VFMADD213PS  asa2<>(SB), Y4, Y5; \
	VFMADD213PS  asa1<>(SB), Y4, Y5; \
	VMULPS       Y4, Y5, Y5; \
	VMULPS       Y2, Y5, Y5; \
	VSUBPS       Y5, Y15, Y3; \
	VBLENDVPS    X, Y5, Y3, Y3

// func geluAVX(y, x *float32, n int)
TEXT ·geluAVX(SB), NOSPLIT, $0-24
	MOVQ    y+0(FP), DI
	MOVQ    x+8(FP), SI
	MOVQ    n+16(FP), CX
	VMOVUPS one<>(SB), Y15
	CMPQ    CX, $8
	JB      gelutail

geluloop:
	VMOVUPS (SI), Y0
	PHI(Y0)
	VMULPS  Y3, Y0, Y3
	VMOVUPS Y3, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	CMPQ    CX, $8
	JAE     geluloop

gelutail:
	TESTQ CX, CX
	JZ    geludone
	TAILMASK(Y6)
	VMASKMOVPS (SI), Y6, Y0
	PHI(Y0)
	VMULPS     Y3, Y0, Y3
	VMASKMOVPS Y3, Y6, (DI)

geludone:
	VZEROUPPER
	RET

// func geluGradAVX(dx, x, dy *float32, n int)
TEXT ·geluGradAVX(SB), NOSPLIT, $0-32
	MOVQ    dx+0(FP), DI
	MOVQ    x+8(FP), SI
	MOVQ    dy+16(FP), DX
	MOVQ    n+24(FP), CX
	VMOVUPS one<>(SB), Y15
	CMPQ    CX, $8
	JB      ggtail

ggloop:
	VMOVUPS     (SI), Y0
	PHI(Y0)
	VMULPS      Y0, Y2, Y2
	VFMADD231PS isqrt2pi<>(SB), Y2, Y3
	VMULPS      (DX), Y3, Y3
	VMOVUPS     Y3, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DX
	ADDQ        $32, DI
	SUBQ        $8, CX
	CMPQ        CX, $8
	JAE         ggloop

ggtail:
	TESTQ CX, CX
	JZ    ggdone
	TAILMASK(Y6)
	VMASKMOVPS  (SI), Y6, Y0
	VMASKMOVPS  (DX), Y6, Y7
	PHI(Y0)
	VMULPS      Y0, Y2, Y2
	VFMADD231PS isqrt2pi<>(SB), Y2, Y3
	VMULPS      Y7, Y3, Y3
	VMASKMOVPS  Y3, Y6, (DI)

ggdone:
	VZEROUPPER
	RET
