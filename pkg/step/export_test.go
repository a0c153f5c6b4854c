package step

import "testing"

// The gradient check's cases for the external tests (package step_test),
// which may import pkg/train (its optimiser) where this package's own
// tests may not: pkg/train imports pkg/step.

// GradCheckScope is gradient-check case i's teacher scope.
func GradCheckScope(i int) string { return gcCases[i].scope }

// GradCheckPrepare builds gradient-check case i's step, batch and fixed
// targets (gcPrepare).
func GradCheckPrepare(t *testing.T, i int) (*D2V, []float64, []bool, any) {
	return gcPrepare(t, gcCases[i])
}
