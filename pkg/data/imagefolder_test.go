package data

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// solid returns a w x h image filled with c.
func solid(w, h int, c color.Color) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	return img
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// makeFolder writes files (path relative to dir -> contents) under a new temp dir.
func makeFolder(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadImageFolder(t *testing.T) {
	red := encodePNG(t, solid(8, 6, color.RGBA{255, 0, 0, 255}))
	grayPNG := encodePNG(t, image.NewGray(image.Rect(0, 0, 8, 6))) // black
	white := encodeJPEG(t, solid(8, 6, color.White))
	dir := makeFolder(t, map[string][]byte{
		"zebra/a.png":       red,
		"apple/1.jpg":       white,
		"apple/2.png":       grayPNG,
		"apple/noext":       red, // PNG by content
		"apple/notes.txt":   []byte("not an image"),
		"apple/.hidden.png": []byte("junk"),
		".git/x.png":        red,
	})
	tests := []struct {
		name   string
		h, w   int
		gray   bool
		wantC  int
		wantHW [2]int
	}{
		{"native size gray", 0, 0, true, 1, [2]int{6, 8}},
		{"resize rgb", 4, 5, false, 3, [2]int{4, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := LoadImageFolder(dir, tt.h, tt.w, tt.gray)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(s.Classes, ",") != "apple,zebra" {
				t.Fatalf("classes = %v, want [apple zebra]", s.Classes)
			}
			if s.N != 4 || s.C != tt.wantC || s.H != tt.wantHW[0] || s.W != tt.wantHW[1] {
				t.Fatalf("N,H,W,C = %d,%d,%d,%d", s.N, s.H, s.W, s.C)
			}
			if want := filepath.Join(dir, "apple", "notes.txt"); len(s.Ignored) != 1 || s.Ignored[0] != want {
				t.Errorf("Ignored = %v, want [%s]", s.Ignored, want)
			}
			if len(s.Pix) != s.N*s.ImageLen() {
				t.Fatalf("len(Pix) = %d, want %d", len(s.Pix), s.N*s.ImageLen())
			}
			// Sorted files: apple/1.jpg (white), apple/2.png (black), apple/noext (red), zebra/a.png (red).
			wantLabels := []int{0, 0, 0, 1}
			for i, l := range s.Labels {
				if l != wantLabels[i] {
					t.Errorf("labels = %v, want %v", s.Labels, wantLabels)
					break
				}
			}
			redGray := float32(0.299)
			want := [][]float32{{1, 1, 1}, {0, 0, 0}, {1, 0, 0}, {1, 0, 0}}
			if tt.gray {
				want = [][]float32{{1}, {0}, {redGray}, {redGray}}
			}
			for i := range s.N {
				img := s.Image(i)
				for k, v := range img {
					if w := want[i][k%s.C]; math.Abs(float64(v-w)) > 0.01 {
						t.Fatalf("image %d value %d = %g, want %g", i, k, v, w)
					}
				}
			}
		})
	}
}

func TestLoadImageFolderErrors(t *testing.T) {
	ok := encodePNG(t, solid(4, 4, color.White))
	tests := []struct {
		name  string
		files map[string][]byte
		h, w  int
		want  string // substring of the error, e.g. the file it names
	}{
		{"corrupt png", map[string][]byte{"a/good.png": ok, "a/bad.png": []byte("\x89PNG\r\n\x1a\ngarbage")}, 4, 4, "bad.png"},
		{"png name, text inside", map[string][]byte{"a/fake.png": []byte("hello")}, 4, 4, "fake.png: not a PNG or JPEG"},
		{"no classes", map[string][]byte{"loose.png": ok}, 4, 4, "no class folders"},
		{"class without images", map[string][]byte{"a/x.png": ok, "b/readme.txt": []byte("hi")}, 4, 4, "no PNG or JPEG images"},
		{"mixed sizes without resize", map[string][]byte{"a/1.png": ok, "a/2.png": encodePNG(t, solid(5, 4, color.White))}, 0, 0, "2.png: size 4x5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := makeFolder(t, tt.files)
			_, err := LoadImageFolder(dir, tt.h, tt.w, true)
			if err == nil {
				t.Fatal("want error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
		})
	}
	if _, err := LoadImageFolder(filepath.Join(t.TempDir(), "missing"), 4, 4, true); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing dir: err = %v, want one naming it", err)
	}
}
