//go:build d2vcuda

package cuda

/*
#cgo LDFLAGS: -lcuda -lcublas
#include <stdint.h>
#include <stdlib.h>
#include <cuda.h>
#include <cublas_v2.h>

// Every call after open goes through these wrappers, which first make the
// context current: a CUDA context is current per OS thread, and a goroutine
// can move to another thread between any two calls.

// launch passes each argument as a pointer to its 8-byte slot (ints and
// floats sit in the low bytes; the driver reads sizeof(param) bytes).
static CUresult d2v_launch(CUcontext ctx, CUfunction f, unsigned gx, unsigned gy, unsigned bx, unsigned by,
                           uint64_t* slots, int n) {
	CUresult r = cuCtxSetCurrent(ctx);
	if (r != CUDA_SUCCESS) return r;
	void* params[16];
	for (int i = 0; i < n && i < 16; i++) params[i] = &slots[i];
	return cuLaunchKernel(f, gx, gy, 1, bx, by, 1, 0, 0, params, 0);
}

static CUresult d2v_alloc(CUcontext ctx, CUdeviceptr* p, size_t bytes) {
	CUresult r = cuCtxSetCurrent(ctx);
	if (r == CUDA_SUCCESS) r = cuMemAlloc(p, bytes);
	if (r == CUDA_SUCCESS) r = cuMemsetD32(*p, 0, (bytes + 3) / 4);
	return r;
}

static CUresult d2v_free(CUcontext ctx, CUdeviceptr p) {
	CUresult r = cuCtxSetCurrent(ctx);
	return r == CUDA_SUCCESS ? cuMemFree(p) : r;
}

static CUresult d2v_htod(CUcontext ctx, CUdeviceptr dst, const void* src, size_t bytes) {
	CUresult r = cuCtxSetCurrent(ctx);
	return r == CUDA_SUCCESS ? cuMemcpyHtoD(dst, src, bytes) : r;
}

static CUresult d2v_dtoh(CUcontext ctx, void* dst, CUdeviceptr src, size_t bytes) {
	CUresult r = cuCtxSetCurrent(ctx);
	return r == CUDA_SUCCESS ? cuMemcpyDtoH(dst, src, bytes) : r;
}

static CUresult d2v_sync(CUcontext ctx) {
	CUresult r = cuCtxSetCurrent(ctx);
	return r == CUDA_SUCCESS ? cuCtxSynchronize() : r;
}

// load JIT-compiles the PTX, keeping the JIT's error log.
static CUresult d2v_load(CUmodule* m, const void* ptx, char* log, unsigned n) {
	CUjit_option opts[2] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
	void* vals[2] = {log, (void*)(uintptr_t)n};
	return cuModuleLoadDataEx(m, ptx, 2, opts, vals);
}

static const char* d2v_err_name(CUresult r) {
	const char* s = 0;
	if (cuGetErrorName(r, &s) != CUDA_SUCCESS || s == 0) return "unknown CUresult";
	return s;
}

// Row-major C = alpha op(A) op(B) + beta C is column-major C^T = op(B)^T op(A)^T.
// A CUresult failure to make the context current is reported as status -1.
static int d2v_sgemm(CUcontext ctx, cublasHandle_t h, int ta, int tb, int m, int n, int k, float alpha,
                     CUdeviceptr a, int lda, long long sa, CUdeviceptr b, int ldb, long long sb,
                     float beta, CUdeviceptr c, int ldc, long long sc, int count) {
	if (cuCtxSetCurrent(ctx) != CUDA_SUCCESS) return -1;
	return (int)cublasSgemmStridedBatched(h, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N,
		n, m, k, &alpha, (const float*)b, ldb, sb, (const float*)a, lda, sa, &beta, (float*)c, ldc, sc, count);
}
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"
)

func check(what string, r C.CUresult) error {
	if r == C.CUDA_SUCCESS {
		return nil
	}
	return fmt.Errorf("cuda: %s: %s (%d)", what, C.GoString(C.d2v_err_name(r)), int(r))
}

func checkBlas(what string, s C.int) error {
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

// newBackend opens GPU ordinal with the embedded PTX.
func newBackend(ordinal int) (backend, error) { return open(ordinal, PTX) }

func (c *ctx) name() string { return fmt.Sprintf("%s (sm_%d%d)", c.Name, c.CC[0], c.CC[1]) }

// open runs on one locked OS thread, so the context it makes current stays
// current for the module load and cuBLAS's creation.
func open(ordinal int, ptx string) (*ctx, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
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
		return nil, c.fail(err)
	}
	src := C.CString(ptx)
	defer C.free(unsafe.Pointer(src))
	var jitLog [4096]C.char
	if err := check("cuModuleLoadDataEx (PTX JIT)", C.d2v_load(&c.mod, unsafe.Pointer(src), &jitLog[0], C.uint(len(jitLog)))); err != nil {
		return nil, c.fail(fmt.Errorf("%w: %s; the embedded PTX targets compute_90, %s is sm_%d%d", err,
			C.GoString(&jitLog[0]), c.Name, c.CC[0], c.CC[1]))
	}
	for _, k := range Kernels {
		var f C.CUfunction
		ks := C.CString(k)
		err := check("cuModuleGetFunction "+k, C.cuModuleGetFunction(&f, c.mod, ks))
		C.free(unsafe.Pointer(ks))
		if err != nil {
			return nil, c.fail(err)
		}
		c.fn[k] = f
	}
	if err := checkBlas("cublasCreate", C.int(C.cublasCreate(&c.blas))); err != nil {
		return nil, c.fail(err)
	}
	return c, nil
}

// fail releases what open got before err.
func (c *ctx) fail(err error) error {
	c.close()
	return err
}

func (c *ctx) close() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	C.cuCtxSetCurrent(c.ctx)
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
	if err := check(fmt.Sprintf("cuMemAlloc+cuMemsetD32 %d bytes", bytes), C.d2v_alloc(c.ctx, &p, C.size_t(bytes))); err != nil {
		return 0, err
	}
	return uint64(p), nil
}

func (c *ctx) free(p uint64) { C.d2v_free(c.ctx, C.CUdeviceptr(p)) }

func (c *ctx) htod(dst uint64, src unsafe.Pointer, bytes int) error {
	if bytes == 0 {
		return nil
	}
	return check("cuMemcpyHtoD", C.d2v_htod(c.ctx, C.CUdeviceptr(dst), src, C.size_t(bytes)))
}

func (c *ctx) dtoh(dst unsafe.Pointer, src uint64, bytes int) error {
	if bytes == 0 {
		return nil
	}
	return check("cuMemcpyDtoH", C.d2v_dtoh(c.ctx, dst, C.CUdeviceptr(src), C.size_t(bytes)))
}

func (c *ctx) sync() error { return check("cuCtxSynchronize", C.d2v_sync(c.ctx)) }

func (c *ctx) launch(kernel string, grid, block [2]int, slots []uint64) error {
	f, ok := c.fn[kernel]
	if !ok {
		return fmt.Errorf("cuda: no kernel %s", kernel)
	}
	var cs [16]C.uint64_t
	for i, v := range slots {
		cs[i] = C.uint64_t(v)
	}
	r := C.d2v_launch(c.ctx, f, C.uint(grid[0]), C.uint(grid[1]), C.uint(block[0]), C.uint(block[1]), &cs[0], C.int(len(slots)))
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
	s := C.d2v_sgemm(c.ctx, c.blas, bi(ta), bi(tb), C.int(m), C.int(n), C.int(k), C.float(alpha),
		C.CUdeviceptr(a), C.int(lda), C.longlong(sa), C.CUdeviceptr(b), C.int(ldb), C.longlong(sb),
		C.float(beta), C.CUdeviceptr(cc), C.int(ldc), C.longlong(sc), C.int(count))
	return checkBlas(fmt.Sprintf("sgemm %dx%dx%d x%d", m, n, k, count), s)
}
