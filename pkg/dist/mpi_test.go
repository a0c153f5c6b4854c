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
