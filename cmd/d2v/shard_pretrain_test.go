package main

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/d2v/d2v/pkg/checkpoint"
	"github.com/d2v/d2v/pkg/data"
	"github.com/d2v/d2v/pkg/shard"
)

// embeddedShards writes the first n embedded MNIST training images, each
// pixel transformed by px, as PNG shards of per examples.
func embeddedShards(t *testing.T, dir string, n, per int, px func(uint8) uint8) {
	t.Helper()
	set, err := data.Embedded("train")
	if err != nil {
		t.Fatal(err)
	}
	w, err := shard.NewWriter(dir, per, shard.KindImage, set.Classes, "embedded MNIST")
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewGray(image.Rect(0, 0, set.W, set.H))
	for i := range n {
		for p, x := range set.Image(i) {
			img.Pix[p] = px(uint8(x*255 + 0.5))
		}
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		if err := w.Add("png", b.Bytes(), set.Labels[i]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestShardPretrainResumeIsExact: pretraining streamed from shards (100
// images in shards of 24, batch 16, shuffle window 40, random resized crops
// and flips) resumed at step 10, inside the third shard of the epoch's
// order, ends bit for bit where 20 straight steps end; the data
// fingerprint refuses shards that changed since.
func TestShardPretrainResumeIsExact(t *testing.T) {
	dir := t.TempDir()
	shards := filepath.Join(dir, "shards")
	embeddedShards(t, shards, 100, 24, func(v uint8) uint8 { return v })
	args := func(name string, extra ...string) []string {
		return append([]string{"pretrain", "-c", "../../configs/tiny.yaml", "--set", "run.dir=" + dir, "--name", name,
			"--set", "data.source=shards", "--set", "data.path=" + shards, "--set", "data.limit=0",
			"--set", "data.shuffle_window=40", "--set", "modalities.image.augment.crop=true",
			"--set", "modalities.image.augment.flip=true"}, extra...)
	}
	code, _, stderr := run(t, args("full")...)
	if code != 0 {
		t.Fatal(stderr)
	}
	if !strings.Contains(stderr, "100 image examples in 5 shards, 10 classes") || !strings.Contains(stderr, "streamed (shuffle window 40)") {
		t.Errorf("header does not name the shards: %q", stderr)
	}
	if code, _, e := run(t, args("half", "--stop-after", "10")...); code != 0 {
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
	for name, ta := range a.Tensors {
		if !bytes.Equal(ta.Data, b.Tensors[name].Data) {
			t.Errorf("%s differs after resume", name)
		}
	}
	// evaluation loads labelled data in memory: it refuses the shards with a
	// hint, and runs on the original data
	wantUsageError(t, []string{"eval", "--checkpoint", filepath.Join(dir, "full"), "--baselines=false"},
		"evaluation and fine-tuning load labelled data in memory, not shards")
	if code, _, e := run(t, "eval", "--checkpoint", filepath.Join(dir, "full"), "--baselines=false",
		"--set", "data.source=embedded", "--set", "data.path="); code != 0 {
		t.Errorf("eval on the embedded data: exit %d: %s", code, e)
	}
	// other shards at the same path: the data fingerprint refuses them
	if code, _, e := run(t, args("changed", "--stop-after", "2")...); code != 0 {
		t.Fatal(e)
	}
	if err := os.Rename(shards, shards+".orig"); err != nil {
		t.Fatal(err)
	}
	embeddedShards(t, shards, 100, 24, func(v uint8) uint8 { return 255 - v })
	wantUsageError(t, []string{"pretrain", "--resume", filepath.Join(dir, "changed")}, "the training data changed since")
	os.RemoveAll(shards)
	if err := os.Rename(shards+".orig", shards); err != nil {
		t.Fatal(err)
	}
	// a folder source whose path holds a manifest streams the same way
	code, _, stderr = run(t, "pretrain", "-c", "../../configs/tiny.yaml", "--set", "run.dir="+dir, "--name", "auto",
		"--set", "data.source=folder", "--set", "data.path="+shards, "--set", "data.limit=0", "--steps", "2")
	if code != 0 || !strings.Contains(stderr, "streamed (shuffle window") {
		t.Errorf("folder source on a shard folder: exit %d, %q", code, stderr)
	}
	wantUsageError(t, args("limit", "--set", "data.limit=50"), "data.limit: not supported when streaming")
	wantUsageError(t, args("big", "--set", "data.batch_size=128"), "data.batch_size: data: sampler: batch size 128 is larger than the dataset (100 items)")
}

// TestFolderStreamResumeIsExact: an image folder streamed with data.load
// stream (100 PNG files, parts of 1000 files, window 40) resumed at step 10
// ends bit for bit where 20 straight steps end.
func TestFolderStreamResumeIsExact(t *testing.T) {
	dir := t.TempDir()
	folder := filepath.Join(dir, "img")
	set, err := data.Embedded("train")
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewGray(image.Rect(0, 0, set.W, set.H))
	for i := range 100 {
		for p, x := range set.Image(i) {
			img.Pix[p] = uint8(x*255 + 0.5)
		}
		var b bytes.Buffer
		png.Encode(&b, img)
		writeFiles(t, folder, map[string][]byte{filepath.Join(set.Classes[set.Labels[i]], fmt.Sprintf("%03d.png", i)): b.Bytes()})
	}
	args := func(name string, extra ...string) []string {
		return append([]string{"pretrain", "-c", "../../configs/tiny.yaml", "--set", "run.dir=" + dir, "--name", name,
			"--set", "data.source=folder", "--set", "data.path=" + folder, "--set", "data.limit=0", "--set", "data.load=stream",
			"--set", "data.shuffle_window=40", "--set", "modalities.image.augment.flip=true"}, extra...)
	}
	code, _, stderr := run(t, args("full")...)
	if code != 0 || !strings.Contains(stderr, "100 images of 10 classes (data.load stream), streamed") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if code, _, e := run(t, args("half", "--stop-after", "10")...); code != 0 {
		t.Fatal(e)
	}
	half := filepath.Join(dir, "half")
	if code, _, e := run(t, "pretrain", "--resume", half); code != 0 {
		t.Fatal(e)
	}
	a, _ := checkpoint.Read(filepath.Join(dir, "full", "ckpt-00000020.safetensors"))
	b, err := checkpoint.Read(filepath.Join(half, "ckpt-00000020.safetensors"))
	if err != nil || a == nil {
		t.Fatalf("checkpoints: %v", err)
	}
	for name, ta := range a.Tensors {
		if !bytes.Equal(ta.Data, b.Tensors[name].Data) {
			t.Errorf("%s differs after resume", name)
		}
	}
	// a file removed since: the folder's fingerprint refuses the resume
	os.Remove(filepath.Join(folder, set.Classes[set.Labels[0]], "000.png"))
	wantUsageError(t, []string{"pretrain", "--resume", half, "--steps", "30"}, "the training data changed since")
	// an undecodable file stops the run at the step that reads it, naming it
	writeFiles(t, folder, map[string][]byte{"3/bad.png": []byte("\x89PNG\r\n\x1a\nbroken")})
	code, _, stderr = run(t, args("bad")...)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if last := lines[len(lines)-1]; code != exitUsage || !strings.Contains(last, "img/3: bad.png: corrupt image") || !strings.HasPrefix(last, "d2v: step ") {
		t.Errorf("undecodable file: exit %d, last line %q; want exit 2 and the step and file", code, last)
	}
}
