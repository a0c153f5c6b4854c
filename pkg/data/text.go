package data

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// Text document modes for LoadTextFiles.
const (
	TextModeFile      = "file"      // one document per file
	TextModeParagraph = "paragraph" // one document per blank-line separated paragraph
)

// opticksName is where the embedded corpus lives in this package; see
// corpus/README.md for its source and licence.
const opticksName = "corpus/opticks.txt"

// opticks is Newton's Opticks (Project Gutenberg text as shipped in the Go
// source tree, public domain in the USA), about 0.5 MB and 100k words:
// enough real English for tests and smoke runs without a download.
//
//go:embed corpus/opticks.txt
var opticks []byte

// Doc is one text document before tokenisation.
type Doc struct {
	Text string // UTF-8; a paragraph keeps its inner line breaks, outer blank space is trimmed
	// Source says where the text came from: the file path in file mode,
	// "path:line" (1-based line of the paragraph's first line) in
	// paragraph mode; the embedded corpus uses "embedded:corpus/opticks.txt".
	Source string
}

// EmbeddedText returns the embedded Opticks split into paragraphs (blank
// line separated, empty ones dropped), in file order.
func EmbeddedText() ([]Doc, error) {
	docs, err := textDocs(opticks, "embedded:"+opticksName, TextModeParagraph)
	if err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("data: text %s: corpus is empty (no non-blank text)", opticksName)
	}
	return docs, nil
}

// LoadTextFiles reads path, a UTF-8 text file or a folder searched
// recursively for *.txt files (hidden files and folders skipped), visited
// in sorted path order so the document order never depends on the file
// system. mode is TextModeFile or TextModeParagraph. A leading UTF-8 byte
// order mark is dropped and "\r\n" line ends are accepted. Blank files and
// paragraphs yield no document; a corpus with no document at all is an
// error, as is invalid UTF-8 (reported with the file and byte offset).
func LoadTextFiles(path, mode string) ([]Doc, error) {
	if mode != TextModeFile && mode != TextModeParagraph {
		return nil, fmt.Errorf("data: text mode must be %q or %q, got %q", TextModeFile, TextModeParagraph, mode)
	}
	files, err := listTextFiles(path)
	if err != nil {
		return nil, err
	}
	var docs []Doc
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("data: text %s: %w", f, err)
		}
		d, err := textDocs(b, f, mode)
		if err != nil {
			return nil, err
		}
		docs = append(docs, d...)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("data: text %s: corpus is empty (no non-blank text in %d .txt file(s))", path, len(files))
	}
	return docs, nil
}

// listTextFiles returns path itself if it is a file, else the sorted
// non-hidden *.txt files below it.
func listTextFiles(path string) ([]string, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("data: text %s: no such file or folder; point data.path at a .txt file or a folder of them", path)
	}
	if err != nil {
		return nil, fmt.Errorf("data: text %s: %w", path, err)
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		hidden := p != path && strings.HasPrefix(d.Name(), ".")
		switch {
		case d.IsDir() && hidden:
			return filepath.SkipDir
		case !d.IsDir() && !hidden && strings.HasSuffix(d.Name(), ".txt"):
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("data: text %s: %w", path, err)
	}
	slices.Sort(files)
	return files, nil
}

// textDocs checks b is UTF-8 and splits it into documents named after src.
func textDocs(b []byte, src, mode string) ([]Doc, error) {
	if off := invalidUTF8(b); off >= 0 {
		return nil, fmt.Errorf("data: text %s: invalid UTF-8 at byte offset %d; re-encode the file as UTF-8", src, off)
	}
	s := strings.TrimPrefix(string(b), "\uFEFF")
	if mode == TextModeFile {
		if t := strings.TrimSpace(s); t != "" {
			return []Doc{{Text: t, Source: src}}, nil
		}
		return nil, nil
	}
	return paragraphs(s, src), nil
}

// paragraphs splits s on blank (empty or white-space only) lines.
func paragraphs(s, src string) []Doc {
	var docs []Doc
	var para []string
	first := 0 // 1-based line of para[0]
	flush := func() {
		if len(para) > 0 {
			docs = append(docs, Doc{Text: strings.TrimSpace(strings.Join(para, "\n")), Source: fmt.Sprintf("%s:%d", src, first)})
			para = para[:0]
		}
	}
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		if len(para) == 0 {
			first = i + 1
		}
		para = append(para, line)
	}
	flush()
	return docs
}

// invalidUTF8 returns the byte offset of the first invalid UTF-8 sequence
// in b, or -1 if b is valid.
func invalidUTF8(b []byte) int {
	if utf8.Valid(b) {
		return -1
	}
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1 // unreachable: utf8.Valid said otherwise
}

// Pack turns tokenised documents into sequences of exactly seqLen ids.
// Each document becomes bos, its tokens, eos; the documents are
// concatenated in order and cut every seqLen ids, so a sequence may span
// a document boundary (RoBERTa's FULL-SENTENCES packing, Liu et al.,
// 2019, §4.2; fairseq's sample_break_mode "none" over bos/eos-wrapped
// documents). The last, partial sequence is filled with pad. Documents
// with no tokens are skipped. The result is a pure function of the inputs.
//
// Pack fails when seqLen < 3 (room for bos, one token and eos), when pad
// equals bos or eos, when a document holds the pad id (PadMask could not
// tell it from padding), or when there is nothing to pack.
func Pack(docs [][]int, seqLen, bos, eos, pad int) ([][]int, error) {
	switch {
	case seqLen < 3:
		return nil, fmt.Errorf("data: pack: sequence length must be >= 3 (bos, a token, eos), got %d", seqLen)
	case pad == bos || pad == eos:
		return nil, fmt.Errorf("data: pack: pad id %d must differ from bos %d and eos %d", pad, bos, eos)
	}
	total := 0
	for i, d := range docs {
		if j := slices.Index(d, pad); j >= 0 {
			return nil, fmt.Errorf("data: pack: document %d holds the pad id %d at token %d", i, pad, j)
		}
		if len(d) > 0 {
			total += len(d) + 2
		}
	}
	if total == 0 {
		return nil, fmt.Errorf("data: pack: no tokens in %d document(s)", len(docs))
	}
	flat := make([]int, 0, (total+seqLen-1)/seqLen*seqLen)
	for _, d := range docs {
		if len(d) > 0 {
			flat = append(flat, bos)
			flat = append(flat, d...)
			flat = append(flat, eos)
		}
	}
	for len(flat)%seqLen != 0 {
		flat = append(flat, pad)
	}
	seqs := make([][]int, 0, len(flat)/seqLen)
	for s := 0; s < len(flat); s += seqLen {
		seqs = append(seqs, flat[s:s+seqLen:s+seqLen]) // capped: appending to one never overwrites the next
	}
	return seqs, nil
}

// PadMask returns a mask of len(seq) that is true where seq holds pad
// (fairseq's key_padding_mask convention: true = ignore).
func PadMask(seq []int, pad int) []bool {
	m := make([]bool, len(seq))
	for i, id := range seq {
		m[i] = id == pad
	}
	return m
}
