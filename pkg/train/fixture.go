package train

import (
	"fmt"
	"strconv"

	"gorgonia.org/tensor"

	"github.com/d2v/d2v/pkg/checkpoint"
	"github.com/d2v/d2v/pkg/loss"
	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/teacher"
)

// Fixture is a reference-step file written by shared/reference/ref_step.py
// --dump: the settings of its __metadata__ and its tensors.
type Fixture struct {
	Path             string
	File             *checkpoint.File
	Setup            Setup
	Steps            int
	LR, WD, Clip     float64
	EMAStart, EMAEnd float64
	EMAAnneal        int
	Tokens           bool
	B, T, PatchDim   int
}

// metaReader parses __metadata__ values, remembering the first error.
type metaReader struct {
	m    map[string]string
	path string
	err  error
}

func (r *metaReader) str(key string, allowed ...string) string {
	v, ok := r.m[key]
	if !ok && r.err == nil {
		r.err = fmt.Errorf("%s: metadata lacks %q", r.path, key)
	}
	if len(allowed) > 0 && r.err == nil {
		for _, a := range allowed {
			if v == a {
				return v
			}
		}
		r.err = fmt.Errorf("%s: unsupported setting %s=%q (supported: %v)", r.path, key, v, allowed)
	}
	return v
}

func (r *metaReader) int(key string) int {
	v, err := strconv.Atoi(r.str(key))
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("%s: setting %s=%q is not an integer", r.path, key, r.m[key])
	}
	return v
}

func (r *metaReader) float(key string) float64 {
	v, err := strconv.ParseFloat(r.str(key), 64)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("%s: setting %s=%q is not a number", r.path, key, r.m[key])
	}
	return v
}

// ReadFixture loads a fixture and translates its settings; a setting the
// code cannot build is an error naming it.
func ReadFixture(path string) (*Fixture, error) {
	f, err := checkpoint.Read(path)
	if err != nil {
		return nil, err
	}
	r := &metaReader{m: f.Meta, path: path}
	if v := r.str("format_version"); v != "1" && r.err == nil {
		return nil, fmt.Errorf("%s: unsupported setting format_version=%q (supported: 1)", path, v)
	}
	fx := &Fixture{Path: path, File: f}
	fx.Tokens = r.str("input", "tokens", "patches") == "tokens"
	fx.B, fx.T, fx.PatchDim = r.int("batch"), r.int("seq"), r.int("patch_dim")
	spec := model.Spec{
		Dim: r.int("dim"), Depth: r.int("layers"), Heads: r.int("heads"), FFN: r.int("ffn"),
		NormFirst: r.str("norm_first", "True", "False") == "True", LNEps: 1e-5,
		HeadLayers: r.int("head_layers"), LearnedPos: true, InitStd: 0.02,
	}
	var mod model.Modality = model.Patches{T: fx.T, PatchDim: fx.PatchDim, Dim: spec.Dim}
	if fx.Tokens {
		mod = model.Tokens{T: fx.T, Vocab: r.int("vocab"), Dim: spec.Dim}
	}
	scale := 0.0
	if r.str("loss_scale") != "auto" {
		scale = r.float("loss_scale")
	}
	norms := []string{"layer", "instance", "none"}
	fx.Setup = Setup{
		Spec: spec, Mod: mod, Batch: fx.B, NMask: r.int("n_mask_per_sample"),
		TargetLayer: r.str("target_layer", "block", "ffn"),
		Scope:       r.str("ema_scope", "all", "blocks"),
		Target: teacher.TargetSpec{TopK: r.int("topk_effective"), Eps: 1e-5,
			LayerNorm: teacher.Norm(r.str("layer_norm_targets", norms...)), Final: teacher.Norm(r.str("final_norm", norms...))},
		Loss:  loss.Spec{Beta: r.float("beta"), Scale: scale, Reduction: loss.Reduction(r.str("reduction", "mean", "d2v"))},
		Dtype: tensor.Float32,
	}
	fx.Steps = r.int("dump_steps")
	fx.LR, fx.WD, fx.Clip = r.float("lr"), r.float("wd"), r.float("clip")
	fx.EMAStart, fx.EMAEnd, fx.EMAAnneal = r.float("ema_start"), r.float("ema_end"), r.int("ema_anneal_steps")
	if v := r.str("adamw"); r.err == nil && v != "betas=0.9,0.98 eps=1e-6 decoupled wd on decayed_params only, constant lr" {
		return nil, fmt.Errorf("%s: unsupported setting adamw=%q", path, v)
	}
	if r.err != nil {
		return nil, r.err
	}
	return fx, nil
}

// Load copies the fixture's <prefix><param> tensors (e.g. "init.") into d,
// checking every name and shape.
func (fx *Fixture) Load(d *D2V, prefix string) error {
	for _, p := range []*model.Params{d.Student, d.Teacher} {
		for _, name := range p.Names() {
			t, ok := fx.File.Tensors[prefix+name]
			if !ok {
				return fmt.Errorf("%s: tensor %q missing", fx.Path, prefix+name)
			}
			if !tensor.Shape(t.Shape).Eq(p.Get(name).Shape()) {
				return fmt.Errorf("%s: %q has shape %v, model expects %v", fx.Path, prefix+name, t.Shape, p.Get(name).Shape())
			}
			v, err := t.Float64s()
			if err != nil {
				return err
			}
			if err := p.Set(name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// Batch returns step s's input (float32) and mask.
func (fx *Fixture) Batch(s int) ([]float32, []bool, error) {
	var x []float32
	if fx.Tokens {
		t, ok := fx.File.Tensors[fmt.Sprintf("batch.%d.ids", s)]
		if !ok {
			return nil, nil, fmt.Errorf("%s: batch.%d.ids missing", fx.Path, s)
		}
		ids, err := t.Int64s()
		if err != nil {
			return nil, nil, err
		}
		for _, v := range ids {
			x = append(x, float32(v))
		}
	} else {
		t, ok := fx.File.Tensors[fmt.Sprintf("batch.%d.x", s)]
		if !ok {
			return nil, nil, fmt.Errorf("%s: batch.%d.x missing", fx.Path, s)
		}
		var err error
		if x, err = t.Float32s(); err != nil {
			return nil, nil, err
		}
	}
	mt, ok := fx.File.Tensors[fmt.Sprintf("batch.%d.mask", s)]
	if !ok {
		return nil, nil, fmt.Errorf("%s: batch.%d.mask missing", fx.Path, s)
	}
	m, err := mt.Int64s()
	if err != nil {
		return nil, nil, err
	}
	mask := make([]bool, len(m))
	for i, v := range m {
		mask[i] = v != 0
	}
	return x, mask, nil
}

// Float64s returns a fixture tensor as float64 or an error naming it.
func (fx *Fixture) Float64s(name string) ([]float64, error) {
	t, ok := fx.File.Tensors[name]
	if !ok {
		return nil, fmt.Errorf("%s: tensor %q missing", fx.Path, name)
	}
	return t.Float64s()
}
