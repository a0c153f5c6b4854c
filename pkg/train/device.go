package train

import (
	"fmt"

	"github.com/d2v/d2v/pkg/gpu"
)

// NewEngine allocates d's step on a GPU device (pkg/gpu): the same
// parameters, names, teacher pairs and settings as d's Gorgonia graphs.
// Parameters are not copied; call Upload.
func NewEngine(d *D2V, dev gpu.Device) (*gpu.Engine, error) {
	coef, err := d.Loss.Coef(d.Batch*d.NMask, d.Spec.Dim)
	if err != nil {
		return nil, err
	}
	cfg := gpu.Config{Spec: d.Spec, Mod: d.Mod, Batch: d.Batch, NMask: d.NMask, TargetLayer: d.TargetLayer,
		Scope: d.Scope, Target: d.Target, Beta: d.Loss.Beta, Coef: coef, KeepInput: d.KeepInput}
	e, err := gpu.New(dev, cfg, d.Student, d.Teacher, d.Names, d.pairs)
	if err != nil {
		return nil, fmt.Errorf("gpu step: %w", err)
	}
	return e, nil
}
