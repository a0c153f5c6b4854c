package train

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"

	"github.com/d2v/d2v/pkg/checkpoint"
	"github.com/d2v/d2v/pkg/config"
)

// ResumeConfig is the config of a run being resumed: the latest checkpoint's
// config with `sets` applied. Keys that shape the model, its targets or the
// data stream (model, modalities, masking, teacher, loss, data, run.seed)
// must not change; run.steps, logging and checkpoint cadence may.
func ResumeConfig(runDir string, sets []string) (*config.Config, error) {
	path, err := checkpoint.Latest(runDir)
	if err != nil {
		return nil, fmt.Errorf("--resume %s: %w", runDir, err)
	}
	f, saved, err := Open(path)
	if err != nil {
		if all, _ := checkpoint.List(runDir); len(all) > 1 {
			prev := filepath.Base(all[len(all)-2])
			return nil, fmt.Errorf("%w; to resume from the previous checkpoint %s, move %s out of %s", err, prev, filepath.Base(path), runDir)
		}
		return nil, err
	}
	cfg, err := config.LoadOn(saved, "", sets)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		key      string
		old, new any
	}{
		{"model", saved.Model, cfg.Model}, {"modalities", saved.Modalities, cfg.Modalities},
		{"masking", saved.Masking, cfg.Masking}, {"teacher", saved.Teacher, cfg.Teacher},
		{"loss", saved.Loss, cfg.Loss}, {"data", saved.Data, cfg.Data}, {"run.seed", saved.Run.Seed, cfg.Run.Seed},
	} {
		if !reflect.DeepEqual(f.old, f.new) {
			return nil, fmt.Errorf("--resume %s: %s cannot change on resume (checkpoint %s)", runDir, f.key, filepath.Base(path))
		}
	}
	// fewer steps than already done would report "done" over a longer run
	// and write a config.yaml that disagrees with its checkpoints
	if step, err := strconv.ParseInt(f.Meta["step"], 10, 64); err == nil && int64(cfg.Run.Steps) < step {
		return nil, fmt.Errorf("--resume %s: run.steps %d is below the step of checkpoint %s (%d); give at least %d",
			runDir, cfg.Run.Steps, filepath.Base(path), step, step)
	}
	return cfg, nil
}
