package main

import (
	"context"
	"errors"
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

// runDir is the run folder: --resume's, or run.dir/run.name of the config
// resolved from flags (returned too; nil on --resume).
func (o *pretrainOptions) runDir(cmd *cobra.Command) (string, *config.Config, error) {
	if o.resume != "" {
		if o.cfg.path != "" {
			return "", nil, usageError{fmt.Errorf("--resume takes the config from the run's checkpoint; use --set for run.* keys instead of --config")}
		}
		return o.resume, nil, nil
	}
	cfg, err := o.cfg.load(o.flagSets(cmd)...)
	if err != nil {
		return "", nil, err
	}
	name := cfg.Run.Name
	if name == "" {
		name = time.Now().Format("20060102-150405")
	}
	return filepath.Join(cfg.Run.Dir, name), cfg, nil
}

// flagSets are --steps, --seed and --name as --set overrides.
func (o *pretrainOptions) flagSets(cmd *cobra.Command) []string {
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
	return extra
}

// resolve checks the locked run folder and builds the run's config: cfg
// (from flags) for a fresh run, or on --resume the run's checkpoint's, where
// only --set/--steps may change non-architecture keys.
func (o *pretrainOptions) resolve(cmd *cobra.Command, comm dist.Comm, cfg *config.Config, dir string) (*config.Config, error) {
	if o.resume == "" {
		if comm.Rank() > 0 {
			return cfg, nil
		}
		return cfg, freshRunDir(dir) // again: a checkpoint may have appeared before we got the lock
	}
	cfg, err := train.ResumeConfig(o.resume, append(o.flagSets(cmd), o.cfg.sets...))
	if err != nil {
		return nil, usageError{err}
	}
	return cfg, nil
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
		dir, cfg, err := o.runDir(cmd)
		if err != nil {
			return err
		}
		if o.resume == "" && comm.Rank() == 0 {
			// a used folder is refused before the lock is tried, so a fresh
			// run never holds it, even for a moment, against a resume
			if err := freshRunDir(dir); err != nil {
				return err
			}
		}
		// one writer per run folder: before anything in it is written
		lk, err := lockRun(comm, dir, o.resume == "")
		if err != nil {
			return err
		}
		defer lk.Release()
		if cfg, err = o.resolve(cmd, comm, cfg, dir); err != nil {
			return err
		}
		if n := comm.Size(); n > 1 && comm.Rank() == 0 {
			// mpirun ends a job whose rank died with SIGTERM, then SIGKILL:
			// rank 0, waiting in a collective for the dead rank, never
			// reaches the step's end to say how to go on, so say it now
			defer context.AfterFunc(cmd.Context(), func() {
				fmt.Fprintf(cmd.ErrOrStderr(), "d2v: rank 0 of %d: stopping on a signal; if mpirun is ending the job (a rank died), the last checkpoint is intact: continue with d2v pretrain --resume %s\n", n, dir)
			})()
		}
		return train.Pretrain(cmd.Context(), train.PretrainOptions{Cfg: cfg, RunDir: dir, Resume: o.resume != "",
			Log: cmd.ErrOrStderr(), StopAfter: o.stop, Comm: comm, Device: o.device})
	}()
	var je jobError
	if err != nil && comm.Size() > 1 && !errors.As(err, &je) {
		// the other ranks may wait in a collective for this one: end them all
		comm.Abort(exitCode(err, false), fmt.Sprintf("d2v: rank %d of %d: %v", comm.Rank(), comm.Size(), err))
	}
	if cerr := comm.Close(); err == nil {
		err = cerr
	}
	return err
}
