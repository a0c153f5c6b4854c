package floats

import "testing"

func TestLenAndSame(t *testing.T) {
	a32, a64 := make([]float32, 4), make([]float64, 4)
	if Len(a32) != 4 || Len(a64[:3]) != 3 || Len("x") != -1 || Len(nil) != -1 {
		t.Fatalf("Len: %d %d %d %d", Len(a32), Len(a64[:3]), Len("x"), Len(nil))
	}
	for _, c := range []struct {
		a, b any
		want bool
	}{
		{a32, a32, true}, {a64, a64, true},
		{a32, a32[:3], false},            // same start, other length
		{a32[1:], a32[1:], true},         // views are compared, not arrays
		{a32, make([]float32, 4), false}, // equal values, other memory
		{a32[:0], a32[:0], false},        // empty: no memory to compare
		{a32, a64, false}, {"x", "x", false},
	} {
		if got := Same(c.a, c.b); got != c.want {
			t.Errorf("Same(%T len %d, %T len %d) = %v, want %v", c.a, Len(c.a), c.b, Len(c.b), got, c.want)
		}
	}
}
