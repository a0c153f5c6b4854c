package speech

import (
	"archive/tar"
	"bytes"
	"math"
	"strings"
	"testing"
)

// checkFileError requires a one-line error that names the file (as
// pkg/data's readers are checked).
func checkFileError(t *testing.T, err error, name string) {
	t.Helper()
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Fatalf("error spans several lines: %q", msg)
	}
	if !strings.Contains(msg, name) {
		t.Fatalf("error does not name %q: %q", name, msg)
	}
}

// tarOf packs name -> contents into an uncompressed tar, in argument order.
func tarOf(tb testing.TB, files ...any) []byte {
	tb.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for i := 0; i < len(files); i += 2 {
		body := files[i+1].([]byte)
		if err := tw.WriteHeader(&tar.Header{Name: files[i].(string), Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			tb.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// FuzzReadSpeechTar checks that the embedded-set reader never panics or
// yields a NaN, that its errors are one line naming the archive, and that
// what it accepts is normalised, labelled within Classes and voiced.
func FuzzReadSpeechTar(f *testing.F) {
	tone, slow := wav16(8000, 64, 0.5), wav16(16000, 100, 0.3)
	f.Add(tarOf(f, "one/a_1.wav", tone, "two/b_1.wav", slow))
	f.Add(tarOf(f, "one/a_1.wav", tone, "one/a_2.wav", wav16(16000, 50, 0)))
	f.Add(tarOf(f, "a_1.wav", tone))
	f.Add(tarOf(f, "one/a_1.wav", tone[:30]))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := readSpeechTar(bytes.NewReader(b), "fuzz.tar")
		if err != nil {
			checkFileError(t, err, "fuzz.tar")
			return
		}
		if len(s.Clips) == 0 || len(s.Classes) == 0 {
			t.Fatalf("accepted with %d clips of %d classes", len(s.Clips), len(s.Classes))
		}
		for _, c := range s.Clips {
			if c.Label < 0 || c.Label >= len(s.Classes) || c.Voice == "" || len(c.Samples) == 0 {
				t.Fatalf("clip %s: label %d of %d classes, voice %q, %d samples", c.Path, c.Label, len(s.Classes), c.Voice, len(c.Samples))
			}
			for i, v := range c.Samples {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("clip %s: sample %d is %v", c.Path, i, v)
				}
			}
		}
	})
}
