package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/train"
)

// Exit codes, mapped in one place.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2   // bad flags, config or input files
	exitDiverged    = 3   // NaN/Inf or collapse
	exitInterrupted = 130 // SIGINT
	exitTerminated  = 143 // SIGTERM
)

// usageError marks errors in flags or config (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// jobError is an error every rank of an MPI job learnt together from one
// collective (rank 0 was refused the run folder's lock), so the job ends
// without MPI_Abort; quiet ranks print nothing, rank 0 says why.
type jobError struct {
	err   error
	quiet bool
}

func (e jobError) Error() string { return e.err.Error() }
func (e jobError) Unwrap() error { return e.err }

// Main runs the CLI with args and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	// SIGINT/SIGTERM cancel the context: the loops finish the current step,
	// write a checkpoint and return train.ErrInterrupted (exit 130 / 143).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	var term atomic.Bool
	go func() {
		if s, ok := <-sigs; ok {
			term.Store(s == syscall.SIGTERM)
			cancel()
		}
	}()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var je jobError
	if !errors.As(err, &je) || !je.quiet {
		fmt.Fprintf(stderr, "d2v: %v\n", err)
	}
	return exitCode(err, term.Load())
}

// exitCode maps an error to the process exit code; term: SIGTERM was received.
func exitCode(err error, term bool) int {
	var ue usageError
	var ie *train.InputError
	var de *train.DivergedError
	switch {
	case errors.As(err, &ue), errors.As(err, &ie):
		return exitUsage
	case errors.As(err, &de):
		return exitDiverged
	case errors.Is(err, train.ErrInterrupted):
		if term {
			return exitTerminated
		}
		return exitInterrupted
	}
	return exitError
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "d2v",
		Short:         "data2vec self-supervised pretraining, fine-tuning and evaluation",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see d2v %s --help)", err, c.Name())}
	})
	root.AddCommand(newPretrainCmd(nil), newEvalCmd(nil), newFinetuneCmd(nil), newBenchCmd(nil), newTokenizeCmd(nil), newShardCmd(nil), newConfigCmd())
	return root
}

// configFlags are the flags every command shares: a YAML file and overrides.
type configFlags struct {
	path string
	sets []string
}

func (f *configFlags) bind(c *cobra.Command) {
	c.Flags().StringVarP(&f.path, "config", "c", "", "YAML config `file` (keys and defaults: d2v config keys)")
	c.Flags().StringArrayVar(&f.sets, "set", nil, "override one config `key=value`, e.g. --set model.dim=128 (repeatable)")
}

// load resolves Default() < YAML < --set; errors are usage errors (exit 2).
func (f *configFlags) load(extra ...string) (*config.Config, error) {
	cfg, err := config.Load(f.path, append(append([]string(nil), extra...), f.sets...))
	if err != nil {
		return nil, usageError{err}
	}
	return cfg, nil
}

func newConfigCmd() *cobra.Command {
	c := &cobra.Command{Use: "config", Short: "show config keys and defaults"}
	c.AddCommand(&cobra.Command{
		Use:   "keys",
		Short: "print every config key with its default and meaning (Markdown)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprint(cmd.OutOrStdout(), config.Doc())
			return nil
		},
	})
	var f configFlags
	show := &cobra.Command{
		Use:   "show",
		Short: "print the resolved config (defaults < --config < --set) as YAML, after validation",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.load()
			if err != nil {
				return err
			}
			y, err := cfg.YAML()
			fmt.Fprint(cmd.OutOrStdout(), string(y))
			return err
		},
	}
	f.bind(show)
	c.AddCommand(show)
	return c
}
