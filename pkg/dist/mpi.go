//go:build mpi

package dist

/*
#cgo pkg-config: ompi-c
#include <stdio.h>
#include <stdlib.h>
#include <mpi.h>

// Defaults unless the user set them (OMPI_MCA_* in the environment):
// - opal_signal empty: Go turns SIGSEGV, SIGBUS, SIGFPE and SIGILL into panics
//   and stack traces, which Open MPI's own handlers would hide;
// - mpi_yield_when_idle 1: a rank waiting in a collective yields its core
//   instead of spinning, so ranks sharing a machine with other ranks' compute
//   threads do not slow them down (a step is milliseconds of compute; the
//   yield costs microseconds of latency).
static int d2v_init(int *provided) {
	setenv("OMPI_MCA_opal_signal", "", 0);
	setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0);
	return MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, provided);
}
static int d2v_rank(int *r) { return MPI_Comm_rank(MPI_COMM_WORLD, r); }
static int d2v_size(int *s) { return MPI_Comm_size(MPI_COMM_WORLD, s); }
static int d2v_bcast_f32(void *b, int n, int root) { return MPI_Bcast(b, n, MPI_FLOAT, root, MPI_COMM_WORLD); }
static int d2v_bcast_f64(void *b, int n, int root) { return MPI_Bcast(b, n, MPI_DOUBLE, root, MPI_COMM_WORLD); }
static int d2v_sum_f32(void *b, int n) { return MPI_Allreduce(MPI_IN_PLACE, b, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD); }
static int d2v_sum_f64(void *b, int n) { return MPI_Allreduce(MPI_IN_PLACE, b, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD); }
static int d2v_allgather(void *s, int n, void *r) {
	return MPI_Allgather(s, n, MPI_BYTE, r, n, MPI_BYTE, MPI_COMM_WORLD);
}
static int d2v_allgather_len(long long n, long long *all) {
	return MPI_Allgather(&n, 1, MPI_LONG_LONG, all, 1, MPI_LONG_LONG, MPI_COMM_WORLD);
}
static int d2v_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static void d2v_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }
static int d2v_finalize(void) { return MPI_Finalize(); }
*/
import "C"

import (
	"fmt"
	"os"
	"sync"
	"unsafe"
)

// maxCount bounds one MPI call's element count (MPI counts are C ints).
const maxCount = 1 << 30

var world struct {
	once sync.Once
	comm *mpiComm
	err  error
}

// World initialises MPI (once) and returns MPI_COMM_WORLD. Started without
// mpirun it is an MPI singleton of size 1. MPI is called from one goroutine
// at a time, which may move between OS threads: MPI_THREAD_SERIALIZED. (The
// goroutine is not locked to a thread: with GOMAXPROCS=1 every hand-off to
// the ops' worker goroutines would then be an OS thread switch.)
func World() (Comm, error) {
	world.once.Do(func() {
		var provided C.int
		if rc := C.d2v_init(&provided); rc != 0 {
			world.err = fmt.Errorf("dist: MPI_Init_thread failed (code %d)", int(rc))
			return
		}
		if provided < C.MPI_THREAD_SERIALIZED {
			world.err = fmt.Errorf("dist: MPI provides thread level %d, need MPI_THREAD_SERIALIZED or better", int(provided))
			return
		}
		var r, s C.int
		C.d2v_rank(&r)
		C.d2v_size(&s)
		world.comm = &mpiComm{rank: int(r), size: int(s)}
	})
	if world.err != nil {
		return nil, world.err
	}
	return world.comm, nil
}

type mpiComm struct {
	rank, size int
	closed     sync.Once
	closeErr   error
}

func (c *mpiComm) Rank() int { return c.rank }
func (c *mpiComm) Size() int { return c.size }

func check(what string, rc C.int) error {
	if rc != 0 {
		return fmt.Errorf("dist: %s failed (MPI error %d)", what, int(rc))
	}
	return nil
}

// chunks calls f on pieces of at most maxCount elements of an n-element buffer.
func chunks(n, size int, p unsafe.Pointer, f func(unsafe.Pointer, C.int) C.int, what string) error {
	for off := 0; off < n; off += maxCount {
		k := min(maxCount, n-off)
		if err := check(what, f(unsafe.Add(p, off*size), C.int(k))); err != nil {
			return err
		}
	}
	return nil
}

// With one rank (an MPI singleton) every collective is the identity and
// makes no MPI call, so it also works after Close.

func (c *mpiComm) BcastF32(buf []float32, root int) error {
	if len(buf) == 0 || c.size == 1 {
		return nil
	}
	return chunks(len(buf), 4, unsafe.Pointer(&buf[0]), func(p unsafe.Pointer, n C.int) C.int {
		return C.d2v_bcast_f32(p, n, C.int(root))
	}, "MPI_Bcast")
}

func (c *mpiComm) BcastF64(buf []float64, root int) error {
	if len(buf) == 0 || c.size == 1 {
		return nil
	}
	return chunks(len(buf), 8, unsafe.Pointer(&buf[0]), func(p unsafe.Pointer, n C.int) C.int {
		return C.d2v_bcast_f64(p, n, C.int(root))
	}, "MPI_Bcast")
}

func (c *mpiComm) SumF32(buf []float32) error {
	if len(buf) == 0 || c.size == 1 {
		return nil
	}
	return chunks(len(buf), 4, unsafe.Pointer(&buf[0]), func(p unsafe.Pointer, n C.int) C.int {
		return C.d2v_sum_f32(p, n)
	}, "MPI_Allreduce")
}

func (c *mpiComm) SumF64(buf []float64) error {
	if len(buf) == 0 || c.size == 1 {
		return nil
	}
	return chunks(len(buf), 8, unsafe.Pointer(&buf[0]), func(p unsafe.Pointer, n C.int) C.int {
		return C.d2v_sum_f64(p, n)
	}, "MPI_Allreduce")
}

// Allgather first compares the lengths, so a rank sending a different
// length makes every rank return the same error instead of corrupting memory.
func (c *mpiComm) Allgather(send []byte) ([][]byte, error) {
	if c.size == 1 {
		return Single{}.Allgather(send)
	}
	lens := make([]C.longlong, c.size)
	if err := check("MPI_Allgather", C.d2v_allgather_len(C.longlong(len(send)), &lens[0])); err != nil {
		return nil, err
	}
	for r, n := range lens {
		if int(n) != len(send) {
			return nil, fmt.Errorf("dist: allgather: rank %d sent %d bytes, rank %d sent %d", r, int(n), c.rank, len(send))
		}
	}
	if len(send) == 0 || len(send) > maxCount {
		return nil, fmt.Errorf("dist: allgather: %d bytes per rank, want 1..%d", len(send), maxCount)
	}
	all := make([]byte, len(send)*c.size)
	if err := check("MPI_Allgather", C.d2v_allgather(unsafe.Pointer(&send[0]), C.int(len(send)), unsafe.Pointer(&all[0]))); err != nil {
		return nil, err
	}
	out := make([][]byte, c.size)
	for r := range out {
		out[r] = all[r*len(send) : (r+1)*len(send)]
	}
	return out, nil
}

func (c *mpiComm) Barrier() error {
	if c.size == 1 {
		return nil
	}
	return check("MPI_Barrier", C.d2v_barrier())
}

func (c *mpiComm) Abort(code int, msg string) {
	fmt.Fprintln(os.Stderr, msg)
	C.d2v_abort(C.int(code))
	os.Exit(code) // MPI_Abort does not return; this is a fallback
}

// Close finalizes MPI once; later calls (a test process running several
// one-rank pretraining runs) return the first result. MPI cannot start again
// in this process: a one-rank Comm makes no MPI calls after it.
func (c *mpiComm) Close() error {
	c.closed.Do(func() { c.closeErr = check("MPI_Finalize", C.d2v_finalize()) })
	return c.closeErr
}
