package loss

import (
	"math"
	"testing"
)

func TestValueHandComputed(t *testing.T) {
	pred := []float64{0, 1, 3, -2}
	tgt := []float64{0.5, 1, 0, 0} // d = -0.5, 0, 3, -2
	tests := []struct {
		name string
		spec Spec
		want float64
	}{
		// beta 1: 0.5*0.25/1 + 0 + (3-0.5) + (2-0.5) = 0.125 + 2.5 + 1.5 = 4.125; mean over 4
		{"smoothl1-mean", Spec{Beta: 1, Reduction: Mean}, 4.125 / 4},
		// beta 0 (L2): 0.25 + 0 + 9 + 4 = 13.25; d2v with M=2 rows of D=2, scale 1/sqrt(2)
		{"l2-d2v-auto", Spec{Beta: 0, Reduction: D2V}, 13.25 / math.Sqrt(2) / 2},
		{"l2-d2v-scale", Spec{Beta: 0, Scale: 1, Reduction: D2V}, 13.25 / 2},
		// beta 4: all |d| < 4: 0.5*(0.25+9+4)/4 = 1.65625
		{"smoothl1-beta4-d2v", Spec{Beta: 4, Scale: 1, Reduction: D2V}, 1.65625 / 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.spec.Value(pred, tgt, 2, 2)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tt.want) > 1e-12 {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUnknownReduction(t *testing.T) {
	if _, err := (Spec{Reduction: "sum"}).Coef(1, 1); err == nil {
		t.Fatal("want error for unknown reduction")
	}
}
