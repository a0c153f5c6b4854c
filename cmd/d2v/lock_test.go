package main

// One writer per run folder (internal/runlock) through the real CLI: a
// second pretrain, --resume, eval or finetune --out on a folder that another
// process writes exits 2 at once with one line naming the folder and the
// holder's pid and host, and touches nothing; two real processes started
// together on one folder leave each step once in metrics.jsonl; a SIGKILLed
// holder leaves no lock.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/d2v/d2v/internal/runlock"
)

// inUse is the start of the message a refused writer prints.
func inUse(t *testing.T, dir string, pid int) string {
	t.Helper()
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("d2v: run folder %s is in use by pid %d on host %s: ", dir, pid, host)
}

// wantRefused: exit 2 and a one-line stderr starting with want.
func wantRefused(t *testing.T, who string, code int, stderr, want string) {
	t.Helper()
	if code != exitUsage || !strings.HasPrefix(stderr, want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
		t.Errorf("%s: exit %d, stderr %q; want exit 2 and one line starting %q", who, code, stderr, want)
	}
}

// TestLockedFolderIsUntouched: while this test process holds a run folder's
// lock, every writer of that folder is refused and changes no byte in it.
// (flock locks belong to an open file, so Main in this process is refused
// as another process would be.)
func TestLockedFolderIsUntouched(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := run(t, smallRunArgs(dir, 2)...); code != exitOK {
		t.Fatal(stderr)
	}
	rd := filepath.Join(dir, "r")
	lk, err := runlock.Acquire(rd, false)
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Release()
	empty := filepath.Join(dir, "empty") // a fresh run's folder, before its first checkpoint
	lk2, err := runlock.Acquire(empty, true)
	if err != nil {
		t.Fatal(err)
	}
	defer lk2.Release()
	before, beforeEmpty := folderState(t, rd), folderState(t, empty)
	for _, tc := range []struct {
		name string
		args []string
		dir  string
	}{
		{"resume", []string{"pretrain", "--resume", rd, "--steps", "4"}, rd},
		{"fresh run with its name", smallRunArgs(dir, 4), rd},
		{"fresh run before the holder's first checkpoint", append(smallRunArgs(dir, 4), "--name", "empty"), empty},
		{"eval --out", evalArgs(rd, rd), rd},
		{"finetune --out", []string{"finetune", "--checkpoint", rd, "--out", rd, "--set", "data.limit=64"}, rd},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, tc.args...)
			wantRefused(t, tc.name, code, stderr, inUse(t, tc.dir, os.Getpid()))
		})
	}
	if after := folderState(t, rd); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("refused writers changed the run folder: %v -> %v", keys(before), keys(after))
	}
	if after := folderState(t, empty); fmt.Sprint(after) != fmt.Sprint(beforeEmpty) {
		t.Errorf("a refused fresh run changed the folder: %v -> %v", keys(beforeEmpty), keys(after))
	}
	// readers take no lock: eval of the locked run's checkpoint elsewhere
	if code, _, stderr := run(t, evalArgs(rd, filepath.Join(dir, "eval"))...); code != exitOK {
		t.Errorf("eval reading a locked run folder: exit %d: %s", code, stderr)
	}
}

// stoppedRun leaves a 40-step run stopped after step 5 in dir/r.
func stoppedRun(t *testing.T, dir string) string {
	t.Helper()
	if code, stderr := runD2V(t, append(killArgs(dir, "r"), "--stop-after", "5")...); code != exitOK {
		t.Fatalf("run to step 5: exit %d: %s", code, stderr)
	}
	return filepath.Join(dir, "r")
}

// oneRan waits for a and b and checks that exactly one of them ran (exit
// 0) and that the other exited 2 while the winner still ran, with a message
// that starts with want(winner) (or, when alsoOK is not empty, contains it).
// It returns the winner.
func oneRan(t *testing.T, a, b *proc, want func(winner *proc) string, alsoOK string) *proc {
	t.Helper()
	var first *proc
	select {
	case <-a.done:
		first = a
	case <-b.done:
		first = b
	}
	other := map[*proc]*proc{a: b, b: a}[first]
	stillRunning := !other.exited()
	other.wait(t)
	winner, loser := other, first
	if first.cmd.ProcessState.ExitCode() == exitOK {
		winner, loser = first, other
	}
	if c := winner.cmd.ProcessState.ExitCode(); c != exitOK {
		t.Fatalf("neither run succeeded: exits %d and %d\n%s\n%s", c, loser.cmd.ProcessState.ExitCode(), winner.stderr.String(), loser.stderr.String())
	}
	if loser != first || !stillRunning {
		t.Errorf("the refused process did not end while the other ran (first to end: %v)", first.cmd.Args[1:])
	}
	stderr := loser.stderr.String()
	if alsoOK != "" && strings.Contains(stderr, alsoOK) {
		wantRefused(t, "loser", loser.cmd.ProcessState.ExitCode(), stderr, "d2v: ")
	} else {
		wantRefused(t, "loser", loser.cmd.ProcessState.ExitCode(), stderr, want(winner))
	}
	t.Logf("refused: %s", strings.TrimSpace(stderr))
	return winner
}

// TestOneWriterPerRunFolder: two real processes on one run folder, started
// together or one after the other has the lock; and a SIGKILLed holder.
// Every case ends bit-identical to an uninterrupted run, with each step once
// in metrics.jsonl.
func TestOneWriterPerRunFolder(t *testing.T) {
	ref := referenceRun(t)
	lockFile := func(p *proc, rd string) { // wait until p holds rd's lock
		t.Helper()
		if !watch(t, p, rd, hasName(runlock.Name)) {
			t.Fatalf("%v ended before it took the lock: %s", p.cmd.Args[1:], p.stderr.String())
		}
	}

	t.Run("two-resumes-at-once", func(t *testing.T) {
		rd := stoppedRun(t, t.TempDir())
		a, b := startD2V(t, "pretrain", "--resume", rd), startD2V(t, "pretrain", "--resume", rd)
		oneRan(t, a, b, func(w *proc) string { return inUse(t, rd, w.cmd.Process.Pid) }, "")
		matchesReference(t, ref, rd)
	})

	t.Run("resume-and-fresh-run-at-once", func(t *testing.T) {
		// the fresh run is refused, by the lock's message or, if it looks
		// before the resume has the lock, by "already holds checkpoints";
		// it never takes the lock from under the resume
		dir := t.TempDir()
		rd := stoppedRun(t, dir)
		a, b := startD2V(t, "pretrain", "--resume", rd), startD2V(t, killArgs(dir, "r")...)
		if w := oneRan(t, a, b, func(w *proc) string { return inUse(t, rd, w.cmd.Process.Pid) }, "already holds checkpoints"); w != a {
			t.Errorf("the fresh run ran")
		}
		matchesReference(t, ref, rd)
	})

	t.Run("resume-while-fresh-run", func(t *testing.T) {
		dir := t.TempDir()
		rd := filepath.Join(dir, "r")
		a := startD2V(t, killArgs(dir, "r")...)
		lockFile(a, rd)
		b := startD2V(t, "pretrain", "--resume", rd)
		oneRan(t, a, b, func(*proc) string { return inUse(t, rd, a.cmd.Process.Pid) }, "")
		matchesReference(t, ref, rd)
	})

	t.Run("fresh-run-while-resume", func(t *testing.T) {
		dir := t.TempDir()
		rd := stoppedRun(t, dir)
		a := startD2V(t, "pretrain", "--resume", rd)
		lockFile(a, rd)
		b := startD2V(t, killArgs(dir, "r")...)
		oneRan(t, a, b, func(*proc) string { return inUse(t, rd, a.cmd.Process.Pid) }, "")
		matchesReference(t, ref, rd)
	})

	t.Run("killed-holder", func(t *testing.T) {
		// SIGKILL the resume holding the lock; a new resume starts at once
		rd := stoppedRun(t, t.TempDir())
		a := startD2V(t, "pretrain", "--resume", rd)
		lockFile(a, rd)
		_ = a.cmd.Process.Signal(syscall.SIGKILL)
		a.wait(t)
		if !a.killedBy(syscall.SIGKILL) {
			t.Fatalf("the holder ended before the kill: exit %d: %s", a.cmd.ProcessState.ExitCode(), a.stderr.String())
		}
		if code, stderr := runD2V(t, "pretrain", "--resume", rd); code != exitOK {
			t.Fatalf("resume after the holder was killed: exit %d: %s", code, stderr)
		}
		matchesReference(t, ref, rd)
		if _, err := os.Stat(filepath.Join(rd, runlock.Name)); !os.IsNotExist(err) {
			t.Errorf("the finished resume left its lock file: %v", err)
		}
	})
}
