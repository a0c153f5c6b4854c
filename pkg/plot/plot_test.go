package plot

import (
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
)

// decode opens a PNG and returns it, failing the test if it is not one.
func decode(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func pixels(l vg.Length) int { return int(float64(l/vg.Inch)*DPI + 0.5) }

func checkSize(t *testing.T, img image.Image, w, h int) {
	t.Helper()
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("image is %dx%d, want %dx%d", b.Dx(), b.Dy(), w, h)
	}
}

func curve(name string, n int, f func(float64) float64) Series {
	s := Series{Name: name, X: make([]float64, n), Y: make([]float64, n)}
	for i := range n {
		s.X[i] = float64(i)
		s.Y[i] = f(float64(i))
	}
	return s
}

func TestLines(t *testing.T) {
	loss := curve("loss", 100, func(x float64) float64 { return 2 * math.Exp(-x/30) })
	loss.Y[10], loss.Y[20], loss.Y[30] = math.NaN(), math.Inf(1), 0 // skipped, not fatal
	tests := []struct {
		name   string
		series []Series
		logY   bool
		err    string
	}{
		{"linear", []Series{loss, curve("ema", 100, func(x float64) float64 { return 0.999 })}, false, ""},
		{"log y", []Series{loss}, true, ""},
		{"no series", nil, false, "no series"},
		{"empty series", []Series{{Name: "a"}}, false, `series 0 "a"`},
		{"length mismatch", []Series{{Name: "a", X: []float64{1, 2}, Y: []float64{1}}}, false, "len(X) = 2, len(Y) = 1"},
		{"all NaN", []Series{{X: []float64{1}, Y: []float64{math.NaN()}}}, false, "no finite point"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "lines.png")
			err := Lines(path, "pretrain", "step", "loss", tt.series, tt.logY)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				if _, serr := os.Stat(path); !os.IsNotExist(serr) {
					t.Errorf("failed Lines left a file at %s", path)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkSize(t, decode(t, path), pixels(LinesWidth), pixels(LinesHeight))
			if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*")); len(left) > 0 {
				t.Errorf("temporary files left behind: %v", left)
			}
		})
	}
}

func TestPanels(t *testing.T) {
	up := func(x float64) float64 { return x }
	panels := []Panel{
		{Title: "loss", XLabel: "step", Series: []Series{curve("train", 50, func(x float64) float64 { return 1 / (1 + x) })}, LogY: true},
		{Title: "lr", XLabel: "step", Series: []Series{curve("lr", 50, up)}},
		{Title: "ema decay", XLabel: "step", Series: []Series{curve("tau", 50, up)}},
		{Title: "variance", XLabel: "step", Series: []Series{curve("target", 50, up), curve("pred", 50, up)}},
		{Title: "odd one", Series: []Series{curve("x", 50, up)}},
	}
	path := filepath.Join(t.TempDir(), "curves.png")
	if err := Panels(path, panels, 2); err != nil {
		t.Fatal(err)
	}
	checkSize(t, decode(t, path), pixels(2*PanelWidth), pixels(3*PanelHeight))
	if err := Panels(path, nil, 2); err == nil {
		t.Error("Panels with no panels: want an error")
	}
	if err := Panels(path, panels, 0); err == nil || !strings.Contains(err.Error(), "cols") {
		t.Errorf("Panels cols=0: error %v, want one naming cols", err)
	}
	bad := append([]Panel{}, panels...)
	bad[3].Series = nil
	if err := Panels(path, bad, 2); err == nil || !strings.Contains(err.Error(), `panel 3 "variance"`) {
		t.Errorf("Panels with an empty panel: error %v, want one naming panel 3", err)
	}
}

func TestConfusion(t *testing.T) {
	m := [][]int{{50, 3, 0}, {4, 40, 6}, {0, 10, 37}}
	path := filepath.Join(t.TempDir(), "confusion.png")
	if err := Confusion(path, m, []string{"cat", "dog", "bird"}, "linear probe"); err != nil {
		t.Fatal(err)
	}
	side := pixels(confusionSide(3))
	checkSize(t, decode(t, path), side, side)
	if err := Confusion(path, m, nil, ""); err != nil {
		t.Errorf("nil class names: %v", err)
	}
	for name, tt := range map[string]struct {
		m     [][]int
		names []string
	}{
		"empty":      {nil, nil},
		"not square": {[][]int{{1, 2}, {3}}, nil},
		"names":      {m, []string{"a"}},
	} {
		if err := Confusion(path, tt.m, tt.names, ""); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

func TestMaskGrid(t *testing.T) {
	const h, w, patch, scale = 8, 12, 4, 3 // grid 2x3 patches
	ramp := make([]float32, h*w)
	for i := range ramp {
		ramp[i] = float32(i) / float32(h*w)
	}
	flat := make([]float32, h*w)
	for i := range flat {
		flat[i] = 0.5
	}
	masks := [][]bool{{true, false, false, false, false, true}, {false, true, false, false, false, false}}
	path := filepath.Join(t.TempDir(), "masks.png")
	if err := MaskGrid(path, [][]float32{ramp, flat}, h, w, masks, patch, scale); err != nil {
		t.Fatal(err)
	}
	img := decode(t, path)
	checkSize(t, img, 2*w*scale+3*MaskBorder, 2*h*scale+3*MaskBorder)

	// Second image, patch (row 0, col 1) is masked, patch (0, 0) is not.
	top := MaskBorder + h*scale + MaskBorder
	right := 2*MaskBorder + w*scale
	at := func(x, y int) [3]uint32 {
		r, g, b, _ := img.At(x, y).RGBA()
		return [3]uint32{r >> 8, g >> 8, b >> 8}
	}
	left := at(MaskBorder+patch*scale+1, top+1) // original, masked patch
	masked := at(right+patch*scale+1, top+1)    // copy, masked patch
	unmasked := at(right+1, top+1)              // copy, unmasked patch
	if unmasked != left || unmasked != [3]uint32{128, 128, 128} {
		t.Errorf("unmasked pixel %v, original %v, want both gray 128", unmasked, left)
	}
	if masked == unmasked || masked[0] <= masked[1] {
		t.Errorf("masked pixel %v should be tinted red, unmasked is %v", masked, unmasked)
	}

	tests := []struct {
		name  string
		imgs  [][]float32
		masks [][]bool
		patch int
		want  string
	}{
		{"no images", nil, nil, patch, "imgs"},
		{"patch does not divide", [][]float32{flat}, masks[:1], 5, "patch"},
		{"mask count", [][]float32{flat}, masks, patch, "masks"},
		{"image size", [][]float32{flat[:5]}, masks[:1], patch, "imgs[0]"},
		{"mask size", [][]float32{flat}, [][]bool{{true}}, patch, "masks[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := MaskGrid(path, tt.imgs, h, w, tt.masks, tt.patch, scale)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one naming %q", err, tt.want)
			}
		})
	}
}
