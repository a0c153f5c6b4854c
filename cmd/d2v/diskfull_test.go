package main

// A checkpoint write that fails for lack of space, against the real binary:
// the run exits non-zero naming the file, the last good checkpoint is
// untouched, no temp file is left, and --resume on a disk with room finishes.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/d2v/d2v/pkg/checkpoint"
)

// diskFullSteps: the first segment stops after step 5 with a checkpoint;
// the resumed segment must fail writing the step-10 one.
const diskFullSteps = 10

func TestFullDiskDuringCheckpoint(t *testing.T) {
	dir := t.TempDir()
	args := append(killArgs(dir, "r"), "--steps", fmt.Sprint(diskFullSteps), "--stop-after", "5")
	if code, stderr := runD2V(t, args...); code != exitOK {
		t.Fatalf("first segment: exit %d: %s", code, stderr)
	}
	good := filepath.Join(dir, "r")
	first, err := os.ReadFile(checkpoint.StepPath(good, 5))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("tmpfs-enospc", func(t *testing.T) {
		// a real full file system: a tmpfs with room for the run folder and a
		// few KB of metrics, not for a second checkpoint (needs root)
		mnt := t.TempDir()
		size := dirSize(t, good) + 32<<10
		if int64(len(first)) < 64<<10 {
			t.Fatalf("checkpoint is only %d bytes; the slack would hold it", len(first))
		}
		if os.Geteuid() != 0 {
			t.Skip("mounting a tmpfs needs root; the rlimit subtest covers the write failure")
		}
		if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
			t.Skipf("cannot mount a tmpfs (%v); the rlimit subtest covers the write failure", err)
		}
		t.Cleanup(func() { _ = syscall.Unmount(mnt, syscall.MNT_DETACH) })
		rd := filepath.Join(mnt, "r")
		copyDir(t, good, rd)
		code, stderr := runD2V(t, "pretrain", "--resume", rd)
		checkWriteFailed(t, rd, first, code, stderr, "no space left on device")
		finishElsewhere(t, rd)
	})

	t.Run("rlimit-efbig", func(t *testing.T) {
		// RLIMIT_FSIZE below the checkpoint size: the kernel fails the write
		// with EFBIG (Go ignores SIGXFSZ), the same path as a full disk
		bash, err := exec.LookPath("bash")
		if err != nil {
			t.Skip("needs bash for ulimit")
		}
		rd := filepath.Join(t.TempDir(), "r")
		copyDir(t, good, rd)
		kb := len(first) / 2 / 1024 // bash's ulimit -f counts 1024-byte blocks
		p := startD2VCmd(t, exec.Command(bash, "-c", fmt.Sprintf(`ulimit -f %d && exec "$@"`, kb), "bash",
			d2vBinary(t), "pretrain", "--resume", rd))
		p.wait(t)
		checkWriteFailed(t, rd, first, p.cmd.ProcessState.ExitCode(), p.stderr.String(), "file too large")
		finishElsewhere(t, rd)
	})
}

// checkWriteFailed: exit non-zero with one line naming the step-10 file and
// the cause; the step-5 checkpoint is byte-identical and still the latest;
// no temp file is left.
func checkWriteFailed(t *testing.T, rd string, first []byte, code int, stderr, cause string) {
	t.Helper()
	msg := strings.TrimSpace(stderr[strings.LastIndex(strings.TrimSpace(stderr), "\n")+1:])
	if code == exitOK || !strings.Contains(msg, "ckpt-00000010.safetensors") || !strings.Contains(msg, cause) ||
		!strings.Contains(msg, "d2v pretrain --resume "+rd) {
		t.Fatalf("exit %d, last line %q; want non-zero naming ckpt-00000010.safetensors, %q and how to resume", code, msg, cause)
	}
	t.Logf("exit %d: %s", code, msg)
	got, err := os.ReadFile(checkpoint.StepPath(rd, 5))
	if err != nil || !bytes.Equal(got, first) {
		t.Fatalf("the last good checkpoint changed or is unreadable: %v", err)
	}
	if latest, err := checkpoint.Latest(rd); err != nil || latest != checkpoint.StepPath(rd, 5) {
		t.Fatalf("Latest = %q, %v; want the step-5 checkpoint", latest, err)
	}
	ents, err := os.ReadDir(rd)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("temp file %s left behind", e.Name())
		}
	}
}

// finishElsewhere copies the run to a disk with room and resumes it to the end.
func finishElsewhere(t *testing.T, rd string) {
	t.Helper()
	roomy := filepath.Join(t.TempDir(), "r")
	copyDir(t, rd, roomy)
	if code, stderr := runD2V(t, "pretrain", "--resume", roomy); code != exitOK {
		t.Fatalf("resume after the failed write: exit %d: %s", code, stderr)
	}
	if _, err := checkpoint.Read(checkpoint.StepPath(roomy, diskFullSteps)); err != nil {
		t.Fatal(err)
	}
}

// startD2VCmd starts cmd (a d2v process, maybe behind a shell) like startD2V.
func startD2VCmd(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{cmd: cmd, done: make(chan struct{})}
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		n += (fi.Size() + 4095) &^ 4095 // tmpfs charges whole pages
	}
	return n
}

// copyDir copies the regular files of src into a new folder dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
