package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/d2v/d2v/pkg/downstream"
)

type finetuneOptions struct {
	cfg        configFlags
	checkpoint string
	data       string
	out        string
	random     bool
	val        bool
}

func newFinetuneCmd(runF func(*finetuneOptions, *cobra.Command) error) *cobra.Command {
	o := &finetuneOptions{}
	c := &cobra.Command{
		Use:   "finetune",
		Short: "fine-tune all weights with a LayerNorm+Linear head on mean-pooled features",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(o, cmd)
			}
			return finetuneRun(o, cmd)
		},
	}
	o.cfg.bind(c)
	c.Flags().StringVar(&o.checkpoint, "checkpoint", "", "pretraining checkpoint file, or a run folder (its latest checkpoint)")
	c.Flags().StringVar(&o.data, "data", "", "folder with the four MNIST/Fashion-MNIST IDX files (default: the checkpoint's data)")
	c.Flags().StringVar(&o.out, "out", "", "output folder (default: next to the checkpoint)")
	c.Flags().BoolVar(&o.random, "random-init", false, "fine-tune a randomly initialised encoder (baseline)")
	c.Flags().BoolVar(&o.val, "val", false, "train on the train split minus the last sixth of each class and measure on that sixth, not the test split: for recipe choices")
	return c
}

func finetuneRun(o *finetuneOptions, cmd *cobra.Command) error {
	cfg, w, out, err := weightsConfig(&o.cfg, o.checkpoint, o.random, o.data)
	if err != nil {
		return err
	}
	out = strings.TrimSuffix(out, "-eval") + "-finetune"
	if o.out != "" {
		out = o.out
	}
	// one writer per output folder (made here; removed again if nothing is written)
	lk, err := lockOut(out)
	if err != nil {
		return err
	}
	defer lk.Release()
	rep, err := downstream.Finetune(cmd.Context(), cfg, w, out, downstream.FinetuneOptions{Val: o.val}, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "weights        %s\nsteps          %d (%.0f s)\n%-14s %.2f%% (%d %s examples)\ncheckpoint     %s\n",
		rep.Weights, rep.Steps, rep.Seconds, rep.Measured+" accuracy", 100*rep.Accuracy, rep.TestN, rep.Measured, rep.Checkpoint)
	return nil
}
