package tokenizer

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// loadGPT2 loads OpenAI's GPT-2 files from testdata/gpt2 (see its README.md).
func loadGPT2(tb testing.TB) *BPE {
	tb.Helper()
	dir := filepath.Join("testdata", "gpt2")
	t, err := LoadBPE(filepath.Join(dir, "encoder.json"), filepath.Join(dir, "vocab.bpe"))
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// readLines returns the lines of a file that ends with a newline, keeping
// leading and trailing spaces and tabs.
func readLines(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
}

// TestGPT2Fixture checks every line of lines.txt against the ids that
// gpt-3-encoder@1.1.4 produced (ids.txt, from gen.js), and the round trip.
func TestGPT2Fixture(t *testing.T) {
	tok := loadGPT2(t)
	lines := readLines(t, filepath.Join("testdata", "gpt2", "lines.txt"))
	want := readLines(t, filepath.Join("testdata", "gpt2", "ids.txt"))
	if len(lines) != len(want) || len(lines) < 300 {
		t.Fatalf("lines.txt has %d lines, ids.txt %d; want equal and >= 300", len(lines), len(want))
	}
	for i, line := range lines {
		ids, err := tok.Encode(line)
		if err != nil {
			t.Fatalf("line %d %q: %v", i+1, line, err)
		}
		if got := joinIDs(ids); got != want[i] {
			t.Errorf("line %d %q:\n got %s\nwant %s\npieces %q", i+1, line, got, want[i], pretokenize(line))
			continue
		}
		back, err := tok.Decode(ids)
		if err != nil || back != line {
			t.Errorf("line %d: decode = %q, %v; want %q", i+1, back, err, line)
		}
	}
}

func joinIDs(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	return strings.Join(s, " ")
}

func TestGPT2Specials(t *testing.T) {
	tok := loadGPT2(t)
	// encoder.json has ids 0..50256 and none of the RoBERTa specials.
	want := Specials{BOS: 50257, EOS: 50258, PAD: 50259, MASK: 50260}
	if got := tok.Special(); got != want {
		t.Errorf("Special() = %+v, want %+v", got, want)
	}
	if got := tok.VocabSize(); got != 50261 {
		t.Errorf("VocabSize() = %d, want 50261", got)
	}
	ids := []int{want.BOS, 15496, want.MASK, want.EOS, want.PAD}
	got, err := tok.Decode(ids)
	if err != nil || got != "<s>Hello<mask></s><pad>" {
		t.Errorf("Decode(%v) = %q, %v", ids, got, err)
	}
	// Special strings in text are ordinary text, never special ids.
	enc, err := tok.Encode("<s><mask>")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range enc {
		if id >= 50257 {
			t.Errorf("Encode(\"<s><mask>\") = %v contains a special id", enc)
		}
	}
}

// BenchmarkEncode measures Encode on one paragraph with a warm pre-token
// cache (the steady state on a corpus) and with the cache cleared each call.
func BenchmarkEncode(b *testing.B) {
	tok := loadGPT2(b)
	para := "Self-supervised learning predicts latent representations of the full input, " +
		"and data2vec uses the same method for speech, vision and text: a student network " +
		"regresses the teacher's averaged top-K layer outputs, where the teacher is an " +
		"exponential moving average of the student. It's 2022; they've reported 84.2% on " +
		"ImageNet-1K and an average GLUE score close to RoBERTa's — naïve ideas, 世界, 🙂!"
	for _, cold := range []bool{false, true} {
		name := map[bool]string{false: "warm", true: "cold"}[cold]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(para)))
			n := 0
			for b.Loop() {
				if cold {
					tok.mu.Lock()
					clear(tok.cache)
					tok.mu.Unlock()
				}
				ids, err := tok.Encode(para)
				if err != nil {
					b.Fatal(err)
				}
				n += len(ids)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "tok/s")
		})
	}
}

// TestConcurrentEncode runs Encode from several goroutines; run with -race.
func TestConcurrentEncode(t *testing.T) {
	tok := loadGPT2(t)
	want, _ := tok.Encode("concurrent tokenisation of the same text")
	done := make(chan []int)
	for range 8 {
		go func() {
			ids, _ := tok.Encode("concurrent tokenisation of the same text")
			done <- ids
		}()
	}
	for range 8 {
		if got := <-done; joinIDs(got) != joinIDs(want) {
			t.Errorf("concurrent Encode = %v, want %v", got, want)
		}
	}
}
