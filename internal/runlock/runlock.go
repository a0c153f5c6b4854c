package runlock

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Name is the lock file's name inside the locked folder.
const Name = ".d2v.lock"

// Lock is a held folder lock.
type Lock struct {
	f       *os.File
	path    string // dir/Name
	dir     string
	madeDir bool // Acquire created dir: Release removes it again if it is empty
}

// HeldError says that another process holds the folder's lock.
type HeldError struct {
	Dir  string
	PID  int    // 0: not known (the holder had not yet written it)
	Host string // "" with PID 0
}

func (e *HeldError) Error() string {
	who := "another process (its pid is not written yet)"
	if e.PID > 0 {
		who = fmt.Sprintf("pid %d on host %s", e.PID, e.Host)
	}
	return fmt.Sprintf("run folder %s is in use by %s: one process at a time may write it; wait for that one to end or stop it (a killed process leaves no lock)", e.Dir, who)
}

// Acquire takes dir's lock without waiting: a *HeldError if another process
// holds it. With create, a missing dir is made first (and removed again by
// Release if it is still empty then); without, a missing dir is an error
// satisfying errors.Is(err, fs.ErrNotExist). Nothing is written unless the
// lock is taken.
func Acquire(dir string, create bool) (*Lock, error) {
	path := filepath.Join(dir, Name)
	for try := 0; ; try++ {
		made := false
		if create {
			if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return nil, fmt.Errorf("run folder: %w", err)
				}
				made = true
			}
		}
		l, err := tryLock(dir, path, create)
		if l != nil {
			l.madeDir = made
		}
		if errors.Is(err, errRetry) && try < 100 {
			// a holder released (and removed) the file or its empty folder
			// between our open and our flock: take the new one
			continue
		}
		if errors.Is(err, errRetry) {
			err = fmt.Errorf("lock %s: it keeps being removed under us", path)
		}
		return l, err
	}
}

var errRetry = errors.New("lock file replaced")

func tryLock(dir, path string, create bool) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		if create && errors.Is(err, os.ErrNotExist) {
			return nil, errRetry // a releasing holder removed the empty folder it had made
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err != unix.EINTR {
			break
		}
	}
	if err == unix.EWOULDBLOCK {
		h := holder(f)
		f.Close()
		h.Dir = dir
		return nil, h
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: flock: %w (does this filesystem support locks?)", path, err)
	}
	// Release removes the file before it unlocks it: the file we locked
	// may be one that is no longer at path.
	var opened, now unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &opened); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := unix.Stat(path, &now); err != nil || now.Ino != opened.Ino || now.Dev != opened.Dev {
		f.Close()
		return nil, errRetry
	}
	host, _ := os.Hostname()
	// overwrite, then cut: a reader sees our lines first at every moment
	// (a file left by a killed holder may be longer)
	b := fmt.Appendf(nil, "pid=%d\nhost=%s\nsince=%s\n", os.Getpid(), host, time.Now().UTC().Format(time.RFC3339))
	if _, err := f.WriteAt(b, 0); err == nil {
		err = f.Truncate(int64(len(b)))
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &Lock{f: f, path: path, dir: dir}, nil
}

// holder reads the pid and host the lock's holder wrote; it waits up to
// 100 ms for a holder that has just taken the lock to write them.
func holder(f *os.File) *HeldError {
	h := &HeldError{}
	for range 20 {
		b, _ := io.ReadAll(io.NewSectionReader(f, 0, 4096))
		for _, line := range strings.Split(string(b), "\n") {
			k, v, _ := strings.Cut(line, "=")
			switch {
			case k == "pid" && h.PID == 0:
				h.PID, _ = strconv.Atoi(v)
			case k == "host" && h.Host == "":
				h.Host = v
			}
		}
		if h.PID > 0 && h.Host != "" {
			return h
		}
		*h = HeldError{}
		time.Sleep(5 * time.Millisecond)
	}
	return h
}

// Release removes the lock file, unlocks it, and removes the folder if
// Acquire made it and it is still empty (a run that failed on bad input
// leaves no folder). A nil Lock is a no-op.
func (l *Lock) Release() error {
	if l == nil {
		return nil
	}
	err := os.Remove(l.path)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	if l.madeDir {
		_ = os.Remove(l.dir) // fails, as it should, once the folder holds anything
	}
	return err
}

// Holder reports who holds dir's lock without taking it for more than a
// moment: a *HeldError, or nil when nobody does (no lock file, or one left
// by a killed holder). It takes a shared lock for a few microseconds when
// the lock is free, so call it only on a path that will not write dir.
func Holder(dir string) *HeldError {
	f, err := os.Open(filepath.Join(dir, Name))
	if err != nil {
		return nil
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err != unix.EWOULDBLOCK {
		return nil // free (closing the file drops the shared lock)
	}
	h := holder(f)
	h.Dir = dir
	return h
}
