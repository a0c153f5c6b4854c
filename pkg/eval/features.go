package eval

import (
	"errors"
	"fmt"
)

// Features is a labelled set of frozen feature vectors.
type Features struct {
	X       []float32 // (N, D) row-major
	N, D    int       // rows and feature width
	Labels  []int     // (N,), each in [0, Classes)
	Classes int       // number of classes
}

// Validate reports the first inconsistent field, by name.
func (f Features) Validate() error {
	switch {
	case f.N <= 0:
		return fmt.Errorf("features.N: must be > 0, got %d", f.N)
	case f.D <= 0:
		return fmt.Errorf("features.D: must be > 0, got %d", f.D)
	case f.Classes < 2:
		return fmt.Errorf("features.Classes: must be >= 2, got %d", f.Classes)
	case len(f.X) != f.N*f.D:
		return fmt.Errorf("features.X: len %d, want N*D = %d*%d = %d", len(f.X), f.N, f.D, f.N*f.D)
	case len(f.Labels) != f.N:
		return fmt.Errorf("features.Labels: len %d, want N = %d", len(f.Labels), f.N)
	}
	for i, y := range f.Labels {
		if y < 0 || y >= f.Classes {
			return fmt.Errorf("features.Labels[%d]: %d out of range [0,%d)", i, y, f.Classes)
		}
	}
	return nil
}

// checkPair validates a train/test pair that must share D and Classes.
func checkPair(train, test Features) error {
	if err := train.Validate(); err != nil {
		return fmt.Errorf("train %w", err)
	}
	if err := test.Validate(); err != nil {
		return fmt.Errorf("test %w", err)
	}
	if train.D != test.D {
		return fmt.Errorf("test features.D: %d, train has %d; both sets must come from the same encoder", test.D, train.D)
	}
	if train.Classes != test.Classes {
		return fmt.Errorf("test features.Classes: %d, train has %d", test.Classes, train.Classes)
	}
	return nil
}

// Result is the outcome of one evaluation on the test set.
type Result struct {
	Method   string  `json:"method"`   // "linear_probe" or "knn_k20" etc.
	Accuracy float64 `json:"accuracy"` // fraction of test rows classified correctly, in [0,1]
	// Confusion[t][p] counts test rows of true class t predicted as p;
	// it sums to the number of test rows.
	Confusion [][]int `json:"confusion"`
	// PerClass[t] is the recall of class t: Confusion[t][t] / row sum.
	// It is 0 for a class with no test rows (JSON cannot hold NaN).
	PerClass []float64 `json:"per_class_accuracy"`
}

// newResult builds a Result from true labels and predictions.
func newResult(method string, classes int, labels, pred []int) (*Result, error) {
	if len(labels) != len(pred) {
		return nil, errors.New("eval: internal error: labels and predictions differ in length")
	}
	conf := make([][]int, classes)
	for i := range conf {
		conf[i] = make([]int, classes)
	}
	correct := 0
	for i, y := range labels {
		conf[y][pred[i]]++
		if y == pred[i] {
			correct++
		}
	}
	per := make([]float64, classes)
	for t, row := range conf {
		n := 0
		for _, c := range row {
			n += c
		}
		if n > 0 {
			per[t] = float64(row[t]) / float64(n)
		}
	}
	return &Result{
		Method:    method,
		Accuracy:  float64(correct) / float64(len(labels)),
		Confusion: conf,
		PerClass:  per,
	}, nil
}

// chunks splits [0,n) into at most parts contiguous ranges; the split depends
// only on n and parts, never on the CPU count, so sums are reproducible.
func chunks(n, parts int) [][2]int {
	if parts > n {
		parts = n
	}
	out := make([][2]int, 0, parts)
	for p := range parts {
		out = append(out, [2]int{p * n / parts, (p + 1) * n / parts})
	}
	return out
}
