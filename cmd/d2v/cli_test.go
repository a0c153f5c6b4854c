package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/d2v/d2v/pkg/checkpoint"
	"github.com/d2v/d2v/pkg/data"
	"github.com/d2v/d2v/pkg/downstream"
	"github.com/d2v/d2v/pkg/feed"
	"github.com/d2v/d2v/pkg/train"
)

// run invokes the CLI in-process and returns its exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

// wantUsageError runs the CLI and requires exit 2 with a one-line error
// containing want.
func wantUsageError(t *testing.T, args []string, want string) {
	t.Helper()
	code, _, stderr := run(t, args...)
	if code != exitUsage {
		t.Fatalf("exit %d, want %d; stderr: %s", code, exitUsage, stderr)
	}
	if !strings.Contains(stderr, want) {
		t.Fatalf("stderr %q lacks %q", stderr, want)
	}
	if n := strings.Count(strings.TrimSpace(stderr), "\n"); n != 0 {
		t.Fatalf("want a one-line error, got %d lines: %q", n+1, stderr)
	}
}

func tiny(dir string, extra ...string) []string {
	return append([]string{"-c", "../../configs/tiny.yaml", "--set", "run.dir=" + dir}, extra...)
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown key", []string{"pretrain", "--set", "model.dims=3"}, `d2v: config: unknown key "model.dims" (did you mean "model.dim"?)`},
		{"bad enum", []string{"pretrain", "--set", "teacher.layer_norm=batch"}, `teacher.layer_norm: must be one of layer|instance|none, got "batch"`},
		{"top_k > depth", []string{"pretrain", "--set", "teacher.top_k=9"}, "teacher.top_k"},
		{"wrong type", []string{"pretrain", "--set", "model.dim=abc"}, `model.dim`},
		{"unknown flag", []string{"pretrain", "--nope"}, "unknown flag: --nope"},
		{"missing config file", []string{"pretrain", "-c", "does-not-exist.yaml"}, "does-not-exist.yaml"},
		{"eval needs weights", []string{"eval"}, "give exactly one of --checkpoint or --random-init"},
		{"corrupt checkpoint", []string{"eval", "--checkpoint", "cli_test.go"}, "cli_test.go"},
		{"missing idx data", []string{"pretrain", "--set", "data.source=idx", "--set", "data.path=/nonexistent"}, "/nonexistent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantUsageError(t, append(tt.args, "--set", "run.dir="+t.TempDir()), tt.want) })
	}
}

func readMetrics(t *testing.T, path string) []map[string]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]float64
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("metrics line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// TestPretrainEvalFinetune is the smoke test: a tiny pretraining run writes
// its run folder, its loss goes down, and eval and finetune read its checkpoint.
func TestPretrainEvalFinetune(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := run(t, append([]string{"pretrain"}, tiny(dir, "--name", "r", "--steps", "40")...)...)
	if code != exitOK {
		t.Fatalf("pretrain exit %d: %s", code, stderr)
	}
	rd := filepath.Join(dir, "r")
	for _, f := range []string{"config.yaml", "metrics.jsonl", "curves.png", "ckpt-00000040.safetensors"} {
		if _, err := os.Stat(filepath.Join(rd, f)); err != nil {
			t.Errorf("run folder lacks %s", f)
		}
	}
	ms := readMetrics(t, filepath.Join(rd, "metrics.jsonl"))
	if len(ms) != 20 {
		t.Fatalf("want 20 metric lines (log_every 2), got %d", len(ms))
	}
	for _, k := range []string{"step", "loss", "lr", "ema_decay", "target_var", "pred_var", "grad_norm", "step_ms"} {
		if _, ok := ms[0][k]; !ok {
			t.Errorf("metrics lack %q", k)
		}
	}
	first := (ms[0]["loss"] + ms[1]["loss"] + ms[2]["loss"]) / 3
	last := (ms[17]["loss"] + ms[18]["loss"] + ms[19]["loss"]) / 3
	if !(last < first) {
		t.Errorf("loss did not go down: first steps %.4f, last steps %.4f", first, last)
	}
	f, err := checkpoint.Read(filepath.Join(rd, "ckpt-00000040.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"student.patch.w", "teacher.blocks.1.ffn.fc2.w", "head.fc1.w", "optim.m.student.mask_emb"} {
		if _, ok := f.Tensors[k]; !ok {
			t.Errorf("checkpoint lacks %s", k)
		}
	}
	if f.Meta["step"] != "40" || !strings.Contains(f.Meta["config"], "dim: 32") {
		t.Errorf("checkpoint metadata: step %q, config %q", f.Meta["step"], f.Meta["config"])
	}
	out := filepath.Join(dir, "eval")
	code, stdout, stderr := run(t, "eval", "--checkpoint", rd, "--out", out, "--set", "data.limit=256")
	if code != exitOK {
		t.Fatalf("eval exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "linear_probe") || !strings.Contains(stdout, "knn_k20") {
		t.Errorf("eval table: %s", stdout)
	}
	checkEvalRows(t, filepath.Join(out, "eval.json"), "encoder", "random_init", "raw")
	for _, f := range []string{"eval.json", "confusion_linear_probe.png", "masks.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("eval output lacks %s", f)
		}
	}
	ft := filepath.Join(dir, "ft")
	code, stdout, stderr = run(t, "finetune", "--checkpoint", rd, "--out", ft, "--set", "finetune.steps=10")
	if code != exitOK {
		t.Fatalf("finetune exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "test accuracy") {
		t.Errorf("finetune output: %s", stdout)
	}
	if _, err := checkpoint.Read(filepath.Join(ft, "finetune.safetensors")); err != nil {
		t.Error(err)
	}
	// --val trains on train minus its last sixth of each class and measures on that sixth
	ftVal := filepath.Join(dir, "ft-val")
	code, stdout, stderr = run(t, "finetune", "--checkpoint", rd, "--out", ftVal, "--val", "--set", "finetune.steps=10")
	if code != exitOK || !strings.Contains(stdout, "validation accuracy") {
		t.Fatalf("finetune --val exit %d: %s %s", code, stdout, stderr)
	}
	var reps [2]downstream.FinetuneReport
	for i, d := range []string{ft, ftVal} {
		b, err := os.ReadFile(filepath.Join(d, "finetune.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &reps[i]); err != nil {
			t.Fatal(err)
		}
	}
	if reps[0].Measured != "test" || reps[1].Measured != "validation" {
		t.Errorf("measured_on %q and %q, want test and validation", reps[0].Measured, reps[1].Measured)
	}
	if n := reps[0].TrainN; reps[1].TrainN+reps[1].TestN != n || reps[1].TestN < n/7 || reps[1].TestN > n/5 {
		t.Errorf("--val split %d + %d of %d train examples, want about a sixth held out", reps[1].TrainN, reps[1].TestN, n)
	}
}

// TestResumeIsExact: 20 steps straight equal 10 steps + resume to 20, bit for
// bit: weights, teacher, AdamW moments and metrics.
func TestResumeIsExact(t *testing.T) {
	dir := t.TempDir()
	if code, _, e := run(t, append([]string{"pretrain"}, tiny(dir, "--name", "full")...)...); code != 0 {
		t.Fatal(e)
	}
	if code, _, e := run(t, append([]string{"pretrain"}, tiny(dir, "--name", "half", "--stop-after", "10")...)...); code != 0 {
		t.Fatal(e)
	}
	half := filepath.Join(dir, "half")
	if code, _, e := run(t, "pretrain", "--resume", half); code != 0 {
		t.Fatal(e)
	}
	a, err := checkpoint.Read(filepath.Join(dir, "full", "ckpt-00000020.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := checkpoint.Read(filepath.Join(half, "ckpt-00000020.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Tensors) != len(b.Tensors) {
		t.Fatalf("%d vs %d tensors", len(a.Tensors), len(b.Tensors))
	}
	for name, ta := range a.Tensors {
		if !bytes.Equal(ta.Data, b.Tensors[name].Data) {
			t.Errorf("%s differs after resume", name)
		}
	}
	ma, mb := readMetrics(t, filepath.Join(dir, "full", "metrics.jsonl")), readMetrics(t, filepath.Join(half, "metrics.jsonl"))
	if len(ma) != len(mb) {
		t.Fatalf("metrics: %d vs %d lines", len(ma), len(mb))
	}
	for i := range ma {
		if ma[i]["loss"] != mb[i]["loss"] || ma[i]["target_var"] != mb[i]["target_var"] {
			t.Errorf("metrics line %d differs: %v vs %v", i, ma[i], mb[i])
		}
	}
	// architecture keys cannot change on resume
	code, _, stderr := run(t, "pretrain", "--resume", half, "--set", "model.dim=64")
	if code != exitUsage || !strings.Contains(stderr, "model cannot change on resume") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestDivergenceExits3(t *testing.T) {
	tests := []struct {
		name string
		sets []string
		want string
	}{
		{"collapse", []string{"run.min_target_var=100", "run.var_check_after=1"}, "target_var"},
		{"nan", []string{"optim.lr=1e30", "optim.clip=0", "optim.warmup_steps=0"}, "diverged"},
		// opt-in skipping: the NaN steps are passed over until the allowance is spent
		{"nan-skip", []string{"optim.lr=1e30", "optim.clip=0", "optim.warmup_steps=0", "run.skip_nonfinite=2"}, "3 non-finite steps, run.skip_nonfinite=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"pretrain"}, tiny(dir, "--name", "x")...)
			for _, s := range tt.sets {
				args = append(args, "--set", s)
			}
			code, _, stderr := run(t, args...)
			if code != exitDiverged || !strings.Contains(stderr, tt.want) || !strings.Contains(stderr, "step") {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
		})
	}
}

func TestBenchPrintsJSON(t *testing.T) {
	code, stdout, stderr := run(t, "bench", "-c", "../../configs/bench-s.yaml", "--steps", "2", "--warmup", "1",
		"--set", "model.dim=32", "--set", "model.ffn_dim=64")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("not one JSON line: %q", stdout)
	}
	if ms, _ := res["median_step_ms"].(float64); ms <= 0 {
		t.Fatalf("median_step_ms %v", res["median_step_ms"])
	}
	if steps, _ := res["steps_ms"].([]any); len(steps) != 2 {
		t.Fatalf("steps_ms %v", res["steps_ms"])
	}
}

// TestConfigReferenceDoc keeps docs/CONFIG.md's table equal to `d2v config keys`.
func TestConfigReferenceDoc(t *testing.T) {
	ref, err := os.ReadFile("../../docs/CONFIG.md")
	if err != nil {
		t.Fatal(err)
	}
	_, doc, _ := run(t, "config", "keys")
	if !strings.Contains(string(ref), doc) {
		t.Fatal("docs/CONFIG.md's config reference differs from `d2v config keys`: paste its output into docs/CONFIG.md")
	}
}

// TestTokenize: `d2v tokenize` reproduces the reference ids of the GPT-2
// fixture (written by the npm package gpt-3-encoder) line by line.
func TestTokenize(t *testing.T) {
	dir := "../../pkg/tokenizer/testdata/gpt2"
	lines, err := os.ReadFile(filepath.Join(dir, "lines.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(dir, "ids.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	root := newRoot(&out, &errb)
	root.SetIn(bytes.NewReader(lines))
	root.SetArgs([]string{"tokenize", "--vocab", filepath.Join(dir, "encoder.json"), "--merges", filepath.Join(dir, "vocab.bpe")})
	if err := root.Execute(); err != nil {
		t.Fatalf("%v: %s", err, errb.String())
	}
	if out.String() != string(want) {
		t.Fatal("token ids differ from the gpt-3-encoder fixture")
	}
	code, _, stderr := run(t, "tokenize", "--vocab", "missing.json", "--merges", "x")
	if code != exitUsage || !strings.Contains(stderr, "missing.json") {
		t.Fatalf("exit %d, %q", code, stderr)
	}
	root = newRoot(&out, &errb)
	out.Reset()
	root.SetIn(strings.NewReader("hi\n"))
	root.SetArgs([]string{"tokenize", "--tokenizer", "bytes"})
	if err := root.Execute(); err != nil || out.String() != "104 105\n" {
		t.Fatalf("bytes: %q, %v", out.String(), err)
	}
}

// TestTextPretrainEvalFinetune: the text path end to end at toy sizes: the
// embedded Opticks with the byte tokenizer, then eval and fine-tuning on the
// WordNet fixture (real format, a few glosses).
func TestTextPretrainEvalFinetune(t *testing.T) {
	defer func(o data.WordNetOptions) { feed.WordNetTask = o }(feed.WordNetTask)
	feed.WordNetTask = data.WordNetOptions{POS: []string{"noun", "verb"}, MinPerClass: 1}
	dir := t.TempDir()
	small := []string{"-c", "../../configs/text-tiny.yaml", "--set", "run.dir=" + dir, "--set", "model.dim=32",
		"--set", "model.ffn_dim=64", "--set", "model.depth=2", "--set", "teacher.top_k=2", "--set", "modalities.text.seq_len=32",
		"--set", "data.batch_size=4", "--set", "data.limit=64", "--set", "run.log_every=2", "--set", "run.progress=false"}
	code, _, stderr := run(t, append(append([]string{"pretrain"}, small...), "--name", "txt", "--steps", "12")...)
	if code != exitOK {
		t.Fatalf("text pretrain exit %d: %s", code, stderr)
	}
	rd := filepath.Join(dir, "txt")
	f, err := checkpoint.Read(filepath.Join(rd, "ckpt-00000012.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Tensors["student.embed_ln.g"]; !ok {
		t.Error("text checkpoint lacks the embedding LayerNorm")
	}
	if _, ok := f.Tensors["teacher.embed.w"]; ok {
		t.Error("teacher.scope blocks: the teacher must share the student's embeddings")
	}
	task := "--set=data.task_path=../../pkg/data/testdata/wordnet"
	code, stdout, stderr := run(t, "eval", "--checkpoint", rd, task, "--out", filepath.Join(dir, "ev"), "--k", "3")
	if code != exitOK || !strings.Contains(stdout, "linear_probe") {
		t.Fatalf("text eval exit %d: %s %s", code, stdout, stderr)
	}
	checkEvalRows(t, filepath.Join(dir, "ev", "eval.json"), "encoder", "random_init", "raw")
	code, stdout, stderr = run(t, "finetune", "--checkpoint", rd, task, "--out", filepath.Join(dir, "ft"),
		"--set", "finetune.steps=3", "--set", "finetune.batch_size=2")
	if code != exitOK || !strings.Contains(stdout, "test accuracy") {
		t.Fatalf("text finetune exit %d: %s %s", code, stdout, stderr)
	}
	// bad input: a missing vocabulary file, a sequence too short for <s> x </s>
	for _, tt := range []struct{ set, want string }{
		{"modalities.text.tokenizer=bpe", "modalities.text.vocab_file"},
		{"modalities.text.seq_len=2", "modalities.text.seq_len"},
	} {
		code, _, stderr := run(t, append(append([]string{"pretrain"}, small...), "--set", tt.set)...)
		if code != exitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("--set %s: exit %d, %q", tt.set, code, stderr)
		}
	}
	code, _, stderr = run(t, append(append([]string{"pretrain"}, small...), "--set", "modalities.text.tokenizer=bpe",
		"--set", "modalities.text.vocab_file=nope.json", "--set", "modalities.text.merges_file=nope.txt")...)
	if code != exitUsage || !strings.Contains(stderr, "nope.json") {
		t.Errorf("missing vocab: exit %d, %q", code, stderr)
	}
}

// TestDeterminism: the same config and seed give byte-identical checkpoints
// and identical metrics (step_ms aside) across two runs.
func TestDeterminism(t *testing.T) {
	dir := t.TempDir()
	var ckpts [2][]byte
	var metrics [2][]map[string]float64
	for i := range 2 {
		if code, _, e := run(t, append([]string{"pretrain"}, tiny(dir, "--name", "same")...)...); code != 0 {
			t.Fatal(e)
		}
		rd := filepath.Join(dir, "same")
		b, err := os.ReadFile(filepath.Join(rd, "ckpt-00000020.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		ckpts[i], metrics[i] = b, readMetrics(t, filepath.Join(rd, "metrics.jsonl"))
		if err := os.Rename(rd, filepath.Join(dir, fmt.Sprint("run", i))); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(ckpts[0], ckpts[1]) {
		t.Fatal("two runs with the same config and seed wrote different checkpoints")
	}
	for i := range metrics[0] {
		delete(metrics[0][i], "step_ms")
		delete(metrics[1][i], "step_ms")
		if fmt.Sprint(metrics[0][i]) != fmt.Sprint(metrics[1][i]) {
			t.Fatalf("metrics line %d differs: %v vs %v", i, metrics[0][i], metrics[1][i])
		}
	}
}

// checkEvalRows asserts that eval.json has exactly these rows, in order,
// each with both accuracies, under the one stated protocol.
func checkEvalRows(t *testing.T, path string, want ...string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Protocol string
		Rows     []struct {
			Features string
			Dim      int
			Probe    *struct{ Accuracy float64 } `json:"linear_probe"`
			KNN      *struct{ Accuracy float64 } `json:"knn"`
		}
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Protocol == "" || len(rep.Rows) != len(want) {
		t.Fatalf("%s: protocol %q, %d rows, want %d", path, rep.Protocol, len(rep.Rows), len(want))
	}
	for i, r := range rep.Rows {
		if r.Features != want[i] || r.Dim <= 0 || r.Probe == nil || r.KNN == nil {
			t.Errorf("%s row %d: %+v, want %q with both results", path, i, r, want[i])
		}
	}
}

// A signal ends `d2v eval` at once (it has nothing to save), with the
// interrupted error and no eval.json, instead of running its probe to the end.
func TestEvalStopsOnSignal(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ev")
	var stdout, stderr bytes.Buffer
	root := newRoot(&stdout, &stderr)
	root.SetArgs([]string{"eval", "--random-init", "-c", "../../configs/tiny.yaml", "--out", out})
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // as Main does on SIGINT/SIGTERM
	err := root.ExecuteContext(ctx)
	if !errors.Is(err, train.ErrInterrupted) || exitCode(err, false) != exitInterrupted {
		t.Fatalf("eval with a cancelled context: %v (exit %d)", err, exitCode(err, false))
	}
	if _, err := os.Stat(filepath.Join(out, "eval.json")); err == nil {
		t.Error("an interrupted eval wrote eval.json")
	}
}
