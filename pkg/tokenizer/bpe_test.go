package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestPretokenize(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"words", "Hello world", []string{"Hello", " world"}},
		{"contractions", "I'm don't we'll", []string{"I", "'m", " don", "'t", " we", "'ll"}},
		{"contraction case-sensitive", "DON'T", []string{"DON", "'", "T"}},
		{"quote run then letter", "'''s", []string{"'''", "s"}},
		{"space before quote", " 's", []string{" '", "s"}},
		{"numbers", "abc123 456", []string{"abc", "123", " 456"}},
		{"punctuation", "x!!! ?..", []string{"x", "!!!", " ?.."}},
		{"two spaces", "a  b", []string{"a", " ", " b"}},
		{"three spaces", "a   b", []string{"a", "  ", " b"}},
		{"tab before word", "a\tb", []string{"a", "\t", "b"}},
		{"spaces then tab", "a  \tb", []string{"a", "  ", "\t", "b"}},
		{"trailing spaces", "a   ", []string{"a", "   "}},
		{"leading spaces", "  a", []string{" ", " a"}},
		{"only spaces", "   ", []string{"   "}},
		{"nbsp is space", "a\u00a0b", []string{"a", "\u00a0", "b"}},
		// GPT-2 uses the Python regex module, whose \s is Unicode White_Space:
		// NEL (U+0085) is a space and BOM (U+FEFF) is not. JavaScript's \s is
		// the other way round, so these cases are not in the npm fixture.
		{"NEL is space", "a\u0085b", []string{"a", "\u0085", "b"}},
		{"BOM is other", "a\ufeffb", []string{"a", "\ufeff", "b"}},
		{"letters and marks", "cafe\u0301", []string{"cafe", "\u0301"}},
		{"emoji ZWJ", " 👨‍👩", []string{" 👨‍👩"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pretokenize(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("pretokenize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if strings.Join(got, "") != tt.in {
				t.Errorf("pieces do not concatenate to the input")
			}
		})
	}
}

func TestByteTable(t *testing.T) {
	if byteToRune[' '] != 'Ġ' || byteToRune['\n'] != 'Ċ' || byteToRune['a'] != 'a' || byteToRune[0xAD] != 'Ń' {
		t.Errorf("byte table: ' '->%q '\\n'->%q 'a'->%q 0xAD->%q", byteToRune[' '], byteToRune['\n'], byteToRune['a'], byteToRune[0xAD])
	}
	if len(runeToByte) != 256 {
		t.Errorf("byte table is not a bijection: %d distinct runes", len(runeToByte))
	}
}

// writeTiny writes a byte-level vocab (256 byte symbols plus extra, ids in
// order) and merges to a temp dir and returns their paths.
func writeTiny(t *testing.T, extra []string, merges string) (string, string) {
	t.Helper()
	vocab := map[string]int{}
	for _, r := range byteToRune {
		vocab[string(r)] = len(vocab)
	}
	for _, tok := range extra {
		vocab[tok] = len(vocab)
	}
	raw, err := json.Marshal(vocab)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	vp, mp := filepath.Join(dir, "vocab.json"), filepath.Join(dir, "merges.txt")
	if err := os.WriteFile(vp, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mp, []byte(merges), 0o644); err != nil {
		t.Fatal(err)
	}
	return vp, mp
}

func TestTinyBPE(t *testing.T) {
	// RoBERTa-style: the vocab holds the specials, so their ids are used.
	extra := []string{"Ġl", "lo", "Ġlo", "<s>", "<pad>", "</s>", "<mask>"}
	vp, mp := writeTiny(t, extra, "#version: 0.2\r\nl o\r\nĠ l\r\nĠl o\r\n")
	tok, err := LoadBPE(vp, mp)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tok.Special(), (Specials{BOS: 259, EOS: 261, PAD: 260, MASK: 262}); got != want {
		t.Errorf("Special() = %+v, want %+v", got, want)
	}
	if got := tok.VocabSize(); got != 263 {
		t.Errorf("VocabSize() = %d, want 263", got)
	}
	// "lo" has rank 0, so " lo" merges l+o first and never uses "Ġl".
	ids, err := tok.Encode(" lo lol")
	if err != nil {
		t.Fatal(err)
	}
	// writeTiny gives byte b's symbol id b, and "lo" id 257.
	want := []int{' ', 257, ' ', 257, 'l'}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("Encode(\" lo lol\") = %v, want %v", ids, want)
	}
	back, err := tok.Decode(append(ids, 259, 262))
	if err != nil || back != " lo lol<s><mask>" {
		t.Errorf("Decode = %q, %v", back, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	tok := loadGPT2(t)
	for _, id := range []int{-1, 50261, 1 << 30} {
		if _, err := tok.Decode([]int{id}); err == nil {
			t.Errorf("Decode([%d]) gave no error", id)
		}
	}
	if _, err := NewBytes().Decode([]int{260}); err == nil {
		t.Errorf("Bytes.Decode([260]) gave no error")
	}
}

func TestLoadErrors(t *testing.T) {
	good, goodMerges := writeTiny(t, []string{"ab"}, "a b\n")
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name          string
		vocab, merges string
		wantFile      string // path the message must name
		wantText      string
	}{
		{"missing vocab", filepath.Join(dir, "nope.json"), goodMerges, "nope.json", "no such file"},
		{"missing merges", good, filepath.Join(dir, "nope.txt"), "nope.txt", "no such file"},
		{"malformed JSON", write("bad.json", `{"a": 1,`), goodMerges, "bad.json", "malformed JSON"},
		{"JSON not a map", write("list.json", `[1,2]`), goodMerges, "list.json", "malformed JSON"},
		{"empty vocab", write("empty.json", `{}`), goodMerges, "empty.json", "empty vocabulary"},
		{"not byte-level", write("words.json", `{"hello": 0}`), goodMerges, "words.json", "no token for byte"},
		{"three tokens", good, write("m3.txt", "a b c\n"), "m3.txt:1", "two tokens"},
		{"one token", good, write("m1.txt", "#version: 0.2\nab\n"), "m1.txt:2", "two tokens"},
		{"part missing", good, write("mp.txt", "a b\nab xyz\n"), "mp.txt:2", "missing from the vocab"},
		{"result missing", good, write("mr.txt", "b a\n"), "mr.txt:1", "missing from the vocab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadBPE(tt.vocab, tt.merges)
			if err == nil {
				t.Fatal("LoadBPE gave no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.wantFile) || !strings.Contains(msg, tt.wantText) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line naming %q and saying %q", msg, tt.wantFile, tt.wantText)
			}
		})
	}
}

func TestEncodeInvalidUTF8(t *testing.T) {
	for _, tok := range []Tokenizer{loadGPT2(t), NewBytes()} {
		_, err := tok.Encode("ok \xff here")
		if err == nil || !strings.Contains(err.Error(), "byte offset 3") {
			t.Errorf("%T.Encode(invalid UTF-8) error = %v, want one naming byte offset 3", tok, err)
		}
	}
}

func TestBytesRoundTrip(t *testing.T) {
	b := NewBytes()
	if got, want := b.Special(), (Specials{BOS: 256, EOS: 257, PAD: 258, MASK: 259}); got != want {
		t.Errorf("Special() = %+v, want %+v", got, want)
	}
	if b.VocabSize() != 260 {
		t.Errorf("VocabSize() = %d, want 260", b.VocabSize())
	}
	text := "héllo, 世界 👍🏽\t<s>"
	ids, err := b.Encode(text)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != len(text) || ids[1] != 0xC3 {
		t.Errorf("Encode(%q) = %v: want one id per UTF-8 byte", text, ids)
	}
	sp := b.Special()
	framed := append(append([]int{sp.BOS}, ids...), sp.EOS, sp.PAD, sp.MASK)
	got, err := b.Decode(framed)
	if want := "<s>" + text + "</s><pad><mask>"; err != nil || got != want {
		t.Errorf("Decode = %q, %v; want %q", got, err, want)
	}
}
