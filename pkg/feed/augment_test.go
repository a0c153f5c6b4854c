package feed

import (
	"slices"
	"testing"

	"github.com/d2v/d2v/pkg/config"
)

func augmentCfg(crop, flip bool) *config.Config {
	cfg := config.Default() // embedded MNIST, 28x28, patch 4
	cfg.Modalities.Image.Augment.Crop, cfg.Modalities.Image.Augment.Flip = crop, flip
	return cfg
}

func imageBatch(t *testing.T, cfg *config.Config, idx []int, first int, step int64) []float32 {
	t.Helper()
	src, err := newImageSource(cfg, len(idx))
	if err != nil {
		t.Fatal(err)
	}
	x, xt, _ := src.Batch(idx, first, cfg.Run.Seed, step)
	xs, xts := x.([]float32), xt.([]float32)
	if &xs[0] != &xts[0] {
		t.Fatal("teacher and student get different views")
	}
	return slices.Clone(xs)
}

// Off by default, the feed gives the stored images; on, each sample's view
// is a pure function of (seed, step, sample): the same again, another at
// another step, and 2 ranks' rows are 1 process's.
func TestImageAugment(t *testing.T) {
	idx := []int{3, 1, 4, 1, 5, 9, 2, 6}
	plain := imageBatch(t, config.Default(), idx, 0, 5)
	src, _ := newImageSource(config.Default(), len(idx))
	if !slices.Equal(plain, src.b.Patches(idx)) {
		t.Fatal("augmentation off: the batch is not the stored images")
	}
	for _, tt := range []struct {
		name       string
		crop, flip bool
	}{{"crop", true, false}, {"flip", false, true}, {"both", true, true}} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := augmentCfg(tt.crop, tt.flip)
			a := imageBatch(t, cfg, idx, 0, 5)
			if slices.Equal(a, plain) {
				t.Error("augmentation on: the batch is the stored images")
			}
			if !slices.Equal(a, imageBatch(t, cfg, idx, 0, 5)) {
				t.Error("the same (seed, step, sample) gives another view")
			}
			if slices.Equal(a, imageBatch(t, cfg, idx, 0, 6)) {
				t.Error("steps 5 and 6 give the same views")
			}
			half := len(a) / 2
			r0 := imageBatch(t, cfg, idx[:4], 0, 5)
			r1 := imageBatch(t, cfg, idx[4:], 4, 5)
			if !slices.Equal(a[:half], r0) || !slices.Equal(a[half:], r1) {
				t.Error("2 ranks x 4 samples differ from 1 process x 8")
			}
		})
	}
	// evaluation reads LoadImages + Patches: never augmented
	set, err := LoadImages(augmentCfg(true, true), "train")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewBatcher(augmentCfg(true, true), set, len(idx))
	if !slices.Equal(b.Patches(idx), plain) {
		t.Error("Patches (evaluation's path) changed with augmentation on")
	}
}
