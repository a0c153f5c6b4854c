//go:build mpi

// Tests of data-parallel pretraining under a real mpirun (Open MPI). They
// need the mpi build tag and mpirun on PATH: .ci/run runs
// go test -tags mpi -run MPI ./cmd/d2v

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/d2v/d2v/internal/runlock"
	"github.com/d2v/d2v/pkg/checkpoint"
	"github.com/d2v/d2v/pkg/train"
)

const mpiSteps = 12

var mpiBin struct {
	once sync.Once
	path string
	err  error
}

// mpiBinary builds d2v with -tags mpi once per test run (in the folder that
// TestMain removes).
func mpiBinary(t *testing.T) string {
	t.Helper()
	d2vBinary(t) // makes binDir
	mpiBin.once.Do(func() {
		mpiBin.path = filepath.Join(binDir, "d2v-mpi")
		if out, err := exec.Command("go", "build", "-tags", "mpi", "-o", mpiBin.path, ".").CombinedOutput(); err != nil {
			mpiBin.err = fmt.Errorf("go build -tags mpi: %v\n%s", err, out)
		}
	})
	if mpiBin.err != nil {
		t.Fatal(mpiBin.err)
	}
	return mpiBin.path
}

// mpirun runs `mpirun args...` and returns its exit code and output; it
// fails the test if the job is still running after 90 s (a hang).
func mpirun(t *testing.T, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "mpirun", append([]string{"--allow-run-as-root", "--oversubscribe"}, args...)...)
	out, _ := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("mpirun %v hung (killed after 90 s):\n%s", args, out)
	}
	return cmd.ProcessState.ExitCode(), string(out)
}

// mpiArgs: the tiny config, one thread per rank, a metric line every step.
func mpiArgs(dir, name string, extra ...string) []string {
	return append([]string{"pretrain", "-c", "../../configs/tiny.yaml", "--steps", fmt.Sprint(mpiSteps),
		"--set", "run.log_every=1", "--set", "run.ckpt_every=6", "--set", "run.check_every=3",
		"--set", "run.threads=1", "--set", "run.dir=" + dir, "--name", name}, extra...)
}

func metricsOf(t *testing.T, run string) []train.Metric {
	t.Helper()
	f, err := os.Open(filepath.Join(run, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ms []train.Metric
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var m train.Metric
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	if len(ms) != mpiSteps {
		t.Fatalf("%s: %d metric lines, want %d", run, len(ms), mpiSteps)
	}
	return ms
}

// stateDiff is the largest |a-b| / (max |a| in the tensor + 1e-3) over all
// tensors of the final checkpoints of two runs.
func stateDiff(t *testing.T, runA, runB string) (float64, string) {
	t.Helper()
	read := func(run string) *checkpoint.File {
		f, err := checkpoint.Read(checkpoint.StepPath(run, mpiSteps))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	a, b := read(runA), read(runB)
	if len(a.Tensors) != len(b.Tensors) {
		t.Fatalf("%d vs %d tensors", len(a.Tensors), len(b.Tensors))
	}
	worst, where := 0.0, ""
	for name, ta := range a.Tensors {
		va, _ := ta.Float64s()
		vb, err := b.Tensors[name].Float64s()
		if err != nil || len(va) != len(vb) {
			t.Fatalf("%s: %v, %d vs %d values", name, err, len(va), len(vb))
		}
		var scale, d float64
		for i := range va {
			scale, d = max(scale, math.Abs(va[i])), max(d, math.Abs(va[i]-vb[i]))
		}
		if r := d / (scale + 1e-3); r > worst || where == "" {
			worst, where = r, name
		}
	}
	return worst, where
}

// TestMPIEquivalence: 2 ranks x 8 examples train like 1 process x 16 (the
// pure-Go build): the same losses, gradient norms, variance statistics and
// final weights, teacher and AdamW moments within float32 tolerance. One MPI
// rank is bit-identical to the pure-Go build, and a 2-rank run stopped at
// step 6 and resumed under mpirun ends bit-identical to the uninterrupted one.
func TestMPIEquivalence(t *testing.T) {
	mpi, dir := mpiBinary(t), t.TempDir()
	if code, out := runD2V(t, mpiArgs(dir, "one")...); code != 0 {
		t.Fatalf("one process: exit %d\n%s", code, out)
	}
	for _, r := range []struct {
		name string
		np   string
		args []string
	}{{"mpi1", "1", nil}, {"two", "2", nil}, {"resumed", "2", []string{"--stop-after", "6"}}} {
		if code, out := mpirun(t, append([]string{"-np", r.np, mpi}, mpiArgs(dir, r.name, r.args...)...)...); code != 0 {
			t.Fatalf("%s: mpirun exit %d\n%s", r.name, code, out)
		}
	}
	if code, out := mpirun(t, "-np", "2", mpi, "pretrain", "--resume", filepath.Join(dir, "resumed")); code != 0 {
		t.Fatalf("resume under mpirun: exit %d\n%s", code, out)
	}
	one, two := metricsOf(t, filepath.Join(dir, "one")), metricsOf(t, filepath.Join(dir, "two"))
	mpi1, resumed := metricsOf(t, filepath.Join(dir, "mpi1")), metricsOf(t, filepath.Join(dir, "resumed"))
	worstLoss := 0.0
	for i, w := range one {
		g := two[i]
		for _, f := range []struct {
			name string
			g, w float64
		}{{"loss", g.Loss, w.Loss}, {"grad_norm", g.GradNorm, w.GradNorm}, {"target_var", g.TargetVar, w.TargetVar}, {"pred_var", g.PredVar, w.PredVar}} {
			rel := math.Abs(f.g-f.w) / math.Abs(f.w)
			if rel > 1e-4 {
				t.Errorf("step %d %s: 2 ranks %.7g, 1 process %.7g (rel. diff %.2g)", w.Step, f.name, f.g, f.w, rel)
			}
			if f.name == "loss" {
				worstLoss = max(worstLoss, rel)
			}
		}
		if mpi1[i].Loss != w.Loss || mpi1[i].GradNorm != w.GradNorm {
			t.Errorf("step %d: 1 MPI rank loss %v norm %v, pure Go %v %v (want identical)", w.Step, mpi1[i].Loss, mpi1[i].GradNorm, w.Loss, w.GradNorm)
		}
		if resumed[i].Loss != g.Loss || resumed[i].GradNorm != g.GradNorm {
			t.Errorf("step %d: resumed 2-rank run loss %v, uninterrupted %v (want identical)", w.Step, resumed[i].Loss, g.Loss)
		}
		if g.CommMS <= 0 {
			t.Errorf("step %d: 2 ranks logged comm_ms %v", g.Step, g.CommMS)
		}
	}
	d, where := stateDiff(t, filepath.Join(dir, "one"), filepath.Join(dir, "two"))
	if d > 1e-4 {
		t.Errorf("final state of 2 ranks differs from 1 process by %.3g (relative to the tensor's scale) in %s", d, where)
	}
	t.Logf("2 ranks vs 1 process over %d steps: worst loss rel. diff %.2g, worst state diff %.2g (%s)", mpiSteps, worstLoss, d, where)
	for _, r := range []string{"mpi1", "resumed"} {
		if d, where := stateDiff(t, filepath.Join(dir, map[string]string{"mpi1": "one", "resumed": "two"}[r]), filepath.Join(dir, r)); d != 0 {
			t.Errorf("%s: final state differs by %.3g in %s, want bit-identical", r, d, where)
		}
	}
}

// TestMPIFailures: ranks started with different configs and a rank that
// fails on its own end the whole job with a message and a non-zero exit
// instead of a hang; non-finite steps are skipped, and the run stops, at the
// same step on every rank; a run folder locked by another process ends every
// rank with exit 2 before any writes.
func TestMPIFailures(t *testing.T) {
	mpi, dir := mpiBinary(t), t.TempDir()
	code, out := mpirun(t, "-np", "1", mpi, "pretrain", "--seed", "1", "--set", "run.dir="+dir,
		":", "-np", "1", mpi, "pretrain", "--seed", "2", "--set", "run.dir="+dir)
	if code != 2 || !strings.Contains(out, "rank 1's resolved config differs from rank 0's") {
		t.Errorf("configs differ: exit %d, want 2 and the config message:\n%s", code, out)
	}
	code, out = mpirun(t, "-np", "1", mpi, "pretrain", "-c", "../../configs/tiny.yaml", "--set", "run.dir="+dir,
		":", "-np", "1", mpi, "pretrain", "--resume", filepath.Join(dir, "missing"))
	if code != 2 || !strings.Contains(out, "d2v: rank 1 of 2: --resume "+filepath.Join(dir, "missing")) {
		t.Errorf("failing rank: exit %d, want 2 and rank 1's message:\n%s", code, out)
	}

	// NaN from step 2: both ranks skip steps 2 and 3 and stop at step 4 together (exit 3)
	code, out = mpirun(t, append([]string{"-np", "2", mpi}, mpiArgs(dir, "nan", "--set", "optim.lr=1e30",
		"--set", "optim.clip=0", "--set", "optim.warmup_steps=0", "--set", "run.skip_nonfinite=2")...)...)
	// (which rank's message comes first depends on which reaches MPI_Abort first)
	for _, want := range []string{"step 3 skipped", " of 2: training diverged at step 4: loss NaN"} {
		if code != 3 || !strings.Contains(out, want) {
			t.Errorf("non-finite steps: exit %d, want 3 and %q:\n%s", code, want, out)
			break
		}
	}

	// rank 0 cannot get the run folder's lock: every rank ends with exit 2,
	// none writes, and no MPI_Abort is needed (one collective told them all)
	if code, out := mpirun(t, append([]string{"-np", "2", mpi}, mpiArgs(dir, "locked", "--steps", "2")...)...); code != 0 {
		t.Fatalf("run to lock: exit %d\n%s", code, out)
	}
	locked := filepath.Join(dir, "locked")
	lk, err := runlock.Acquire(locked, false)
	if err != nil {
		t.Fatal(err)
	}
	before := folderState(t, locked)
	code, out = mpirun(t, "-np", "2", mpi, "pretrain", "--resume", locked, "--steps", "4")
	if want := inUse(t, locked, os.Getpid()); code != 2 || strings.Count(out, want) != 1 || strings.Contains(out, "MPI_ABORT") {
		t.Errorf("locked run folder: exit %d, want 2 and %q once, without MPI_ABORT:\n%s", code, want, out)
	}
	if after := folderState(t, locked); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("a refused 2-rank resume changed the run folder")
	}
	lk.Release()
}

// TestMPIKillResume: SIGKILL one rank of a 2-rank run mid-run (rank 1, then
// rank 0, which holds the run folder's lock): mpirun ends every rank with a
// message naming the dead rank, rank 0 says how to resume, and --resume under
// mpirun ends bit-identical to an uninterrupted 2-rank run.
func TestMPIKillResume(t *testing.T) {
	mpi, dir := mpiBinary(t), t.TempDir()
	if code, out := mpirun(t, append([]string{"-np", "2", mpi}, mpiArgs(dir, "ref")...)...); code != 0 {
		t.Fatalf("uninterrupted run: exit %d\n%s", code, out)
	}
	ref := metricsOf(t, filepath.Join(dir, "ref"))
	for _, victim := range []int{1, 0} {
		t.Run(fmt.Sprintf("rank-%d", victim), func(t *testing.T) {
			name := fmt.Sprintf("killed%d", victim)
			rd := filepath.Join(dir, name)
			out, pids := killRank(t, mpi, dir, name, victim)
			for _, want := range []string{fmt.Sprintf("rank %d ", victim), "exited on signal 9"} {
				if !strings.Contains(out, want) {
					t.Errorf("mpirun's output lacks %q:\n%s", want, out)
				}
			}
			if victim != 0 && !strings.Contains(out, "rank 0 of 2: stopping on a signal; if mpirun is ending the job (a rank died), the last checkpoint is intact: continue with d2v pretrain --resume "+rd) {
				t.Errorf("rank 0 does not say how to resume:\n%s", out)
			}
			for _, pid := range pids { // (a zombie may wait a moment for its reaper)
				deadline := time.Now().Add(5 * time.Second)
				for syscall.Kill(pid, 0) != syscall.ESRCH && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
					t.Errorf("rank process %d still exists 5 s after mpirun ended (%v)", pid, err)
				}
			}
			if code, out := mpirun(t, "-np", "2", mpi, "pretrain", "--resume", rd); code != 0 {
				t.Fatalf("resume after the kill: exit %d\n%s", code, out)
			}
			got := metricsOf(t, rd) // each step once
			for i, w := range ref {
				if got[i].Step != w.Step || got[i].Loss != w.Loss || got[i].GradNorm != w.GradNorm {
					t.Errorf("metrics line %d: step %d loss %v norm %v, uninterrupted %d %v %v", i+1, got[i].Step, got[i].Loss, got[i].GradNorm, w.Step, w.Loss, w.GradNorm)
				}
			}
			if d, where := stateDiff(t, filepath.Join(dir, "ref"), rd); d != 0 {
				t.Errorf("final state differs from the uninterrupted run by %.3g in %s, want bit-identical", d, where)
			}
		})
	}
}

// killRank starts a 2-rank run with a checkpoint every 2 steps and SIGKILLs
// rank victim once the first checkpoint is written. It returns mpirun's
// output and the ranks' pids, once mpirun has ended.
func killRank(t *testing.T, mpi, dir, name string, victim int) (string, []int) {
	t.Helper()
	for try := 1; ; try++ {
		os.RemoveAll(filepath.Join(dir, name))
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "mpirun", append([]string{"--allow-run-as-root", "--oversubscribe", "-np", "2", mpi},
			mpiArgs(dir, name, "--set", "run.ckpt_every=2")...)...)
		var buf strings.Builder
		cmd.Stdout, cmd.Stderr = &buf, &buf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		first := checkpoint.StepPath(filepath.Join(dir, name), 2)
		for _, err := os.Stat(first); err != nil; _, err = os.Stat(first) {
			if ctx.Err() != nil {
				t.Fatalf("no checkpoint from the 2-rank run:\n%s", buf.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
		pids := []int{rankPID(t, cmd.Process.Pid, 0), rankPID(t, cmd.Process.Pid, 1)}
		if err := syscall.Kill(pids[victim], syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		err := cmd.Wait()
		if ctx.Err() != nil {
			t.Fatalf("mpirun still running 90 s after rank %d was killed:\n%s", victim, buf.String())
		}
		if err == nil { // the run ended before the signal landed
			if try == 3 {
				t.Fatalf("the run finished before rank %d could be killed, 3 tries", victim)
			}
			continue
		}
		t.Logf("rank %d killed after the first checkpoint: mpirun ended in %v (%v)", victim, time.Since(killed).Round(time.Millisecond), err)
		return buf.String(), pids
	}
}

// rankPID finds the process of MPI rank r among mpirun's children.
func rankPID(t *testing.T, mpirunPID, rank int) int {
	t.Helper()
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		env, err2 := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil || err2 != nil {
			continue
		}
		// stat: pid (comm) state ppid ...
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) > 1 && f[1] == fmt.Sprint(mpirunPID) && strings.Contains("\x00"+string(env), fmt.Sprintf("\x00OMPI_COMM_WORLD_RANK=%d\x00", rank)) {
			return pid
		}
	}
	t.Fatalf("no child of mpirun %d is rank %d", mpirunPID, rank)
	return 0
}
