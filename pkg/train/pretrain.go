package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/d2v/d2v/pkg/checkpoint"
	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/data"
	"github.com/d2v/d2v/pkg/dist"
	"github.com/d2v/d2v/pkg/feed"
	"github.com/d2v/d2v/pkg/step"
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
	// Comm is the group of data-parallel ranks (nil: this process alone);
	// data.batch_size is the global batch, split evenly over the ranks.
	Comm dist.Comm
	// Device is where the step runs: "cpu" (default) or "cuda" (the whole
	// step on GPU 0, one process; a build with -tags d2vcuda).
	Device string
}

// Pretrain runs data2vec pretraining: the loop reads top to bottom as
// lr -> batch and masks -> teacher targets -> student fwd/bwd -> guards ->
// clip -> AdamW -> EMA -> metrics -> checkpoint.
func Pretrain(ctx context.Context, o PretrainOptions) error {
	cfg, rep := o.Cfg, newReplicas(o.Comm)
	lead := rep.lead() // only rank 0 logs and writes files
	if !lead {
		o.Log = io.Discard
	}
	if cfg.Run.Threads > 0 {
		runtime.GOMAXPROCS(cfg.Run.Threads)
	}
	if err := rep.agreeConfig(cfg); err != nil {
		return bad(err)
	}
	B, err := rep.localBatch(cfg) // this rank's rows of the global batch
	if err != nil {
		return bad(err)
	}
	src, err := feed.New(cfg, B)
	if err != nil {
		return bad(err)
	}
	dataFP := src.Fingerprint()
	if _, err := data.NewSampler(src.Len(), cfg.Data.BatchSize, cfg.Run.Seed); err != nil { // before any file is written
		return bad(fmt.Errorf("data.batch_size: %w", err))
	}
	d, err := newTrainee(cfg, B, src.Input(), o.Device) // data2vec or data2vec 2.0 (method.go)
	if err != nil {
		return err
	}
	defer d.Close()
	if lead { // only once the data and the model are known good: bad input leaves no folder
		if err := os.MkdirAll(o.RunDir, 0o755); err != nil {
			return fmt.Errorf("run folder: %w", err)
		}
	}
	oc := cfg.Optim
	opt := NewAdamW(oc.Beta1, oc.Beta2, oc.Eps, oc.WeightDecay, d.decayed)
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
		if was := f.Meta["data_fingerprint"]; was != "" && was != dataFP { // absent in older checkpoints
			return bad(fmt.Errorf("--resume %s: the training data changed since %s was written (data fingerprint %.12s..., now %.12s...): the resumed run would see other examples; restore the data or start a new run",
				o.RunDir, path, was, dataFP))
		}
		fmt.Fprintf(o.Log, "resumed from %s at step %d\n", path, start)
	} else {
		d.Init(uint64(cfg.Run.Seed))
	}
	if err := rep.syncState(d, opt, &start, &skipped); err != nil { // rank 0's state everywhere
		return err
	}
	var gs *GPUStep // nil: the CPU graphs
	if v1, ok := d.(v1Trainee); ok {
		if gs, err = openGPUStep(o.Device, v1.D2V, opt, rep.c.Size()); err != nil {
			return err
		}
	}
	if gs != nil {
		defer gs.Close()
		fmt.Fprintf(o.Log, "device: %s\n", gs.Device)
	}
	if lead {
		if err := metrics.Truncate(start); err != nil {
			return err
		}
		if err := writeConfig(cfg, o.RunDir); err != nil {
			return err
		}
	}
	student, _, names := d.Params()
	parts := ""
	if v1, ok := d.(v1Trainee); ok {
		parts = v1.PartsNote()
	}
	fmt.Fprintf(o.Log, "d2v pretrain: %s; %d params, batch %d%s, %s, %d steps -> %s\n",
		src.Name(), student.Count(nil), cfg.Data.BatchSize, parts, d.describe(), cfg.Run.Steps, o.RunDir)
	if n := rep.c.Size(); n > 1 {
		fmt.Fprintf(o.Log, "data-parallel: %d ranks x %d examples\n", n, B)
	}
	bar := NewProgress(o.Log, cfg.Run.Progress, int64(cfg.Run.Steps), start)
	first := rep.c.Rank() * B                                // this rank's first row of the global batch
	batches, err := feed.NewSteps(src, cfg, first, B, start) // this rank's rows from the start step on
	if err != nil {
		return bad(err)
	}
	defer batches.Close()
	steps := int64(cfg.Run.Steps)
	save := func(done int64) error {
		if gs != nil { // parameters and moments back from the GPU
			if err := gs.Sync(); err != nil {
				return err
			}
		}
		if lead {
			p := checkpoint.StepPath(o.RunDir, done)
			if err := Save(p, cfg, d, opt, done, skipped, dataFP); err != nil {
				return err
			}
			if err := checkpoint.Prune(o.RunDir, cfg.Run.Keep); err != nil {
				return err
			}
			if err := metrics.Plot(filepath.Join(o.RunDir, "curves.png")); err != nil {
				return err
			}
		}
		return rep.c.Barrier() // no rank moves on (or exits) before rank 0's checkpoint is written
	}
	for i := start; i < steps; i++ { // i: the 0-based step this iteration runs
		t0 := time.Now()
		lr := ScheduleLR(oc, int(i), cfg.Run.Steps)
		x, xt, mask, err := batches.Next(i)
		if err != nil {
			return bad(fmt.Errorf("step %d: %w", i+1, err))
		}
		var out *step.Output
		var norm float64
		if gs != nil { // targets, forward, backward and the norm on the GPU; grads stay there
			if out, norm, err = gs.Forward(x, xt, mask); err != nil {
				return fmt.Errorf("step %d: %w", i+1, err)
			}
		} else {
			if out, err = d.pass(x, xt, mask, cfg.Run.Seed, i, first); err != nil {
				return fmt.Errorf("step %d: %w", i+1, err)
			}
			if err := rep.average(out.Grads); err != nil { // mean over ranks, before the norm
				return fmt.Errorf("step %d: %w", i+1, err)
			}
			norm = GradNorm(out.Grads)
		}
		// every rank takes the same skip, guard and stop decisions from st
		st, err := rep.reduce(out.Loss, norm, ctx.Err() != nil, out.Targets, out.Pred, cfg.Model.Dim)
		if err != nil {
			return fmt.Errorf("step %d: %w", i+1, err)
		}
		if st.Bad {
			if skipped++; skipped > int64(cfg.Run.SkipNonFinite) {
				return &DivergedError{Step: i + 1, Reason: fmt.Sprintf("loss %v, grad norm %v (%d non-finite steps, run.skip_nonfinite=%d)",
					st.Loss, norm, skipped, cfg.Run.SkipNonFinite)}
			}
			fmt.Fprintf(o.Log, "step %d skipped: loss %v, grad norm %v (%d of run.skip_nonfinite=%d)\n",
				i+1, st.Loss, norm, skipped, cfg.Run.SkipNonFinite)
			continue // no update, no EMA, no metrics line; data and masks move on
		}
		dec := teacher.Decay(cfg.Teacher.EMAStart, cfg.Teacher.EMAEnd, int(i+1), cfg.Teacher.EMAAnnealSteps)
		if gs != nil {
			if err := gs.Update(lr, ClipCoef(norm, oc.Clip), dec); err != nil {
				return fmt.Errorf("step %d: %w", i+1, err)
			}
		} else {
			opt.Step(student, names, out.Grads, lr, ClipCoef(norm, oc.Clip))
			d.EMA(dec)
		}
		done := i + 1
		m := Metric{Step: done, Loss: st.Loss, LR: lr, EMADecay: dec, TargetVar: st.TargetVar, PredVar: st.PredVar,
			GradNorm: norm, StepMS: float64(time.Since(t0).Microseconds()) / 1000, CommMS: rep.lastMS()}
		bar.Update(done, m)
		if lead && (done%int64(cfg.Run.LogEvery) == 0 || done == steps) {
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
		if cfg.Run.CheckEvery > 0 && (done%int64(cfg.Run.CheckEvery) == 0 || done == steps) {
			if err := rep.checkDrift(d, opt, done); err != nil {
				return err
			}
		}
		stop := st.Interrupted || (o.StopAfter > 0 && done >= o.StopAfter && done < steps)
		if done%int64(cfg.Run.CkptEvery) == 0 || done == steps || stop {
			if err := save(done); err != nil {
				// the previous checkpoint is intact (atomic writes): say how to go on from it
				return fmt.Errorf("step %d checkpoint: %w; the last good checkpoint is intact: free space and continue with d2v pretrain --resume %s", done, err, o.RunDir)
			}
		}
		if stop {
			bar.Finish()
			fmt.Fprintf(o.Log, "stopped after step %d; checkpoint written; continue with: d2v pretrain --resume %s\n", done, o.RunDir)
			if st.Interrupted {
				return ErrInterrupted
			}
			return nil
		}
	}
	bar.Finish()
	last, _ := checkpoint.Latest(o.RunDir)
	fmt.Fprintf(o.Log, "done: %d steps; checkpoint %s; metrics %s; plots %s\n", steps, last, metrics.Path,
		filepath.Join(o.RunDir, "curves.png"))
	if s := rep.summary(); s != "" {
		fmt.Fprintln(o.Log, s)
	}
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
