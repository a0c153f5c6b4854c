package checkpoint

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"unicode/utf8"
)

const (
	metadataKey = "__metadata__"
	// maxHeader bounds the JSON header so a corrupt length cannot make us
	// allocate or scan gigabytes; real headers are well under 1 MB.
	maxHeader = 100 << 20
)

// File is a parsed safetensors file.
type File struct {
	Tensors map[string]Tensor
	Order   []string          // tensor names, sorted
	Meta    map[string]string // "__metadata__"; never nil
}

// Read reads and validates the safetensors file at path.
func Read(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return Parse(b, path)
}

// headerEntry is one tensor's header record. Pointers tell a missing field
// from an empty one.
type headerEntry struct {
	DType       *string  `json:"dtype"`
	Shape       *[]int   `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

// Parse validates b as a safetensors file; name is used in error messages
// only. Tensor Data slices alias b, so b must not be modified afterwards.
func Parse(b []byte, name string) (*File, error) {
	fail := func(format string, args ...any) (*File, error) {
		return nil, fmt.Errorf("checkpoint: %s: "+format, append([]any{name}, args...)...)
	}
	if len(b) < 8 {
		return fail("file is %d bytes, shorter than the 8-byte header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > maxHeader {
		return fail("header length %d exceeds the %d-byte limit (corrupt file?)", n, maxHeader)
	}
	if n > uint64(len(b)-8) {
		return fail("header length %d exceeds the %d bytes after it (truncated file?)", n, len(b)-8)
	}
	header, data := b[8:8+n], b[8+n:]
	entries, meta, err := parseHeader(header)
	if err != nil {
		return fail("header: %v", err)
	}
	f := &File{Tensors: make(map[string]Tensor, len(entries)), Meta: meta}
	for name := range entries {
		f.Order = append(f.Order, name)
	}
	slices.Sort(f.Order)
	spans := make([]span, 0, len(entries))
	for _, tn := range f.Order {
		e := entries[tn]
		t, sp, err := e.tensor(tn, data)
		if err != nil {
			return fail("%v", err)
		}
		f.Tensors[tn] = t
		spans = append(spans, sp)
	}
	if err := checkTiling(spans, int64(len(data))); err != nil {
		return fail("%v", err)
	}
	return f, nil
}

// parseHeader decodes the JSON header, rejecting duplicate keys and unknown
// fields, which encoding/json would otherwise silently accept.
func parseHeader(h []byte) (map[string]headerEntry, map[string]string, error) {
	if !utf8.Valid(h) {
		return nil, nil, errors.New("not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(h))
	dec.DisallowUnknownFields()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, errors.New("invalid JSON: want an object")
	}
	entries := map[string]headerEntry{}
	meta := map[string]string{}
	seenMeta := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("invalid JSON: %v", err)
		}
		key, _ := tok.(string) // object keys are always strings
		if key == metadataKey {
			if seenMeta {
				return nil, nil, fmt.Errorf("duplicate key %q", key)
			}
			seenMeta = true
			if err := dec.Decode(&meta); err != nil {
				return nil, nil, fmt.Errorf("%s: invalid JSON (want string to string map): %v", key, err)
			}
			if meta == nil { // "__metadata__": null
				meta = map[string]string{}
			}
			continue
		}
		if _, dup := entries[key]; dup {
			return nil, nil, fmt.Errorf("duplicate tensor %q", key)
		}
		var e headerEntry
		if err := dec.Decode(&e); err != nil {
			return nil, nil, fmt.Errorf("tensor %q: invalid JSON: %v", key, err)
		}
		entries[key] = e
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, nil, fmt.Errorf("invalid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errors.New("invalid JSON: data after the closing brace")
	}
	return entries, meta, nil
}

// span is the byte range one tensor occupies in the data section.
type span struct {
	name       string
	begin, end int64
}

// tensor checks one header entry against the data section and slices out
// its bytes.
func (e headerEntry) tensor(name string, data []byte) (Tensor, span, error) {
	switch {
	case e.DType == nil:
		return Tensor{}, span{}, fmt.Errorf("tensor %q: missing dtype", name)
	case e.Shape == nil:
		return Tensor{}, span{}, fmt.Errorf("tensor %q: missing shape", name)
	case e.DataOffsets == nil:
		return Tensor{}, span{}, fmt.Errorf("tensor %q: missing data_offsets", name)
	}
	off := *e.DataOffsets
	if len(off) != 2 {
		return Tensor{}, span{}, fmt.Errorf("tensor %q: data_offsets has %d values, want [begin, end]", name, len(off))
	}
	sp := span{name: name, begin: off[0], end: off[1]}
	if sp.begin < 0 || sp.begin > sp.end || sp.end > int64(len(data)) {
		hint := ""
		if sp.begin >= 0 && sp.begin <= sp.end {
			hint = " (truncated file?)"
		}
		return Tensor{}, span{}, fmt.Errorf("tensor %q: data_offsets [%d,%d] out of range for a %d-byte data section%s",
			name, sp.begin, sp.end, len(data), hint)
	}
	t := Tensor{Name: name, DType: *e.DType, Shape: *e.Shape, Data: data[sp.begin:sp.end:sp.end]}
	if t.Shape == nil {
		t.Shape = []int{}
	}
	if err := t.validate(); err != nil {
		return Tensor{}, span{}, err
	}
	return t, sp, nil
}

// checkTiling checks that the spans cover [0, size) exactly once.
func checkTiling(spans []span, size int64) error {
	slices.SortFunc(spans, func(a, b span) int {
		if a.begin != b.begin {
			return cmp.Compare(a.begin, b.begin)
		}
		return cmp.Compare(a.end, b.end)
	})
	var at int64
	prev := ""
	for _, s := range spans {
		switch {
		case s.begin < at:
			return fmt.Errorf("tensor %q: data_offsets [%d,%d] overlap tensor %q, which ends at %d",
				s.name, s.begin, s.end, prev, at)
		case s.begin > at:
			return fmt.Errorf("tensor %q: data_offsets [%d,%d] leave a %d-byte gap before it",
				s.name, s.begin, s.end, s.begin-at)
		}
		at, prev = s.end, s.name
	}
	if at != size {
		return fmt.Errorf("%d trailing bytes after the last tensor", size-at)
	}
	return nil
}
