package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadWordNet feeds arbitrary lexnames and data.noun files to
// LoadWordNet: it never panics; an error is one line naming the folder; an
// accepted set has a non-empty text and a valid class for every example.
func FuzzLoadWordNet(f *testing.F) {
	noun, err := os.ReadFile("testdata/wordnet/data.noun")
	if err != nil {
		f.Fatal(err)
	}
	lex, err := os.ReadFile("testdata/wordnet/lexnames")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(lex, noun)
	f.Add([]byte{}, noun) // an empty lexnames file
	f.Add(lex, []byte{})
	f.Add(lex, noun[:len(noun)/2])
	f.Add([]byte("00\tadj.all\t3\n02\tadv.all\t4\n"), noun)
	f.Add(lex, []byte("00000100 99 n 01 cat 0 000 | a cat\n"))
	f.Add(lex, []byte("00000100 05 n 01 cat 0 000 |  ; \"only an example\"\n"))
	f.Add(lex, []byte("0000010 05 n | x\n"))
	f.Add([]byte("00 a 1\n00 b 1\n"), []byte("00000100 00 n 01 cat 0 000 | a cat\n"))
	f.Fuzz(func(t *testing.T, lexnames, data []byte) {
		dir := t.TempDir()
		if len(lexnames) > 0 {
			if err := os.WriteFile(filepath.Join(dir, "lexnames"), lexnames, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "data.noun"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := LoadWordNet(dir, WordNetOptions{POS: []string{"noun"}, MinPerClass: 1})
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, dir) {
				t.Fatalf("error is not one line naming the folder: %q", msg)
			}
			return
		}
		if s.Len() == 0 || len(s.Labels) != s.Len() {
			t.Fatalf("%d texts, %d labels", s.Len(), len(s.Labels))
		}
		for i, l := range s.Labels {
			if l < 0 || l >= len(s.Classes) || s.Texts[i] == "" {
				t.Fatalf("example %d: label %d of %d classes, text %q", i, l, len(s.Classes), s.Texts[i])
			}
		}
	})
}
