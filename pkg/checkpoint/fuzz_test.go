package checkpoint

import (
	"encoding/binary"
	"testing"
)

// FuzzParse checks that Parse never panics and that whatever it accepts
// re-writes and re-parses to the same tensors and metadata.
func FuzzParse(f *testing.F) {
	good, err := encode(sample(), sampleMeta)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(rawFile(`{}`, nil))
	f.Add(rawFile(`{"a":{"dtype":"U8","shape":[8],"data_offsets":[8,16]},"b":{"dtype":"U8","shape":[2,4],"data_offsets":[0,8]}}`, make([]byte, 16)))
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}}`, make([]byte, 16)))
	f.Add(rawFile(`{"a":{"dtype":"U8","shape":[10],"data_offsets":[0,10]},"b":{"dtype":"U8","shape":[8],"data_offsets":[8,16]}}`, make([]byte, 16)))
	f.Add(rawFile(`{"__metadata__":{"k":"v"},"s":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Add(binary.LittleEndian.AppendUint64(nil, 1<<62))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b, "fuzz")
		if err != nil {
			return
		}
		tensors := make([]Tensor, 0, len(p.Order))
		for _, name := range p.Order {
			tensors = append(tensors, p.Tensors[name])
		}
		out, err := encode(tensors, p.Meta)
		if err != nil {
			t.Fatalf("parsed file does not re-write: %v", err)
		}
		q, err := Parse(out, "rewritten")
		if err != nil {
			t.Fatalf("re-written file does not parse: %v", err)
		}
		assertSameFile(t, p, q)
	})
}
