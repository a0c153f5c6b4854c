package gpu

import "fmt"

// Buf is a float32 array on a device: a device address (bytes) and a
// length (elements). Slices of a Buf share its memory.
type Buf struct {
	Addr uint64
	N    int
}

// Slice returns elements [lo, hi) of b.
func (b Buf) Slice(lo, hi int) Buf {
	if lo < 0 || hi > b.N || lo > hi {
		panic(fmt.Sprintf("gpu: slice [%d:%d] of a buffer of %d", lo, hi, b.N))
	}
	return Buf{Addr: b.Addr + 4*uint64(lo), N: hi - lo}
}

// Gemm is one strided-batched row-major matrix product:
// for i < Count, C_i = Alpha op(A_i) op(B_i) + Beta C_i, where
// op(A_i) is (M, K), op(B_i) is (K, N), C_i is (M, N), X_i starts SX
// elements after X_{i-1}, and LDX is the row stride of X (row-major, so
// attention heads are column blocks read in place).
type Gemm struct {
	TA, TB        bool
	M, N, K       int
	Alpha, Beta   float32
	A, B, C       Buf
	LDA, LDB, LDC int
	SA, SB, SC    int
	Count         int // 0 is taken as 1
}

// AdamW holds the per-tensor constants of one AdamW update (train.AdamW):
// g' = g*Coef; m = B1 m + (1-B1) g'; v = B2 v + (1-B2) g'^2;
// w = w*Shrink - Step*m/(sqrt(v)/BC2 + Eps).
type AdamW struct {
	B1, B2, Eps, Step, Coef, Shrink, BC2 float32
}

// Device is the memory, GEMM and kernel set the step runs on. Methods
// queue work in order; errors are sticky and reported by Sync (and by the
// methods that return host values).
type Device interface {
	// Alloc returns n zeroed elements.
	Alloc(n int) Buf
	Upload(dst Buf, src []float32)
	Download(dst []float32, src Buf)
	Sync() error
	Close()

	Gemm(g Gemm)

	Fill(y Buf, v float32)
	Copy(y, x Buf)
	Add(y, a, b Buf) // y = a + b
	AddTo(y, x Buf)  // y += x
	Scale(y Buf, a float32)

	// BiasRows sets every row of y (n, d) to b (d).
	BiasRows(y, b Buf, n, d int)
	// ColSum sets s[j] = sum_r x[r, j] for x (n, d) (bias gradients).
	ColSum(s, x Buf, n, d int)
	// GatherRows sets y[i] = src[idx[i]] for y (m, d); idx holds row
	// numbers as float32.
	GatherRows(y, src, idx Buf, m, d int)
	// ScatterAddRows adds y[i] into dst[idx[i]] for y (m, d); repeated
	// indices accumulate.
	ScatterAddRows(dst, idx, y Buf, m, d int)
	// MaskPos sets y[r] = (mask[r] != 0 ? memb : e[r]) + pos[r % t] for
	// y, e (n, d), memb (d), pos (t, d) (ops.MaskPos).
	MaskPos(y, e, memb, pos, mask Buf, n, t, d int)
	// MaskPosBwd is MaskPos's backward: de, dmemb, dpos are overwritten.
	MaskPosBwd(de, dmemb, dpos, mask, dy Buf, n, t, d int)
	// LayerNorm normalises the rows of x (n, d) with gain g and bias b,
	// keeping each row's mean and 1/std for the backward (ops.LayerNorm).
	LayerNorm(y, mean, rstd, x, g, b Buf, n, d int, eps float32)
	// LayerNormBwd overwrites dx (n, d), dg and db (d).
	LayerNormBwd(dx, dg, db, x, g, mean, rstd, dy Buf, n, d int)
	GELU(y, x Buf)
	GELUBwd(dx, x, dy Buf) // dx = dy * gelu'(x)
	// Softmax replaces each of the rows of p (rows, n) by its softmax.
	Softmax(p Buf, rows, n int)
	// SoftmaxBwd sets ds = p*(dp - rowsum(dp*p)); ds may be dp.
	SoftmaxBwd(ds, p, dp Buf, rows, n int)
	// NormRows normalises each row of x (n, d) in place, no affine
	// (layer target norm); NormCols each column of each of the b
	// (t, d) blocks (instance norm over T).
	NormRows(x Buf, n, d int, eps float32)
	NormCols(x Buf, b, t, d int, eps float32)
	// RegLoss writes the data2vec regression loss gradient
	// dpred = coef*el'(pred-tgt) and returns coef*sum(el(pred-tgt))
	// (ops.RegressionLoss with an upstream gradient of 1).
	RegLoss(dpred, pred, tgt Buf, beta, coef float32) (float64, error)
	// SumSq returns the sum of squares of x, accumulated in float64.
	SumSq(x Buf) (float64, error)
	AdamW(w, g, m, v Buf, c AdamW)
	// EMA sets t = a*t + b*s.
	EMA(t, s Buf, a, b float32)
}
