package eval

import "math"

// objective writes the gradient of f at x into grad and returns f(x).
type objective func(x, grad []float64) float64

// lbfgsOptions bounds the optimiser; see minimize.
type lbfgsOptions struct {
	MaxIter int     // outer iterations; each costs about one objective call
	Memory  int     // (s, y) pairs kept for the inverse-Hessian estimate
	GradTol float64 // stop when max |grad_i| falls below this
	RelTol  float64 // stop when f decreases by less than RelTol*max(1,|f|)
}

// minimize runs L-BFGS (Nocedal & Wright 2006, Alg. 7.4/7.5) from x, with a
// backtracking Armijo line search, and leaves the minimiser in x. It returns
// the number of iterations and the final value. Our objectives are convex,
// so curvature pairs with s·y <= 0 only arise from round-off; they are skipped.
// We wrote our own because gonum/optimize pulls in a module missing from go.sum.
func minimize(f objective, x []float64, o lbfgsOptions) (int, float64) {
	n := len(x)
	g, gNew, xNew, d := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	h := &history{mem: o.Memory}
	fx := f(x, g)
	it := 0
	for ; it < o.MaxIter; it++ {
		if normInf(g) < o.GradTol {
			break
		}
		h.direction(g, d)
		dg := dot(d, g)
		if dg >= 0 { // not a descent direction: forget the history
			*h = history{mem: o.Memory}
			h.direction(g, d)
			dg = dot(d, g)
		}
		step, fNew, ok := 1.0, 0.0, false
		for range 40 {
			for i := range x {
				xNew[i] = x[i] + step*d[i]
			}
			fNew = f(xNew, gNew)
			if fNew <= fx+1e-4*step*dg { // Armijo sufficient decrease
				ok = true
				break
			}
			step /= 2
		}
		if !ok {
			break // no decrease along d within round-off: we are at the minimum
		}
		h.add(x, xNew, g, gNew)
		decrease := fx - fNew
		copy(x, xNew)
		copy(g, gNew)
		fx = fNew
		if decrease < o.RelTol*math.Max(1, math.Abs(fx)) {
			it++
			break
		}
	}
	return it, fx
}

// history holds the last mem curvature pairs s = x'-x, y = g'-g, oldest first.
type history struct {
	mem  int
	s, y [][]float64
	rho  []float64 // 1 / (s·y)
}

// add stores the pair for a step x -> xNew; pairs with s·y <= 0 are skipped.
func (h *history) add(x, xNew, g, gNew []float64) {
	s, y := make([]float64, len(x)), make([]float64, len(x))
	for i := range x {
		s[i] = xNew[i] - x[i]
		y[i] = gNew[i] - g[i]
	}
	sy := dot(s, y)
	if sy <= 1e-12 {
		return
	}
	if len(h.s) == h.mem {
		h.s, h.y, h.rho = h.s[1:], h.y[1:], h.rho[1:]
	}
	h.s, h.y, h.rho = append(h.s, s), append(h.y, y), append(h.rho, 1/sy)
}

// direction writes d = -H g by the two-loop recursion; with no history it
// is the steepest-descent step scaled to length <= 1.
func (h *history) direction(g, d []float64) {
	copy(d, g)
	k := len(h.s)
	alpha := make([]float64, k)
	for i := k - 1; i >= 0; i-- {
		alpha[i] = h.rho[i] * dot(h.s[i], d)
		axpy(-alpha[i], h.y[i], d)
	}
	gamma := 1 / math.Max(norm2(g), 1)
	if k > 0 {
		gamma = dot(h.s[k-1], h.y[k-1]) / dot(h.y[k-1], h.y[k-1])
	}
	scale(gamma, d)
	for i := range k {
		b := h.rho[i] * dot(h.y[i], d)
		axpy(alpha[i]-b, h.s[i], d)
	}
	scale(-1, d)
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func axpy(a float64, x, y []float64) {
	for i, v := range x {
		y[i] += a * v
	}
}

func scale(a float64, x []float64) {
	for i := range x {
		x[i] *= a
	}
}

func norm2(x []float64) float64 { return math.Sqrt(dot(x, x)) }

func normInf(x []float64) float64 {
	m := 0.0
	for _, v := range x {
		m = math.Max(m, math.Abs(v))
	}
	return m
}
