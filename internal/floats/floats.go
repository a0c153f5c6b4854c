package floats

// Len is the length of a []float32 or []float64, -1 for anything else.
func Len(v any) int {
	switch x := v.(type) {
	case []float32:
		return len(x)
	case []float64:
		return len(x)
	}
	return -1
}

// Same reports whether a and b are the same non-empty slice of one
// element type: the same first element and the same length.
func Same(a, b any) bool {
	switch x := a.(type) {
	case []float32:
		y, ok := b.([]float32)
		return ok && len(x) == len(y) && len(x) > 0 && &x[0] == &y[0]
	case []float64:
		y, ok := b.([]float64)
		return ok && len(x) == len(y) && len(x) > 0 && &x[0] == &y[0]
	}
	return false
}
