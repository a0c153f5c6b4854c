package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/d2v/d2v/pkg/train"
)

type benchOptions struct {
	cfg    configFlags
	steps  int
	warmup int
	device string
}

func newBenchCmd(runF func(*benchOptions, *cobra.Command) error) *cobra.Command {
	o := &benchOptions{}
	c := &cobra.Command{
		Use:   "bench",
		Short: "time full data2vec training steps on synthetic input; prints one JSON line",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(o, cmd)
			}
			return benchRun(o, cmd)
		},
	}
	o.cfg.bind(c)
	c.Flags().IntVar(&o.steps, "steps", 20, "timed steps (the median is reported)")
	c.Flags().IntVar(&o.warmup, "warmup", 5, "untimed steps first")
	c.Flags().StringVar(&o.device, "device", train.DeviceCPU, "where the step runs: cpu, cuda (a build with -tags d2vcuda) or emu (the GPU step emulated in Go, slow)")
	return c
}

func benchRun(o *benchOptions, cmd *cobra.Command) error {
	if o.steps < 1 || o.warmup < 0 {
		return usageError{fmt.Errorf("--steps must be >= 1 and --warmup >= 0")}
	}
	if err := checkDevice(o.device); err != nil {
		return err
	}
	cfg, err := o.cfg.load()
	if err != nil {
		return err
	}
	name := strings.TrimSuffix(filepath.Base(o.cfg.path), ".yaml")
	if name == "" || name == "." {
		name = "default"
	}
	res, err := train.BenchDevice(cfg, name, o.steps, o.warmup, o.device)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(res)
	fmt.Fprintln(cmd.OutOrStdout(), string(b))
	return nil
}
