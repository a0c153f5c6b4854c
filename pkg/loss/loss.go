package loss

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"

	"github.com/d2v/d2v/pkg/ops"
)

// Reduction is how the summed element losses are normalised.
type Reduction string

const (
	Mean Reduction = "mean" // sum / (M*D)
	D2V  Reduction = "d2v"  // sum * scale / M
)

// Spec configures the loss.
type Spec struct {
	Beta      float64   // smooth-L1 beta; 0 = squared error
	Scale     float64   // d2v only; 0 = 1/sqrt(D)
	Reduction Reduction // mean | d2v
}

// Coef is the factor applied to the summed element losses of M rows of D features.
func (s Spec) Coef(m, d int) (float64, error) {
	switch s.Reduction {
	case Mean:
		return 1 / float64(m*d), nil
	case D2V:
		sc := s.Scale
		if sc == 0 {
			sc = 1 / math.Sqrt(float64(d))
		}
		return sc / float64(m), nil
	}
	return 0, fmt.Errorf("loss: unknown reduction %q (want mean or d2v)", s.Reduction)
}

// Build adds the loss node for pred and target (M, D).
func (s Spec) Build(pred, target *G.Node) (*G.Node, error) {
	sh := pred.Shape()
	c, err := s.Coef(sh[0], sh[1])
	if err != nil {
		return nil, err
	}
	return ops.RegressionLoss(pred, target, s.Beta, c)
}

// Value is the plain-Go loss of pred and target (M, D), in float64.
func (s Spec) Value(pred, target []float64, m, d int) (float64, error) {
	c, err := s.Coef(m, d)
	if err != nil {
		return 0, err
	}
	var sum float64
	for i := range pred {
		sum += ops.ElementLoss(pred[i]-target[i], s.Beta)
	}
	return sum * c, nil
}
