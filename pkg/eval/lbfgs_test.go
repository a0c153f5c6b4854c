package eval

import (
	"math"
	"testing"
)

func TestMinimize(t *testing.T) {
	tests := []struct {
		name string
		f    objective
		x0   []float64
		want []float64
	}{
		{"quadratic", func(x, g []float64) float64 {
			// 0.5*(x0-1)^2 + 50*(x1+2)^2: condition number 100
			g[0], g[1] = x[0]-1, 100*(x[1]+2)
			return 0.5*(x[0]-1)*(x[0]-1) + 50*(x[1]+2)*(x[1]+2)
		}, []float64{0, 0}, []float64{1, -2}},
		{"rosenbrock", func(x, g []float64) float64 {
			a, b := 1-x[0], x[1]-x[0]*x[0]
			g[0], g[1] = -2*a-400*x[0]*b, 200*b
			return a*a + 100*b*b
		}, []float64{-1.2, 1}, []float64{1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it, fx := minimize(tt.f, tt.x0, lbfgsOptions{MaxIter: 500, Memory: 5, GradTol: 1e-9, RelTol: 0})
			for i := range tt.want {
				if math.Abs(tt.x0[i]-tt.want[i]) > 1e-5 {
					t.Fatalf("after %d iterations x = %v (f %g), want %v", it, tt.x0, fx, tt.want)
				}
			}
		})
	}
}
