package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzTexts are seeds for the encode fuzzers: ASCII, contractions, runs of
// spaces, several scripts, emoji, special-token strings and invalid UTF-8.
var fuzzTexts = []string{
	"",
	"Hello, world!",
	"  leading and trailing  ",
	"I'm sure they'll've done it's",
	"tabs\tand\nnewlines\r\n\n",
	"naïve café 東京 Привет مرحبا 😀👍🏽🇫🇷",
	"<s>not special</s><pad><mask>",
	"1234567890 3.14 -42",
	"\u00a0\u2003\u3000 unicode spaces",
	"\x00\x01\x7f control",
	"bad \xff byte",
	"cut \xe2\x82",
	"\xed\xa0\x80 surrogate",
}

// checkEncode checks the encode contract of tok on s: invalid UTF-8 is an
// error (one line), valid UTF-8 gives ids below VocabSize that decode to s.
func checkEncode(t *testing.T, tok Tokenizer, s string) {
	t.Helper()
	ids, err := tok.Encode(s)
	if !utf8.ValidString(s) {
		if err == nil {
			t.Fatalf("Encode(%q) accepted invalid UTF-8", s)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Fatalf("error spans several lines: %q", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("Encode(%q): %v", s, err)
	}
	for i, id := range ids {
		if id < 0 || id >= tok.VocabSize() {
			t.Fatalf("Encode(%q): id %d at %d outside [0,%d)", s, id, i, tok.VocabSize())
		}
	}
	back, err := tok.Decode(ids)
	if err != nil {
		t.Fatalf("Decode(Encode(%q)): %v", s, err)
	}
	if back != s {
		t.Fatalf("Decode(Encode(%q)) = %q", s, back)
	}
}

// FuzzBytesRoundTrip checks the byte tokenizer's encode contract.
func FuzzBytesRoundTrip(f *testing.F) {
	for _, s := range fuzzTexts {
		f.Add(s)
	}
	tok := NewBytes()
	f.Fuzz(func(t *testing.T, s string) {
		checkEncode(t, tok, s)
	})
}

// FuzzBPEEncode checks the GPT-2 tokenizer's encode contract.
func FuzzBPEEncode(f *testing.F) {
	for _, s := range fuzzTexts {
		f.Add(s)
	}
	tok := loadGPT2(f) // once: the files take ~100 ms to load
	f.Fuzz(func(t *testing.T, s string) {
		checkEncode(t, tok, s)
	})
}

// FuzzLoadBPEFiles writes a fuzzed vocabulary and merges file and loads
// them: no panic; an error is one line naming the file at fault; a loaded
// tokenizer round-trips text and decodes every id in its vocabulary.
func FuzzLoadBPEFiles(f *testing.F) {
	vocab := map[string]int{}
	for _, r := range byteToRune {
		vocab[string(r)] = len(vocab)
	}
	for _, tok := range []string{"Ġl", "lo", "Ġlo", "<s>", "<pad>"} {
		vocab[tok] = len(vocab)
	}
	full, err := json.Marshal(vocab)
	if err != nil {
		f.Fatal(err)
	}
	merges := "#version: 0.2\r\nl o\r\nĠ l\r\nĠl o\r\n"
	f.Add(full, merges)
	f.Add(full, "")
	f.Add(full, "l o\nl o\n")         // duplicate merge
	f.Add(full, "l  o\n")             // two spaces
	f.Add(full, "x y\n")              // merged token missing
	f.Add(full, "#version: 0.2")      // header only
	f.Add(full[:len(full)/2], merges) // truncated JSON
	f.Add([]byte(`{}`), merges)
	f.Add([]byte(`[]`), merges)
	f.Add([]byte(`{"a": -1}`), merges)
	f.Add([]byte(`{"a": 0, "b": 0}`), merges)
	f.Add([]byte(`{"a": 1.5}`), merges)
	f.Add([]byte(`{"a": 99999}`), merges)
	f.Add([]byte(`{"a": 0}`), merges) // not byte-level
	huge := append(full[:len(full)-1:len(full)-1], `,"x":4611686018427387904}`...)
	f.Add(huge, merges) // byte-level, but one id far beyond the others
	f.Fuzz(func(t *testing.T, vocabJSON []byte, mergesText string) {
		dir := t.TempDir()
		vp, mp := filepath.Join(dir, "vocab.json"), filepath.Join(dir, "merges.txt")
		if err := os.WriteFile(vp, vocabJSON, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(mp, []byte(mergesText), 0o644); err != nil {
			t.Fatal(err)
		}
		tok, err := LoadBPE(vp, mp)
		if err != nil {
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Fatalf("error spans several lines: %q", msg)
			}
			if !strings.Contains(msg, vp) && !strings.Contains(msg, mp) {
				t.Fatalf("error names neither file: %q", msg)
			}
			return
		}
		for id := range tok.VocabSize() {
			_, special := tok.special.text(id)
			if !special && (id >= len(tok.tokens) || tok.tokens[id] == "") {
				continue // an unused id
			}
			if _, err := tok.Decode([]int{id}); err != nil && !strings.Contains(err.Error(), "outside the byte-level alphabet") {
				t.Fatalf("Decode(%d): %v", id, err)
			}
		}
		checkEncode(t, tok, mergesText)
		checkEncode(t, tok, " lo lol Hello")
	})
}
