package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/d2v/d2v/pkg/checkpoint"
	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/downstream"
	"github.com/d2v/d2v/pkg/train"
)

type evalOptions struct {
	cfg        configFlags
	checkpoint string
	data       string
	out        string
	random     bool
	k          int
	baselines  bool
	val        bool
	layers     int
	grid       int
}

func newEvalCmd(runF func(*evalOptions, *cobra.Command) error) *cobra.Command {
	o := &evalOptions{}
	c := &cobra.Command{
		Use:   "eval",
		Short: "linear-probe and k-NN accuracy of frozen mean-pooled features, beside the raw input's",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(o, cmd)
			}
			return evalRun(o, cmd)
		},
	}
	o.cfg.bind(c)
	c.Flags().StringVar(&o.checkpoint, "checkpoint", "", "checkpoint file, or a run folder (its latest checkpoint)")
	c.Flags().StringVar(&o.data, "data", "", "folder with the four MNIST/Fashion-MNIST IDX files (default: the checkpoint's data)")
	c.Flags().StringVar(&o.out, "out", "", "folder for eval.json and pictures (default: next to the checkpoint)")
	c.Flags().BoolVar(&o.random, "random-init", false, "evaluate a randomly initialised encoder of the configured shape (baseline)")
	c.Flags().IntVar(&o.k, "k", 20, "neighbours for k-NN")
	c.Flags().BoolVar(&o.baselines, "baselines", true, "also measure the raw input and (for a checkpoint) the random-init encoder of the same seed")
	c.Flags().IntVar(&o.layers, "layers", 0, "concatenate the pooled outputs of the last N layers (0: the default, docs/EVAL.md)")
	c.Flags().IntVar(&o.grid, "grid", 0, "images: pool each of N x N regions of the patch grid apart, concatenated (0: the default, docs/EVAL.md)")
	c.Flags().BoolVar(&o.val, "val", false, "measure on the validation split (the last sixth of each class of train; the probe fits the rest), not the test split: for recipe choices")
	return c
}

// weightsConfig resolves --checkpoint/--random-init into weights and a config.
func weightsConfig(cf *configFlags, ckpt string, random bool, data string) (*config.Config, downstream.Weights, string, error) {
	var extra []string
	if data != "" {
		extra = append(extra, "data.source=idx", "data.path="+data)
	}
	if random == (ckpt != "") {
		return nil, downstream.Weights{}, "", usageError{fmt.Errorf("give exactly one of --checkpoint or --random-init")}
	}
	if random {
		cfg, err := cf.load(extra...)
		if err != nil {
			return nil, downstream.Weights{}, "", err
		}
		return cfg, downstream.Weights{Seed: uint64(cfg.Run.Seed)}, filepath.Join(cfg.Run.Dir, "random-init"), nil
	}
	if st, err := os.Stat(ckpt); err == nil && st.IsDir() {
		if ckpt, err = checkpoint.Latest(ckpt); err != nil {
			return nil, downstream.Weights{}, "", usageError{err}
		}
	}
	_, saved, err := train.Open(ckpt)
	if err != nil {
		return nil, downstream.Weights{}, "", usageError{err}
	}
	// the checkpoint's settings < --config (e.g. fine-tuning or data keys) < --set
	cfg, err := config.LoadOn(saved, cf.path, append(extra, cf.sets...))
	if err != nil {
		return nil, downstream.Weights{}, "", usageError{err}
	}
	if !sameArch(saved, cfg) {
		return nil, downstream.Weights{}, "", usageError{fmt.Errorf("--config/--set cannot change the model or modalities keys of checkpoint %s", ckpt)}
	}
	out := strings.TrimSuffix(ckpt, ".safetensors") + "-eval"
	return cfg, downstream.Weights{Checkpoint: ckpt}, out, nil
}

func sameArch(a, b *config.Config) bool { return a.Model == b.Model && a.Modalities == b.Modalities }

func evalRun(o *evalOptions, cmd *cobra.Command) error {
	cfg, w, out, err := weightsConfig(&o.cfg, o.checkpoint, o.random, o.data)
	if err != nil {
		return err
	}
	if o.out != "" {
		out = o.out
	}
	// one writer per output folder (made here; removed again if nothing is written)
	lk, err := lockOut(out)
	if err != nil {
		return err
	}
	defer lk.Release()
	// Evaluate does not poll the context (its L-BFGS probe and k-NN run for
	// minutes on full MNIST) and holds nothing to save, so a signal ends the
	// command at once; eval.json is written atomically, either whole or not.
	type result struct {
		rep *downstream.EvalReport
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := downstream.Evaluate(cfg, w, out, downstream.EvalOptions{K: o.k, Layers: o.layers, Grid: o.grid, Baselines: o.baselines, Val: o.val}, cmd.ErrOrStderr())
		done <- result{rep, err}
	}()
	var rep *downstream.EvalReport
	select {
	case r := <-done:
		if r.err != nil {
			return r.err
		}
		rep = r.rep
	case <-cmd.Context().Done():
		return fmt.Errorf("eval stopped by a signal before it finished (%s unchanged): %w", filepath.Join(out, "eval.json"), train.ErrInterrupted)
	}
	fmt.Fprint(cmd.OutOrStdout(), rep.Table())
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", filepath.Join(out, "eval.json"))
	return nil
}
