package data

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzDocs splits b into documents at each 0xff byte; the other bytes are
// the token ids (0..254), so empty documents and any small id occur.
func fuzzDocs(b []byte) [][]int {
	var docs [][]int
	for _, part := range bytes.Split(b, []byte{0xff}) {
		d := make([]int, len(part))
		for i, c := range part {
			d[i] = int(c)
		}
		docs = append(docs, d)
	}
	return docs
}

// FuzzPack checks Pack against a direct statement of its contract: it fails
// exactly in the documented cases, with a one-line error; otherwise every
// sequence has length (and capacity) seqLen, the sequences concatenated are
// bos doc eos for each non-empty document in order, then fewer than seqLen
// pads, and only the last sequence holds pad.
func FuzzPack(f *testing.F) {
	f.Add([]byte{5, 6, 0xff, 7, 8}, int8(4), int16(0), int16(2), int16(1))
	f.Add([]byte{5, 6, 7, 0xff, 8}, int8(4), int16(0), int16(2), int16(1))
	f.Add([]byte{5, 6, 7, 8, 9}, int8(3), int16(0), int16(2), int16(1))
	f.Add([]byte{0xff, 5, 0xff, 0xff, 6}, int8(5), int16(0), int16(2), int16(1))
	f.Add([]byte{5}, int8(8), int16(256), int16(257), int16(258))
	f.Add([]byte{5}, int8(2), int16(0), int16(2), int16(1))             // seqLen too short
	f.Add([]byte{5}, int8(4), int16(0), int16(2), int16(0))             // pad == bos
	f.Add([]byte{5, 0xff, 6, 1}, int8(4), int16(0), int16(2), int16(1)) // pad in a document
	f.Add([]byte{0xff}, int8(4), int16(0), int16(2), int16(1))          // nothing to pack
	f.Add([]byte{}, int8(-1), int16(3), int16(3), int16(-1))
	f.Fuzz(func(t *testing.T, b []byte, seqLen8 int8, bos16, eos16, pad16 int16) {
		docs := fuzzDocs(b)
		seqLen, bos, eos, pad := int(seqLen8), int(bos16), int(eos16), int(pad16)
		wantErr := seqLen < 3 || pad == bos || pad == eos
		nonEmpty := false
		for _, d := range docs {
			wantErr = wantErr || slices.Contains(d, pad)
			nonEmpty = nonEmpty || len(d) > 0
		}
		wantErr = wantErr || !nonEmpty
		seqs, err := Pack(docs, seqLen, bos, eos, pad)
		if err != nil {
			if !wantErr {
				t.Fatalf("Pack(%v, %d, %d, %d, %d): unexpected error %v", docs, seqLen, bos, eos, pad, err)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "data: pack: ") {
				t.Fatalf("error is not one 'data: pack: ' line: %q", msg)
			}
			return
		}
		if wantErr {
			t.Fatalf("Pack(%v, %d, %d, %d, %d) accepted invalid input", docs, seqLen, bos, eos, pad)
		}
		var want []int
		for _, d := range docs {
			if len(d) > 0 {
				want = append(append(append(want, bos), d...), eos)
			}
		}
		var got []int
		for i, s := range seqs {
			if len(s) != seqLen || cap(s) != seqLen {
				t.Fatalf("sequence %d has len %d cap %d, want %d", i, len(s), cap(s), seqLen)
			}
			if i < len(seqs)-1 && slices.Contains(s, pad) {
				t.Fatalf("sequence %d of %d holds pad: %v", i, len(seqs), s)
			}
			got = append(got, s...)
		}
		if !slices.Equal(got[:min(len(got), len(want))], want) {
			t.Fatalf("tokens out of order:\n got %v\nwant %v then pads", got, want)
		}
		tail := got[len(want):]
		if len(tail) >= seqLen || slices.ContainsFunc(tail, func(id int) bool { return id != pad }) {
			t.Fatalf("tail after the documents is %v; want fewer than %d pads (%d)", tail, seqLen, pad)
		}
	})
}

// FuzzTextDocs checks the splitting of a file into documents: invalid
// UTF-8 is a one-line error naming the file; otherwise every document is
// non-empty, trimmed, valid UTF-8 and named after the file (paragraphs by
// the line they start on, in increasing order), no paragraph holds a blank
// line, and the documents keep every non-space character of the input in
// order.
func FuzzTextDocs(f *testing.F) {
	f.Add([]byte("one\ntwo\n\n\nthree  \r\n\r\n  four\n"), true)
	f.Add([]byte("\uFEFFHello, world.\n\nSecond paragraph.\n"), false)
	f.Add([]byte("\uFEFF \t\n\n\r\n"), true)
	f.Add([]byte("caf\xc3\xa9\n\n\xe2\x80\xa8 \u0085\n"), true)
	f.Add([]byte("bad \xff byte"), true)
	f.Add([]byte("cut \xe2\x82"), false)
	f.Add(opticks[:2000], true)
	const src = "fuzz.txt"
	f.Fuzz(func(t *testing.T, b []byte, paragraph bool) {
		mode := TextModeFile
		if paragraph {
			mode = TextModeParagraph
		}
		docs, err := textDocs(b, src, mode)
		if !utf8.Valid(b) {
			if err == nil {
				t.Fatal("accepted invalid UTF-8")
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, src) {
				t.Fatalf("error is not one line naming %s: %q", src, msg)
			}
			return
		}
		if err != nil {
			t.Fatalf("valid UTF-8 rejected: %v", err)
		}
		text := strings.TrimPrefix(string(b), "\uFEFF")
		lines := strings.Split(text, "\n")
		lastLine := 0
		var texts []string
		for i, d := range docs {
			if d.Text == "" || d.Text != strings.TrimSpace(d.Text) || !utf8.ValidString(d.Text) {
				t.Fatalf("doc %d text %q is empty, untrimmed or invalid", i, d.Text)
			}
			texts = append(texts, d.Text)
			if !paragraph {
				if d.Source != src {
					t.Fatalf("doc %d source %q, want %q", i, d.Source, src)
				}
				continue
			}
			n, err := strconv.Atoi(strings.TrimPrefix(d.Source, src+":"))
			if err != nil || !strings.HasPrefix(d.Source, src+":") || n <= lastLine || n > len(lines) {
				t.Fatalf("doc %d source %q: want %s:<line> after line %d", i, d.Source, src, lastLine)
			}
			lastLine = n
			if first := strings.TrimSpace(lines[n-1]); !strings.HasPrefix(d.Text, first) {
				t.Fatalf("doc %d from line %d starts %q, want %q", i, n, d.Text, first)
			}
			for _, l := range strings.Split(d.Text, "\n") {
				if strings.TrimSpace(l) == "" {
					t.Fatalf("paragraph %d holds a blank line: %q", i, d.Text)
				}
			}
		}
		got := strings.Fields(strings.Join(texts, " "))
		if want := strings.Fields(text); !slices.Equal(got, want) {
			t.Fatalf("documents lost or moved text:\n got %q\nwant %q", got, want)
		}
		if len(docs) == 0 && strings.TrimSpace(text) != "" {
			t.Fatalf("non-blank input %q gave no documents", text)
		}
	})
}
