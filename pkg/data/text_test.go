package data

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEmbeddedText(t *testing.T) {
	docs, err := EmbeddedText()
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) <= 100 {
		t.Fatalf("%d documents, want > 100", len(docs))
	}
	for i, d := range docs {
		if !utf8.ValidString(d.Text) || strings.TrimSpace(d.Text) != d.Text || d.Text == "" {
			t.Fatalf("doc %d (%s): invalid, empty or untrimmed text %q", i, d.Source, d.Text)
		}
		if strings.Contains(d.Text, "\n\n") {
			t.Fatalf("doc %d (%s) holds a blank line", i, d.Source)
		}
	}
	if want := "embedded:corpus/opticks.txt:1"; docs[0].Source != want {
		t.Errorf("first source %q, want %q", docs[0].Source, want)
	}
	if !strings.HasPrefix(docs[0].Text, "Produced by Suzanne Lybarger") {
		t.Errorf("first doc starts %q", docs[0].Text[:40])
	}
}

// writeFiles creates the named files (slash paths) under a temp dir.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadTextFiles(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"b.txt":        "two\n\n  \nthree\r\nthree b\r\n",
		"a.txt":        "\uFEFFone\n",
		"sub/c.txt":    "\n\nfour\n\n\nfive",
		"sub/skip.md":  "not text",
		".hidden.txt":  "hidden",
		".git/x.txt":   "hidden",
		"blank.txt":    " \n\t\n",
		"sub/z/d.txt":  "six",
		"sub/z/e.json": "{}",
	})
	src := func(name string) string { return filepath.Join(dir, filepath.FromSlash(name)) }
	tests := []struct {
		mode    string
		texts   []string
		sources []string
	}{
		{TextModeFile,
			[]string{"one", "two\n\n  \nthree\r\nthree b", "four\n\n\nfive", "six"},
			[]string{src("a.txt"), src("b.txt"), src("sub/c.txt"), src("sub/z/d.txt")}},
		{TextModeParagraph,
			[]string{"one", "two", "three\nthree b", "four", "five", "six"},
			[]string{src("a.txt") + ":1", src("b.txt") + ":1", src("b.txt") + ":4", src("sub/c.txt") + ":3", src("sub/c.txt") + ":6", src("sub/z/d.txt") + ":1"}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			docs, err := LoadTextFiles(dir, tt.mode)
			if err != nil {
				t.Fatal(err)
			}
			var texts, sources []string
			for _, d := range docs {
				texts, sources = append(texts, d.Text), append(sources, d.Source)
			}
			if !slices.Equal(texts, tt.texts) {
				t.Errorf("texts %q\nwant  %q", texts, tt.texts)
			}
			if !slices.Equal(sources, tt.sources) {
				t.Errorf("sources %q\nwant    %q", sources, tt.sources)
			}
		})
	}
	t.Run("single file", func(t *testing.T) {
		docs, err := LoadTextFiles(src("b.txt"), TextModeParagraph)
		if err != nil || len(docs) != 2 {
			t.Fatalf("got %d docs, err %v; want 2", len(docs), err)
		}
	})
}

func TestLoadTextFilesErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"ok/a.txt":    "fine",
		"bad/a.txt":   "fine",
		"bad/b.txt":   "caf\xc3\xa9 ok \xff bad",
		"empty/a.txt": "\n \n",
		"none/a.md":   "no txt here",
	})
	tests := []struct {
		name, path, mode string
		want             []string // substrings of the one-line error
	}{
		{"missing", filepath.Join(dir, "nope"), TextModeFile, []string{filepath.Join(dir, "nope"), "no such file"}},
		{"invalid utf8", filepath.Join(dir, "bad"), TextModeParagraph, []string{filepath.Join(dir, "bad", "b.txt"), "invalid UTF-8", "offset 9"}},
		{"blank corpus", filepath.Join(dir, "empty"), TextModeFile, []string{"empty", "no non-blank text"}},
		{"no txt files", filepath.Join(dir, "none"), TextModeParagraph, []string{"empty", "0 .txt file"}},
		{"bad mode", filepath.Join(dir, "ok"), "lines", []string{`"lines"`, "paragraph"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadTextFiles(tt.path, tt.mode)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}

func TestPack(t *testing.T) {
	const bos, eos, pad = 0, 2, 1
	tests := []struct {
		name   string
		docs   [][]int
		seqLen int
		want   [][]int
	}{
		{"exact fit", [][]int{{5, 6}, {7, 8}}, 4, [][]int{{0, 5, 6, 2}, {0, 7, 8, 2}}},
		{"spans documents", [][]int{{5, 6, 7}, {8}}, 4,
			[][]int{{0, 5, 6, 7}, {2, 0, 8, 2}}},
		{"padding", [][]int{{5, 6, 7, 8, 9}}, 3, [][]int{{0, 5, 6}, {7, 8, 9}, {2, 1, 1}}},
		{"empty doc skipped", [][]int{{}, {5}, nil, {6}}, 5, [][]int{{0, 5, 2, 0, 6}, {2, 1, 1, 1, 1}}},
		{"one short doc", [][]int{{5}}, 8, [][]int{{0, 5, 2, 1, 1, 1, 1, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Pack(tt.docs, tt.seqLen, bos, eos, pad)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, tt.want, slices.Equal[[]int]) {
				t.Fatalf("Pack = %v, want %v", got, tt.want)
			}
			again, _ := Pack(tt.docs, tt.seqLen, bos, eos, pad)
			if !slices.EqualFunc(got, again, slices.Equal[[]int]) {
				t.Fatal("Pack is not deterministic")
			}
		})
	}
	t.Run("sequences do not share backing", func(t *testing.T) {
		got, _ := Pack([][]int{{5, 6, 7, 8, 9, 10}}, 4, bos, eos, pad)
		_ = append(got[0], 99)
		if got[1][0] != 8 {
			t.Fatalf("append to seq 0 changed seq 1: %v", got[1])
		}
	})
}

func TestPackErrors(t *testing.T) {
	tests := []struct {
		name        string
		docs        [][]int
		seqLen, pad int
		want        string
	}{
		{"short seq", [][]int{{5}}, 2, 1, "must be >= 3"},
		{"pad is bos", [][]int{{5}}, 4, 0, "must differ"},
		{"pad in doc", [][]int{{5}, {6, 1}}, 4, 1, "document 1 holds the pad id 1 at token 1"},
		{"nothing", [][]int{{}, nil}, 4, 1, "no tokens in 2 document(s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Pack(tt.docs, tt.seqLen, 0, 2, tt.pad)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestPadMask(t *testing.T) {
	got := PadMask([]int{0, 5, 2, 1, 1}, 1)
	if want := []bool{false, false, false, true, true}; !slices.Equal(got, want) {
		t.Fatalf("PadMask = %v, want %v", got, want)
	}
}
