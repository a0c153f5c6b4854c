package train

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"gorgonia.org/tensor"

	"github.com/d2v/d2v/pkg/checkpoint"
	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/model"
)

// FormatVersion is written into every checkpoint's metadata.
const FormatVersion = "1"

func f32Tensor(name string, t *tensor.Dense) checkpoint.Tensor {
	return checkpoint.F32(name, []int(t.Shape()), t.Data().([]float32))
}

func putF64(b []byte, x float64) { binary.LittleEndian.PutUint64(b, math.Float64bits(x)) }

func f64Tensor(name string, shape []int, v []float64) checkpoint.Tensor {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		putF64(b[8*i:], x)
	}
	return checkpoint.Tensor{Name: name, DType: checkpoint.DTypeF64, Shape: shape, Data: b}
}

// Save writes the full training state at `step` completed updates:
// student, head and teacher weights (F32), AdamW moments (in their dtype, F32),
// and metadata holding the resolved config, the step, the optimiser step and
// the data fingerprint (pkg/feed/fingerprint.go; "" when unknown).
func Save(path string, cfg *config.Config, d Model, opt *AdamW, step, skipped int64, dataFP string) error {
	student, teacher, names := d.Params()
	var ts []checkpoint.Tensor
	for _, p := range []*model.Params{student, teacher} {
		for _, n := range p.Names() {
			ts = append(ts, f32Tensor(n, p.Get(n)))
		}
	}
	for _, n := range names {
		sh := []int(student.Get(n).Shape())
		for _, mv := range []struct {
			key string
			val any
		}{{"optim.m." + n, opt.M[n]}, {"optim.v." + n, opt.V[n]}} {
			switch x := mv.val.(type) {
			case []float32:
				ts = append(ts, checkpoint.F32(mv.key, sh, x))
			case []float64:
				ts = append(ts, f64Tensor(mv.key, sh, x))
			}
		}
	}
	y, err := cfg.YAML()
	if err != nil {
		return err
	}
	meta := map[string]string{
		"format_version": FormatVersion, "kind": "pretrain", "config": string(y),
		"step": strconv.FormatInt(step, 10), "optim_t": strconv.FormatInt(opt.T, 10),
		"skipped_nonfinite": strconv.FormatInt(skipped, 10),
		"data_fingerprint":  dataFP,
		"rng":               "masks and batches are pure functions of (run.seed, step, sample); nothing else to restore",
	}
	return checkpoint.Write(path, ts, meta)
}

// Open reads a checkpoint and its config.
func Open(path string) (*checkpoint.File, *config.Config, error) {
	f, err := checkpoint.Read(path)
	if err != nil {
		return nil, nil, err
	}
	// checkpoints of every version so far say "1"; one from a newer d2v may
	// mean something else by the same tensor names, so it is refused
	if v, ok := f.Meta["format_version"]; ok && v != FormatVersion {
		return nil, nil, fmt.Errorf("checkpoint: %s: format_version %q, this d2v reads format_version %s (written by a newer d2v?)",
			path, v, FormatVersion)
	}
	y, ok := f.Meta["config"]
	if !ok {
		return nil, nil, fmt.Errorf("checkpoint: %s: metadata has no config (not a d2v checkpoint?)", path)
	}
	cfg, err := config.FromYAML([]byte(y))
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %s: %w", path, err) // err names the config key
	}
	return f, cfg, nil
}

// LoadParams fills every tensor of p from f, checking names and shapes.
func LoadParams(f *checkpoint.File, path string, p *model.Params) error {
	want := map[string][]int{}
	for _, n := range p.Names() {
		want[n] = []int(p.Get(n).Shape())
	}
	if err := checkpoint.Check(want, f, path); err != nil {
		return err
	}
	for _, n := range p.Names() {
		t := f.Tensors[n]
		if t.DType != checkpoint.DTypeF32 && t.DType != checkpoint.DTypeF64 { // F64 is converted: older checkpoints
			return fmt.Errorf("checkpoint: %s: %q is %s %s, model expects F32 %s",
				path, n, t.DType, checkpoint.FormatShape(t.Shape), checkpoint.FormatShape(want[n]))
		}
		v, err := t.Float64s()
		if err != nil {
			return fmt.Errorf("checkpoint: %s: %q: %w", path, n, err)
		}
		if err := p.Set(n, v); err != nil {
			return err
		}
	}
	return nil
}

// Restore loads weights and optimiser state; it returns the completed step.
func Restore(f *checkpoint.File, path string, d Model, opt *AdamW) (int64, error) {
	student, teacher, names := d.Params()
	for _, p := range []*model.Params{student, teacher} {
		if err := LoadParams(f, path, p); err != nil {
			return 0, err
		}
	}
	step, err := strconv.ParseInt(f.Meta["step"], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("checkpoint: %s: bad step %q", path, f.Meta["step"])
	}
	if opt.T, err = strconv.ParseInt(f.Meta["optim_t"], 10, 64); err != nil {
		return 0, fmt.Errorf("checkpoint: %s: bad optim_t %q", path, f.Meta["optim_t"])
	}
	for name, t := range f.Tensors {
		rest, ok := strings.CutPrefix(name, "optim.")
		if !ok {
			continue
		}
		which, pname, _ := strings.Cut(rest, ".")
		p := student.Get(pname)
		if p == nil || (which != "m" && which != "v") {
			return 0, fmt.Errorf("checkpoint: %s: %q is optimiser state for no parameter of this model", path, name)
		}
		if want := []int(p.Shape()); !slices.Equal(t.Shape, want) {
			return 0, fmt.Errorf("checkpoint: %s: %q has shape %s, model expects %s",
				path, name, checkpoint.FormatShape(t.Shape), checkpoint.FormatShape(want))
		}
		if t.DType != checkpoint.DTypeF32 && t.DType != checkpoint.DTypeF64 { // F64: moments before 19f94ad
			return 0, fmt.Errorf("checkpoint: %s: %q is %s, want F32 or F64", path, name, t.DType)
		}
		var v any
		if student.Dtype == tensor.Float32 {
			v, err = t.Float32s()
		} else {
			v, err = t.Float64s()
		}
		if err != nil {
			return 0, fmt.Errorf("checkpoint: %s: %q: %w", path, name, err)
		}
		if which == "m" {
			opt.M[pname] = v
		} else {
			opt.V[pname] = v
		}
	}
	// a missing moment would silently restart from zero: resume not exact
	for _, n := range names {
		for _, key := range []string{"optim.m." + n, "optim.v." + n} {
			if _, ok := f.Tensors[key]; !ok {
				return 0, fmt.Errorf("checkpoint: %s: %q is missing, model expects shape %s",
					path, key, checkpoint.FormatShape([]int(student.Get(n).Shape())))
			}
		}
	}
	return step, nil
}
