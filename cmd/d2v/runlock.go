package main

import (
	"errors"
	"io/fs"
	"syscall"

	"github.com/d2v/d2v/internal/runlock"
	"github.com/d2v/d2v/pkg/dist"
)

// lockRun makes this job the only writer of the run folder dir (see
// internal/runlock): pretrain and --resume take it before they read or
// write anything in the folder, so a second writer ends at once (exit 2)
// with the holder's pid and host and touches nothing. create: a fresh run
// (make the folder); without it (--resume), a missing folder is left for
// the resume to report. Under MPI only rank 0, the rank that writes, takes
// the lock, and every rank learns the outcome from one collective: when rank
// 0 is refused, all ranks end together with exit 2 and none starts writing.
func lockRun(comm dist.Comm, dir string, create bool) (*runlock.Lock, error) {
	var lk *runlock.Lock
	var err error
	if comm.Rank() == 0 {
		lk, err = runlock.Acquire(dir, create)
		if !create && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) {
			lk, err = nil, nil // --resume of no folder: the resume says so
		}
		if err != nil {
			err = usageError{err}
		}
	}
	if comm.Size() == 1 {
		return lk, err
	}
	ok := []byte{1}
	if err != nil {
		ok[0] = 0
	}
	all, gerr := comm.Allgather(ok)
	switch {
	case gerr != nil:
		_ = lk.Release()
		return nil, gerr
	case all[0][0] == 1:
		return lk, nil
	case comm.Rank() == 0:
		return nil, jobError{err: err}
	}
	return nil, jobError{err: usageError{errors.New("rank 0 did not get the run folder's lock")}, quiet: true}
}

// lockOut makes this process the only writer of an eval or fine-tuning
// output folder, which it creates (and removes again if the command fails
// before writing anything into it).
func lockOut(dir string) (*runlock.Lock, error) {
	lk, err := runlock.Acquire(dir, true)
	if err != nil {
		return nil, usageError{err}
	}
	return lk, nil
}
