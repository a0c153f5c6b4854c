package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/d2v/d2v/pkg/checkpoint"
	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/data"
	"github.com/d2v/d2v/pkg/teacher"
)

// DivergedError ends a run whose loss or gradients are not finite, or whose
// target/prediction spread collapsed; the CLI exits 3.
type DivergedError struct {
	Step   int64
	Reason string
}

func (e *DivergedError) Error() string {
	return fmt.Sprintf("training diverged at step %d: %s; the last good checkpoint is untouched", e.Step, e.Reason)
}

// ErrInterrupted is returned after a signal stopped the run at a step boundary
// and a checkpoint was written.
var ErrInterrupted = errors.New("interrupted")

// PretrainOptions are the inputs of one pretraining run.
type PretrainOptions struct {
	Cfg    *config.Config
	RunDir string    // the run folder (created)
	Resume bool      // continue from the latest checkpoint in RunDir
	Log    io.Writer // progress and messages (stderr)
	// StopAfter > 0 ends the run after that step with a checkpoint, as a
	// signal would; the schedules still span run.steps (train in chunks).
	StopAfter int64
}

// Pretrain runs data2vec pretraining: the loop reads top to bottom as
// lr -> batch and masks -> teacher targets -> student fwd/bwd -> guards ->
// clip -> AdamW -> EMA -> metrics -> checkpoint.
func Pretrain(ctx context.Context, o PretrainOptions) error {
	cfg := o.Cfg
	if cfg.Run.Threads > 0 {
		runtime.GOMAXPROCS(cfg.Run.Threads)
	}
	if err := os.MkdirAll(o.RunDir, 0o755); err != nil {
		return fmt.Errorf("run folder: %w", err)
	}
	B := cfg.Data.BatchSize
	src, err := newSource(cfg, B)
	if err != nil {
		return bad(err)
	}
	sampler, err := data.NewSampler(src.Len(), B, cfg.Run.Seed)
	if err != nil {
		return bad(fmt.Errorf("data.batch_size: %w", err))
	}
	d, err := New(src.Setup())
	if err != nil {
		return err
	}
	defer d.Close()
	oc := cfg.Optim
	opt := NewAdamW(oc.Beta1, oc.Beta2, oc.Eps, oc.WeightDecay, Decayed)
	var start, skipped int64 // skipped: non-finite steps passed over (run.skip_nonfinite)
	metrics := &Metrics{Path: filepath.Join(o.RunDir, "metrics.jsonl")}
	if o.Resume {
		path, err := checkpoint.Latest(o.RunDir)
		if err != nil {
			return bad(fmt.Errorf("--resume %s: %w", o.RunDir, err))
		}
		f, _, err := Open(path)
		if err != nil {
			return bad(err)
		}
		if start, err = Restore(f, path, d, opt); err != nil {
			return bad(err)
		}
		skipped, _ = strconv.ParseInt(f.Meta["skipped_nonfinite"], 10, 64) // absent in older checkpoints: 0
		if err := metrics.Truncate(start); err != nil {
			return err
		}
		fmt.Fprintf(o.Log, "resumed from %s at step %d\n", path, start)
	} else {
		d.Init(uint64(cfg.Run.Seed))
		if err := metrics.Truncate(0); err != nil {
			return err
		}
	}
	if err := writeConfig(cfg, o.RunDir); err != nil {
		return err
	}
	fmt.Fprintf(o.Log, "d2v pretrain: %s; %d params, batch %d, %d tokens (%d masked), %d steps -> %s\n",
		src.Name(), d.Student.Count(nil), B, d.Mod.NumTokens(), d.NMask, cfg.Run.Steps, o.RunDir)
	bar := newProgress(o.Log, cfg.Run.Progress, int64(cfg.Run.Steps), start)
	idx := make([]int, B)
	steps := int64(cfg.Run.Steps)
	save := func(done int64) error {
		p := checkpoint.StepPath(o.RunDir, done)
		if err := Save(p, cfg, d, opt, done, skipped); err != nil {
			return err
		}
		if err := checkpoint.Prune(o.RunDir, cfg.Run.Keep); err != nil {
			return err
		}
		return metrics.Plot(filepath.Join(o.RunDir, "curves.png"))
	}
	for step := start; step < steps; step++ {
		t0 := time.Now()
		lr := LR(int(step), oc.WarmupSteps, cfg.Run.Steps, oc.LR, oc.MinLR, oc.Schedule == config.ScheduleCosine)
		sampler.Indices(step, idx)
		x, xt, mask := src.Batch(idx, 0, cfg.Run.Seed, step)
		out, err := d.ForwardPair(x, xt, mask)
		if err != nil {
			return fmt.Errorf("step %d: %w", step+1, err)
		}
		norm := GradNorm(out.Grads)
		if math.IsNaN(out.Loss) || math.IsInf(out.Loss, 0) || math.IsNaN(norm) || math.IsInf(norm, 0) {
			if skipped++; skipped > int64(cfg.Run.SkipNonFinite) {
				return &DivergedError{Step: step + 1, Reason: fmt.Sprintf("loss %v, grad norm %v (%d non-finite steps, run.skip_nonfinite=%d)",
					out.Loss, norm, skipped, cfg.Run.SkipNonFinite)}
			}
			fmt.Fprintf(o.Log, "step %d skipped: loss %v, grad norm %v (%d of run.skip_nonfinite=%d)\n",
				step+1, out.Loss, norm, skipped, cfg.Run.SkipNonFinite)
			continue // no update, no EMA, no metrics line; data and masks move on
		}
		opt.Step(d.Student, d.Names, out.Grads, lr, ClipCoef(norm, oc.Clip))
		dec := teacher.Decay(cfg.Teacher.EMAStart, cfg.Teacher.EMAEnd, int(step+1), cfg.Teacher.EMAAnnealSteps)
		d.EMA(dec)
		done := step + 1
		m := Metric{Step: done, Loss: out.Loss, LR: lr, EMADecay: dec, GradNorm: norm,
			StepMS: float64(time.Since(t0).Microseconds()) / 1000}
		m.TargetVar, m.PredVar = spread(out.Targets, d.Spec.Dim), spread(out.Pred, d.Spec.Dim)
		bar.update(done, m)
		if done%int64(cfg.Run.LogEvery) == 0 || done == steps {
			if err := metrics.Append(m); err != nil {
				return err
			}
		}
		if done >= int64(cfg.Run.VarCheckAfter) {
			if m.TargetVar < cfg.Run.MinTargetVar {
				return &DivergedError{Step: done, Reason: fmt.Sprintf("target_var %.4g < run.min_target_var %g (collapse)", m.TargetVar, cfg.Run.MinTargetVar)}
			}
			if m.PredVar < cfg.Run.MinPredVar {
				return &DivergedError{Step: done, Reason: fmt.Sprintf("pred_var %.4g < run.min_pred_var %g (collapse)", m.PredVar, cfg.Run.MinPredVar)}
			}
		}
		stop := ctx.Err() != nil || (o.StopAfter > 0 && done >= o.StopAfter && done < steps)
		if done%int64(cfg.Run.CkptEvery) == 0 || done == steps || stop {
			if err := save(done); err != nil {
				return fmt.Errorf("step %d checkpoint: %w", done, err)
			}
		}
		if stop {
			bar.finish()
			fmt.Fprintf(o.Log, "stopped after step %d; checkpoint written; continue with: d2v pretrain --resume %s\n", done, o.RunDir)
			if ctx.Err() != nil {
				return ErrInterrupted
			}
			return nil
		}
	}
	bar.finish()
	last, _ := checkpoint.Latest(o.RunDir)
	fmt.Fprintf(o.Log, "done: %d steps; checkpoint %s; metrics %s; plots %s\n", steps, last, metrics.Path,
		filepath.Join(o.RunDir, "curves.png"))
	return nil
}

func spread(v any, d int) float64 {
	switch x := v.(type) {
	case []float32:
		return teacher.Std(x, len(x)/d, d)
	case []float64:
		return teacher.Std(x, len(x)/d, d)
	}
	return 0
}

func writeConfig(cfg *config.Config, dir string) error {
	y, err := cfg.YAML()
	if err != nil {
		return err
	}
	return checkpoint.WriteFileAtomic(filepath.Join(dir, "config.yaml"), y)
}

// InputError marks bad input (a config value, a data or checkpoint file):
// the CLI exits 2 for it.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func bad(err error) error {
	if err == nil {
		return nil
	}
	return &InputError{Err: err}
}
