package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/dist"
	"github.com/d2v/d2v/pkg/train"
)

type pretrainOptions struct {
	cfg    configFlags
	resume string
	steps  int
	seed   int64
	name   string
	stop   int64
	device string
}

func newPretrainCmd(runF func(*pretrainOptions, *cobra.Command) error) *cobra.Command {
	o := &pretrainOptions{}
	c := &cobra.Command{
		Use:   "pretrain",
		Short: "pretrain an encoder with data2vec (default: a small ViT on embedded MNIST)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(o, cmd)
			}
			return pretrainRun(o, cmd)
		},
	}
	o.cfg.bind(c)
	c.Flags().StringVar(&o.resume, "resume", "", "run folder to continue from its latest checkpoint")
	c.Flags().IntVar(&o.steps, "steps", 0, "shorthand for --set run.steps=N")
	c.Flags().Int64Var(&o.seed, "seed", 0, "shorthand for --set run.seed=N")
	c.Flags().StringVar(&o.name, "name", "", "shorthand for --set run.name=NAME")
	c.Flags().Int64Var(&o.stop, "stop-after", 0, "stop after step N with a checkpoint; the lr/EMA schedules still span run.steps")
	c.Flags().StringVar(&o.device, "device", train.DeviceCPU, "where the step runs: cpu, cuda (a build with -tags d2vcuda) or emu (the GPU step emulated in Go, slow)")
	return c
}

// resolve builds the run's config: from flags, or on --resume from the run's
// checkpoint, where only --set/--steps may change non-architecture keys.
func (o *pretrainOptions) resolve(cmd *cobra.Command) (*config.Config, string, error) {
	var extra []string
	if cmd.Flags().Changed("steps") {
		extra = append(extra, "run.steps="+strconv.Itoa(o.steps))
	}
	if cmd.Flags().Changed("seed") {
		extra = append(extra, "run.seed="+strconv.FormatInt(o.seed, 10))
	}
	if o.name != "" {
		extra = append(extra, "run.name="+o.name)
	}
	if o.resume == "" {
		cfg, err := o.cfg.load(extra...)
		if err != nil {
			return nil, "", err
		}
		name := cfg.Run.Name
		if name == "" {
			name = time.Now().Format("20060102-150405")
		}
		dir := filepath.Join(cfg.Run.Dir, name)
		return cfg, dir, freshRunDir(dir)
	}
	if o.cfg.path != "" {
		return nil, "", usageError{fmt.Errorf("--resume takes the config from the run's checkpoint; use --set for run.* keys instead of --config")}
	}
	cfg, err := train.ResumeConfig(o.resume, append(extra, o.cfg.sets...))
	if err != nil {
		return nil, "", usageError{err}
	}
	return cfg, o.resume, nil
}

func pretrainRun(o *pretrainOptions, cmd *cobra.Command) error {
	if err := checkDevice(o.device); err != nil {
		return err
	}
	comm, err := dist.World() // one process, or every mpirun rank (-tags mpi)
	if err != nil {
		return err
	}
	err = func() error {
		cfg, dir, err := o.resolve(cmd)
		if err != nil {
			return err
		}
		return train.Pretrain(cmd.Context(), train.PretrainOptions{Cfg: cfg, RunDir: dir, Resume: o.resume != "",
			Log: cmd.ErrOrStderr(), StopAfter: o.stop, Comm: comm, Device: o.device})
	}()
	if err != nil && comm.Size() > 1 {
		// the other ranks may wait in a collective for this one: end them all
		comm.Abort(exitCode(err, false), fmt.Sprintf("d2v: rank %d of %d: %v", comm.Rank(), comm.Size(), err))
	}
	if cerr := comm.Close(); err == nil {
		err = cerr
	}
	return err
}
