package step_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/d2v/d2v/pkg/step"
	"github.com/d2v/d2v/pkg/train"
)

// TestTeacherGetsNoGradient: a student pass (and an optimiser step on its
// gradients) leaves every teacher parameter bit-identical, and no teacher
// parameter is trainable.
func TestTeacherGetsNoGradient(t *testing.T) {
	for i := range 2 { // gcCases[0] and [1]: scopes all and blocks
		t.Run(step.GradCheckScope(i), func(t *testing.T) {
			d, x, mask, y := step.GradCheckPrepare(t, i)
			defer d.Close()
			d.EMA(0.5) // teacher != student
			before := map[string][]float64{}
			for _, n := range d.Teacher.Names() {
				before[n] = d.Teacher.Values(n)
			}
			out, err := d.StudentPass(x, mask, y)
			if err != nil {
				t.Fatal(err)
			}
			train.NewAdamW(0.9, 0.98, 1e-6, 0.01, train.Decayed).Step(d.Student, d.Names, out.Grads, 0.1, 1)
			for _, n := range d.Teacher.Names() {
				if !slices.Equal(d.Teacher.Values(n), before[n]) {
					t.Errorf("teacher parameter %s changed", n)
				}
			}
			for _, n := range d.Names {
				if strings.HasPrefix(n, "teacher.") || !(strings.HasPrefix(n, "student.") || strings.HasPrefix(n, "head.")) {
					t.Errorf("trainable parameter %q is not a student or head parameter", n)
				}
				if d.Teacher.Get(n) != nil {
					t.Errorf("trainable parameter %q lives in the teacher registry", n)
				}
			}
			if len(d.Names) != d.Student.Len() {
				t.Errorf("%d trainable names, student registry has %d", len(d.Names), d.Student.Len())
			}
		})
	}
}
