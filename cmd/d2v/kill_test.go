package main

// Crash-safety tests against the real binary: SIGKILL at awkward moments
// (right after a checkpoint, at a random moment, while a checkpoint is being
// written, before any checkpoint exists), and SIGINT/SIGTERM, each followed
// by --resume to completion, which must reproduce an uninterrupted run bit
// for bit.

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/d2v/d2v/pkg/checkpoint"
)

const killSteps = 40

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// d2vBinary builds the command once per test binary run; the environment
// (GOFLAGS, GOCACHE, ...) passes through to go build.
func d2vBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		if binDir, binErr = os.MkdirTemp("", "d2v-kill-test-"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "d2v")
		cmd := exec.Command(goTool, "build", "-o", binPath, ".")
		cmd.Env = os.Environ()
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// killArgs is the run every test here uses: the tiny model for 40 steps with
// a checkpoint every 5 steps, a metrics line every step and one thread (so
// the test process keeps a core to watch the run folder).
func killArgs(runDir, name string) []string {
	return []string{"pretrain", "-c", "../../configs/tiny.yaml", "--steps", fmt.Sprint(killSteps),
		"--set", "run.ckpt_every=5", "--set", "run.log_every=1", "--set", "run.threads=1",
		"--set", "run.dir=" + runDir, "--name", name}
}

// proc is a started d2v process.
type proc struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	done   chan struct{} // closed once Wait returned
	err    error
}

func startD2V(t *testing.T, args ...string) *proc {
	t.Helper()
	return startD2VCmd(t, exec.Command(d2vBinary(t), args...))
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) wait(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("d2v %v did not finish in 60s; stderr: %s", p.cmd.Args[1:], p.stderr.String())
	}
}

// killedBy reports whether the process died of signal s (as opposed to
// finishing on its own before the signal arrived).
func (p *proc) killedBy(s syscall.Signal) bool {
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == s
}

// runD2V runs the binary to completion and returns its exit code and stderr.
func runD2V(t *testing.T, args ...string) (int, string) {
	t.Helper()
	p := startD2V(t, args...)
	p.wait(t)
	return p.cmd.ProcessState.ExitCode(), p.stderr.String()
}

// watch polls the run folder as fast as it can until cond holds (true) or
// the process exits first (false). It never sleeps: a checkpoint's temp
// file lives for about a millisecond.
func watch(t *testing.T, p *proc, dir string, cond func(names []string) bool) bool {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; ; i++ {
		if p.exited() {
			return false
		}
		ents, err := os.ReadDir(dir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		names := make([]string, len(ents))
		for j, e := range ents {
			names[j] = e.Name()
		}
		if cond(names) {
			return true
		}
		if i%1024 == 0 && time.Now().After(deadline) {
			t.Fatalf("run folder %s: condition not met in 60s", dir)
		}
	}
}

func hasName(name string) func([]string) bool {
	return func(names []string) bool {
		for _, n := range names {
			if n == name {
				return true
			}
		}
		return false
	}
}

func hasPrefix(prefix string) func([]string) bool {
	return func(names []string) bool {
		for _, n := range names {
			if strings.HasPrefix(n, prefix) {
				return true
			}
		}
		return false
	}
}

// reference is an uninterrupted run: its final checkpoint, its metrics
// and its wall time.
type reference struct {
	ckpt    *checkpoint.File
	metrics []map[string]float64
	wall    time.Duration
}

func referenceRun(t *testing.T) reference {
	t.Helper()
	dir := t.TempDir()
	d2vBinary(t) // not part of the timing
	t0 := time.Now()
	if code, stderr := runD2V(t, killArgs(dir, "ref")...); code != exitOK {
		t.Fatalf("reference run: exit %d: %s", code, stderr)
	}
	wall := time.Since(t0)
	f, err := checkpoint.Read(checkpoint.StepPath(filepath.Join(dir, "ref"), killSteps))
	if err != nil {
		t.Fatal(err)
	}
	ms := readMetrics(t, filepath.Join(dir, "ref", "metrics.jsonl"))
	if len(ms) != killSteps {
		t.Fatalf("reference: %d metrics lines, want %d", len(ms), killSteps)
	}
	return reference{f, ms, wall}
}

// matchesReference compares every tensor's bytes of the run's final
// checkpoint and its metrics lines (all but step_ms) with the reference.
func matchesReference(t *testing.T, ref reference, rd string) {
	t.Helper()
	f, err := checkpoint.Read(checkpoint.StepPath(rd, killSteps))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Tensors) != len(ref.ckpt.Tensors) {
		t.Fatalf("%d tensors, reference %d", len(f.Tensors), len(ref.ckpt.Tensors))
	}
	bad := 0
	for name, want := range ref.ckpt.Tensors {
		got, ok := f.Tensors[name]
		if !ok || got.DType != want.DType || !bytes.Equal(got.Data, want.Data) {
			bad++
			if bad <= 5 {
				t.Errorf("tensor %s differs from the uninterrupted run", name)
			}
		}
	}
	if bad > 5 {
		t.Errorf("... %d tensors differ in all", bad)
	}
	if f.Meta["step"] != ref.ckpt.Meta["step"] || f.Meta["optim_t"] != ref.ckpt.Meta["optim_t"] {
		t.Errorf("meta step/optim_t %s/%s, reference %s/%s", f.Meta["step"], f.Meta["optim_t"], ref.ckpt.Meta["step"], ref.ckpt.Meta["optim_t"])
	}
	ms := readMetrics(t, filepath.Join(rd, "metrics.jsonl"))
	if len(ms) != len(ref.metrics) {
		t.Fatalf("metrics: %d lines, reference %d", len(ms), len(ref.metrics))
	}
	for i := range ms {
		for _, k := range []string{"step", "loss", "target_var", "pred_var", "lr", "grad_norm", "ema_decay"} {
			a, aok := ms[i][k]
			b, bok := ref.metrics[i][k]
			if !aok || !bok || a != b {
				t.Errorf("metrics line %d: %s %v, reference %v", i+1, k, a, b)
			}
		}
	}
}

// checkAfterKill: every ckpt-*.safetensors left must parse, and Latest must
// pick a real checkpoint, never a temp file. It returns the number of
// checkpoints and whether a checkpoint temp file was left behind.
func checkAfterKill(t *testing.T, rd string) (n int, leftTmp bool) {
	t.Helper()
	ents, err := os.ReadDir(rd)
	if errors.Is(err, os.ErrNotExist) {
		return 0, false
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, ".tmp-ckpt-"):
			leftTmp = true
		case strings.HasPrefix(name, "ckpt-") && strings.HasSuffix(name, ".safetensors"):
			n++
			if _, err := checkpoint.Read(filepath.Join(rd, name)); err != nil {
				t.Errorf("after SIGKILL, %s does not parse: %v", name, err)
			}
		}
	}
	latest, err := checkpoint.Latest(rd)
	switch {
	case n == 0 && !errors.Is(err, checkpoint.ErrNoCheckpoint):
		t.Errorf("no checkpoint left, but Latest = %q, %v", latest, err)
	case n > 0 && err != nil:
		t.Errorf("Latest: %v", err)
	case n > 0 && !strings.HasPrefix(filepath.Base(latest), "ckpt-"):
		t.Errorf("Latest picked %s", latest)
	}
	return n, leftTmp
}

// finishAfterKill resumes the killed run to completion. With no checkpoint
// left the resume must refuse (exit 2, a one-line message) and a fresh run
// in the same folder takes its place.
func finishAfterKill(t *testing.T, dir, name string, nckpt int) {
	t.Helper()
	rd := filepath.Join(dir, name)
	code, stderr := runD2V(t, "pretrain", "--resume", rd)
	if nckpt == 0 {
		if code != exitUsage || !strings.Contains(stderr, "--resume "+rd) {
			t.Fatalf("resume without a checkpoint: exit %d, stderr %q; want exit 2 and a message", code, stderr)
		}
		t.Logf("killed before the first checkpoint; resume refused: %s", strings.TrimSpace(stderr))
		if code, stderr = runD2V(t, killArgs(dir, name)...); code != exitOK {
			t.Fatalf("fresh run after kill: exit %d: %s", code, stderr)
		}
		return
	}
	if code != exitOK {
		t.Fatalf("resume: exit %d: %s", code, stderr)
	}
}

// killAt starts a run, waits for trigger (which may also sleep), SIGKILLs
// the run and checks the folder. It returns false if the run finished
// before it could be killed.
func killAt(t *testing.T, dir, name string, trigger func(p *proc, rd string) bool) (ok bool, nckpt int, leftTmp bool) {
	t.Helper()
	rd := filepath.Join(dir, name)
	p := startD2V(t, killArgs(dir, name)...)
	if trigger(p, rd) {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
	}
	p.wait(t)
	if !p.killedBy(syscall.SIGKILL) {
		if p.cmd.ProcessState.ExitCode() != exitOK {
			t.Fatalf("run failed before the kill: exit %d: %s", p.cmd.ProcessState.ExitCode(), p.stderr.String())
		}
		return false, 0, false
	}
	nckpt, leftTmp = checkAfterKill(t, rd)
	return true, nckpt, leftTmp
}

func TestKillResumeIsExact(t *testing.T) {
	ref := referenceRun(t)
	t.Logf("reference: %d steps in %v", killSteps, ref.wall.Round(time.Millisecond))

	t.Run("before-first-checkpoint", func(t *testing.T) {
		// as soon as the run has set up its folder; if a checkpoint made it
		// anyway, this is an ordinary resume.
		dir := t.TempDir()
		ok, n, _ := killAt(t, dir, "r", func(p *proc, rd string) bool { return watch(t, p, rd, hasName("config.yaml")) })
		if !ok {
			t.Fatal("run finished before it could be killed")
		}
		finishAfterKill(t, dir, "r", n)
		matchesReference(t, ref, filepath.Join(dir, "r"))
	})

	t.Run("after-first-checkpoint", func(t *testing.T) {
		dir := t.TempDir()
		first := filepath.Base(checkpoint.StepPath("", 5))
		ok, n, _ := killAt(t, dir, "r", func(p *proc, rd string) bool { return watch(t, p, rd, hasName(first)) })
		if !ok {
			t.Fatal("run finished before it could be killed")
		}
		if n == 0 {
			t.Fatalf("killed after %s appeared, but no checkpoint is left", first)
		}
		finishAfterKill(t, dir, "r", n)
		matchesReference(t, ref, filepath.Join(dir, "r"))
	})

	t.Run("random-moment", func(t *testing.T) {
		seed := time.Now().UnixNano()
		rng := rand.New(rand.NewPCG(uint64(seed), 0))
		delay := time.Duration((0.1 + 0.8*rng.Float64()) * float64(ref.wall))
		for try := 1; ; try++ {
			dir := t.TempDir()
			ok, n, _ := killAt(t, dir, "r", func(p *proc, _ string) bool {
				select {
				case <-p.done:
					return false
				case <-time.After(delay):
					return true
				}
			})
			if !ok {
				// the run beat the timer: try an earlier moment
				if try == 8 {
					t.Fatalf("run finished before every kill (seed %d, last delay %v)", seed, delay)
				}
				delay /= 2
				continue
			}
			t.Logf("killed %v after start (seed %d, try %d), %d checkpoints left", delay.Round(time.Microsecond), seed, try, n)
			finishAfterKill(t, dir, "r", n)
			matchesReference(t, ref, filepath.Join(dir, "r"))
			return
		}
	})

	t.Run("while-writing-checkpoint", func(t *testing.T) {
		// Kill as soon as a checkpoint temp file shows; the later writes
		// (step 10, 15, ...) have an older checkpoint beside the torn one.
		// A kill that lands just after the rename is still a valid kill
		// point but proves less, so try a few times to leave a torn temp
		// file behind.
		for try := 1; ; try++ {
			dir := t.TempDir()
			ok, n, torn := killAt(t, dir, "r", func(p *proc, rd string) bool {
				seenFirst := false
				return watch(t, p, rd, func(names []string) bool {
					if !seenFirst {
						seenFirst = hasName(filepath.Base(checkpoint.StepPath("", 5)))(names)
						return false
					}
					return hasPrefix(".tmp-ckpt-")(names)
				})
			})
			if !ok {
				if try == 5 {
					t.Fatal("no checkpoint temp file seen before the run finished, 5 tries")
				}
				continue
			}
			if !torn && try < 5 {
				t.Logf("try %d: the write finished before the kill; again", try)
				continue
			}
			t.Logf("try %d: killed mid-write: torn temp file left %v, %d checkpoints left", try, torn, n)
			finishAfterKill(t, dir, "r", n)
			matchesReference(t, ref, filepath.Join(dir, "r"))
			return
		}
	})
}

func TestSignalsCheckpointAndExit(t *testing.T) {
	ref := referenceRun(t)
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, exitInterrupted}, {syscall.SIGTERM, exitTerminated}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			// Signal once a step has been logged (the handler is installed
			// before the run folder is made); should the run be done before
			// the signal lands, try again. The run stops a few steps after
			// the signal (the handler goroutine waits for the CPU-bound
			// loop to be preempted), so only "some step <= 40" is asserted.
			for try := 1; ; try++ {
				dir := t.TempDir()
				rd := filepath.Join(dir, "r")
				p := startD2V(t, killArgs(dir, "r")...)
				if watch(t, p, rd, func(names []string) bool {
					st, err := os.Stat(filepath.Join(rd, "metrics.jsonl"))
					return err == nil && st.Size() > 0
				}) {
					_ = p.cmd.Process.Signal(tc.sig)
				}
				p.wait(t)
				code, stderr := p.cmd.ProcessState.ExitCode(), p.stderr.String()
				if code == exitOK && strings.Contains(stderr, "done:") {
					if try == 3 {
						t.Fatal("run finished before the signal, 3 tries")
					}
					continue
				}
				if code != tc.code {
					t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, stderr)
				}
				var step int64
				_, msg, _ := strings.Cut(stderr, "stopped after step ")
				if _, err := fmt.Sscanf(msg, "%d", &step); err != nil || step <= 0 || step > killSteps {
					t.Fatalf("stderr lacks the stop step: %q", stderr)
				}
				if !strings.Contains(stderr, "d2v pretrain --resume "+rd) {
					t.Errorf("stderr does not say how to resume: %q", stderr)
				}
				f, err := checkpoint.Read(checkpoint.StepPath(rd, step))
				if err != nil {
					t.Fatalf("no checkpoint for the finished step %d: %v", step, err)
				}
				if f.Meta["step"] != fmt.Sprint(step) {
					t.Errorf("checkpoint meta step %q, want %d", f.Meta["step"], step)
				}
				if latest, _ := checkpoint.Latest(rd); latest != checkpoint.StepPath(rd, step) {
					t.Errorf("Latest %s, want step %d", latest, step)
				}
				if ms := readMetrics(t, filepath.Join(rd, "metrics.jsonl")); len(ms) != int(step) {
					t.Errorf("%d metrics lines after stopping at step %d", len(ms), step)
				}
				t.Logf("%v after step %d: exit %d", tc.sig, step, code)
				if code, stderr := runD2V(t, "pretrain", "--resume", rd); code != exitOK {
					t.Fatalf("resume: exit %d: %s", code, stderr)
				}
				matchesReference(t, ref, rd)
				return
			}
		})
	}
}
