package shard

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type member struct {
	name string
	data []byte
}

// rawSet writes one shard of the given members and a manifest claiming
// count examples, as a hand-made or damaged shard folder would be.
func rawSet(t *testing.T, members []member, count int, classes []string) (string, *Manifest) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, mb := range members {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: mb.name, Size: int64(len(mb.data)), Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
		tw.Write(mb.data)
	}
	tw.Close()
	return rawFolder(t, buf.Bytes(), count, classes)
}

func rawFolder(t *testing.T, b []byte, count int, classes []string) (string, *Manifest) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s0.tar"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	m := &Manifest{Format: FormatVersion, Kind: KindImage, Count: count, Classes: classes,
		Shards: []Entry{{Name: "s0.tar", Count: count, Bytes: int64(len(b)), SHA256: "-"}}}
	if len(classes) > 0 {
		m.Shards[0].ClassCounts = make([]int, len(classes))
	}
	if err := m.write(dir); err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, m
}

// firstErr loads until an error and returns it.
func firstErr(t *testing.T, dir string, m *Manifest, batch int) error {
	t.Helper()
	l, err := NewLoader(dir, m, Options{Seed: 1, Batch: batch}, Decode[[]float32](decodeImage))
	if err != nil {
		return err
	}
	defer l.Close()
	for range 10 {
		if _, _, err := l.Next(); err != nil {
			return err
		}
	}
	t.Fatal("no error in 10 steps")
	return nil
}

func TestBadInput(t *testing.T) {
	good := testPNG(t, 1)
	cls := []string{"a", "b"}
	for _, tt := range []struct {
		name    string
		members []member
		count   int
		classes []string
		want    string
	}{
		{"member without label", []member{{"k0.png", good}, {"k0.cls", []byte("1")}, {"k1.png", good}}, 2, cls,
			"shard: s0.tar: member k1.png has no label (no k1.cls member)"},
		{"label out of range", []member{{"k0.png", good}, {"k0.cls", []byte("2")}}, 1, cls,
			`shard: s0.tar: member k0.cls: label "2" is not a class id in [0, 2)`},
		{"undecodable image", []member{{"k0.png", good}, {"k1.png", []byte("\x89PNG\r\n\x1a\nbroken")}}, 2, nil,
			"data: s0.tar: k1.png: corrupt image"},
		{"no payload", []member{{"k0.png", good}, {"k1.txt", []byte("hi")}}, 2, nil,
			"shard: s0.tar: example k1 has no .png/.jpg/.jpeg member"},
		{"two payloads", []member{{"k0.png", good}, {"k0.jpg", good}}, 1, nil,
			"shard: s0.tar: example k0 has two payloads (.png and .jpg)"},
		{"bad member name", []member{{"k0.png", good}, {"noext", good}}, 2, nil,
			`shard: s0.tar: member "noext" is not named <key>.<ext>`},
		{"fewer examples than the manifest", []member{{"k0.png", good}}, 2, nil,
			"shard: s0.tar: ends after 1 examples, the manifest says 2 (truncated?)"},
		{"more examples than the manifest", []member{{"k0.png", good}, {"k1.png", good}}, 1, nil,
			"shard: s0.tar: more than the 1 examples the manifest says (member k1.png)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir, m := rawSet(t, tt.members, tt.count, tt.classes)
			err := firstErr(t, dir, m, 1)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v\nwant %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestTruncatedShard(t *testing.T) {
	dir, _, _ := writeSet(t, 6, 3)
	p := filepath.Join(dir, "shard-000001.tar")
	b, _ := os.ReadFile(p)
	os.WriteFile(p, b[:len(b)-1500], 0o644)
	if _, err := ReadManifest(dir); err == nil || !strings.Contains(err.Error(), "shard-000001.tar: "+
		"") || !strings.Contains(err.Error(), "(truncated or replaced?)") {
		t.Errorf("manifest check of a truncated shard: %v", err)
	}
	// a manifest that agrees with the cut file: the reader names the member
	for _, cut := range []int{700, 1100, 1600} {
		d, m := rawFolder(t, b[:cut], 3, []string{"a", "b", "c"})
		err := firstErr(t, d, m, 3)
		if err == nil || !strings.Contains(err.Error(), "shard: s0.tar: ") || !strings.Contains(err.Error(), "truncated") {
			t.Errorf("cut at %d: %v", cut, err)
		}
	}
	os.Remove(p)
	if _, err := ReadManifest(dir); err == nil || !strings.Contains(err.Error(), "shard-000001.tar: no such file") {
		t.Errorf("missing shard: %v", err)
	}
}

func TestManifestErrors(t *testing.T) {
	dir, _, _ := writeSet(t, 4, 2)
	p := filepath.Join(dir, ManifestName)
	b, _ := os.ReadFile(p)
	for _, tt := range []struct{ old, new, want string }{
		{`"count": 4,`, `"count": 5,`, "count 5, but the shards hold 4"},
		{`"kind": "image"`, `"kind": "video"`, `kind "video", want image, audio or text`},
		{`"name": "shard-000000.tar"`, `"name": "../x.tar"`, `name "../x.tar" must be a plain file name`},
		{`"format"`, `"colour": 1, "format"`, `unknown field "colour"`},
	} {
		os.WriteFile(p, bytes.Replace(b, []byte(tt.old), []byte(tt.new), 1), 0o644)
		if _, err := ReadManifest(dir); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s -> %s: %v, want %q", tt.old, tt.new, err, tt.want)
		}
	}
	os.WriteFile(p, b, 0o644)
	os.WriteFile(filepath.Join(dir, "shard-000000.tar"), bytes.Repeat([]byte{0}, int(mustSize(t, dir))), 0o644)
	m, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(dir); err == nil || !strings.Contains(err.Error(), "shard-000000.tar: sha256") {
		t.Errorf("verify of a replaced shard: %v", err)
	}
}

func mustSize(t *testing.T, dir string) int64 {
	st, err := os.Stat(filepath.Join(dir, "shard-000000.tar"))
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}
