package checkpoint

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"github.com/d2v/d2v/internal/atomicfile"
	"io"
	"slices"
	"strings"
)

// wrapWriter lets tests inject write failures such as ENOSPC.
var wrapWriter = func(w io.Writer) io.Writer { return w }

// Write writes tensors and meta to path as a safetensors file, atomically:
// it writes a temp file ".tmp-<base>-<random>" in the same directory, fsyncs
// and closes it, renames it over path and fsyncs the directory. On any error
// the temp file is removed and an existing file at path is left untouched.
// Tensors are validated first (dtype, dims, data length, unique non-empty
// names); names are sorted in the header, so the same input always gives a
// byte-identical file. A nil or empty meta writes no "__metadata__".
func Write(path string, tensors []Tensor, meta map[string]string) error {
	header, sorted, err := encodeHeader(tensors, meta)
	if err != nil {
		return fmt.Errorf("checkpoint: %s: %v", path, err)
	}
	if err := atomicfile.Write(path, func(w io.Writer) error { return writeBody(wrapWriter(w), header, sorted) }); err != nil {
		return fmt.Errorf("checkpoint: write %s: %w", path, err)
	}
	return nil
}

// WriteFileAtomic writes b to path the same way as Write: temp file, fsync,
// rename, directory fsync; an existing file survives any failure.
func WriteFileAtomic(path string, b []byte) error {
	if err := atomicfile.Write(path, func(w io.Writer) error { _, err := wrapWriter(w).Write(b); return err }); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// encode returns the whole file in memory; used by tests and the fuzzer.
func encode(tensors []Tensor, meta map[string]string) ([]byte, error) {
	header, sorted, err := encodeHeader(tensors, meta)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := writeBody(&buf, header, sorted); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeBody writes the length prefix, the header and the data of sorted.
func writeBody(w io.Writer, header []byte, sorted []Tensor) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
	if _, err := bw.Write(n[:]); err != nil {
		return err
	}
	if _, err := bw.Write(header); err != nil {
		return err
	}
	for _, t := range sorted {
		if _, err := bw.Write(t.Data); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// encodeHeader validates the tensors and returns the space-padded JSON
// header and the tensors sorted by name, in data-section order.
func encodeHeader(tensors []Tensor, meta map[string]string) ([]byte, []Tensor, error) {
	sorted := slices.Clone(tensors)
	slices.SortFunc(sorted, func(a, b Tensor) int { return strings.Compare(a.Name, b.Name) })
	for i, t := range sorted {
		if i > 0 && sorted[i-1].Name == t.Name {
			return nil, nil, fmt.Errorf("duplicate tensor %q", t.Name)
		}
		if err := t.validate(); err != nil {
			return nil, nil, err
		}
	}
	var h bytes.Buffer
	h.WriteByte('{')
	if len(meta) > 0 {
		h.WriteString(`"` + metadataKey + `":`)
		h.Write(marshal(meta)) // map keys come out sorted
	}
	var off int64
	for i, t := range sorted {
		if i > 0 || len(meta) > 0 {
			h.WriteByte(',')
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		end := off + int64(len(t.Data))
		fmt.Fprintf(&h, `%s:{"dtype":%s,"shape":%s,"data_offsets":[%d,%d]}`,
			marshal(t.Name), marshal(t.DType), marshal(shape), off, end)
		off = end
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	return h.Bytes(), sorted, nil
}

// marshal encodes v as compact JSON without HTML escaping. v is always a
// string, []int or map[string]string, which cannot fail to encode.
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("checkpoint: encoding %T: %v", v, err))
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
