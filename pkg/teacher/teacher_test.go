package teacher

import (
	"math"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/d2v/d2v/pkg/model"
)

func TestDecay(t *testing.T) {
	tests := []struct {
		name            string
		start, end      float64
		updates, anneal int
		want            float64
	}{
		// fairseq anneals with the updates completed: the first EMA uses u = 1.
		{"first-update", 0.999, 0.9999, 1, 1000, 0.9990009},
		{"zero-updates-is-start", 0.999, 0.9999, 0, 1000, 0.999},
		{"midpoint", 0.999, 0.9999, 500, 1000, 0.99945},
		{"last-before-end", 0.999, 0.9999, 999, 1000, 0.9999 - 0.0009*0.001},
		{"at-anneal-is-end", 0.999, 0.9999, 1000, 1000, 0.9999},
		{"past-anneal-is-end", 0.999, 0.9999, 5000, 1000, 0.9999},
		{"anneal-zero-is-end", 0.999, 0.9999, 0, 0, 0.9999},
		{"anneal-negative-is-end", 0.999, 0.9999, 3, -1, 0.9999},
		// 0 - (0-1)*(1-1/4) = 0.75
		{"decreasing-schedule", 1, 0, 1, 4, 0.75},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decay(tt.start, tt.end, tt.updates, tt.anneal)
			if math.Abs(got-tt.want) > 1e-15 {
				t.Fatalf("Decay(%v, %v, %d, %d) = %.17g, want %.17g", tt.start, tt.end, tt.updates, tt.anneal, got, tt.want)
			}
		})
	}
}

// twinParams builds a teacher and a student registry with one (2,2) weight
// and one (1) bias each: teacher w=[1 2 3 4] b=[-1], student w=[5 6 7 8] b=[3].
func twinParams(t *testing.T, dt tensor.Dtype) (tp, sp *model.Params) {
	t.Helper()
	tp, sp = model.NewParams(dt), model.NewParams(dt)
	for _, p := range []*model.Params{tp, sp} {
		pre := "teacher"
		if p == sp {
			pre = "student"
		}
		p.Add(pre+".a.w", 2, 2)
		p.Add(pre+".a.b", 1)
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(tp.Set("teacher.a.w", []float64{1, 2, 3, 4}))
	must(tp.Set("teacher.a.b", []float64{-1}))
	must(sp.Set("student.a.w", []float64{5, 6, 7, 8}))
	must(sp.Set("student.a.b", []float64{3}))
	return tp, sp
}

func TestUpdate(t *testing.T) {
	tests := []struct {
		name  string
		decay float64
		w, b  []float64 // teacher after the update
	}{
		{"decay1-freezes", 1, []float64{1, 2, 3, 4}, []float64{-1}},
		{"decay0-copies", 0, []float64{5, 6, 7, 8}, []float64{3}},
		// 0.75*[1 2 3 4] + 0.25*[5 6 7 8] = [2 3 4 5]; 0.75*-1 + 0.25*3 = 0
		{"decay0.75", 0.75, []float64{2, 3, 4, 5}, []float64{0}},
		// 0.5*[1 2 3 4] + 0.5*[5 6 7 8] = [3 4 5 6]; 0.5*-1 + 0.5*3 = 1
		{"decay0.5", 0.5, []float64{3, 4, 5, 6}, []float64{1}},
	}
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, tt := range tests {
			t.Run(dt.String()+"/"+tt.name, func(t *testing.T) {
				tp, sp := twinParams(t, dt)
				pairs, err := Pairs(tp, sp)
				if err != nil {
					t.Fatal(err)
				}
				want := [][2]string{{"teacher.a.w", "student.a.w"}, {"teacher.a.b", "student.a.b"}}
				if !slices.Equal(pairs, want) {
					t.Fatalf("Pairs = %v, want %v", pairs, want)
				}
				Update(tp, sp, pairs, tt.decay)
				if got := tp.Values("teacher.a.w"); !slices.Equal(got, tt.w) {
					t.Errorf("teacher.a.w = %v, want %v", got, tt.w)
				}
				if got := tp.Values("teacher.a.b"); !slices.Equal(got, tt.b) {
					t.Errorf("teacher.a.b = %v, want %v", got, tt.b)
				}
				// the student is read, never written
				if got := sp.Values("student.a.w"); !slices.Equal(got, []float64{5, 6, 7, 8}) {
					t.Errorf("student.a.w changed to %v", got)
				}
				if got := sp.Values("student.a.b"); !slices.Equal(got, []float64{3}) {
					t.Errorf("student.a.b changed to %v", got)
				}
			})
		}
	}
}

func TestPairsErrors(t *testing.T) {
	tests := []struct {
		name  string
		build func(tp, sp *model.Params)
		want  []string // substrings of the error
	}{
		{"missing-twin", func(tp, sp *model.Params) { tp.Add("teacher.extra.w", 2) },
			[]string{`"teacher.extra.w"`, `"student.extra.w"`, "no student twin"}},
		{"shape-mismatch", func(tp, sp *model.Params) { tp.Add("teacher.c.w", 2, 3); sp.Add("student.c.w", 3, 2) },
			[]string{`"teacher.c.w"`, `"student.c.w"`, "shape", "(2, 3)", "(3, 2)"}},
		{"no-prefix", func(tp, sp *model.Params) { tp.Add("blocks.0.w", 1) },
			[]string{`"blocks.0.w"`, "teacher. prefix"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, sp := twinParams(t, tensor.Float64)
			tt.build(tp, sp)
			_, err := Pairs(tp, sp)
			if err == nil {
				t.Fatal("Pairs: want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// ln is x/sqrt(var+eps) for a centred value x of a group with biased variance var.
func ln(x, variance float64) float64 { return x / math.Sqrt(variance+1e-5) }

func TestTargets(t *testing.T) {
	// Per-layer norm then average: layer 0 row [1 3] -> [-ln(1,1) ln(1,1)],
	// layer 1 row [0 4] -> [-ln(2,4) ln(2,4)]; their mean is [-c c].
	c := (ln(1, 1) + ln(2, 4)) / 2
	tests := []struct {
		name    string
		b, t, d int
		spec    TargetSpec
		layers  [][]float64
		mask    []bool
		want    []float64
	}{
		{"layer-norm-rows", 1, 2, 2, TargetSpec{1, NormLayer, NormNone, 1e-5},
			// row [1 3]: mean 2, var 1; row [0 4]: mean 2, var 4
			[][]float64{{1, 3, 0, 4}}, []bool{true, true},
			[]float64{-ln(1, 1), ln(1, 1), -ln(2, 4), ln(2, 4)}},
		{"layer-norm-constant-row", 1, 1, 3, TargetSpec{1, NormLayer, NormNone, 1e-5},
			[][]float64{{7, 7, 7}}, []bool{true}, []float64{0, 0, 0}},
		{"instance-norm-over-T", 1, 2, 2, TargetSpec{1, NormInstance, NormNone, 1e-5},
			// channel 0 over T: [1 3] mean 2 var 1; channel 1: [10 20] mean 15 var 25
			[][]float64{{1, 10, 3, 20}}, []bool{true, true},
			[]float64{-ln(1, 1), -ln(5, 25), ln(1, 1), ln(5, 25)}},
		{"instance-norm-per-sample", 2, 2, 1, TargetSpec{1, NormInstance, NormNone, 1e-5},
			// sample 0: [1 3]; sample 1: [10 30] mean 20 var 100
			[][]float64{{1, 3, 10, 30}}, []bool{true, true, true, true},
			[]float64{-ln(1, 1), ln(1, 1), -ln(10, 100), ln(10, 100)}},
		{"none-topk2-averages-last-two", 1, 2, 2, TargetSpec{2, NormNone, NormNone, 1e-5},
			// layer 0 is below the top 2; (l1+l2)/2 = [2 4 4 2]
			[][]float64{{100, -50, 9, 9}, {1, 2, 3, 4}, {3, 6, 5, 0}}, []bool{false, true},
			[]float64{4, 2}},
		{"topk-capped-at-depth", 1, 1, 2, TargetSpec{5, NormNone, NormNone, 1e-5},
			[][]float64{{1, 2}, {3, 6}}, []bool{true}, []float64{2, 4}},
		{"final-layer-norm-after-average", 1, 2, 2, TargetSpec{2, NormNone, NormLayer, 1e-5},
			// avg = [1 3 2 4]: both rows have mean+-1, var 1
			[][]float64{{1, 2, 0, 0}, {1, 4, 4, 8}}, []bool{true, true},
			[]float64{-ln(1, 1), ln(1, 1), -ln(1, 1), ln(1, 1)}},
		{"layer-then-average", 1, 1, 2, TargetSpec{2, NormLayer, NormNone, 1e-5},
			[][]float64{{1, 3}, {0, 4}}, []bool{true}, []float64{-c, c}},
		{"layer-then-average-then-final-layer", 1, 1, 2, TargetSpec{2, NormLayer, NormLayer, 1e-5},
			// the average [-c c] has mean 0 and var c^2
			[][]float64{{1, 3}, {0, 4}}, []bool{true}, []float64{-ln(c, c*c), ln(c, c*c)}},
		{"final-instance", 1, 3, 1, TargetSpec{1, NormNone, NormInstance, 1e-5},
			// [0 3 6]: mean 3, var (9+0+9)/3 = 6
			[][]float64{{0, 3, 6}}, []bool{true, false, true}, []float64{-ln(3, 6), ln(3, 6)}},
		{"masked-rows-b-outer-t-inner", 2, 3, 2, TargetSpec{1, NormNone, NormNone, 1e-5},
			// row r = (b*3+t) holds [10r 10r+1]; masked (0,1), (1,0), (1,2)
			[][]float64{{0, 1, 10, 11, 20, 21, 30, 31, 40, 41, 50, 51}},
			[]bool{false, true, false, true, false, true},
			[]float64{10, 11, 30, 31, 50, 51}},
		{"no-masked-rows", 1, 2, 2, TargetSpec{1, NormLayer, NormLayer, 1e-5},
			[][]float64{{1, 3, 0, 4}}, []bool{false, false}, []float64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := make([][]float64, len(tt.layers))
			for i, l := range tt.layers {
				before[i] = slices.Clone(l)
			}
			got := Targets(tt.layers, tt.b, tt.t, tt.d, tt.spec, tt.mask)
			checkClose(t, "float64", got, tt.want, 1e-14)
			for i := range tt.layers {
				if !slices.Equal(tt.layers[i], before[i]) {
					t.Errorf("Targets modified layer %d: %v, was %v", i, tt.layers[i], before[i])
				}
			}

			l32 := make([][]float32, len(tt.layers))
			for i, l := range tt.layers {
				for _, v := range l {
					l32[i] = append(l32[i], float32(v))
				}
			}
			got32 := Targets(l32, tt.b, tt.t, tt.d, tt.spec, tt.mask)
			g := make([]float64, len(got32))
			for i, v := range got32 {
				g[i] = float64(v)
			}
			checkClose(t, "float32", g, tt.want, 1e-6)
		})
	}
}

// TestTargetsIgnoreLowerLayers changes every layer below the top K and
// expects identical targets.
func TestTargetsIgnoreLowerLayers(t *testing.T) {
	spec := TargetSpec{TopK: 2, LayerNorm: NormInstance, Final: NormLayer, Eps: 1e-5}
	mask := []bool{true, false, true, true, false, true}
	base := [][]float64{
		{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
		{0.5, -1, 2, 0, 3, 1, -2, 4, 1, 1, 0, 2},
		{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8},
		{-1, 2, -3, 4, -5, 6, -7, 8, -9, 10, -11, 12},
	}
	want := Targets(base, 2, 3, 2, spec, mask)
	changed := [][]float64{
		{100, -3, 0, 0, 7, 1e3, 2, 2, 2, 2, -8, 0},
		{9, 9, 9, 1, 1, 1, -4, 4, 0.25, 8, 3, 3},
		base[2], base[3],
	}
	got := Targets(changed, 2, 3, 2, spec, mask)
	if !slices.Equal(got, want) {
		t.Fatalf("changing layers below the top 2 changed the targets:\n got %v\nwant %v", got, want)
	}
	// ...while changing a top-K layer does change them.
	changed[2] = slices.Clone(base[2])
	changed[2][0] += 1
	if slices.Equal(Targets(changed, 2, 3, 2, spec, mask), want) {
		t.Fatal("changing a top-2 layer did not change the targets")
	}
}

func checkClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values %v, want %d %v", what, len(got), got, len(want), want)
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > tol {
			t.Fatalf("%s: [%d] = %.17g, want %.17g (all: %v, want %v)", what, i, got[i], want[i], got, want)
		}
	}
}

func TestStd(t *testing.T) {
	tests := []struct {
		name string
		x    []float64
		n, d int
		want float64
	}{
		// col 0 [1 2 3]: unbiased var 1; col 1 [0 0 6]: mean 2, var (4+4+16)/2 = 12
		{"two-features", []float64{1, 0, 2, 0, 3, 6}, 3, 2, (math.Sqrt(1+1e-6) + math.Sqrt(12+1e-6)) / 2},
		// [2 4]: mean 3, unbiased var 2
		{"two-rows", []float64{2, 4}, 2, 1, math.Sqrt(2 + 1e-6)},
		// collapse: every feature constant -> sqrt(1e-6)
		{"collapsed", []float64{5, -1, 5, -1, 5, -1}, 3, 2, 1e-3},
		{"one-row", []float64{1, 2, 3}, 1, 3, 0},
		{"no-rows", nil, 0, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Std(tt.x, tt.n, tt.d); math.Abs(got-tt.want) > 1e-15 {
				t.Errorf("Std float64 = %.17g, want %.17g", got, tt.want)
			}
			x32 := make([]float32, len(tt.x))
			for i, v := range tt.x {
				x32[i] = float32(v)
			}
			if got := Std(x32, tt.n, tt.d); math.Abs(got-tt.want) > 1e-6 {
				t.Errorf("Std float32 = %.17g, want %.17g", got, tt.want)
			}
		})
	}
}

// TestStdFromMoments: moments summed over two halves of the rows give Std of
// all rows (the data-parallel path of the collapse statistic).
func TestStdFromMoments(t *testing.T) {
	const n, d = 6, 3
	x := make([]float64, n*d)
	for i := range x {
		x[i] = math.Sin(float64(i)*1.7) + float64(i%d)
	}
	sum, sumsq := make([]float64, d), make([]float64, d)
	rows := Moments(x[:n/2*d], d, sum, sumsq) + Moments(x[n/2*d:], d, sum, sumsq)
	got, want := StdFromMoments(float64(rows), sum, sumsq), Std(x, n, d)
	if rows != n || math.Abs(got-want) > 1e-12*want {
		t.Errorf("StdFromMoments over %d rows = %.15g, Std = %.15g", rows, got, want)
	}
}
