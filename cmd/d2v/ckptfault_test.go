package main

// Checkpoint faults through the CLI: corrupt, truncated and mismatched
// checkpoints are refused by --resume and eval with exit 2 and one line that
// names the file and, for a tensor, the tensor and both shapes; the run
// folder is left as it was. Checkpoints written by older d2v versions
// (testdata/old-checkpoints) resume and evaluate.

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/d2v/d2v/pkg/checkpoint"
)

// smallRunArgs: a 2-step pretraining of a dim-8 model, a few hundred ms.
func smallRunArgs(dir string, steps int) []string {
	return []string{"pretrain", "--set", "run.dir=" + dir, "--name", "r", "--steps", fmt.Sprint(steps),
		"--set", "model.dim=8", "--set", "model.heads=2", "--set", "model.depth=1", "--set", "model.ffn_dim=16",
		"--set", "teacher.top_k=1", "--set", "data.batch_size=4", "--set", "data.limit=16",
		"--set", "run.ckpt_every=2", "--set", "run.progress=false", "--set", "run.var_check_after=1000"}
}

// evalArgs evaluates ckpt on a small slice of the data.
func evalArgs(ckpt, out string) []string {
	return []string{"eval", "--checkpoint", ckpt, "--out", out, "--set", "data.limit=64", "--k", "3"}
}

func TestOlderCheckpoints(t *testing.T) {
	dirs, err := filepath.Glob("testdata/old-checkpoints/*/ckpt-*.safetensors")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, p := range dirs {
		t.Run(filepath.Base(filepath.Dir(p)), func(t *testing.T) {
			rd := filepath.Join(t.TempDir(), "r")
			copyDir(t, filepath.Dir(p), rd)
			if code, _, stderr := run(t, "pretrain", "--resume", rd, "--steps", "4"); code != exitOK {
				t.Fatalf("resume: exit %d: %s", code, stderr)
			}
			f, err := checkpoint.Read(checkpoint.StepPath(rd, 4))
			if err != nil {
				t.Fatal(err)
			}
			if f.Meta["format_version"] != "1" || f.Meta["skipped_nonfinite"] != "0" {
				t.Errorf("resumed checkpoint meta %v", f.Meta)
			}
			if code, stdout, stderr := run(t, evalArgs(p, filepath.Join(t.TempDir(), "ev"))...); code != exitOK || !strings.Contains(stdout, "linear_probe") {
				t.Fatalf("eval: exit %d: %s %s", code, stdout, stderr)
			}
		})
	}
}

// mutate rewrites the checkpoint at path through fn (tensors by name, meta).
func mutate(t *testing.T, path string, fn func(ts map[string]checkpoint.Tensor, meta map[string]string)) {
	t.Helper()
	f, err := checkpoint.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	ts := map[string]checkpoint.Tensor{}
	for n, x := range f.Tensors {
		x.Data = append([]byte(nil), x.Data...)
		ts[n] = x
	}
	fn(ts, f.Meta)
	var list []checkpoint.Tensor
	for _, x := range ts {
		list = append(list, x)
	}
	if err := checkpoint.Write(path, list, f.Meta); err != nil {
		t.Fatal(err)
	}
}

// folderState is every file of a folder with a hash of its bytes.
func folderState(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	st := map[string][32]byte{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		st[e.Name()] = sha256.Sum256(b)
	}
	return st
}

func TestBadCheckpoints(t *testing.T) {
	base := t.TempDir()
	if code, _, stderr := run(t, smallRunArgs(base, 2)...); code != exitOK {
		t.Fatal(stderr)
	}
	good := filepath.Join(base, "r")
	f, err := checkpoint.Read(checkpoint.StepPath(good, 2))
	if err != nil {
		t.Fatal(err)
	}
	const w = "student.blocks.0.ffn.fc1.w"
	sh := f.Tensors[w].Shape
	if len(sh) != 2 {
		t.Fatalf("%s has shape %v", w, sh)
	}
	shape := checkpoint.FormatShape(sh)
	wider := checkpoint.FormatShape([]int{sh[0], sh[1] + 1})
	rewrite := func(fn func(map[string]checkpoint.Tensor, map[string]string)) func(*testing.T, string) {
		return func(t *testing.T, p string) { mutate(t, p, fn) }
	}
	bytesOf := func(fn func([]byte) []byte) func(*testing.T, string) {
		return func(t *testing.T, p string) {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, fn(b), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name       string
		damage     func(*testing.T, string)
		want       []string // all in the one-line message (besides the file name)
		resumeOnly bool     // eval loads weights only
	}{
		{"missing tensor", rewrite(func(ts map[string]checkpoint.Tensor, _ map[string]string) { delete(ts, w) }),
			[]string{`"` + w + `" is missing, model expects shape ` + shape}, false},
		{"wrong shape", rewrite(func(ts map[string]checkpoint.Tensor, _ map[string]string) {
			ts[w] = checkpoint.F32(w, []int{sh[0], sh[1] + 1}, make([]float32, sh[0]*(sh[1]+1)))
		}), []string{`"` + w + `" has shape ` + wider + `, model expects ` + shape}, false},
		{"integer dtype", rewrite(func(ts map[string]checkpoint.Tensor, _ map[string]string) {
			x := ts[w]
			x.DType = checkpoint.DTypeI32
			ts[w] = x
		}), []string{`"` + w + `" is I32 ` + shape + `, model expects F32 ` + shape}, false},
		{"other architecture", rewrite(func(_ map[string]checkpoint.Tensor, meta map[string]string) {
			meta["config"] = regexp.MustCompile(`(?m)^  dim: 8$`).ReplaceAllString(meta["config"], "  dim: 16")
		}), []string{"has shape", "model expects", "(16,"}, false},
		{"newer format", rewrite(func(_ map[string]checkpoint.Tensor, meta map[string]string) { meta["format_version"] = "2" }),
			[]string{`format_version "2"`}, false},
		{"no config", rewrite(func(_ map[string]checkpoint.Tensor, meta map[string]string) { delete(meta, "config") }),
			[]string{"no config"}, false},
		{"config unknown key", rewrite(func(_ map[string]checkpoint.Tensor, meta map[string]string) {
			meta["config"] = strings.Replace(meta["config"], "model:\n", "model:\n  dimm: 3\n", 1)
		}), []string{"model.dimm"}, false},
		{"truncated", bytesOf(func(b []byte) []byte { return b[:len(b)*2/3] }), []string{"truncated file?"}, false},
		{"header cut", bytesOf(func(b []byte) []byte { return b[:20] }), []string{"truncated"}, false},
		{"empty file", bytesOf(func([]byte) []byte { return nil }), []string{"0 bytes"}, false},
		{"not safetensors", bytesOf(func([]byte) []byte { return []byte("model:\n  dim: 8\n") }), []string{"header"}, false},
		{"flipped header byte", bytesOf(func(b []byte) []byte { b[9] ^= 0x55; return b }), []string{"header"}, false},
		{"moment of no parameter", rewrite(func(ts map[string]checkpoint.Tensor, _ map[string]string) {
			ts["optim.m.student.nope"] = checkpoint.F32("optim.m.student.nope", []int{1}, []float32{0})
		}), []string{`"optim.m.student.nope" is optimiser state for no parameter`}, true},
		{"moment of another shape", rewrite(func(ts map[string]checkpoint.Tensor, _ map[string]string) {
			n := "optim.v." + w
			ts[n] = checkpoint.F32(n, []int{1}, []float32{0})
		}), []string{`"optim.v.` + w + `" has shape (1), model expects ` + shape}, true},
		{"moment missing", rewrite(func(ts map[string]checkpoint.Tensor, _ map[string]string) { delete(ts, "optim.m."+w) }),
			[]string{`"optim.m.` + w + `" is missing, model expects shape ` + shape}, true},
		{"bad step", rewrite(func(_ map[string]checkpoint.Tensor, meta map[string]string) { meta["step"] = "two" }),
			[]string{`bad step "two"`}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd := filepath.Join(t.TempDir(), "r")
			copyDir(t, good, rd)
			ckpt := checkpoint.StepPath(rd, 2)
			tt.damage(t, ckpt)
			before := folderState(t, rd)
			check := func(what string, code int, stderr string) {
				t.Helper()
				msg := strings.TrimSpace(stderr)
				if code != exitUsage || strings.Contains(msg, "\n") || !strings.Contains(msg, ckpt) {
					t.Fatalf("%s: exit %d, stderr %q; want exit 2 and one line naming %s", what, code, stderr, ckpt)
				}
				rest := strings.ReplaceAll(msg, ckpt, "FILE") // the temp path holds the test name
				for _, s := range tt.want {
					if !strings.Contains(rest, s) {
						t.Fatalf("%s: %q lacks %q", what, msg, s)
					}
				}
			}
			code, _, stderr := run(t, "pretrain", "--resume", rd)
			check("resume", code, stderr)
			if after := folderState(t, rd); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("the refused resume changed the run folder: %v -> %v", keys(before), keys(after))
			}
			if tt.resumeOnly {
				return
			}
			out := filepath.Join(t.TempDir(), "ev")
			code, _, stderr = run(t, evalArgs(ckpt, out)...)
			check("eval", code, stderr)
			if ents, _ := os.ReadDir(out); len(ents) > 0 {
				t.Errorf("the refused eval wrote %d files into %s", len(ents), out)
			}
		})
	}
}

func keys(m map[string][32]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// TestCorruptLatestCheckpoint: a damaged latest checkpoint is refused with a
// hint naming the previous one; moving the damaged file away resumes from it.
func TestCorruptLatestCheckpoint(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := run(t, append(smallRunArgs(dir, 4), "--stop-after", "4", "--set", "run.steps=6")...); code != exitOK {
		t.Fatal(stderr)
	}
	rd := filepath.Join(dir, "r")
	latest := checkpoint.StepPath(rd, 4)
	b, err := os.ReadFile(latest)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(latest, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, "pretrain", "--resume", rd)
	want := "to resume from the previous checkpoint ckpt-00000002.safetensors, move ckpt-00000004.safetensors out of " + rd
	if code != exitUsage || !strings.Contains(stderr, want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
		t.Fatalf("exit %d, stderr %q; want exit 2 and %q", code, stderr, want)
	}
	if err := os.Rename(latest, filepath.Join(dir, "damaged.safetensors")); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, "pretrain", "--resume", rd); code != exitOK {
		t.Fatalf("resume from the previous checkpoint: exit %d: %s", code, stderr)
	}
	if _, err := checkpoint.Read(checkpoint.StepPath(rd, 6)); err != nil {
		t.Fatal(err)
	}
}
