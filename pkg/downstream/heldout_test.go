package downstream

import (
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/data"
	"github.com/d2v/d2v/pkg/feed"
)

// data.test_path replaces the test split for every modality, with the
// folder's classes mapped to the train split's ids by name.
func TestHeldOutFolder(t *testing.T) {
	image := func(t *testing.T) *config.Config { return config.Default() }
	speech := func(t *testing.T) *config.Config {
		c := config.Default()
		c.Model.Modality = config.ModalityAudio
		c.Modalities.Audio.CropSamples = 9600
		return c
	}
	text := func(t *testing.T) *config.Config {
		c := config.Default()
		c.Model.Modality = config.ModalityText
		c.Modalities.Text.Tokenizer = "bpe"
		c.Modalities.Text.VocabFile = "../tokenizer/testdata/gpt2/encoder.json"
		c.Modalities.Text.MergesFile = "../tokenizer/testdata/gpt2/vocab.bpe"
		c.Data.TaskPath = "../data/testdata/wordnet"
		old := feed.WordNetTask // the test database is tiny: every class
		feed.WordNetTask = data.WordNetOptions{POS: old.POS, MinPerClass: 1}
		t.Cleanup(func() { feed.WordNetTask = old })
		return c
	}
	for _, tt := range []struct {
		name  string
		cfg   func(*testing.T) *config.Config
		write func(t *testing.T, dir string)
	}{
		{"image", image, writePNG},
		{"speech", speech, writeWAV},
		{"text", text, writeTXT},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg(t)
			own, _, _, err := LoadTask(cfg, 4)
			if err != nil {
				t.Fatal(err)
			}
			// two train classes, written in reverse order of their ids
			a, b := own.Classes[len(own.Classes)-1], own.Classes[0]
			dir := t.TempDir()
			for _, c := range []string{a, b} {
				if err := os.MkdirAll(filepath.Join(dir, c), 0o755); err != nil {
					t.Fatal(err)
				}
				tt.write(t, filepath.Join(dir, c))
			}
			cfg.Data.TestPath = dir
			trainSet, test, _, err := LoadTask(cfg, 4)
			if err != nil {
				t.Fatal(err)
			}
			if trainSet.N != own.N || test.N != 4 || !slices.Equal(test.Classes, own.Classes) {
				t.Fatalf("train %d (want %d), test %d (want 4), classes %v", trainSet.N, own.N, test.N, test.Classes)
			}
			// the folder's classes sort as b < a whatever their names; ids follow the train split
			ia, ib := slices.Index(own.Classes, a), slices.Index(own.Classes, b)
			want := []int{ia, ia, ib, ib}
			if b < a {
				want = []int{ib, ib, ia, ia}
			}
			if !slices.Equal(test.Labels, want) {
				t.Errorf("labels %v, want %v (train ids of %q and %q)", test.Labels, want, a, b)
			}
			if err := os.MkdirAll(filepath.Join(dir, "zz-not-a-class"), 0o755); err != nil {
				t.Fatal(err)
			}
			tt.write(t, filepath.Join(dir, "zz-not-a-class"))
			_, _, _, err = LoadTask(cfg, 4)
			if err == nil || !strings.Contains(err.Error(), "data.test_path") || !strings.Contains(err.Error(), "zz-not-a-class") {
				t.Errorf("unknown class: error %v", err)
			}
		})
	}
}

func writePNG(t *testing.T, dir string) {
	for i := range 2 {
		im := image.NewGray(image.Rect(0, 0, 28, 28))
		im.SetGray(10+i, 10, color.Gray{Y: 255})
		f, err := os.Create(filepath.Join(dir, string(rune('a'+i))+".png"))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, im); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
}

func writeTXT(t *testing.T, dir string) {
	if err := os.WriteFile(filepath.Join(dir, "x.txt"), []byte("a small animal\n\nto run fast\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeWAV writes two mono 16-bit clips of a 440 Hz tone, 0.5 s at 16 kHz.
func writeWAV(t *testing.T, dir string) {
	const rate, n = 16000, 8000
	b := make([]byte, 44+2*n)
	copy(b, "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+2*n))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1) // PCM
	binary.LittleEndian.PutUint16(b[22:], 1) // mono
	binary.LittleEndian.PutUint32(b[24:], rate)
	binary.LittleEndian.PutUint32(b[28:], 2*rate)
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], 2*n)
	for i := range n {
		v := int16(8000 * math.Sin(2*math.Pi*440*float64(i)/rate))
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(v))
	}
	for _, name := range []string{"v1_a.wav", "v2_b.wav"} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
