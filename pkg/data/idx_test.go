package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// idxBytes builds an IDX file: magic, dims, then payload.
func idxBytes(magic uint32, dims []uint32, payload []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, magic)
	binary.Write(&b, binary.BigEndian, dims)
	b.Write(payload)
	return b.Bytes()
}

func gz(t *testing.T, raw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// tinyIDX is 3 images of 2x2 with pixel values 0, 51, ..., and labels 2 0 1.
func tinyIDX() (images, labels []byte) {
	pix := make([]byte, 3*2*2)
	for i := range pix {
		pix[i] = byte(i * 20)
	}
	return idxBytes(idxImagesMagic, []uint32{3, 2, 2}, pix),
		idxBytes(idxLabelsMagic, []uint32{3}, []byte{2, 0, 1})
}

func TestLoadIDXRoundTrip(t *testing.T) {
	imgs, lbls := tinyIDX()
	tests := []struct {
		name   string
		encode func([]byte) []byte
		suffix string
	}{
		{"raw", func(b []byte) []byte { return b }, ""},
		{"gzip", func(b []byte) []byte { return gz(t, b) }, ".gz"},
		{"gzip without .gz name", func(b []byte) []byte { return gz(t, b) }, ".bin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ip := writeFile(t, dir, "img"+tt.suffix, tt.encode(imgs))
			lp := writeFile(t, dir, "lbl"+tt.suffix, tt.encode(lbls))
			s, err := LoadIDX(ip, lp)
			if err != nil {
				t.Fatal(err)
			}
			if s.N != 3 || s.H != 2 || s.W != 2 || s.C != 1 || len(s.Pix) != 12 {
				t.Fatalf("shape N,H,W,C = %d,%d,%d,%d len %d; want 3,2,2,1 len 12", s.N, s.H, s.W, s.C, len(s.Pix))
			}
			for i, v := range s.Pix {
				if want := float32(i*20) / 255; v != want {
					t.Errorf("Pix[%d] = %g, want %g", i, v, want)
				}
			}
			if got := s.Labels; len(got) != 3 || got[0] != 2 || got[1] != 0 || got[2] != 1 {
				t.Errorf("labels = %v, want [2 0 1]", got)
			}
			if strings.Join(s.Classes, ",") != "0,1,2" {
				t.Errorf("classes = %v, want [0 1 2]", s.Classes)
			}
		})
	}
}

func TestLoadIDXErrors(t *testing.T) {
	imgs, lbls := tinyIDX()
	tests := []struct {
		name       string
		imgs, lbls []byte
		badFile    string // the file the message must name
		want       string
	}{
		{"wrong image magic", idxBytes(idxLabelsMagic, []uint32{3, 2, 2}, imgs[16:]), lbls, "img", "bad magic"},
		{"wrong label magic", imgs, idxBytes(idxImagesMagic, []uint32{3}, lbls[8:]), "lbl", "bad magic"},
		{"truncated pixels", imgs[:len(imgs)-5], lbls, "img", "truncated: want 12 pixel bytes, got 7"},
		{"truncated gzip pixels", gz(t, imgs)[:30], lbls, "img", "truncated: want 12 pixel bytes"},
		{"truncated gzip trailer", gz(t, imgs)[:len(gz(t, imgs))-4], lbls, "img", "gzip stream broke off"},
		{"truncated gzip header", gz(t, imgs)[:5], lbls, "img", "bad gzip header"},
		{"truncated header", imgs[:10], lbls, "img", "truncated header"},
		{"trailing bytes", append(append([]byte{}, imgs...), 9), lbls, "img", "trailing data"},
		{"truncated labels", imgs, lbls[:10], "lbl", "truncated: want 3 label bytes, got 2"},
		{"count mismatch", imgs, idxBytes(idxLabelsMagic, []uint32{2}, []byte{1, 2}), "lbl", "3 images but"},
		{"empty", idxBytes(idxImagesMagic, []uint32{0, 2, 2}, nil), lbls, "img", "empty"},
		{"zero width", idxBytes(idxImagesMagic, []uint32{3, 2, 0}, nil), lbls, "img", "bad image size"},
		{"empty file", nil, lbls, "img", "truncated header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ip := writeFile(t, dir, "img-idx3-ubyte", tt.imgs)
			lp := writeFile(t, dir, "lbl-idx1-ubyte", tt.lbls)
			_, err := LoadIDX(ip, lp)
			if err == nil {
				t.Fatal("want error, got nil")
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.badFile+"-idx") || !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line naming %s containing %q", msg, tt.badFile, tt.want)
			}
		})
	}
}

func TestLoadMNISTDir(t *testing.T) {
	imgs, lbls := tinyIDX()
	dir := t.TempDir()
	writeFile(t, dir, "t10k-images-idx3-ubyte.gz", gz(t, imgs))
	writeFile(t, dir, "t10k-labels-idx1-ubyte", lbls) // raw works too
	s, err := LoadMNISTDir(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 3 {
		t.Errorf("N = %d, want 3", s.N)
	}
	if _, err := LoadMNISTDir(dir, "train"); err == nil || !strings.Contains(err.Error(), "train-images-idx3-ubyte") {
		t.Errorf("missing train files: err = %v, want one naming train-images-idx3-ubyte", err)
	}
	if _, err := LoadMNISTDir(dir, "val"); err == nil {
		t.Error("split val: want error")
	}
}

func TestEmbedded(t *testing.T) {
	tests := []struct {
		split      string
		n          int
		firstLabel int
	}{
		{"train", 6000, 5},
		{"test", 2000, 7},
	}
	for _, tt := range tests {
		t.Run(tt.split, func(t *testing.T) {
			s, err := Embedded(tt.split)
			if err != nil {
				t.Fatal(err)
			}
			if s.N != tt.n || s.H != 28 || s.W != 28 || s.C != 1 || len(s.Pix) != tt.n*784 || len(s.Labels) != tt.n {
				t.Fatalf("N,H,W,C = %d,%d,%d,%d; want %d,28,28,1", s.N, s.H, s.W, s.C, tt.n)
			}
			if s.Labels[0] != tt.firstLabel {
				t.Errorf("first label = %d, want %d", s.Labels[0], tt.firstLabel)
			}
			var seen [10]int
			for _, l := range s.Labels {
				if l < 0 || l > 9 {
					t.Fatalf("label %d outside 0..9", l)
				}
				seen[l]++
			}
			for d, c := range seen {
				if c == 0 {
					t.Errorf("digit %d never appears", d)
				}
			}
			lo, hi := s.Pix[0], s.Pix[0]
			for _, v := range s.Pix {
				lo, hi = min(lo, v), max(hi, v)
			}
			if lo != 0 || hi != 1 {
				t.Errorf("pixel range [%g, %g], want [0, 1]", lo, hi)
			}
			if len(s.Classes) != 10 {
				t.Errorf("classes = %v, want 10", s.Classes)
			}
		})
	}
	if _, err := Embedded("val"); err == nil {
		t.Error("split val: want error")
	}
}

func TestSubsetNormalize(t *testing.T) {
	s, err := Embedded("test")
	if err != nil {
		t.Fatal(err)
	}
	sub := s.Subset(10)
	if sub.N != 10 || len(sub.Pix) != 7840 || len(sub.Labels) != 10 {
		t.Fatalf("subset N %d, len(Pix) %d", sub.N, len(sub.Pix))
	}
	before := s.Pix[300]
	sub.Normalize(0.5, 0.25)
	if s.Pix[300] != before {
		t.Error("Normalize on a subset changed the parent")
	}
	if want := (before - 0.5) / 0.25; sub.Pix[300] != want {
		t.Errorf("normalised = %g, want %g", sub.Pix[300], want)
	}
	if got := s.Subset(1 << 20).N; got != s.N {
		t.Errorf("Subset(big).N = %d, want %d", got, s.N)
	}
}
