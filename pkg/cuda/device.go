//go:build d2vcuda || d2vcudahost

package cuda

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/d2v/d2v/pkg/gpu"
)

// backend is what Device needs from the GPU: the CUDA driver and cuBLAS
// (driver.go, tag d2vcuda), or, for tests on a machine without a GPU, the
// same kernels/d2v.cu compiled for the host and run thread by thread
// (host.go, tag d2vcudahost).
type backend interface {
	alloc(bytes int) (uint64, error) // zeroed
	free(p uint64)
	htod(dst uint64, src unsafe.Pointer, bytes int) error
	dtoh(dst unsafe.Pointer, src uint64, bytes int) error
	sync() error
	// launch runs kernel with each argument in an 8-byte slot (pointers,
	// int64 and float64 fill it; int32 and float32 sit in the low bytes).
	launch(kernel string, grid, block [2]int, slots []uint64) error
	sgemm(ta, tb bool, m, n, k int, alpha float32, a uint64, lda, sa int, b uint64, ldb, sb int,
		beta float32, c uint64, ldc, sc, count int) error
	close()
	name() string
}

// Device is gpu.Device on one CUDA GPU. Work is queued on the default
// stream; the first error sticks and is returned by Sync.
type Device struct {
	c       backend
	err     error
	allocs  []uint64
	partial uint64 // reduction partials: redBlocks float64 + 1 result
}

const (
	threads   = 256 // elementwise and row kernels (8 warps = 8 rows)
	maxBlocks = 65535
	redBlocks = 256 // d2v_reg_loss / d2v_sumsq grid; RB threads each
)

// Open starts device ordinal and loads the embedded kernels.
func Open(ordinal int) (*Device, error) {
	c, err := newBackend(ordinal)
	if err != nil {
		return nil, err
	}
	d := &Device{c: c}
	if d.partial, err = c.alloc(8 * (redBlocks + 1)); err != nil {
		c.close()
		return nil, err
	}
	return d, nil
}

// Name is the GPU's name and compute capability, e.g. "NVIDIA H100 (sm_90)".
func (d *Device) Name() string { return d.c.name() }

func (d *Device) keep(err error) {
	if d.err == nil && err != nil {
		d.err = err
	}
}

func (d *Device) Alloc(n int) gpu.Buf {
	if d.err != nil || n == 0 {
		return gpu.Buf{N: n}
	}
	p, err := d.c.alloc(4 * n)
	d.keep(err)
	d.allocs = append(d.allocs, p)
	return gpu.Buf{Addr: p, N: n}
}

func (d *Device) Upload(dst gpu.Buf, src []float32) {
	if d.err == nil && dst.N > 0 {
		d.keep(d.c.htod(dst.Addr, unsafe.Pointer(&src[:dst.N][0]), 4*dst.N))
	}
}

func (d *Device) Download(dst []float32, src gpu.Buf) {
	if d.err == nil && src.N > 0 {
		d.keep(d.c.dtoh(unsafe.Pointer(&dst[:src.N][0]), src.Addr, 4*src.N))
	}
}

func (d *Device) Sync() error {
	if d.err == nil {
		d.keep(d.c.sync())
	}
	return d.err
}

// Close frees every allocation and releases the context; a second Close does nothing.
func (d *Device) Close() {
	if d.c == nil {
		return
	}
	for _, p := range d.allocs {
		d.c.free(p)
	}
	d.c.free(d.partial)
	d.c.close()
	d.c, d.allocs = nil, nil
	d.keep(fmt.Errorf("cuda: device closed"))
}

func (d *Device) launch(k string, grid, block [2]int, args ...any) {
	if d.err == nil {
		slots, err := pack(k, args)
		if err == nil {
			err = d.c.launch(k, grid, block, slots)
		}
		d.keep(err)
	}
}

// pack puts each kernel argument in an 8-byte slot: a device pointer
// (uint64), an int (as int32), an int64 (a kernel's long), a float32 or a float64.
func pack(kernel string, args []any) ([]uint64, error) {
	if len(args) > 16 {
		return nil, fmt.Errorf("cuda: %s: %d arguments, at most 16", kernel, len(args))
	}
	slots := make([]uint64, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case uint64:
			slots[i] = v
		case int:
			if v > math.MaxInt32 || v < math.MinInt32 {
				return nil, fmt.Errorf("cuda: %s: argument %d (%d) overflows int32", kernel, i, v)
			}
			slots[i] = uint64(uint32(int32(v)))
		case int64:
			slots[i] = uint64(v)
		case float32:
			slots[i] = uint64(math.Float32bits(v))
		case float64:
			slots[i] = math.Float64bits(v)
		default:
			return nil, fmt.Errorf("cuda: %s: argument %d has type %T", kernel, i, a)
		}
	}
	return slots, nil
}

// flat launches k over n elements (grid-stride kernels).
func (d *Device) flat(k string, n int, args ...any) {
	if n == 0 {
		return
	}
	d.launch(k, [2]int{min((n+threads-1)/threads, maxBlocks), 1}, [2]int{threads, 1}, args...)
}

// rows launches k with one warp per row.
func (d *Device) rows(k string, n int, args ...any) {
	d.launch(k, [2]int{(n*32 + threads - 1) / threads, 1}, [2]int{threads, 1}, args...)
}

// cols launches k with a (32 columns, 8 row groups) block per 32 columns.
func (d *Device) cols(k string, ncols int, args ...any) {
	d.launch(k, [2]int{(ncols + 31) / 32, 1}, [2]int{32, 8}, args...)
}

func (d *Device) Gemm(g gpu.Gemm) {
	if d.err == nil {
		d.keep(d.c.sgemm(g.TA, g.TB, g.M, g.N, g.K, g.Alpha, g.A.Addr, g.LDA, g.SA, g.B.Addr, g.LDB, g.SB,
			g.Beta, g.C.Addr, g.LDC, g.SC, max(g.Count, 1)))
	}
}

func (d *Device) Fill(y gpu.Buf, v float32) { d.flat("d2v_fill", y.N, y.Addr, v, y.N) }
func (d *Device) Copy(y, x gpu.Buf)         { d.flat("d2v_copy", y.N, y.Addr, x.Addr, y.N) }
func (d *Device) Add(y, a, b gpu.Buf)       { d.flat("d2v_add", y.N, y.Addr, a.Addr, b.Addr, y.N) }
func (d *Device) AddTo(y, x gpu.Buf)        { d.flat("d2v_add_to", y.N, y.Addr, x.Addr, y.N) }
func (d *Device) Scale(y gpu.Buf, a float32) {
	d.flat("d2v_scale", y.N, y.Addr, a, y.N)
}
func (d *Device) BiasRows(y, b gpu.Buf, n, dd int) {
	d.flat("d2v_bias_rows", n*dd, y.Addr, b.Addr, n, dd)
}
func (d *Device) ColSum(s, x gpu.Buf, n, dd int) {
	d.cols("d2v_col_sum", dd, s.Addr, x.Addr, uint64(0), n, dd)
}
func (d *Device) GatherRows(y, src, idx gpu.Buf, m, dd int) {
	d.flat("d2v_gather_rows", m*dd, y.Addr, src.Addr, idx.Addr, m, dd)
}
func (d *Device) ScatterAddRows(dst, idx, y gpu.Buf, m, dd int) {
	d.flat("d2v_scatter_add_rows", m*dd, dst.Addr, idx.Addr, y.Addr, m, dd)
}
func (d *Device) MaskPos(y, e, memb, pos, mask gpu.Buf, n, t, dd int) {
	d.flat("d2v_mask_pos", n*dd, y.Addr, e.Addr, memb.Addr, pos.Addr, mask.Addr, n, t, dd)
}
func (d *Device) MaskPosBwd(de, dmemb, dpos, mask, dy gpu.Buf, n, t, dd int) {
	d.flat("d2v_mask_pos_bwd", t*dd, de.Addr, dpos.Addr, mask.Addr, dy.Addr, n, t, dd)
	d.cols("d2v_col_sum", dd, dmemb.Addr, dy.Addr, mask.Addr, n, dd)
}
func (d *Device) LayerNorm(y, mean, rstd, x, g, b gpu.Buf, n, dd int, eps float32) {
	d.rows("d2v_layernorm", n, y.Addr, mean.Addr, rstd.Addr, x.Addr, g.Addr, b.Addr, n, dd, eps)
}
func (d *Device) LayerNormBwd(dx, dg, db, x, g, mean, rstd, dy gpu.Buf, n, dd int) {
	d.rows("d2v_ln_bwd_x", n, dx.Addr, x.Addr, g.Addr, mean.Addr, rstd.Addr, dy.Addr, n, dd)
	d.cols("d2v_ln_bwd_gb", dd, dg.Addr, db.Addr, x.Addr, mean.Addr, rstd.Addr, dy.Addr, n, dd)
}
func (d *Device) GELU(y, x gpu.Buf) { d.flat("d2v_gelu", y.N, y.Addr, x.Addr, y.N) }
func (d *Device) GELUBwd(dx, x, dy gpu.Buf) {
	d.flat("d2v_gelu_bwd", dx.N, dx.Addr, x.Addr, dy.Addr, dx.N)
}
func (d *Device) Softmax(p gpu.Buf, rows, n int) {
	d.rows("d2v_softmax", rows, p.Addr, rows, n)
}
func (d *Device) SoftmaxBwd(ds, p, dp gpu.Buf, rows, n int) {
	d.rows("d2v_softmax_bwd", rows, ds.Addr, p.Addr, dp.Addr, rows, n)
}
func (d *Device) NormRows(x gpu.Buf, n, dd int, eps float32) {
	d.rows("d2v_norm_rows", n, x.Addr, n, dd, eps)
}
func (d *Device) NormCols(x gpu.Buf, b, t, dd int, eps float32) {
	d.rows("d2v_norm_cols", b*dd, x.Addr, b, t, dd, eps)
}

// reduce sums the per-block partials left by a reduction kernel of nb
// blocks, times scale, and copies the float64 back.
func (d *Device) reduce(nb int, scale float64) (float64, error) {
	out := d.partial + 8*redBlocks
	d.launch("d2v_sum_partials", [2]int{1, 1}, [2]int{256, 1}, out, d.partial, nb, scale)
	var v float64
	if d.err == nil {
		d.keep(d.c.dtoh(unsafe.Pointer(&v), out, 8))
	}
	return v, d.err
}

func redGrid(n int) int { return max(1, min((n+255)/256, redBlocks)) }

func (d *Device) RegLoss(dpred, pred, tgt gpu.Buf, beta, coef float32) (float64, error) {
	nb := redGrid(pred.N)
	d.launch("d2v_reg_loss", [2]int{nb, 1}, [2]int{256, 1}, dpred.Addr, d.partial, pred.Addr, tgt.Addr, pred.N, beta, coef)
	return d.reduce(nb, float64(coef))
}

func (d *Device) SumSq(x gpu.Buf) (float64, error) {
	nb := redGrid(x.N)
	d.launch("d2v_sumsq", [2]int{nb, 1}, [2]int{256, 1}, d.partial, x.Addr, int64(x.N))
	return d.reduce(nb, 1)
}

func (d *Device) AdamW(w, g, m, v gpu.Buf, c gpu.AdamW) {
	d.flat("d2v_adamw", w.N, w.Addr, g.Addr, m.Addr, v.Addr, w.N, c.B1, c.B2, c.Eps, c.Step, c.Coef, c.Shrink, c.BC2)
}

func (d *Device) EMA(t, s gpu.Buf, a, b float32) {
	d.flat("d2v_ema", t.N, t.Addr, s.Addr, t.N, a, b)
}

var _ gpu.Device = (*Device)(nil)
