//go:build !mpi

package dist

// World is the process group this program was started in: without the mpi
// build tag, always one process.
func World() (Comm, error) { return Single{}, nil }
