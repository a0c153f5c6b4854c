//go:build mpi

package dist

import (
	"os"
	"testing"
)

// TestMain finalizes MPI after the tests: mpirun treats a rank that exits
// without MPI_Finalize as failed.
func TestMain(m *testing.M) {
	code := m.Run()
	if world.comm != nil {
		world.comm.Close()
	}
	os.Exit(code)
}

// TestWorld checks every collective on MPI_COMM_WORLD. Run it on several
// ranks: go test -c -tags mpi -o /tmp/dist.test ./pkg/dist &&
// mpirun --oversubscribe -np 3 /tmp/dist.test -test.run World
func TestWorld(t *testing.T) {
	c, err := World()
	if err != nil {
		t.Fatal(err)
	}
	if err := collectives(c); err != nil {
		t.Fatal(err)
	}
	t.Logf("rank %d of %d ok", c.Rank(), c.Size())
}

// BenchmarkSumBuckets times the bucketed float32 gradient allreduce at the
// parameter counts of the default config and of configs/bench-s.yaml and
// bench-m.yaml. b.N must be the same on every rank, so give a fixed count:
// mpirun -np 2 /tmp/dist.test -test.run '^$' -test.bench SumBuckets -test.benchtime 200x
func BenchmarkSumBuckets(b *testing.B) {
	c, err := World()
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range []struct {
		name string
		n    int
	}{{"default-205k", 205_000}, {"bench-s-550k", 549_632}, {"bench-m-3.5M", 3_497_984}} {
		b.Run(s.name, func(b *testing.B) {
			g, scratch := make([]float32, s.n), make([]float32, BucketF32)
			ts := [][]float32{g}
			if s.n > BucketF32 { // as in training: many tensors, packed into buckets
				ts = [][]float32{g[:s.n/2], g[s.n/2:]}
			}
			b.SetBytes(int64(4 * s.n))
			b.ResetTimer()
			for range b.N {
				if _, err := SumBuckets(c, ts, scratch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/allreduce")
		})
	}
}
