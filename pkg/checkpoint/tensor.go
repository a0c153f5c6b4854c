package checkpoint

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Supported dtype names, as spelled in the safetensors header.
const (
	DTypeF32 = "F32"
	DTypeF64 = "F64"
	DTypeI64 = "I64"
	DTypeI32 = "I32"
	DTypeU8  = "U8"
)

// dtypeSize returns the element size in bytes, or 0 for an unsupported dtype.
func dtypeSize(dtype string) int {
	switch dtype {
	case DTypeF64, DTypeI64:
		return 8
	case DTypeF32, DTypeI32:
		return 4
	case DTypeU8:
		return 1
	}
	return 0
}

// Tensor is one named array. Data holds Numel() elements of DType,
// row-major and little-endian. A nil or empty Shape is a scalar.
type Tensor struct {
	Name  string
	DType string // "F32", "F64", "I64", "I32" or "U8"
	Shape []int
	Data  []byte
}

// F32 builds an F32 tensor from v, copied. It does not check that
// len(v) matches shape; Write does.
func F32(name string, shape []int, v []float32) Tensor {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return Tensor{Name: name, DType: DTypeF32, Shape: append([]int(nil), shape...), Data: b}
}

// Numel is the number of elements the shape holds (1 for a scalar).
func (t Tensor) Numel() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Float32s decodes F32 or F64 data to float32 (F64 is rounded).
func (t Tensor) Float32s() ([]float32, error) {
	switch t.DType {
	case DTypeF32:
		if err := t.checkLen(); err != nil {
			return nil, fmt.Errorf("checkpoint: %w", err)
		}
		out := make([]float32, len(t.Data)/4)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
		}
		return out, nil
	case DTypeF64:
		v, err := t.Float64s()
		if err != nil {
			return nil, err
		}
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x)
		}
		return out, nil
	}
	return nil, t.dtypeErr("F32 or F64")
}

// Float64s decodes F32 or F64 data to float64.
func (t Tensor) Float64s() ([]float64, error) {
	if t.DType != DTypeF32 && t.DType != DTypeF64 {
		return nil, t.dtypeErr("F32 or F64")
	}
	if err := t.checkLen(); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if t.DType == DTypeF32 {
		out := make([]float64, len(t.Data)/4)
		for i := range out {
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:])))
		}
		return out, nil
	}
	out := make([]float64, len(t.Data)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(t.Data[8*i:]))
	}
	return out, nil
}

// Int64s decodes I64, I32 or U8 data to int64.
func (t Tensor) Int64s() ([]int64, error) {
	size := dtypeSize(t.DType)
	if size == 0 || t.DType == DTypeF32 || t.DType == DTypeF64 {
		return nil, t.dtypeErr("I64, I32 or U8")
	}
	if err := t.checkLen(); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	out := make([]int64, len(t.Data)/size)
	for i := range out {
		switch t.DType {
		case DTypeI64:
			out[i] = int64(binary.LittleEndian.Uint64(t.Data[8*i:]))
		case DTypeI32:
			out[i] = int64(int32(binary.LittleEndian.Uint32(t.Data[4*i:])))
		case DTypeU8:
			out[i] = int64(t.Data[i])
		}
	}
	return out, nil
}

func (t Tensor) dtypeErr(want string) error {
	return fmt.Errorf("checkpoint: tensor %q is %s, want %s", t.Name, t.DType, want)
}

// validate checks dtype, dims and data length; the error omits the file.
func (t Tensor) validate() error {
	if t.Name == "" {
		return fmt.Errorf("tensor with empty name")
	}
	if t.Name == metadataKey {
		return fmt.Errorf("tensor name %q is reserved", t.Name)
	}
	return t.checkLen()
}

// checkLen checks dtype, dims and that Data holds exactly numel elements,
// without overflowing on huge shapes.
func (t Tensor) checkLen() error {
	size := dtypeSize(t.DType)
	if size == 0 {
		return fmt.Errorf("tensor %q: unknown dtype %q (want F32, F64, I64, I32 or U8)", t.Name, t.DType)
	}
	need := int64(size)
	tooBig := false
	for _, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("tensor %q: negative dimension in shape %s", t.Name, FormatShape(t.Shape))
		}
		if d != 0 && need > math.MaxInt64/int64(d) {
			tooBig = true // keep scanning: a later 0 or negative dim decides
			continue
		}
		need *= int64(d)
	}
	if tooBig && need != 0 {
		return fmt.Errorf("tensor %q: shape %s %s overflows", t.Name, FormatShape(t.Shape), t.DType)
	}
	if int64(len(t.Data)) != need {
		return fmt.Errorf("tensor %q: data is %d bytes, shape %s %s needs %d",
			t.Name, len(t.Data), FormatShape(t.Shape), t.DType, need)
	}
	return nil
}

// FormatShape renders a shape as "(16,32)"; a scalar is "()".
func FormatShape(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = strconv.Itoa(d)
	}
	return "(" + strings.Join(parts, ",") + ")"
}
