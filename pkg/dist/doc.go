// Package dist owns the collectives of data-parallel pretraining: rank and
// size, broadcast, sum-allreduce of float32/float64 slices, allgather,
// barrier and abort, behind one interface (Comm).
//
// The default build is pure Go and has one implementation, a single process
// (World returns it). Built with -tags mpi (cgo, Open MPI's libmpi), World
// initialises MPI and returns MPI_COMM_WORLD, so `mpirun -np N d2v pretrain`
// trains on N ranks while pkg/train calls the same interface either way.
// NewGroup makes N in-process ranks (goroutines) for tests.
//
// Every collective must be entered by every rank in the same order, as in
// MPI; a rank that fails must call Abort, which ends all ranks instead of
// leaving them blocked in the next collective.
package dist
