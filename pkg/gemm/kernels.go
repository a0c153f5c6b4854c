package gemm

import (
	"fmt"
	"os"
	"strings"
	"sync/atomic"
)

// kernFunc is a micro-kernel: see kernGo for the contract.
type kernFunc func(k int, a *float32, rs, ps int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, load int)

// microKernel is one register-tile implementation the blocked driver can
// run: an mr x nr tile (nr is 16 for every kernel, so B packing is shared)
// and the packer for full mr-row panels of a transposed A.
type microKernel struct {
	name   string
	mr     int
	fn     kernFunc
	packAT func(k int, src *float32, lda int, dst *float32) // dst[p*mr+r] = src[p*lda+r]
	// packT, if not nil, transposes sixteen rows: dst[p*16+j] =
	// src[j*ld+p], p < k, j < 16. It packs panels of op(b) = b^T (else
	// gathers do), and, for mr == 16, row panels of op(a) = a whose rows
	// alias in the L1 cache (see aliased).
	packT func(k int, src *float32, ld int, dst *float32)
}

// goKernels are the portable kernels with the assembly kernels' tile
// shapes; tests run the driver around them on any architecture.
var goKernels = []*microKernel{goKernel(6), goKernel(16)}

func goKernel(m int) *microKernel {
	return &microKernel{
		name: fmt.Sprintf("go%dx16", m),
		mr:   m,
		fn: func(k int, a *float32, rs, ps int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, load int) {
			kernGo(m, k, a, rs, ps, b, bs, c, ldc, alpha, beta, load)
		},
		packAT: func(k int, src *float32, lda int, dst *float32) { packATGo(m, k, src, lda, dst) },
	}
}

// maxMR bounds mr over all kernels (scratch buffer sizes).
const maxMR = 16

// active is the kernel Sgemm uses; nil means none is available here and
// Sgemm always takes the gonum path.
var active atomic.Pointer[microKernel]

// haveKernel reports whether this CPU has an assembly micro-kernel.
var haveKernel = len(asmKernels()) > 0

func init() {
	ks := asmKernels()
	if len(ks) == 0 {
		return
	}
	active.Store(ks[len(ks)-1])
	if name := os.Getenv("D2V_GEMM_KERNEL"); name != "" {
		if _, err := SetKernel(name); err != nil {
			fmt.Fprintf(os.Stderr, "gemm: D2V_GEMM_KERNEL: %v; using %s\n", err, Kernel())
		}
	}
}

// Kernels lists the assembly micro-kernels this CPU can run, slowest
// first ("avx2", "avx512"); empty off amd64 and with -tags purego.
func Kernels() []string {
	var names []string
	for _, k := range asmKernels() {
		names = append(names, k.name)
	}
	return names
}

// Kernel names the micro-kernel Sgemm uses now: one of Kernels(), or
// "gonum" when there is none or the fallback is forced.
func Kernel() string {
	if k := active.Load(); k != nil && !forceFallback.Load() {
		return k.name
	}
	return "gonum"
}

// SetKernel selects the micro-kernel by name (one of Kernels()) and
// returns the previous one; meant for comparisons and tests (the
// environment variable D2V_GEMM_KERNEL does the same at start-up). The
// default is the last of Kernels().
func SetKernel(name string) (prev string, err error) {
	prev = Kernel()
	for _, k := range asmKernels() {
		if k.name == name {
			active.Store(k)
			return prev, nil
		}
	}
	return prev, fmt.Errorf("no micro-kernel %q on this CPU (have: %s)", name, strings.Join(Kernels(), ", "))
}
