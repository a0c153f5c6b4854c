package dist

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// run calls f on every rank of an in-process group of n and returns the
// ranks' errors.
func run(n int, f func(c Comm) error) []error {
	cs := NewGroup(n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for r, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[r] = f(c)
		}()
	}
	wg.Wait()
	return errs
}

// collectives checks every collective of c against values known on each rank;
// the MPI build runs it under mpirun (mpi_test.go).
func collectives(c Comm) error {
	r, n := c.Rank(), c.Size()
	f32 := []float32{float32(r), 1, float32(10 * r)}
	if err := c.SumF32(f32); err != nil {
		return err
	}
	tri := float32(n * (n - 1) / 2)
	if f32[0] != tri || f32[1] != float32(n) || f32[2] != 10*tri {
		return fmt.Errorf("rank %d: SumF32 = %v", r, f32)
	}
	f64 := []float64{float64(r) + 0.5}
	if err := c.SumF64(f64); err != nil {
		return err
	}
	if f64[0] != float64(tri)+0.5*float64(n) {
		return fmt.Errorf("rank %d: SumF64 = %v", r, f64)
	}
	b32, b64 := []float32{float32(r), -1}, []float64{float64(r)}
	if err := c.BcastF32(b32, n-1); err != nil {
		return err
	}
	if err := c.BcastF64(b64, n-1); err != nil {
		return err
	}
	if b32[0] != float32(n-1) || b32[1] != -1 || b64[0] != float64(n-1) {
		return fmt.Errorf("rank %d: Bcast from %d = %v %v", r, n-1, b32, b64)
	}
	all, err := c.Allgather([]byte{byte(r), 7})
	if err != nil {
		return err
	}
	for q, b := range all {
		if len(b) != 2 || b[0] != byte(q) || b[1] != 7 {
			return fmt.Errorf("rank %d: Allgather[%d] = %v", r, q, b)
		}
	}
	// buckets of 3 values over tensors of 2, 2, 5 (the last larger than a bucket)
	ts := [][]float32{{1, float32(r)}, {2, 3}, {1, 1, 1, 1, float32(r)}}
	calls, err := SumBuckets(c, ts, make([]float32, 3))
	if err != nil {
		return err
	}
	if n > 1 && calls != 3 {
		return fmt.Errorf("rank %d: SumBuckets made %d calls, want 3", r, calls)
	}
	want := fmt.Sprint([][]float32{{float32(n), tri}, {float32(2 * n), float32(3 * n)}, {float32(n), float32(n), float32(n), float32(n), tri}})
	if got := fmt.Sprint(ts); got != want {
		return fmt.Errorf("rank %d: SumBuckets = %s, want %s", r, got, want)
	}
	return c.Barrier()
}

func TestSingle(t *testing.T) {
	if err := collectives(Single{}); err != nil {
		t.Fatal(err)
	}
}

func TestGroup(t *testing.T) {
	for _, n := range []int{1, 2, 3} {
		for _, err := range run(n, collectives) {
			if err != nil {
				t.Errorf("%d ranks: %v", n, err)
			}
		}
	}
}

// TestGroupAbort: a rank that aborts ends the others' collectives with its
// message instead of leaving them blocked.
func TestGroupAbort(t *testing.T) {
	errs := run(3, func(c Comm) error {
		if c.Rank() == 1 {
			c.Abort(1, "cannot read data")
		}
		return c.SumF32(make([]float32, 4))
	})
	for r, err := range errs {
		if r == 1 {
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "rank 1 (exit 1): cannot read data") {
			t.Errorf("rank %d: err = %v, want the abort message", r, err)
		}
	}
}
