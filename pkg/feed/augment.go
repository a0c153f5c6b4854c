package feed

import (
	"fmt"
	"math/rand/v2"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/data"
	"github.com/d2v/d2v/pkg/masking"
)

// AugmentSpec translates modalities.image.augment, pretraining's.
func AugmentSpec(c *config.Config) data.AugmentSpec { return AugmentSpecOf(c.Modalities.Image.Augment) }

// AugmentSpecOf translates one augmentation section (pretraining's or
// finetune.augment).
func AugmentSpecOf(a config.Augment) data.AugmentSpec {
	return data.AugmentSpec{Crop: a.Crop, ScaleMin: a.ScaleMin, ScaleMax: a.ScaleMax,
		RatioMin: a.RatioMin, RatioMax: a.RatioMax, Flip: a.Flip}
}

// augmentSalt separates the augmentation's random stream from the mask's:
// both are keyed by (seed, step, sample), and sharing one stream would tie
// the crop to the mask.
const augmentSalt = 0x6175676d656e74 // "augment"

// AugmentRNG is the generator of sample's augmentation at step: a pure
// function of (seed, step, sample), like the masks, so a resumed or
// data-parallel run draws the same crops.
func AugmentRNG(seed, step int64, sample int) *rand.Rand {
	return masking.NewRNG(seed^augmentSalt, step, sample)
}

// AugmentedPatches fills the (len(idx)*T, P) input for dataset rows idx as
// Patches does, each image first replaced by its augmented view (row i is
// sample first+i of the step's global batch). Teacher and student share
// this one view, as in the data2vec vision recipe; evaluation uses Patches.
func (b *Batcher) AugmentedPatches(spec data.AugmentSpec, idx []int, first int, seed, step int64) []float32 {
	s, p := b.Set, b.Cfg.Modalities.Image.PatchSize
	n := b.gh * b.gw * s.PatchDim(p)
	if len(b.x) < len(idx)*n {
		b.x = make([]float32, len(idx)*n)
	}
	if len(b.view) != s.ImageLen() {
		b.view = make([]float32, s.ImageLen())
	}
	for i, r := range idx {
		a := spec.Draw(AugmentRNG(seed, step, first+i), s.H, s.W)
		a.Apply(b.view, s.H, s.W, s.Image(r), s.H, s.W, s.C)
		data.PatchImage(b.view, s.H, s.W, s.C, p, b.x[i*n:(i+1)*n])
	}
	return b.x[:len(idx)*n]
}

// AugmentNote describes the augmentation for a source's Name ("" when off).
func AugmentNote(a data.AugmentSpec) string {
	switch {
	case a.Crop && a.Flip:
		return fmt.Sprintf(", random resized crops (scale %g-%g, ratio %.3g-%.3g) and flips", a.ScaleMin, a.ScaleMax, a.RatioMin, a.RatioMax)
	case a.Crop:
		return fmt.Sprintf(", random resized crops (scale %g-%g, ratio %.3g-%.3g)", a.ScaleMin, a.ScaleMax, a.RatioMin, a.RatioMax)
	case a.Flip:
		return ", random flips"
	}
	return ""
}
