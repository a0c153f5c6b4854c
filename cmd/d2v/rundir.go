package main

import (
	"fmt"
	"path/filepath"

	"github.com/d2v/d2v/internal/runlock"
	"github.com/d2v/d2v/pkg/checkpoint"
)

// freshRunDir refuses to start a new run in a folder that already holds
// checkpoints: the new run's checkpoints would sit beside the old run's,
// `--resume` and `eval` would pick whichever has the highest step, and the
// folder's config.yaml would no longer describe them. A folder without
// checkpoints (a run killed before its first one) may be reused. When a
// process is writing the folder (a resume), the message names it instead.
// Only rank 0 calls it: it reads the lock, and rank 0 is the run's writer.
func freshRunDir(dir string) error {
	last, err := checkpoint.Latest(dir)
	if err != nil {
		return nil // no folder, or no checkpoint in it
	}
	if h := runlock.Holder(dir); h != nil {
		return usageError{h}
	}
	return usageError{fmt.Errorf("run folder %s already holds checkpoints (latest %s): continue that run with d2v pretrain --resume %s, or choose another --name",
		dir, filepath.Base(last), dir)}
}
