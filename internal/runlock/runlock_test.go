package runlock

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestAcquireRelease(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "runs", "r")
	l, err := Acquire(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, Name))
	if err != nil || !strings.Contains(string(b), "pid="+itoa(os.Getpid())+"\n") {
		t.Fatalf("lock file %q, %v: want our pid", b, err)
	}
	if h := Holder(dir); h == nil || h.PID != os.Getpid() {
		t.Errorf("Holder while held: %v; want our pid", h)
	}
	// flock locks belong to an open file: a second open conflicts even in
	// the same process, as a second process would
	_, err = Acquire(dir, true)
	var h *HeldError
	host, _ := os.Hostname()
	if !errors.As(err, &h) || h.PID != os.Getpid() || h.Host != host || h.Dir != dir {
		t.Fatalf("second Acquire: %v (%+v); want HeldError with pid %d host %s", err, h, os.Getpid(), host)
	}
	want := "run folder " + dir + " is in use by pid " + itoa(os.Getpid()) + " on host " + host + ": "
	if !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		t.Errorf("message %q; want one line starting %q", err, want)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Release left the empty folder it made: %v", err)
	}
	l, err = Acquire(dir, true)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "metrics.jsonl"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) != 1 || ents[0].Name() != "metrics.jsonl" {
		t.Errorf("after Release of a used folder: %v, %v; want only metrics.jsonl", ents, err)
	}
	if h := Holder(dir); h != nil {
		t.Errorf("Holder of a released lock: %v", h)
	}
	var nl *Lock
	if err := nl.Release(); err != nil {
		t.Errorf("nil Release: %v", err)
	}
}

func TestAcquireMissingFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")
	if _, err := Acquire(dir, false); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Acquire(missing, false) = %v; want ErrNotExist", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Acquire without create made %s", dir)
	}
}

// TestStaleFileIsNoLock: a lock file left by a killed holder (longer than
// ours) is taken over and its old lines do not survive.
func TestStaleFileIsNoLock(t *testing.T) {
	dir := t.TempDir()
	stale := "pid=99999999\nhost=some-long-host-name-of-a-dead-node.example\nsince=2001-01-01T00:00:00Z\nextra=1\n"
	if err := os.WriteFile(filepath.Join(dir, Name), []byte(stale), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Acquire(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	b, _ := os.ReadFile(filepath.Join(dir, Name))
	if strings.Contains(string(b), "99999999") || strings.Contains(string(b), "extra") {
		t.Errorf("stale lines kept: %q", b)
	}
}

// TestOneHolderAtATime: goroutines race to take, hold and release (which
// removes the file and maybe the folder) one lock; never two hold it. This
// is what the inode check after flock is for: an open of the file being
// removed must not count as holding the new one.
func TestOneHolderAtATime(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "r")
	var holders, taken, held atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 300 {
				l, err := Acquire(dir, true)
				var h *HeldError
				if errors.As(err, &h) {
					held.Add(1)
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				if n := holders.Add(1); n != 1 {
					t.Errorf("%d holders at once", n)
				}
				taken.Add(1)
				time.Sleep(10 * time.Microsecond)
				holders.Add(-1)
				if err := l.Release(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if taken.Load() == 0 || held.Load() == 0 {
		t.Errorf("taken %d times, refused %d times: the race was not tried", taken.Load(), held.Load())
	}
	t.Logf("taken %d times, refused %d times", taken.Load(), held.Load())
}

// TestKilledHolderLeavesNoLock: another process takes the lock; while it
// lives a second writer is told its pid; after SIGKILL the lock is free at
// once (the kernel drops it), though the file is still there.
func TestKilledHolderLeavesNoLock(t *testing.T) {
	if dir := os.Getenv("RUNLOCK_HOLD"); dir != "" {
		if _, err := Acquire(dir, true); err != nil {
			os.Stdout.WriteString("error " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("locked\n")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	dir := filepath.Join(t.TempDir(), "r")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledHolderLeavesNoLock$")
	cmd.Env = append(os.Environ(), "RUNLOCK_HOLD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "locked\n" {
		t.Fatalf("holder: %q", line)
	}
	_, err = Acquire(dir, true)
	var h *HeldError
	if !errors.As(err, &h) || h.PID != cmd.Process.Pid {
		t.Fatalf("while the holder lives: %v; want HeldError naming pid %d", err, cmd.Process.Pid)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if _, err := os.Stat(filepath.Join(dir, Name)); err != nil {
		t.Fatalf("the killed holder's lock file: %v (want it left, unlocked)", err)
	}
	l, err := Acquire(dir, false)
	if err != nil {
		t.Fatalf("after SIGKILL of the holder: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
