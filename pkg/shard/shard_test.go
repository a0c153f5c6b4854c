package shard

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/d2v/d2v/pkg/data"
)

// testPNG returns a distinct 4x4 gray PNG for example i.
func testPNG(t testing.TB, i int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 4, 4))
	for p := range img.Pix {
		img.Pix[p] = uint8(i*7 + p)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// writeSet writes n labelled PNG examples (label i%3) in shards of per and
// returns the folder, the manifest and the payloads in write order.
func writeSet(t testing.TB, n, per int) (string, *Manifest, [][]byte) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "shards")
	w, err := NewWriter(dir, per, KindImage, []string{"a", "b", "c"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	var src [][]byte
	for i := range n {
		b := testPNG(t, i)
		src = append(src, b)
		if err := w.Add("png", b, i%3); err != nil {
			t.Fatal(err)
		}
	}
	m, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	return dir, m, src
}

func TestRoundTrip(t *testing.T) {
	dir, m, src := writeSet(t, 23, 5)
	if m.Count != 23 || len(m.Shards) != 5 || m.Shards[4].Count != 3 {
		t.Fatalf("manifest: count %d in %d shards (last %d), want 23 in 5 (last 3)", m.Count, len(m.Shards), m.Shards[4].Count)
	}
	got, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Fingerprint() != m.Fingerprint() {
		t.Error("manifest read back has another fingerprint")
	}
	if err := got.Verify(dir); err != nil {
		t.Fatal(err)
	}
	i := 0
	for _, e := range got.Shards {
		f, err := os.Open(filepath.Join(dir, e.Name))
		if err != nil {
			t.Fatal(err)
		}
		exs, err := ReadAll(f, e.Name, got)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		counts := make([]int, 3)
		for _, ex := range exs {
			if !bytes.Equal(ex.Data, src[i]) || ex.Label != i%3 || ex.Ext != "png" {
				t.Fatalf("example %d (%s): label %d ext %q, bytes equal %v; want label %d png", i, ex.Member(), ex.Label, ex.Ext, bytes.Equal(ex.Data, src[i]), i%3)
			}
			counts[ex.Label]++
			i++
		}
		if fmt.Sprint(counts) != fmt.Sprint(e.ClassCounts) {
			t.Errorf("%s: class counts %v, manifest %v", e.Name, counts, e.ClassCounts)
		}
	}
	if i != 23 {
		t.Fatalf("read %d examples, want 23", i)
	}
	// the same data writes the same bytes
	dir2, m2, _ := writeSet(t, 23, 5)
	if m2.Fingerprint() != m.Fingerprint() {
		t.Errorf("a second write of the same data differs (%s vs %s)", dir, dir2)
	}
}

func TestWriterErrors(t *testing.T) {
	dir, _, _ := writeSet(t, 3, 2)
	if _, err := NewWriter(dir, 2, KindImage, nil, ""); err == nil || !strings.Contains(err.Error(), "already holds") {
		t.Errorf("writing over a shard folder: %v", err)
	}
	w, err := NewWriter(filepath.Join(t.TempDir(), "x"), 2, KindImage, []string{"a"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add("wav", []byte("x"), 0); err == nil {
		t.Error("a .wav in an image set: no error")
	}
	if err := w.Add("png", []byte("x"), 1); err == nil {
		t.Error("label 1 of 1 class: no error")
	}
	if _, err := w.Close(); err == nil || !strings.Contains(err.Error(), "no examples") {
		t.Errorf("empty set: %v", err)
	}
}

// decodeImage decodes a 4x4 gray test image, as the pretraining feed does.
func decodeImage(ex *Example, step int64, row int) ([]float32, error) {
	return data.DecodeImage(ex.Data, ex.Member(), 4, 4, true)
}
