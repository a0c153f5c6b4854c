package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/d2v/d2v/pkg/checkpoint"
)

// TestDivergenceKeepsLastCheckpoint: a run that diverges (NaN/Inf loss or
// gradients) or collapses after a checkpoint exits 3 naming the step and the
// values, and leaves that checkpoint byte-identical and still the latest.
// The run is resumed from step 10 with settings that break it (optim.* and
// run.* may change on resume).
func TestDivergenceKeepsLastCheckpoint(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := run(t, append([]string{"pretrain"}, tiny(dir, "--name", "g", "--stop-after", "10")...)...); code != exitOK {
		t.Fatalf("first segment: exit %d: %s", code, stderr)
	}
	good := filepath.Join(dir, "g")
	for _, tt := range []struct {
		name string
		sets []string
		want []string
	}{
		{"nan", []string{"optim.lr=1e30", "optim.clip=0"}, []string{"diverged at step 1", "loss", "grad norm"}},
		{"collapse", []string{"run.min_target_var=100", "run.var_check_after=1"}, []string{"diverged at step 11", "target_var", "run.min_target_var 100"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rd := filepath.Join(t.TempDir(), "g")
			copyDir(t, good, rd)
			before, err := os.ReadFile(checkpoint.StepPath(rd, 10))
			if err != nil {
				t.Fatal(err)
			}
			args := []string{"pretrain", "--resume", rd}
			for _, s := range tt.sets {
				args = append(args, "--set", s)
			}
			code, _, stderr := run(t, args...)
			msg := strings.TrimSpace(stderr[strings.LastIndex(strings.TrimSpace(stderr), "\n")+1:])
			if code != exitDiverged {
				t.Fatalf("exit %d, want %d: %s", code, exitDiverged, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
			after, err := os.ReadFile(checkpoint.StepPath(rd, 10))
			if err != nil || !bytes.Equal(before, after) {
				t.Fatalf("the last good checkpoint changed: %v", err)
			}
			if latest, err := checkpoint.Latest(rd); err != nil || latest != checkpoint.StepPath(rd, 10) {
				t.Errorf("Latest = %q, %v; want the step-10 checkpoint", latest, err)
			}
		})
	}
}
