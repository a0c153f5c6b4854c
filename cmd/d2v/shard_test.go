package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/d2v/d2v/pkg/shard"
)

// writeFiles creates dir/name = content for every entry.
func writeFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readShards reads every example of a shard folder in manifest order.
func readShards(t *testing.T, dir string) (*shard.Manifest, []*shard.Example) {
	t.Helper()
	m, err := shard.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	var all []*shard.Example
	for _, e := range m.Shards {
		f, err := os.Open(filepath.Join(dir, e.Name))
		if err != nil {
			t.Fatal(err)
		}
		exs, err := shard.ReadAll(f, e.Name, m)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(exs) != e.Count {
			t.Fatalf("%s: %d examples, manifest %d", e.Name, len(exs), e.Count)
		}
		all = append(all, exs...)
	}
	return m, all
}

func TestShardCommand(t *testing.T) {
	tmp := t.TempDir()
	img := filepath.Join(tmp, "img")
	files := map[string][]byte{"cat/a.png": pngBytes(t, 5, 4), "cat/b.jpg": jpegBytes(t, 6, 6), "dog/c.png": pngBytes(t, 3, 3)}
	writeFiles(t, img, files)
	idxDir := filepath.Join(tmp, "idx")
	writeFiles(t, idxDir, map[string][]byte{"train-images-idx3-ubyte": idxImages(3, 2, 2), "train-labels-idx1-ubyte": idxLabels(3)})
	speech := filepath.Join(tmp, "speech")
	writeFiles(t, speech, map[string][]byte{"one/v1_a.wav": wavPCM16(3, 400), "one/v2_a.wav": wavPCM16(0, 400), "two/v1_b.wav": wavPCM16(5, 300)})
	text := filepath.Join(tmp, "corpus.txt")
	writeFiles(t, tmp, map[string][]byte{"corpus.txt": []byte("first paragraph\n\nsecond\none\n\nthird")})

	out := filepath.Join(tmp, "s-img")
	code, stdout, stderr := run(t, "shard", "--from", "folder", "--in", img, "--out", out, "--per-shard", "2")
	if code != 0 || !strings.Contains(stdout, "3 image examples in 2 shards, 2 classes") {
		t.Fatalf("folder: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	_, exs := readShards(t, out)
	found := map[string]bool{}
	for _, ex := range exs { // written in a seeded permutation: match by bytes
		for name, b := range files {
			if bytes.Equal(ex.Data, b) && ex.Label == map[bool]int{true: 0, false: 1}[strings.HasPrefix(name, "cat/")] && ex.Ext == filepath.Ext(name)[1:] {
				found[name] = true
			}
		}
	}
	if len(found) != 3 {
		t.Errorf("the shards hold %d of the 3 images with their labels and extensions: %v", len(found), found)
	}
	if code, stdout, _ := run(t, "shard", "--verify", "--out", out); code != 0 || !strings.HasPrefix(stdout, "ok: ") {
		t.Errorf("verify: exit %d, %q", code, stdout)
	}

	out = filepath.Join(tmp, "s-idx")
	if code, _, stderr := run(t, "shard", "--from", "idx", "--in", idxDir, "--out", out); code != 0 {
		t.Fatalf("idx: exit %d: %s", code, stderr)
	}
	m, exs := readShards(t, out)
	if m.Count != 3 || len(m.Shards) != 1 {
		t.Errorf("idx: %d examples in %d shards, want 3 in 1", m.Count, len(m.Shards))
	}
	im, err := png.Decode(bytes.NewReader(exs[0].Data))
	if err != nil || im.Bounds().Dx() != 2 || im.Bounds().Dy() != 2 {
		t.Errorf("idx: first example is not a 2x2 PNG: %v", err)
	}

	out = filepath.Join(tmp, "s-speech")
	code, stdout, stderr = run(t, "shard", "--from", "speech", "--in", speech, "--out", out, "--per-shard", "1")
	if code != 0 || !strings.Contains(stdout, "2 audio examples in 2 shards") || !strings.Contains(stderr, "v2_a.wav: skipped") {
		t.Fatalf("speech: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	_, exs = readShards(t, out)
	if i := slices.IndexFunc(exs, func(e *shard.Example) bool { return bytes.Equal(e.Data, wavPCM16(5, 300)) }); i < 0 || exs[i].Label != 1 {
		t.Errorf("speech: two/v1_b.wav is not in the shards with label 1")
	}

	out = filepath.Join(tmp, "s-text")
	if code, _, stderr := run(t, "shard", "--from", "text", "--in", text, "--out", out); code != 0 {
		t.Fatalf("text: exit %d: %s", code, stderr)
	}
	_, exs = readShards(t, out)
	if len(exs) != 3 || string(exs[1].Data) != "second\none" || exs[1].Label != -1 {
		t.Errorf("text: %d docs, second %q", len(exs), exs[1].Data)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--from", "folder", "--in", img, "--out", filepath.Join(tmp, "s-img")}, "already holds a manifest.json; pick a new folder"},
		{[]string{"--from", "video", "--in", img, "--out", filepath.Join(tmp, "x")}, "--from: must be one of folder|idx|speech|text"},
		{[]string{"--from", "folder", "--out", filepath.Join(tmp, "x")}, "--in: required"},
		{[]string{"--from", "folder", "--in", img, "--out", filepath.Join(tmp, "x"), "--per-shard", "0"}, "examples per shard must be > 0"},
		{[]string{"--from", "folder", "--in", speech, "--out", filepath.Join(tmp, "y")}, "no PNG or JPEG images in class folder"},
		{[]string{"--verify", "--out", img}, "manifest.json: no such file"},
	} {
		wantUsageError(t, append([]string{"shard"}, tt.args...), tt.want)
	}
	os.WriteFile(filepath.Join(tmp, "s-idx", "shard-000000.tar"), bytes.Repeat([]byte{1}, int(m.Shards[0].Bytes)), 0o644)
	wantUsageError(t, []string{"shard", "--verify", "--out", filepath.Join(tmp, "s-idx")}, "shard-000000.tar: sha256")
}
