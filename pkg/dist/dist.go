package dist

import (
	"fmt"
	"os"
)

// Comm is a fixed group of ranks running the same program.
type Comm interface {
	Rank() int // this process's rank, 0..Size()-1
	Size() int // number of ranks
	// BcastF32 and BcastF64 overwrite buf on every rank with root's buf.
	BcastF32(buf []float32, root int) error
	BcastF64(buf []float64, root int) error
	// SumF32 and SumF64 replace buf on every rank with the element-wise sum
	// of all ranks' buf (MPI_Allreduce, MPI_SUM, in place).
	SumF32(buf []float32) error
	SumF64(buf []float64) error
	// Allgather returns every rank's send (all of one length), by rank.
	Allgather(send []byte) ([][]byte, error)
	Barrier() error
	// Abort prints msg on stderr and ends every rank with exit code code
	// (MPI_Abort); it does not return.
	Abort(code int, msg string)
	// Close ends this rank's part in the group (MPI_Finalize) after success.
	Close() error
}

// Single is the one-process Comm of the default build: every collective
// leaves its buffers as they are.
type Single struct{}

func (Single) Rank() int                     { return 0 }
func (Single) Size() int                     { return 1 }
func (Single) BcastF32([]float32, int) error { return nil }
func (Single) BcastF64([]float64, int) error { return nil }
func (Single) SumF32([]float32) error        { return nil }
func (Single) SumF64([]float64) error        { return nil }
func (Single) Allgather(send []byte) ([][]byte, error) {
	return [][]byte{append([]byte(nil), send...)}, nil
}
func (Single) Barrier() error { return nil }
func (Single) Close() error   { return nil }

// Abort prints msg and exits the process with code.
func (Single) Abort(code int, msg string) {
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(code)
}

// BucketF32 is the default gradient bucket: 1 Mi float32 values (4 MiB) per
// allreduce, so many small tensors share one call and a large model does not
// need a second full-size copy of its gradients.
const BucketF32 = 1 << 20

// SumBuckets sums the tensors ts across ranks in place, packing them into
// buckets of at most len(scratch) values, one allreduce per bucket; a tensor
// larger than the bucket is reduced on its own, in place. It returns the
// number of allreduce calls.
func SumBuckets(c Comm, ts [][]float32, scratch []float32) (int, error) {
	if c.Size() == 1 {
		return 0, nil
	}
	calls, n := 0, 0
	var pending [][]float32
	flush := func() error {
		if n == 0 {
			return nil
		}
		calls++
		if err := c.SumF32(scratch[:n]); err != nil {
			return err
		}
		off := 0
		for _, t := range pending {
			off += copy(t, scratch[off:off+len(t)])
		}
		pending, n = pending[:0], 0
		return nil
	}
	for _, t := range ts {
		if len(t) > len(scratch) {
			calls++
			if err := c.SumF32(t); err != nil {
				return calls, err
			}
			continue
		}
		if n+len(t) > len(scratch) {
			if err := flush(); err != nil {
				return calls, err
			}
		}
		copy(scratch[n:], t)
		pending = append(pending, t)
		n += len(t)
	}
	return calls, flush()
}
