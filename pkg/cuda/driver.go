//go:build d2vcuda

package cuda

/*
#cgo LDFLAGS: -lcuda -lcublas
#include <stdint.h>
#include <stdlib.h>
#include <cuda.h>
#include <cublas_v2.h>

// launch passes each argument as a pointer to its 8-byte slot (ints and
// floats sit in the low bytes; the driver reads sizeof(param) bytes).
static CUresult d2v_launch(CUfunction f, unsigned gx, unsigned gy, unsigned bx, unsigned by,
                           uint64_t* slots, int n) {
	void* params[16];
	for (int i = 0; i < n && i < 16; i++) params[i] = &slots[i];
	return cuLaunchKernel(f, gx, gy, 1, bx, by, 1, 0, 0, params, 0);
}

static const char* d2v_err_name(CUresult r) {
	const char* s = 0;
	if (cuGetErrorName(r, &s) != CUDA_SUCCESS || s == 0) return "unknown CUresult";
	return s;
}

// Row-major C = alpha op(A) op(B) + beta C is column-major C^T = op(B)^T op(A)^T.
static cublasStatus_t d2v_sgemm(cublasHandle_t h, int ta, int tb, int m, int n, int k, float alpha,
                                CUdeviceptr a, int lda, long long sa, CUdeviceptr b, int ldb, long long sb,
                                float beta, CUdeviceptr c, int ldc, long long sc, int count) {
	return cublasSgemmStridedBatched(h, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N,
		n, m, k, &alpha, (const float*)b, ldb, sb, (const float*)a, lda, sa, &beta, (float*)c, ldc, sc, count);
}
*/
import "C"

import (
	"fmt"
	"math"
	"unsafe"
)

func check(what string, r C.CUresult) error {
	if r == C.CUDA_SUCCESS {
		return nil
	}
	return fmt.Errorf("cuda: %s: %s (%d)", what, C.GoString(C.d2v_err_name(r)), int(r))
}

func checkBlas(what string, s C.cublasStatus_t) error {
	if s == C.CUBLAS_STATUS_SUCCESS {
		return nil
	}
	return fmt.Errorf("cublas: %s: status %d", what, int(s))
}

// ctx is the primary context of one device, with the module and cuBLAS.
type ctx struct {
	dev  C.CUdevice
	ctx  C.CUcontext
	mod  C.CUmodule
	fn   map[string]C.CUfunction
	blas C.cublasHandle_t
	Name string // the device's name
	CC   [2]int // compute capability
}

func open(ordinal int, ptx string) (*ctx, error) {
	c := &ctx{fn: map[string]C.CUfunction{}}
	if err := check("cuInit", C.cuInit(0)); err != nil {
		return nil, err
	}
	if err := check("cuDeviceGet", C.cuDeviceGet(&c.dev, C.int(ordinal))); err != nil {
		return nil, err
	}
	var name [256]C.char
	if err := check("cuDeviceGetName", C.cuDeviceGetName(&name[0], 256, c.dev)); err != nil {
		return nil, err
	}
	c.Name = C.GoString(&name[0])
	for i, a := range []C.CUdevice_attribute{C.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, C.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR} {
		var v C.int
		if err := check("cuDeviceGetAttribute", C.cuDeviceGetAttribute(&v, a, c.dev)); err != nil {
			return nil, err
		}
		c.CC[i] = int(v)
	}
	if err := check("cuDevicePrimaryCtxRetain", C.cuDevicePrimaryCtxRetain(&c.ctx, c.dev)); err != nil {
		return nil, err
	}
	if err := check("cuCtxSetCurrent", C.cuCtxSetCurrent(c.ctx)); err != nil {
		return nil, err
	}
	src := C.CString(ptx)
	defer C.free(unsafe.Pointer(src))
	if err := check("cuModuleLoadData (PTX JIT)", C.cuModuleLoadData(&c.mod, unsafe.Pointer(src))); err != nil {
		return nil, fmt.Errorf("%w: the embedded PTX targets compute_90 (%s is sm_%d%d)", err, c.Name, c.CC[0], c.CC[1])
	}
	for _, k := range Kernels {
		var f C.CUfunction
		ks := C.CString(k)
		err := check("cuModuleGetFunction "+k, C.cuModuleGetFunction(&f, c.mod, ks))
		C.free(unsafe.Pointer(ks))
		if err != nil {
			return nil, err
		}
		c.fn[k] = f
	}
	if err := checkBlas("cublasCreate", C.cublasCreate(&c.blas)); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *ctx) close() {
	if c.blas != nil {
		C.cublasDestroy(c.blas)
	}
	if c.mod != nil {
		C.cuModuleUnload(c.mod)
	}
	C.cuDevicePrimaryCtxRelease(c.dev)
}

func (c *ctx) alloc(bytes int) (uint64, error) {
	var p C.CUdeviceptr
	if err := check(fmt.Sprintf("cuMemAlloc %d bytes", bytes), C.cuMemAlloc(&p, C.size_t(bytes))); err != nil {
		return 0, err
	}
	if err := check("cuMemsetD32", C.cuMemsetD32(p, 0, C.size_t((bytes+3)/4))); err != nil {
		return 0, err
	}
	return uint64(p), nil
}

func (c *ctx) free(p uint64) { C.cuMemFree(C.CUdeviceptr(p)) }

func (c *ctx) htod(dst uint64, src unsafe.Pointer, bytes int) error {
	if bytes == 0 {
		return nil
	}
	return check("cuMemcpyHtoD", C.cuMemcpyHtoD(C.CUdeviceptr(dst), src, C.size_t(bytes)))
}

func (c *ctx) dtoh(dst unsafe.Pointer, src uint64, bytes int) error {
	if bytes == 0 {
		return nil
	}
	return check("cuMemcpyDtoH", C.cuMemcpyDtoH(dst, C.CUdeviceptr(src), C.size_t(bytes)))
}

func (c *ctx) sync() error { return check("cuCtxSynchronize", C.cuCtxSynchronize()) }

// arg is one kernel argument: a device pointer, an int32, a float32 or a float64.
type arg = any

func (c *ctx) launch(kernel string, grid, block [2]int, args ...arg) error {
	var slots [16]C.uint64_t
	if len(args) > len(slots) {
		return fmt.Errorf("cuda: %s: %d arguments, at most %d", kernel, len(args), len(slots))
	}
	for i, a := range args {
		switch v := a.(type) {
		case uint64: // device pointer
			slots[i] = C.uint64_t(v)
		case int:
			if v > math.MaxInt32 || v < math.MinInt32 {
				return fmt.Errorf("cuda: %s: argument %d (%d) overflows int32", kernel, i, v)
			}
			slots[i] = C.uint64_t(uint32(int32(v)))
		case int64: // kernel parameter of type long
			slots[i] = C.uint64_t(uint64(v))
		case float32:
			slots[i] = C.uint64_t(math.Float32bits(v))
		case float64:
			slots[i] = C.uint64_t(math.Float64bits(v))
		default:
			return fmt.Errorf("cuda: %s: argument %d has type %T", kernel, i, a)
		}
	}
	f, ok := c.fn[kernel]
	if !ok {
		return fmt.Errorf("cuda: no kernel %s", kernel)
	}
	r := C.d2v_launch(f, C.uint(grid[0]), C.uint(grid[1]), C.uint(block[0]), C.uint(block[1]), &slots[0], C.int(len(args)))
	return check("launch "+kernel, r)
}

func (c *ctx) sgemm(ta, tb bool, m, n, k int, alpha float32, a uint64, lda, sa int, b uint64, ldb, sb int,
	beta float32, cc uint64, ldc, sc, count int) error {
	bi := func(v bool) C.int {
		if v {
			return 1
		}
		return 0
	}
	s := C.d2v_sgemm(c.blas, bi(ta), bi(tb), C.int(m), C.int(n), C.int(k), C.float(alpha),
		C.CUdeviceptr(a), C.int(lda), C.longlong(sa), C.CUdeviceptr(b), C.int(ldb), C.longlong(sb),
		C.float(beta), C.CUdeviceptr(cc), C.int(ldc), C.longlong(sc), C.int(count))
	return checkBlas(fmt.Sprintf("sgemm %dx%dx%d x%d", m, n, k, count), s)
}
