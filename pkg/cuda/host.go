//go:build d2vcudahost && !d2vcuda

package cuda

/*
#cgo CXXFLAGS: -std=c++20 -O1
#cgo LDFLAGS: -lstdc++
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
int d2v_host_launch(const char* name, unsigned gx, unsigned gy, unsigned bx, unsigned by, uint64_t* slots);
*/
import "C"

import (
	"fmt"
	"sort"
	"unsafe"

	"github.com/d2v/d2v/pkg/gemm"
)

// host is the test backend: kernels/d2v.cu compiled for the CPU by
// host_shim.cc, host memory from calloc, GEMMs on pkg/gemm (so cuBLAS's
// operand mapping is not covered here; TestKernelsMatchEmu covers it on a GPU).
type host struct {
	mem []hostAlloc // sorted by address
}

type hostAlloc struct {
	p     unsafe.Pointer
	addr  uint64
	bytes int
}

func newBackend(int) (backend, error) { return &host{}, nil }

func (h *host) name() string { return "host emulation of kernels/d2v.cu (tag d2vcudahost)" }

func (h *host) alloc(bytes int) (uint64, error) {
	p := C.calloc(C.size_t(max(bytes, 4)), 1)
	if p == nil {
		return 0, fmt.Errorf("cuda host: calloc %d bytes", bytes)
	}
	a := hostAlloc{p: p, addr: uint64(uintptr(p)), bytes: bytes}
	i := sort.Search(len(h.mem), func(i int) bool { return h.mem[i].addr > a.addr })
	h.mem = append(h.mem, hostAlloc{})
	copy(h.mem[i+1:], h.mem[i:])
	h.mem[i] = a
	return a.addr, nil
}

// ptr resolves an address inside an allocation and the bytes left after it.
func (h *host) ptr(addr uint64) (unsafe.Pointer, int) {
	i := sort.Search(len(h.mem), func(i int) bool { return h.mem[i].addr > addr }) - 1
	if i < 0 || addr >= h.mem[i].addr+uint64(h.mem[i].bytes) {
		panic(fmt.Sprintf("cuda host: address %#x outside any allocation", addr))
	}
	off := int(addr - h.mem[i].addr)
	return unsafe.Add(h.mem[i].p, off), h.mem[i].bytes - off
}

func (h *host) free(addr uint64) {
	for i, a := range h.mem {
		if a.addr == addr {
			C.free(a.p)
			h.mem = append(h.mem[:i], h.mem[i+1:]...)
			return
		}
	}
}

func (h *host) htod(dst uint64, src unsafe.Pointer, bytes int) error {
	p, _ := h.ptr(dst)
	C.memcpy(p, src, C.size_t(bytes))
	return nil
}

func (h *host) dtoh(dst unsafe.Pointer, src uint64, bytes int) error {
	p, _ := h.ptr(src)
	C.memcpy(dst, p, C.size_t(bytes))
	return nil
}

func (h *host) sync() error { return nil }

func (h *host) launch(kernel string, grid, block [2]int, slots []uint64) error {
	var cs [16]C.uint64_t
	for i, v := range slots {
		cs[i] = C.uint64_t(v)
	}
	name := C.CString(kernel)
	defer C.free(unsafe.Pointer(name))
	if C.d2v_host_launch(name, C.uint(grid[0]), C.uint(grid[1]), C.uint(block[0]), C.uint(block[1]), &cs[0]) != 0 {
		return fmt.Errorf("cuda host: no kernel %s", kernel)
	}
	return nil
}

func (h *host) floats(addr uint64) []float32 {
	p, left := h.ptr(addr)
	return unsafe.Slice((*float32)(p), left/4)
}

func (h *host) sgemm(ta, tb bool, m, n, k int, alpha float32, a uint64, lda, sa int, b uint64, ldb, sb int,
	beta float32, c uint64, ldc, sc, count int) error {
	as, bs, cs := h.floats(a), h.floats(b), h.floats(c)
	for i := 0; i < count; i++ {
		gemm.Sgemm(ta, tb, m, n, k, alpha, as[i*sa:], lda, bs[i*sb:], ldb, beta, cs[i*sc:], ldc)
	}
	return nil
}

func (h *host) close() {
	for _, a := range h.mem {
		C.free(a.p)
	}
	h.mem = nil
}
