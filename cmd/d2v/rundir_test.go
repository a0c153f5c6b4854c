package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestFreshRunRefusesUsedFolder: a new run named like an existing one with
// checkpoints is refused (exit 2, one line saying how to resume) and the old
// run folder is left as it was. Before, the new run wrote its checkpoints
// beside the old ones and `--resume` silently continued the old run.
func TestFreshRunRefusesUsedFolder(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := run(t, smallRunArgs(dir, 2)...); code != exitOK {
		t.Fatal(stderr)
	}
	rd := filepath.Join(dir, "r")
	before := folderState(t, rd)
	code, _, stderr := run(t, append(smallRunArgs(dir, 4), "--set", "model.dim=16")...)
	want := "run folder " + rd + " already holds checkpoints (latest ckpt-00000002.safetensors): continue that run with d2v pretrain --resume " + rd
	if code != exitUsage || !strings.Contains(stderr, want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
		t.Fatalf("exit %d, stderr %q; want exit 2 and %q", code, stderr, want)
	}
	if after := folderState(t, rd); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the refused run changed the old run folder: %v -> %v", keys(before), keys(after))
	}
}

// TestResumeWithFewerSteps: --resume with run.steps below the checkpoint's
// step is refused instead of reporting "done" over a longer run.
func TestResumeWithFewerSteps(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := run(t, smallRunArgs(dir, 4)...); code != exitOK {
		t.Fatal(stderr)
	}
	rd := filepath.Join(dir, "r")
	before := folderState(t, rd)
	code, _, stderr := run(t, "pretrain", "--resume", rd, "--steps", "2")
	want := "run.steps 2 is below the step of checkpoint ckpt-00000004.safetensors (4); give at least 4"
	if code != exitUsage || !strings.Contains(stderr, want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
		t.Fatalf("exit %d, stderr %q; want exit 2 and %q", code, stderr, want)
	}
	if after := folderState(t, rd); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the refused resume changed the run folder")
	}
	if code, _, stderr := run(t, "pretrain", "--resume", rd, "--steps", "4"); code != exitOK {
		t.Fatalf("resume with nothing left to do: exit %d: %s", code, stderr)
	}
}
