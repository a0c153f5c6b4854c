package eval

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Probe defaults, in one place.
const (
	// DefaultL2 is the weight-decay strength on the probe weights (not the
	// biases), added to the mean cross-entropy as L2/2*||W||^2. In
	// scikit-learn terms C = 1/(L2*N).
	DefaultL2 = 1e-4
	// DefaultMaxIter bounds L-BFGS iterations; each is about one pass over
	// the training set (60000x128x10 takes ~0.1 s on 2 cores).
	DefaultMaxIter = 200

	probeChunks = 16 // fixed work split, so results do not depend on CPU count
)

// ProbeOptions configures LinearProbe. Zero fields take the defaults.
type ProbeOptions struct {
	L2      float64 // weight decay, >= 0; 0 means DefaultL2 (pass 1e-12 for "none")
	MaxIter int     // L-BFGS iterations; 0 means DefaultMaxIter
}

// LinearProbe fits a multinomial logistic regression (softmax, cross-entropy,
// L2 on the weights) on train and reports its accuracy on test. Features are
// standardised with the train mean and standard deviation, applied to both
// sets. Training is full-batch L-BFGS from zero weights, so there is no seed:
// the result is a deterministic function of the inputs.
func LinearProbe(train, test Features, opts ProbeOptions) (*Result, error) {
	if err := checkPair(train, test); err != nil {
		return nil, fmt.Errorf("linear probe: %w", err)
	}
	if opts.L2 < 0 || math.IsNaN(opts.L2) {
		return nil, fmt.Errorf("linear probe: opts.L2: must be >= 0, got %g", opts.L2)
	}
	if opts.MaxIter < 0 {
		return nil, fmt.Errorf("linear probe: opts.MaxIter: must be >= 0, got %d", opts.MaxIter)
	}
	if opts.L2 == 0 {
		opts.L2 = DefaultL2
	}
	if opts.MaxIter == 0 {
		opts.MaxIter = DefaultMaxIter
	}
	mean, std := moments(train)
	xTrain := standardise(train, mean, std)
	p := &probe{x: xTrain, y: train.Labels, n: train.N, d: train.D, c: train.Classes, l2: opts.L2}
	w := make([]float64, p.c*p.d+p.c) // W (C, D) row-major, then bias (C,)
	minimize(p.loss, w, lbfgsOptions{MaxIter: opts.MaxIter, Memory: 10, GradTol: 1e-6, RelTol: 1e-10})

	xTest := standardise(test, mean, std)
	pred := make([]int, test.N)
	z := make([]float64, p.c)
	for i := range pred {
		p.logits(w, xTest[i*p.d:(i+1)*p.d], z)
		pred[i] = argmax(z)
	}
	return newResult("linear_probe", train.Classes, test.Labels, pred)
}

// moments returns the per-column mean and standard deviation of f.X; a
// constant column gets std 1 so that it standardises to zero, not NaN.
func moments(f Features) (mean, std []float64) {
	mean, std = make([]float64, f.D), make([]float64, f.D)
	for i := range f.N {
		for j, v := range f.X[i*f.D : (i+1)*f.D] {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(f.N)
	}
	for i := range f.N {
		for j, v := range f.X[i*f.D : (i+1)*f.D] {
			dv := float64(v) - mean[j]
			std[j] += dv * dv
		}
	}
	for j := range std {
		std[j] = math.Sqrt(std[j] / float64(f.N))
		if std[j] < 1e-12 {
			std[j] = 1
		}
	}
	return mean, std
}

// standardise returns (x - mean) / std as float64, (N, D) row-major.
func standardise(f Features, mean, std []float64) []float64 {
	out := make([]float64, len(f.X))
	for i, v := range f.X {
		j := i % f.D
		out[i] = (float64(v) - mean[j]) / std[j]
	}
	return out
}

// probe holds the standardised training set for the objective.
type probe struct {
	x       []float64 // (N, D)
	y       []int     // (N,)
	n, d, c int
	l2      float64
}

// logits writes z = W x + b for one row x (D,) into z (C,).
func (p *probe) logits(w, x, z []float64) {
	bias := w[p.c*p.d:]
	for k := range p.c {
		z[k] = bias[k] + dot(w[k*p.d:(k+1)*p.d], x)
	}
}

// loss is the objective for minimize: mean cross-entropy plus L2/2*||W||^2.
// Rows are split into probeChunks fixed chunks run on GOMAXPROCS goroutines;
// partial sums are added in chunk order, so the value is reproducible.
func (p *probe) loss(w, grad []float64) float64 {
	parts := chunks(p.n, probeChunks)
	losses := make([]float64, len(parts))
	grads := make([][]float64, len(parts))
	next := make(chan int, len(parts))
	for i := range parts {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(parts)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				grads[i] = make([]float64, len(w))
				losses[i] = p.chunkLoss(w, grads[i], parts[i][0], parts[i][1])
			}
		}()
	}
	wg.Wait()
	clear(grad)
	f := 0.0
	for i := range parts {
		f += losses[i]
		axpy(1, grads[i], grad)
	}
	inv := 1 / float64(p.n)
	f *= inv
	scale(inv, grad)
	weights := w[:p.c*p.d] // the bias is not decayed
	f += p.l2 / 2 * dot(weights, weights)
	axpy(p.l2, weights, grad[:p.c*p.d])
	return f
}

// chunkLoss adds the summed cross-entropy gradient of rows [lo,hi) into grad
// and returns the summed loss. The two products are matrix products (gonum's
// Dgemm): the logits Z = X Wᵀ + b of the chunk, then the weight gradient
// (softmax(Z) - onehot(y))ᵀ X. Each output element is summed in a fixed
// order, so the value does not depend on the CPU count.
func (p *probe) chunkLoss(w, grad []float64, lo, hi int) float64 {
	m, d, c := hi-lo, p.d, p.c
	x := p.x[lo*d : hi*d]
	z := make([]float64, m*c)
	gonum.Implementation{}.Dgemm(blas.NoTrans, blas.Trans, m, c, d, 1, x, d, w[:c*d], d, 0, z, c)
	bias, gb := w[c*d:], grad[c*d:]
	f := 0.0
	for i := range m {
		zi := z[i*c : (i+1)*c]
		for k := range zi {
			zi[k] += bias[k]
		}
		y := p.y[lo+i]
		mx := zi[argmax(zi)]
		zy := zi[y] - mx // kept as a logit: exp may underflow to 0
		sum := 0.0
		for k := range zi {
			zi[k] = math.Exp(zi[k] - mx)
			sum += zi[k]
		}
		f += math.Log(sum) - zy
		for k := range zi { // dL/dz: softmax probability minus the one-hot label
			zi[k] /= sum
			if k == y {
				zi[k]--
			}
			gb[k] += zi[k]
		}
	}
	gonum.Implementation{}.Dgemm(blas.Trans, blas.NoTrans, c, d, m, 1, z, c, x, d, 1, grad[:c*d], d)
	return f
}

// argmax returns the index of the largest value; ties go to the lowest index.
func argmax(z []float64) int {
	best := 0
	for k, v := range z {
		if v > z[best] {
			best = k
		}
	}
	return best
}
