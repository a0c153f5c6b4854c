package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/d2v/d2v/pkg/checkpoint"
)

// TestV2PretrainEvalFinetune: `d2v pretrain -c configs/<modality>-v2-tiny.yaml`
// (shrunk) runs data2vec 2.0 for images, speech and text; the checkpoints
// hold the decoder but no student mask embedding; eval and finetune take
// them unchanged; the image loss goes down.
func TestV2PretrainEvalFinetune(t *testing.T) {
	dir := t.TempDir()
	common := []string{"--set", "run.dir=" + dir, "--set", "model.dim=32", "--set", "model.ffn_dim=64",
		"--set", "model.depth=2", "--set", "teacher.top_k=2", "--set", "decoder.dim=32", "--set", "decoder.layers=2",
		"--set", "data.batch_size=4", "--set", "data.limit=32", "--set", "run.log_every=1", "--set", "run.progress=false",
		"--set", "clones.count=3"}
	for _, c := range []struct {
		modality string
		steps    string
		extra    []string
	}{
		{"image", "12", []string{"--set", "optim.warmup_steps=2"}},
		{"audio", "4", []string{"--set", "modalities.audio.conv_dim=16", "--set", "modalities.audio.pos_conv_groups=4"}},
		{"text", "4", []string{"--set", "modalities.text.seq_len=32", "--set", "decoder.kernel=3"}},
	} {
		args := append(append([]string{"pretrain", "-c", "../../configs/" + c.modality + "-v2-tiny.yaml"}, common...), c.extra...)
		code, _, stderr := run(t, append(args, "--name", c.modality, "--steps", c.steps)...)
		if code != exitOK {
			t.Fatalf("%s: data2vec 2.0 pretrain exit %d: %s", c.modality, code, stderr)
		}
		if !strings.Contains(stderr, "data2vec 2.0: ") || !strings.Contains(stderr, "3 clones") {
			t.Errorf("%s: the header should describe the data2vec 2.0 step: %s", c.modality, stderr)
		}
		rd := filepath.Join(dir, c.modality)
		ck, err := checkpoint.Latest(rd)
		if err != nil {
			t.Fatal(err)
		}
		f, err := checkpoint.Read(ck)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"decoder.mask_emb", "decoder.conv.0.w", "decoder.proj.0.w", "optim.m.decoder.conv.1.b"} {
			if _, ok := f.Tensors[n]; !ok {
				t.Errorf("%s: checkpoint lacks %s", c.modality, n)
			}
		}
		for _, n := range []string{"student.mask_emb", "head.fc1.w", "teacher.decoder.mask_emb"} {
			if _, ok := f.Tensors[n]; ok {
				t.Errorf("%s: a data2vec 2.0 checkpoint has %s", c.modality, n)
			}
		}
		if _, ok := f.Tensors["student.cls"]; ok != (c.modality == "image") {
			t.Errorf("%s: student.cls present = %v, the config's clones.cls says %v", c.modality, ok, c.modality == "image")
		}
		if c.modality == "text" { // eval needs the WordNet task (TestTextPretrainEvalFinetune covers it)
			continue
		}
		code, stdout, stderr := run(t, "eval", "--checkpoint", rd, "--out", filepath.Join(dir, c.modality+"-ev"), "--k", "3", "--baselines=false")
		if code != exitOK || !strings.Contains(stdout, "linear_probe") {
			t.Fatalf("%s: eval of a data2vec 2.0 checkpoint: exit %d: %s %s", c.modality, code, stdout, stderr)
		}
	}
	// resume is exact: 6 steps, stop, resume to 12 gives the same bits as 12 at once
	imgArgs := append(append([]string{"pretrain", "-c", "../../configs/image-v2-tiny.yaml"}, common...), "--set", "optim.warmup_steps=2")
	if code, _, stderr := run(t, append(imgArgs, "--name", "half", "--steps", "12", "--stop-after", "6")...); code != exitOK {
		t.Fatalf("data2vec 2.0 pretrain --stop-after: exit %d: %s", code, stderr)
	}
	if code, _, stderr := run(t, "pretrain", "--resume", filepath.Join(dir, "half")); code != exitOK {
		t.Fatalf("data2vec 2.0 --resume: exit %d: %s", code, stderr)
	}
	a, err := checkpoint.Read(filepath.Join(dir, "image", "ckpt-00000012.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := checkpoint.Read(filepath.Join(dir, "half", "ckpt-00000012.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Tensors) != len(b.Tensors) {
		t.Fatalf("resumed checkpoint: %d tensors, straight run %d", len(b.Tensors), len(a.Tensors))
	}
	for name, ta := range a.Tensors {
		if !bytes.Equal(ta.Data, b.Tensors[name].Data) {
			t.Errorf("%s differs after a data2vec 2.0 resume", name)
		}
	}
	losses := readLosses(t, filepath.Join(dir, "image", "metrics.jsonl"))
	if len(losses) != 12 || !(losses[len(losses)-1] < losses[0]) {
		t.Errorf("image loss did not go down over 12 steps: %v", losses)
	}
	code, stdout, stderr := run(t, "finetune", "--checkpoint", filepath.Join(dir, "image"), "--out", filepath.Join(dir, "ft"),
		"--set", "finetune.steps=2", "--set", "finetune.batch_size=8", "--set", "finetune.limit=32")
	if code != exitOK || !strings.Contains(stdout, "test accuracy") {
		t.Fatalf("finetune of a data2vec 2.0 checkpoint: exit %d: %s %s", code, stdout, stderr)
	}
}

func readLosses(t *testing.T, path string) []float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m struct {
			Loss float64 `json:"loss"`
		}
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m.Loss)
	}
	return out
}
