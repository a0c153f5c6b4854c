package checkpoint

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"testing"
)

// raw builds a tensor from little-endian encodings of v.
func rawF64(name string, shape []int, v ...float64) Tensor {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return Tensor{Name: name, DType: DTypeF64, Shape: shape, Data: b}
}

func rawI64(name string, shape []int, v ...int64) Tensor {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(x))
	}
	return Tensor{Name: name, DType: DTypeI64, Shape: shape, Data: b}
}

func rawI32(name string, shape []int, v ...int32) Tensor {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return Tensor{Name: name, DType: DTypeI32, Shape: shape, Data: b}
}

func TestConversions(t *testing.T) {
	f32 := F32("a", []int{3}, []float32{1.5, -2, float32(math.Inf(1))})
	if got, err := f32.Float32s(); err != nil || !slices.Equal(got, []float32{1.5, -2, float32(math.Inf(1))}) {
		t.Errorf("F32 Float32s = %v, %v", got, err)
	}
	if got, err := f32.Float64s(); err != nil || !slices.Equal(got, []float64{1.5, -2, math.Inf(1)}) {
		t.Errorf("F32 Float64s = %v, %v", got, err)
	}
	f64 := rawF64("b", []int{2}, 0.1, 1e300)
	if got, err := f64.Float64s(); err != nil || !slices.Equal(got, []float64{0.1, 1e300}) {
		t.Errorf("F64 Float64s = %v, %v", got, err)
	}
	if got, err := f64.Float32s(); err != nil || !slices.Equal(got, []float32{0.1, float32(math.Inf(1))}) {
		t.Errorf("F64 Float32s = %v, %v", got, err)
	}
	ints := map[string]Tensor{
		"I64": rawI64("c", []int{3}, -1, 1<<40, 7),
		"I32": rawI32("d", []int{3}, -1, 1<<30, 7),
		"U8":  {Name: "e", DType: DTypeU8, Shape: []int{3}, Data: []byte{255, 0, 7}},
	}
	want := map[string][]int64{"I64": {-1, 1 << 40, 7}, "I32": {-1, 1 << 30, 7}, "U8": {255, 0, 7}}
	for dt, tt := range ints {
		if got, err := tt.Int64s(); err != nil || !slices.Equal(got, want[dt]) {
			t.Errorf("%s Int64s = %v, %v; want %v", dt, got, err, want[dt])
		}
		if _, err := tt.Float32s(); err == nil || !strings.Contains(err.Error(), "want F32 or F64") {
			t.Errorf("%s Float32s error = %v", dt, err)
		}
	}
	if _, err := f32.Int64s(); err == nil {
		t.Error("F32 Int64s: want error")
	}
	short := Tensor{Name: "s", DType: DTypeF32, Shape: []int{2}, Data: make([]byte, 4)}
	if _, err := short.Float32s(); err == nil || !strings.Contains(err.Error(), `"s": data is 4 bytes, shape (2) F32 needs 8`) {
		t.Errorf("short Float32s error = %v", err)
	}
}

func TestNumelAndShape(t *testing.T) {
	tests := []struct {
		shape []int
		numel int
		str   string
	}{
		{nil, 1, "()"},
		{[]int{0, 5}, 0, "(0,5)"},
		{[]int{16, 32}, 512, "(16,32)"},
		{[]int{2, 3, 4}, 24, "(2,3,4)"},
	}
	for _, tt := range tests {
		if n := (Tensor{Shape: tt.shape}).Numel(); n != tt.numel {
			t.Errorf("Numel%v = %d, want %d", tt.shape, n, tt.numel)
		}
		if s := FormatShape(tt.shape); s != tt.str {
			t.Errorf("FormatShape(%v) = %q, want %q", tt.shape, s, tt.str)
		}
	}
}

func TestValidateOverflow(t *testing.T) {
	huge := Tensor{Name: "h", DType: DTypeF64, Shape: []int{1 << 40, 1 << 40}}
	if err := huge.validate(); err == nil || !strings.Contains(err.Error(), "overflows") {
		t.Errorf("huge shape error = %v", err)
	}
	zero := Tensor{Name: "z", DType: DTypeF64, Shape: []int{1 << 40, 1 << 40, 0}}
	if err := zero.validate(); err != nil {
		t.Errorf("zero-size huge shape: %v", err)
	}
}
