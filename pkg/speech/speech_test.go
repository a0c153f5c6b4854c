package speech

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/d2v/d2v/pkg/data"
)

// writeFile writes b to dir/name and returns the path.
func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// digitWords are the embedded classes in sorted (label) order.
var digitWords = []string{"eight", "five", "four", "nine", "one", "seven", "six", "three", "two", "zero"}

// wav16 is a mono 16-bit PCM WAV at rate holding a chirp-like tone of n
// samples with amplitude amp (0 gives silence).
func wav16(rate, n int, amp float64) []byte {
	s := make([]int16, n)
	for i := range s {
		t := float64(i) / float64(rate)
		s[i] = int16(amp * 32767 * math.Sin(2*math.Pi*(300+2000*t)*t))
	}
	return riff(fmtChunk(wavFormatPCM, 1, rate, 16), chunk{"data", le(s)})
}

// checkNormalised fails unless x has zero mean and unit variance.
func checkNormalised(t *testing.T, name string, x []float32) {
	t.Helper()
	var sum, ss float64
	for _, v := range x {
		sum += float64(v)
		ss += float64(v) * float64(v)
	}
	n := float64(len(x))
	if m, v := sum/n, ss/n-(sum/n)*(sum/n); math.Abs(m) > 1e-4 || math.Abs(v-1) > 1e-3 {
		t.Errorf("%s: mean %g, variance %g; want 0, 1", name, m, v)
	}
}

func TestEmbeddedSpeech(t *testing.T) {
	s, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Classes, digitWords) {
		t.Fatalf("classes %v, want %v", s.Classes, digitWords)
	}
	if len(s.Clips) != 480 || s.Skipped != 0 {
		t.Fatalf("%d clips, %d skipped; want 480, 0 (see speech/README.md)", len(s.Clips), s.Skipped)
	}
	voices := s.Voices()
	if len(voices) != 24 {
		t.Fatalf("%d voices, want 24: %v", len(voices), voices)
	}
	perVoice := map[string]map[int]int{}
	for i, c := range s.Clips {
		if perVoice[c.Voice] == nil {
			perVoice[c.Voice] = map[int]int{}
		}
		perVoice[c.Voice][c.Label]++
		if want := s.Classes[c.Label] + "/" + c.Voice + "_"; !strings.Contains(c.Path, want) {
			t.Errorf("clip %d: path %q does not contain %q", i, c.Path, want)
		}
		if i > 0 && c.Path <= s.Clips[i-1].Path {
			t.Errorf("clip %d: path %q not after %q", i, c.Path, s.Clips[i-1].Path)
		}
		checkNormalised(t, c.Path, c.Samples)
	}
	for v, counts := range perVoice {
		for l := range s.Classes {
			if counts[l] != 2 {
				t.Errorf("voice %s has %d clips of %s, want 2", v, counts[l], s.Classes[l])
			}
		}
	}
	// At 16 kHz every spoken digit lasts between 0.2 and 1.5 s.
	if lo, hi := s.MinLen(), maxLen(s); lo < 3200 || hi > 24000 {
		t.Errorf("clip lengths %d..%d samples, want within 3200..24000", lo, hi)
	}
	// Each call is a fresh copy.
	s.Clips[0].Samples[0] = 99
	s2, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	if s2.Clips[0].Samples[0] == 99 {
		t.Error("Embedded shares samples between calls")
	}
}

func maxLen(s *Set) int {
	m := 0
	for _, c := range s.Clips {
		m = max(m, len(c.Samples))
	}
	return m
}

// The embedded archive unpacked into a folder loads identically.
func TestEmbeddedSpeechMatchesFolder(t *testing.T) {
	dir := t.TempDir()
	zr, err := gzip.NewReader(bytes.NewReader(speechTar))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if h.Typeflag == tar.TypeDir {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Dir(p), filepath.Base(p), b)
	}
	emb, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	dirSet, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(emb.Classes, dirSet.Classes) || len(emb.Clips) != len(dirSet.Clips) {
		t.Fatalf("folder: %d clips of %v; embedded: %d clips of %v", len(dirSet.Clips), dirSet.Classes, len(emb.Clips), emb.Classes)
	}
	for i, a := range emb.Clips {
		b := dirSet.Clips[i]
		if a.Label != b.Label || a.Voice != b.Voice || !slices.Equal(a.Samples, b.Samples) {
			t.Fatalf("clip %d differs: embedded %s (label %d, voice %s), folder %s (label %d, voice %s)",
				i, a.Path, a.Label, a.Voice, b.Path, b.Label, b.Voice)
		}
	}
}

func TestSplitByVoice(t *testing.T) {
	s, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	train, test, err := s.SplitByVoice(0.25)
	if err != nil {
		t.Fatal(err)
	}
	trainV, testV := train.Voices(), test.Voices()
	if len(testV) != 6 || len(trainV) != 18 {
		t.Errorf("%d train and %d test voices, want 18 and 6", len(trainV), len(testV))
	}
	for _, v := range testV {
		if slices.Contains(trainV, v) {
			t.Errorf("voice %s is in both train and test", v)
		}
	}
	if len(train.Clips)+len(test.Clips) != len(s.Clips) {
		t.Errorf("%d + %d clips, want %d", len(train.Clips), len(test.Clips), len(s.Clips))
	}
	for _, side := range []*Set{train, test} {
		seen := map[int]bool{}
		for _, c := range side.Clips {
			seen[c.Label] = true
		}
		if len(seen) != len(s.Classes) || !slices.Equal(side.Classes, s.Classes) {
			t.Errorf("%s: %d of %d classes present", side.Source, len(seen), len(s.Classes))
		}
	}
	train2, test2, err := s.SplitByVoice(0.25)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(test2.Voices(), testV) || !slices.Equal(train2.Voices(), trainV) {
		t.Errorf("split not deterministic: test voices %v then %v", testV, test2.Voices())
	}
}

// speechSet builds a set from (voice, label) pairs with one-sample clips.
func speechSet(classes []string, pairs ...any) *Set {
	s := &Set{Classes: classes, Source: "test"}
	for i := 0; i < len(pairs); i += 2 {
		s.Clips = append(s.Clips, Clip{Samples: []float32{float32(i)}, Voice: pairs[i].(string), Label: pairs[i+1].(int)})
	}
	return s
}

func TestSplitByVoiceClassCoverage(t *testing.T) {
	// Evenly spaced picking puts only "c" (class 1) in test; the fix-up
	// moves in "a" (class 0), the first voice whose move keeps train whole.
	s := speechSet([]string{"x", "y"}, "a", 0, "b", 0, "c", 1, "d", 0, "d", 1, "e", 1)
	train, test, err := s.SplitByVoice(0.2)
	if err != nil {
		t.Fatal(err)
	}
	for _, side := range []*Set{train, test} {
		seen := map[int]bool{}
		for _, c := range side.Clips {
			seen[c.Label] = true
		}
		if !seen[0] || !seen[1] {
			t.Errorf("%s (voices %v) lacks a class", side.Source, side.Voices())
		}
	}
	if got := test.Voices(); !slices.Equal(got, []string{"a", "c"}) {
		t.Errorf("test voices %v, want [a c]", got)
	}
}

func TestSplitByVoiceErrors(t *testing.T) {
	two := speechSet([]string{"x"}, "a", 0, "b", 0)
	tests := []struct {
		name string
		set  *Set
		frac float64
		want string
	}{
		{"one voice", speechSet([]string{"x"}, "a", 0, "a", 0), 0.5, "1 voice(s), need at least 2"},
		{"zero frac", two, 0, "must be in (0,1), got 0"},
		{"one frac", two, 1, "must be in (0,1), got 1"},
		{"NaN frac", two, math.NaN(), "must be in (0,1), got NaN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := tt.set.SplitByVoice(tt.frac)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	// Tiny fractions still give one test voice, large ones keep one train voice.
	for _, frac := range []float64{0.01, 0.99} {
		train, test, err := two.SplitByVoice(frac)
		if err != nil || len(train.Clips) != 1 || len(test.Clips) != 1 {
			t.Errorf("frac %g: %v; want one voice each side", frac, err)
		}
	}
}

func TestCropOrPad(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5}
	tests := []struct {
		name   string
		n      int
		offset int
		want   []float32
	}{
		{"crop start", 3, 0, []float32{1, 2, 3}},
		{"crop middle", 3, 1, []float32{2, 3, 4}},
		{"crop end", 3, 2, []float32{3, 4, 5}},
		{"exact", 5, 0, []float32{1, 2, 3, 4, 5}},
		{"pad with zeros after", 7, 0, []float32{1, 2, 3, 4, 5, 0, 0}},
		{"pad ignores offset", 7, 3, []float32{1, 2, 3, 4, 5, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := slices.Repeat([]float32{-9}, tt.n) // stale values must be overwritten
			CropOrPad(dst, x, tt.offset)
			if !slices.Equal(dst, tt.want) {
				t.Errorf("got %v, want %v", dst, tt.want)
			}
		})
	}
	for _, off := range []int{-1, 3} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "outside [0, 2]") {
					t.Errorf("offset %d: panic %v, want one naming the range", off, r)
				}
			}()
			CropOrPad(make([]float32, 3), x, off)
		}()
	}
}

func TestMinLenFilter(t *testing.T) {
	s := &Set{Source: "test", Classes: []string{"x"}, Skipped: 1, SkipReasons: []string{"s: silent"}, Clips: []Clip{
		{Samples: make([]float32, 5), Voice: "a"},
		{Samples: make([]float32, 2), Voice: "b"},
		{Samples: make([]float32, 9), Voice: "c"},
	}}
	if got := s.MinLen(); got != 2 {
		t.Errorf("MinLen %d, want 2", got)
	}
	if got := (&Set{}).MinLen(); got != 0 {
		t.Errorf("empty MinLen %d, want 0", got)
	}
	kept, dropped := s.Filter(5)
	if dropped != 1 || len(kept.Clips) != 2 || kept.Clips[0].Voice != "a" || kept.Clips[1].Voice != "c" {
		t.Errorf("Filter(5): kept %d (%v), dropped %d; want a, c and 1", len(kept.Clips), kept.Voices(), dropped)
	}
	if kept.MinLen() != 5 || kept.Skipped != 1 || !slices.Equal(kept.Classes, s.Classes) || len(s.Clips) != 3 {
		t.Errorf("Filter changed metadata or the original set: %+v", kept)
	}
}

func TestLoadSpeechDir(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"no", "yes", ".hidden"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, dir, "README.md", []byte("ignored beside class folders"))
	writeFile(t, filepath.Join(dir, "yes"), "alice_1.wav", wav16(8000, 800, 0.5))  // 0.1 s at 8 kHz
	writeFile(t, filepath.Join(dir, "yes"), "bob_1.wav", wav16(16000, 1600, 0.25)) // 0.1 s at 16 kHz
	writeFile(t, filepath.Join(dir, "yes"), ".DS_Store", []byte("junk"))
	writeFile(t, filepath.Join(dir, "no"), "bob.wav", wav16(16000, 1000, 0.5))
	writeFile(t, filepath.Join(dir, "no"), "carol_quiet.wav", wav16(16000, 1000, 0)) // silent
	writeFile(t, filepath.Join(dir, ".hidden"), "x.txt", []byte("not a class"))

	s, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Classes, []string{"no", "yes"}) || s.Source != dir {
		t.Errorf("classes %v, source %q", s.Classes, s.Source)
	}
	type got struct {
		voice        string
		label, n     int
		pathEndsWith string
	}
	want := []got{{"bob", 0, 1000, "bob.wav"}, {"alice", 1, 1600, "alice_1.wav"}, {"bob", 1, 1600, "bob_1.wav"}}
	if len(s.Clips) != len(want) {
		t.Fatalf("%d clips, want %d", len(s.Clips), len(want))
	}
	for i, w := range want {
		c := s.Clips[i]
		if c.Voice != w.voice || c.Label != w.label || len(c.Samples) != w.n || !strings.HasSuffix(c.Path, w.pathEndsWith) {
			t.Errorf("clip %d: voice %s label %d len %d path %s; want %+v", i, c.Voice, c.Label, len(c.Samples), c.Path, w)
		}
		checkNormalised(t, c.Path, c.Samples)
	}
	if s.Skipped != 1 || len(s.SkipReasons) != 1 || !strings.Contains(s.SkipReasons[0], "carol_quiet.wav") ||
		!strings.Contains(s.SkipReasons[0], "silent") {
		t.Errorf("skipped %d: %q; want 1 naming carol_quiet.wav as silent", s.Skipped, s.SkipReasons)
	}

	flat := t.TempDir()
	writeFile(t, flat, "zed_a.wav", wav16(8000, 400, 0.5))
	writeFile(t, flat, "amy.wav", wav16(22050, 441, 0.5))
	u, err := LoadDir(flat)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Classes) != 0 || len(u.Clips) != 2 || u.Clips[0].Voice != "amy" || u.Clips[1].Voice != "zed" ||
		u.Clips[0].Label != -1 || u.Clips[1].Label != -1 || len(u.Clips[0].Samples) != 320 || len(u.Clips[1].Samples) != 800 {
		t.Errorf("flat folder: classes %v, clips %+v", u.Classes, u.Clips)
	}
}

func TestLoadSpeechDirErrors(t *testing.T) {
	good := wav16(16000, 100, 0.5)
	tests := []struct {
		name  string
		files map[string][]byte // relative path -> contents; "dir/" makes an empty folder
		want  []string          // substrings of the error
	}{
		{"empty folder", nil, []string{"no WAV files"}},
		{"empty class folder", map[string][]byte{"a/x.wav": good, "b/": nil}, []string{"b: class folder has no WAV files"}},
		{"truncated", map[string][]byte{"a/x.wav": good, "a/y.wav": good[:len(good)-7]}, []string{"y.wav", "truncated"}},
		{"header only", map[string][]byte{"z.wav": good[:20]}, []string{"z.wav"}},
		{"only a stray file", map[string][]byte{"a/notes.txt": []byte("hello, this is text")}, []string{"a: class folder has no WAV files, 1 stray file ignored", "notes.txt"}},
		{"flat, only stray files", map[string][]byte{"y.mp3": []byte("ID3\x03\x00\x00\x00\x00\x00\x00\x00\x00"), "z.txt": nil}, []string{"no WAV files, 2 stray files ignored (first:", "y.mp3"}},
		{"named .wav, not a WAV", map[string][]byte{"a/x.wav": good, "a/y.WAV": []byte("hello, this is text")}, []string{"y.WAV", "not a WAV file"}},
		{"a WAV by content, truncated", map[string][]byte{"a/x.wav": good, "a/y.dat": good[:len(good)-7]}, []string{"y.dat", "truncated"}},
		{"rate 100 Hz", map[string][]byte{"slow.wav": wav16(100, 100, 0.5)}, []string{"slow.wav", "sample rate 100 Hz"}},
		{"all silent", map[string][]byte{"q.wav": wav16(16000, 100, 0)}, []string{"all 1 clips were skipped", "q.wav"}},
		{"missing folder", map[string][]byte{"-": nil}, []string{"no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, b := range tt.files {
				switch {
				case name == "-":
					dir = filepath.Join(dir, "missing")
				case strings.HasSuffix(name, "/"):
					if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
						t.Fatal(err)
					}
				default:
					p := filepath.Join(dir, name)
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						t.Fatal(err)
					}
					writeFile(t, filepath.Dir(p), filepath.Base(p), b)
				}
			}
			_, err := LoadDir(dir)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			for _, w := range append(tt.want, filepath.Base(dir)) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

// TestLoadSpeechDirSkipsStrayFiles: files that are neither named .wav nor
// start like a WAV file are passed over and listed, in both layouts; a WAV
// under another name still loads.
func TestLoadSpeechDirSkipsStrayFiles(t *testing.T) {
	good := wav16(16000, 100, 0.5)
	for _, tt := range []struct {
		name  string
		files map[string][]byte
		clips int
		stray []string
	}{
		{"labelled", map[string][]byte{"a/x.wav": good, "a/notes.txt": []byte("notes"), "a/y.mp3": []byte("ID3\x03"),
			"b/z.wav": good, "b/README": nil, "b/clip.dat": good, "README.md": []byte("loose, beside the classes")}, 3,
			[]string{"a/notes.txt", "a/y.mp3", "b/README"}},
		{"flat", map[string][]byte{"x.wav": good, "notes.txt": []byte("notes")}, 1, []string{"notes.txt"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, b := range tt.files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				writeFile(t, filepath.Dir(p), filepath.Base(p), b)
			}
			s, err := LoadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]string, len(tt.stray))
			for i, f := range tt.stray {
				want[i] = filepath.Join(dir, f)
			}
			if len(s.Clips) != tt.clips || !slices.Equal(s.Ignored, want) || s.Skipped != 0 {
				t.Errorf("%d clips, ignored %v, skipped %d; want %d clips, ignored %v", len(s.Clips), s.Ignored, s.Skipped, tt.clips, want)
			}
			if note := data.IgnoredNote(s.Ignored); !strings.Contains(note, fmt.Sprintf("%d stray file", len(want))) || !strings.Contains(note, want[0]) {
				t.Errorf("IgnoredNote = %q", note)
			}
		})
	}
}
