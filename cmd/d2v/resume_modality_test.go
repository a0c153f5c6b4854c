package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/d2v/d2v/pkg/checkpoint"
)

// TestResumeIsExactPerModality: for text and audio as for images
// (TestResumeIsExact), a run stopped half-way and resumed ends bit-identical
// to an uninterrupted one (every tensor including the AdamW moments, and the
// metrics), and a second uninterrupted run is byte-identical (determinism):
// batches, masks, BERT corruption and audio crops are pure functions of
// (seed, step, sample).
func TestResumeIsExactPerModality(t *testing.T) {
	small := []string{"--set", "model.dim=32", "--set", "model.ffn_dim=64", "--set", "model.depth=2", "--set", "teacher.top_k=2",
		"--set", "data.batch_size=4", "--set", "data.limit=32", "--set", "run.log_every=1", "--set", "run.progress=false",
		"--set", "run.ckpt_every=4", "--set", "run.var_check_after=1000"}
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"text-span", []string{"-c", "../../configs/text-tiny.yaml", "--set", "modalities.text.seq_len=32"}},
		{"text-bert", []string{"-c", "../../configs/text-tiny.yaml", "--set", "modalities.text.seq_len=32", "--set", "masking.kind=bert", "--set", "masking.ratio=0.15"}},
		{"audio", []string{"-c", "../../configs/audio-tiny.yaml", "--set", "modalities.audio.conv_dim=16", "--set", "modalities.audio.pos_conv_groups=4"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			pre := func(name string, extra ...string) {
				t.Helper()
				args := append(append(append([]string{"pretrain"}, tt.args...), small...), "--set", "run.dir="+dir, "--name", name, "--steps", "8")
				if code, _, stderr := run(t, append(args, extra...)...); code != exitOK {
					t.Fatalf("%s: exit %d: %s", name, code, stderr)
				}
			}
			pre("full")
			pre("again")
			pre("half", "--stop-after", "4")
			if code, _, stderr := run(t, "pretrain", "--resume", filepath.Join(dir, "half")); code != exitOK {
				t.Fatalf("resume: exit %d: %s", code, stderr)
			}
			ref := readCkpt(t, filepath.Join(dir, "full"))
			for _, other := range []string{"again", "half"} {
				got := readCkpt(t, filepath.Join(dir, other))
				if len(got.Tensors) != len(ref.Tensors) {
					t.Fatalf("%s: %d tensors, uninterrupted run %d", other, len(got.Tensors), len(ref.Tensors))
				}
				for name, want := range ref.Tensors {
					if !bytes.Equal(got.Tensors[name].Data, want.Data) {
						t.Errorf("%s: tensor %s differs from the uninterrupted run", other, name)
					}
				}
				a, b := readMetrics(t, filepath.Join(dir, "full", "metrics.jsonl")), readMetrics(t, filepath.Join(dir, other, "metrics.jsonl"))
				if len(a) != len(b) || len(a) != 8 {
					t.Fatalf("%s: %d metrics lines, uninterrupted run %d, want 8", other, len(b), len(a))
				}
				for i := range a {
					delete(a[i], "step_ms")
					delete(b[i], "step_ms")
					if fmt.Sprint(a[i]) != fmt.Sprint(b[i]) {
						t.Errorf("%s: metrics line %d: %v, uninterrupted run %v", other, i+1, b[i], a[i])
					}
				}
			}
		})
	}
}

func readCkpt(t *testing.T, rd string) *checkpoint.File {
	t.Helper()
	f, err := checkpoint.Read(checkpoint.StepPath(rd, 8))
	if err != nil {
		t.Fatal(err)
	}
	return f
}
