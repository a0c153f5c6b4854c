package train

import (
	"errors"
	"fmt"

	"github.com/d2v/d2v/pkg/gpu"
	"github.com/d2v/d2v/pkg/step"
)

// Devices a step can run on (--device).
const (
	DeviceCPU  = "cpu"  // Gorgonia graphs with pkg/ops kernels (the default build)
	DeviceCUDA = "cuda" // pkg/gpu's step on pkg/cuda (a build with -tags d2vcuda)
	// DeviceEmu is pkg/gpu's step on gpu.Emu, the pure-Go emulated GPU:
	// slow; it runs the GPU code path (and its checkpointing) in any build.
	DeviceEmu = "emu"
)

// ErrNoCUDA is returned for --device cuda by a binary built without CUDA.
var ErrNoCUDA = errors.New("--device cuda: this d2v was built without CUDA; build it with -tags d2vcuda (scripts/gpu-build.sh)")

// OpenDevice returns the GPU device for name (nil for cpu) and its name.
func OpenDevice(name string) (gpu.Device, string, error) {
	switch name {
	case DeviceCPU, "":
		return nil, "cpu", nil
	case DeviceCUDA:
		return openCUDA()
	case DeviceEmu:
		return gpu.NewEmu(), "emu (pure-Go GPU emulation)", nil
	}
	return nil, "", fmt.Errorf("--device: unknown %q (want cpu, cuda or emu)", name)
}

// NewEngine allocates d's step on a GPU device (pkg/gpu): the same
// parameters, names, teacher pairs and settings as d's Gorgonia graphs.
// Parameters are not copied; call Upload.
func NewEngine(d *step.D2V, dev gpu.Device) (*gpu.Engine, error) {
	coef, err := d.Loss.Coef(d.Batch*d.NMask, d.Spec.Dim)
	if err != nil {
		return nil, err
	}
	cfg := gpu.Config{Spec: d.Spec, Mod: d.Mod, Batch: d.Batch, NMask: d.NMask, TargetLayer: d.TargetLayer,
		Scope: d.Scope, Target: d.Target, Beta: d.Loss.Beta, Coef: coef, KeepInput: d.KeepInput}
	e, err := gpu.New(dev, cfg, d.Student, d.Teacher, d.Names, d.Pairs())
	if errors.Is(err, gpu.ErrUnsupported) {
		return nil, bad(fmt.Errorf("--device: %w", err)) // a setting, not the GPU: exit 2
	}
	if err != nil {
		return nil, fmt.Errorf("gpu step: %w", err)
	}
	return e, nil
}

// GPUStep runs d's training step on a device: parameters and AdamW moments
// live there between steps, and come back to d and opt on Sync (before a
// checkpoint is written).
type GPUStep struct {
	Device string // the GPU's name
	E      *gpu.Engine
	d      *step.D2V
	opt    *AdamW
}

// NewGPUStep uploads d's parameters and opt's moments to dev. On success
// dev belongs to the step (Close closes it); on error the caller closes it.
func NewGPUStep(d *step.D2V, opt *AdamW, dev gpu.Device) (*GPUStep, error) {
	if opt.LRScale != nil {
		return nil, bad(fmt.Errorf("--device: per-parameter learning rates: %w", gpu.ErrUnsupported))
	}
	e, err := NewEngine(d, dev)
	if err != nil {
		return nil, err
	}
	if err := e.Upload(d.Student, d.Teacher, opt.M, opt.V); err != nil {
		return nil, err // dev stays the caller's to close
	}
	return &GPUStep{E: e, d: d, opt: opt}, nil
}

func float32s(v any) ([]float32, error) {
	switch x := v.(type) {
	case []float32:
		return x, nil
	case []float64:
		out := make([]float32, len(x))
		for i, f := range x {
			out[i] = float32(f)
		}
		return out, nil
	}
	return nil, fmt.Errorf("gpu step: input of type %T", v)
}

// Forward is D2V.ForwardPair on the device; it returns the output (no
// Grads: they stay on the device) and the global gradient norm.
func (g *GPUStep) Forward(student, teacherIn any, mask []bool) (*step.Output, float64, error) {
	x, err := float32s(student)
	if err != nil {
		return nil, 0, err
	}
	xt, err := float32s(teacherIn)
	if err != nil {
		return nil, 0, err
	}
	r, err := g.E.Forward(x, xt, mask)
	if err != nil {
		return nil, 0, err
	}
	return &step.Output{Loss: r.Loss, Pred: r.Pred, Targets: r.Targets}, r.GradNorm, nil
}

// Update is AdamW.Step (learning rate lr, clipping factor coef) then the
// EMA with decay dec, on the device.
func (g *GPUStep) Update(lr, coef, dec float64) error {
	o := g.opt
	o.T++
	return g.E.Update(gpu.Optim{B1: o.Beta1, B2: o.Beta2, Eps: o.Eps, WD: o.WD, LR: lr, Coef: coef, T: o.T, Decay: o.Decay}, dec)
}

// Sync copies parameters and moments back into d and opt.
func (g *GPUStep) Sync() error { return g.E.Download(g.d.Student, g.d.Teacher, g.opt.M, g.opt.V) }

// Close frees the device.
func (g *GPUStep) Close() { g.E.Close() }

// openGPUStep returns the GPU step for device (nil for cpu), which runs
// in a single process only.
func openGPUStep(device string, d *step.D2V, opt *AdamW, ranks int) (*GPUStep, error) {
	dev, name, err := OpenDevice(device)
	if err != nil || dev == nil {
		return nil, err // no GPU, driver or kernel load failure: exit 1
	}
	if ranks > 1 {
		dev.Close()
		return nil, bad(fmt.Errorf("--device %s: data-parallel runs (%d ranks) are CPU-only for now", device, ranks))
	}
	g, err := NewGPUStep(d, opt, dev)
	if err != nil {
		dev.Close()
		return nil, err
	}
	g.Device = name
	return g, nil
}
