package gemm

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// threadCPU is the calling thread's CPU time: unlike wall time it does
// not count the time other processes hold the core.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		panic(err)
	}
	return time.Duration(ts.Nano())
}

// TestShapesCPUTime prints, for the config S and M shapes of benchShapes,
// the GFLOP/s of one goroutine with each assembly kernel: the best of 15
// alternated rounds, timed by thread CPU time. On a shared machine this is
// far steadier than wall-clock benchmarks (it still feels cache
// pollution). Run with D2V_GEMM_CPUTIME=1 go test -v -run ShapesCPUTime ./pkg/gemm
func TestShapesCPUTime(t *testing.T) {
	if os.Getenv("D2V_GEMM_CPUTIME") == "" {
		t.Skip("set D2V_GEMM_CPUTIME=1 to run")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	prev := active.Load()
	defer active.Store(prev)
	maxWorkers.Store(1)
	defer maxWorkers.Store(0)
	ks := asmKernels()
	for _, sh := range benchShapes {
		if !strings.Contains(sh.name, "512") && !strings.Contains(sh.name, "attn") {
			continue
		}
		a, bb, c := sh.operands()
		flops := 2 * float64(sh.m) * float64(sh.n) * float64(sh.k)
		best := make([]time.Duration, len(ks))
		n := int(2e8/flops) + 1
		for round := 0; round < 15; round++ {
			for i, kern := range ks {
				active.Store(kern)
				t0 := threadCPU()
				for j := 0; j < n; j++ {
					Sgemm(sh.ta, sh.tb, sh.m, sh.n, sh.k, 1, a, sh.lda, bb, sh.ldb, 0, c, sh.ldc)
				}
				d := (threadCPU() - t0) / time.Duration(n)
				if best[i] == 0 || d < best[i] {
					best[i] = d
				}
			}
		}
		line := fmt.Sprintf("%-22s", sh.name)
		for i, kern := range ks {
			line += fmt.Sprintf(" %s %6.1f", kern.name, flops/float64(best[i].Nanoseconds()))
		}
		t.Log(line)
	}
}
