//go:build mpi

package main

import (
	"math"
	"path/filepath"
	"testing"
)

// TestMPIShards: pretraining streamed from shards, 2 ranks x 8 examples
// (each rank decodes only its rows of every global batch) train like 1
// process x 16: the same losses and final state within float32 tolerance.
func TestMPIShards(t *testing.T) {
	mpi, dir := mpiBinary(t), t.TempDir()
	shards := filepath.Join(dir, "shards")
	embeddedShards(t, shards, 100, 24, func(v uint8) uint8 { return v })
	extra := []string{"--set", "data.source=shards", "--set", "data.path=" + shards, "--set", "data.limit=0",
		"--set", "data.shuffle_window=40", "--set", "modalities.image.augment.crop=true", "--set", "modalities.image.augment.flip=true"}
	if code, out := runD2V(t, mpiArgs(dir, "one", extra...)...); code != 0 {
		t.Fatalf("one process: exit %d\n%s", code, out)
	}
	if code, out := mpirun(t, append([]string{"-np", "2", mpi}, mpiArgs(dir, "two", extra...)...)...); code != 0 {
		t.Fatalf("2 ranks: mpirun exit %d\n%s", code, out)
	}
	one, two := metricsOf(t, filepath.Join(dir, "one")), metricsOf(t, filepath.Join(dir, "two"))
	for i, w := range one {
		if rel := math.Abs(two[i].Loss-w.Loss) / math.Abs(w.Loss); rel > 1e-4 {
			t.Errorf("step %d loss: 2 ranks %.7g, 1 process %.7g (rel. diff %.2g)", w.Step, two[i].Loss, w.Loss, rel)
		}
	}
	if d, where := stateDiff(t, filepath.Join(dir, "one"), filepath.Join(dir, "two")); d > 1e-4 {
		t.Errorf("final state of 2 ranks differs from 1 process by %.3g in %s", d, where)
	}
}
