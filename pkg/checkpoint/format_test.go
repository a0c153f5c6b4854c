package checkpoint

import (
	"bytes"
	"encoding/binary"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sample has every dtype, a scalar, an empty tensor and odd-sized data so
// that the header padding and data offsets are exercised.
func sample() []Tensor {
	return []Tensor{
		F32("student.pos", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}),
		rawF64("ema.decay", nil, 0.999),
		rawI64("batch.ids", []int{2, 2}, 1, -2, 3, 1<<50),
		rawI32("batch.len", []int{3}, 5, 6, -7),
		{Name: "batch.mask", DType: DTypeU8, Shape: []int{5}, Data: []byte{1, 0, 1, 1, 0}},
		F32("student.empty", []int{0, 4}, nil),
	}
}

var sampleMeta = map[string]string{"step": "100", "format_version": "1", "config": "model:\n  dim: 32 # <&>\n"}

func TestRoundtrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.safetensors")
	if err := Write(path, sample(), sampleMeta); err != nil {
		t.Fatal(err)
	}
	f, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	in := sample()
	names := make([]string, len(in))
	for i, tt := range in {
		names[i] = tt.Name
	}
	slices.Sort(names)
	if !slices.Equal(f.Order, names) {
		t.Errorf("Order = %v, want %v", f.Order, names)
	}
	for _, want := range in {
		got := f.Tensors[want.Name]
		if got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) || !bytes.Equal(got.Data, want.Data) {
			t.Errorf("%s: got %+v, want %+v", want.Name, got, want)
		}
	}
	if !maps.Equal(f.Meta, sampleMeta) {
		t.Errorf("Meta = %v, want %v", f.Meta, sampleMeta)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, want 0644", st.Mode().Perm())
	}
}

func TestDeterministicAndPadded(t *testing.T) {
	a, err := encode(sample(), sampleMeta)
	if err != nil {
		t.Fatal(err)
	}
	rev := sample()
	slices.Reverse(rev)
	b, err := encode(rev, maps.Clone(sampleMeta))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("same tensors in another order gave different bytes")
	}
	n := binary.LittleEndian.Uint64(a)
	if n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	if h := string(a[8 : 8+n]); !strings.HasPrefix(h, `{"__metadata__":`) || strings.TrimRight(h, " ")[len(strings.TrimRight(h, " "))-1] != '}' {
		t.Errorf("header = %q", h)
	}
	// No metadata: no "__metadata__" key, and Parse still gives a non-nil map.
	c, err := encode(sample()[:1], nil)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(c, []byte(metadataKey)) {
		t.Error("empty meta written")
	}
	if f, err := Parse(c, "c"); err != nil || f.Meta == nil {
		t.Errorf("Parse = %v, %v", f, err)
	}
}

// fixtureDir holds the PyTorch reference fixtures; it lives outside the repo.
const fixtureDir = "../../../shared/reference/fixtures"

func TestReadFixtures(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join(fixtureDir, "*.safetensors"))
	if len(paths) == 0 {
		t.Skipf("no fixtures in %s", fixtureDir)
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			f, err := Read(p)
			if err != nil {
				t.Fatal(err)
			}
			pos, ok := f.Tensors["init.student.pos"]
			if !ok || pos.DType != DTypeF32 || len(pos.Shape) != 2 {
				t.Fatalf("init.student.pos = %v %v %v", ok, pos.DType, pos.Shape)
			}
			if dim := f.Meta["dim"]; dim == "" || FormatShape(pos.Shape[1:]) != "("+dim+")" {
				t.Errorf("meta dim = %q, pos shape %v", dim, pos.Shape)
			}
			for _, name := range f.Order {
				tt := f.Tensors[name]
				var err error
				if tt.DType == DTypeF32 || tt.DType == DTypeF64 {
					_, err = tt.Float64s()
				} else {
					_, err = tt.Int64s()
				}
				if err != nil {
					t.Error(err)
				}
			}
			// Our writer must carry everything over.
			tensors := make([]Tensor, 0, len(f.Order))
			for _, name := range f.Order {
				tensors = append(tensors, f.Tensors[name])
			}
			b, err := encode(tensors, f.Meta)
			if err != nil {
				t.Fatal(err)
			}
			g, err := Parse(b, "rewritten")
			if err != nil {
				t.Fatal(err)
			}
			assertSameFile(t, f, g)
		})
	}
}

// assertSameFile fails unless a and b hold the same tensors and metadata.
func assertSameFile(t testing.TB, a, b *File) {
	t.Helper()
	if !slices.Equal(a.Order, b.Order) || !maps.Equal(a.Meta, b.Meta) {
		t.Fatalf("order or meta differ: %v %v / %v %v", a.Order, a.Meta, b.Order, b.Meta)
	}
	for _, name := range a.Order {
		x, y := a.Tensors[name], b.Tensors[name]
		if x.Name != y.Name || x.DType != y.DType || !slices.Equal(x.Shape, y.Shape) || !bytes.Equal(x.Data, y.Data) {
			t.Fatalf("tensor %q differs", name)
		}
	}
}

// rawFile assembles a file from a literal header (padded to 8) and data.
func rawFile(header string, data []byte) []byte {
	for len(header)%8 != 0 {
		header += " "
	}
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

func TestParseErrors(t *testing.T) {
	good, err := encode(sample(), sampleMeta)
	if err != nil {
		t.Fatal(err)
	}
	hlen := int(binary.LittleEndian.Uint64(good))
	withLen := func(n uint64) []byte {
		b := bytes.Clone(good)
		binary.LittleEndian.PutUint64(b, n)
		return b
	}
	d16 := make([]byte, 16)
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "file is 0 bytes"},
		{"cut at 5", good[:5], "shorter than the 8-byte header length"},
		{"cut at 8", good[:8], "exceeds the 0 bytes after it"},
		{"cut in header", good[:8+hlen/2], "truncated file"},
		{"cut at data start", good[:8+hlen], "out of range"},
		{"cut in data", good[:len(good)-3], "out of range"},
		{"trailing bytes", append(bytes.Clone(good), 0, 0), "2 trailing bytes after the last tensor"},
		{"header len huge", withLen(1 << 40), "exceeds the 104857600-byte limit"},
		{"header len past end", withLen(uint64(len(good))), "truncated file"},
		{"bad json", rawFile(`{"a": {"dtype": "F32",`, nil), "invalid JSON"},
		{"not an object", rawFile(`[1,2]`, nil), "want an object"},
		{"data after object", rawFile(`{} {}`, nil), "data after the closing brace"},
		{"invalid utf8", rawFile("{\"\xff\": 1}", nil), "not valid UTF-8"},
		{"unknown dtype", rawFile(`{"a":{"dtype":"BF16","shape":[8],"data_offsets":[0,16]}}`, d16), `tensor "a": unknown dtype "BF16"`},
		{"negative dim", rawFile(`{"a":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}}`, d16), "negative dimension in shape (-4)"},
		{"fractional dim", rawFile(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,16]}}`, d16), `tensor "a": invalid JSON`},
		{"size mismatch", rawFile(`{"student.pos":{"dtype":"F32","shape":[16,32],"data_offsets":[0,16]}}`, d16),
			`tensor "student.pos": data is 16 bytes, shape (16,32) F32 needs 2048`},
		{"offsets reversed", rawFile(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[8,0]}}`, d16), "out of range"},
		{"offsets negative", rawFile(`{"a":{"dtype":"U8","shape":[16],"data_offsets":[-1,15]}}`, d16), "out of range"},
		{"offsets past end", rawFile(`{"a":{"dtype":"U8","shape":[17],"data_offsets":[0,17]}}`, d16), "out of range"},
		{"offsets arity", rawFile(`{"a":{"dtype":"U8","shape":[16],"data_offsets":[0,8,16]}}`, d16), "has 3 values"},
		{"overlap", rawFile(`{"a":{"dtype":"U8","shape":[10],"data_offsets":[0,10]},"b":{"dtype":"U8","shape":[8],"data_offsets":[8,16]}}`, d16),
			`tensor "b": data_offsets [8,16] overlap tensor "a"`},
		{"gap", rawFile(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[8],"data_offsets":[8,16]}}`, d16),
			`tensor "b": data_offsets [8,16] leave a 4-byte gap`},
		{"not at zero", rawFile(`{"a":{"dtype":"U8","shape":[8],"data_offsets":[8,16]}}`, d16), "8-byte gap"},
		{"duplicate tensor", rawFile(`{"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]},"a":{"dtype":"U8","shape":[8],"data_offsets":[8,16]}}`, d16), `duplicate tensor "a"`},
		{"duplicate meta", rawFile(`{"__metadata__":{},"__metadata__":{}}`, nil), "duplicate key"},
		{"meta not strings", rawFile(`{"__metadata__":{"step":100}}`, nil), "want string to string map"},
		{"unknown field", rawFile(`{"a":{"dtype":"U8","shape":[16],"data_offsets":[0,16],"x":1}}`, d16), `unknown field "x"`},
		{"missing shape", rawFile(`{"a":{"dtype":"U8","data_offsets":[0,16]}}`, d16), "missing shape"},
		{"missing dtype", rawFile(`{"a":{"shape":[16],"data_offsets":[0,16]}}`, d16), "missing dtype"},
		{"missing offsets", rawFile(`{"a":{"dtype":"U8","shape":[16]}}`, d16), "missing data_offsets"},
		{"empty name", rawFile(`{"":{"dtype":"U8","shape":[16],"data_offsets":[0,16]}}`, d16), "empty name"},
		{"entry not object", rawFile(`{"a":[1]}`, nil), `tensor "a": invalid JSON`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse(tt.b, "runs/x/ckpt-00000100.safetensors")
			if err == nil {
				t.Fatalf("no error; got %d tensors", len(f.Tensors))
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "checkpoint: runs/x/ckpt-00000100.safetensors: ") || strings.Contains(msg, "\n") {
				t.Errorf("error is not one line naming the file: %q", msg)
			}
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not contain %q", msg, tt.want)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty object", rawFile(`{}`, nil)},
		{"unpadded", append(binary.LittleEndian.AppendUint64(nil, 2), "{}"...)},
		{"null meta", rawFile(`{"__metadata__":null}`, nil)},
		{"offsets out of name order", rawFile(`{"a":{"dtype":"U8","shape":[8],"data_offsets":[8,16]},"b":{"dtype":"U8","shape":[2,4],"data_offsets":[0,8]}}`, make([]byte, 16))},
		{"scalar and empty", rawFile(`{"s":{"dtype":"I32","shape":[],"data_offsets":[0,4]},"e":{"dtype":"F64","shape":[3,0],"data_offsets":[4,4]}}`, make([]byte, 4))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse(tt.b, "ok"); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestTruncatedEverywhere(t *testing.T) {
	good, err := encode(sample(), sampleMeta)
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(good) {
		if _, err := Parse(good[:i], "cut"); err == nil {
			t.Fatalf("prefix of %d/%d bytes parsed without error", i, len(good))
		}
	}
}
