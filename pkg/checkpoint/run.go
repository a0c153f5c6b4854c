package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ErrNoCheckpoint is wrapped by Latest when a run folder has no checkpoint,
// so a trainer can tell "start fresh" from an I/O error with errors.Is.
var ErrNoCheckpoint = errors.New("no checkpoint")

const (
	ckptPrefix = "ckpt-"
	ckptSuffix = ".safetensors"
)

// StepPath is the checkpoint path for step (>= 0) in run folder dir:
// dir/ckpt-00000100.safetensors.
func StepPath(dir string, step int64) string {
	return filepath.Join(dir, fmt.Sprintf("%s%08d%s", ckptPrefix, step, ckptSuffix))
}

// parseStep returns the step of a checkpoint file name, or false for any
// other name (temp files, logs, config.yaml, ...).
func parseStep(name string) (int64, bool) {
	digits, ok := strings.CutPrefix(name, ckptPrefix)
	if !ok {
		return 0, false
	}
	digits, ok = strings.CutSuffix(digits, ckptSuffix)
	if !ok || digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
		return 0, false
	}
	step, err := strconv.ParseInt(digits, 10, 64)
	return step, err == nil
}

// List returns the checkpoint paths in dir sorted by step, oldest first.
// Other files and directories, including Write's temp files, are ignored.
func List(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: list: %w", err)
	}
	type ckpt struct {
		step int64
		name string
	}
	var found []ckpt
	for _, e := range ents {
		if step, ok := parseStep(e.Name()); ok && e.Type().IsRegular() {
			found = append(found, ckpt{step, e.Name()})
		}
	}
	// Ties ("ckpt-1" and "ckpt-00000001") fall back to the name.
	slices.SortFunc(found, func(a, b ckpt) int {
		if a.step != b.step {
			if a.step < b.step {
				return -1
			}
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	paths := make([]string, len(found))
	for i, c := range found {
		paths[i] = filepath.Join(dir, c.name)
	}
	return paths, nil
}

// Latest returns the checkpoint with the highest step in dir. With none it
// returns an error naming dir that wraps ErrNoCheckpoint.
func Latest(dir string) (string, error) {
	paths, err := List(dir)
	if err != nil {
		return "", err
	}
	if len(paths) == 0 {
		return "", fmt.Errorf("checkpoint: %s: %w (no ckpt-*.safetensors files)", dir, ErrNoCheckpoint)
	}
	return paths[len(paths)-1], nil
}

// Prune removes the oldest checkpoints in dir so that at most keep remain.
// keep <= 0 keeps all.
func Prune(dir string, keep int) error {
	if keep <= 0 {
		return nil
	}
	paths, err := List(dir)
	if err != nil {
		return err
	}
	for len(paths) > keep {
		if err := os.Remove(paths[0]); err != nil {
			return fmt.Errorf("checkpoint: prune: %w", err)
		}
		paths = paths[1:]
	}
	return nil
}
