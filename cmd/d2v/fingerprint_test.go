package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResumeRefusesChangedData: a run stopped after 2 of 4 steps resumes
// only on the data it started with; after the corpus changes, --resume is
// a one-line error (exit 2) naming the run and the checkpoint, and the
// run folder is left as it was.
func TestResumeRefusesChangedData(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus.txt")
	text := strings.Repeat("A small corpus of plain text, repeated so that it packs into a few sequences.\n\n", 40)
	if err := os.WriteFile(corpus, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"pretrain", "-c", "../../configs/text-tiny.yaml", "--set", "run.dir=" + dir, "--name", "fp",
		"--set", "data.source=text", "--set", "data.path=" + corpus, "--set", "model.dim=32", "--set", "model.ffn_dim=64",
		"--set", "model.depth=2", "--set", "teacher.top_k=2", "--set", "modalities.text.seq_len=32",
		"--set", "data.batch_size=4", "--set", "run.progress=false", "--steps", "4"}
	if code, _, stderr := run(t, append(args, "--stop-after", "2")...); code != exitOK {
		t.Fatalf("first half: exit %d: %s", code, stderr)
	}
	rd := filepath.Join(dir, "fp")
	before, err := os.ReadDir(rd)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(corpus, []byte(strings.ToUpper(text)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, "pretrain", "--resume", rd, "--set", "run.progress=false")
	if code != exitUsage || !strings.Contains(stderr, "training data changed") || !strings.Contains(stderr, "ckpt-00000002") ||
		strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
		t.Fatalf("resume on changed data: exit %d, %q; want exit 2 and one line naming the checkpoint", code, stderr)
	}
	after, _ := os.ReadDir(rd)
	if len(after) != len(before) {
		t.Errorf("the run folder changed: %d entries before, %d after", len(before), len(after))
	}
	if err := os.WriteFile(corpus, []byte(text), 0o644); err != nil { // the original data resumes
		t.Fatal(err)
	}
	if code, _, stderr := run(t, "pretrain", "--resume", rd, "--set", "run.progress=false"); code != exitOK {
		t.Fatalf("resume on the original data: exit %d: %s", code, stderr)
	}
}
