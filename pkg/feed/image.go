package feed

import (
	"fmt"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/data"
	"github.com/d2v/d2v/pkg/masking"
)

// LoadImages reads the configured image split ("train" or "test"),
// checks its size against the config and normalises the pixels.
func LoadImages(c *config.Config, split string) (*data.ImageSet, error) {
	if err := inMemory(c); err != nil {
		return nil, err
	}
	im := c.Modalities.Image
	var set *data.ImageSet
	var err error
	switch c.Data.Source {
	case config.SourceEmbedded:
		set, err = data.Embedded(split)
	case config.SourceIdx:
		set, err = data.LoadMNISTDir(c.Data.Path, split)
	case config.SourceFolder:
		dir := c.Data.Path
		if split == "test" {
			if dir = c.Data.TestPath; dir == "" {
				return nil, fmt.Errorf("data.test_path: required for evaluation with data.source folder")
			}
		}
		set, err = data.LoadImageFolder(dir, im.Size, im.Size, im.Channels == 1)
	default:
		return nil, fmt.Errorf("data.source: unknown %q", c.Data.Source)
	}
	if err != nil {
		return nil, err
	}
	if set.H != im.Size || set.W != im.Size || set.C != im.Channels {
		return nil, fmt.Errorf("%s: images are %dx%dx%d, config modalities.image wants %dx%dx%d",
			set.Source, set.H, set.W, set.C, im.Size, im.Size, im.Channels)
	}
	if split == "train" && c.Data.Limit > 0 {
		set = set.Subset(c.Data.Limit)
	}
	set.Normalize(float32(im.Mean), float32(im.Std))
	return set, nil
}

// Batcher turns dataset rows into the step's inputs: patches and masks that
// depend only on (seed, step, sample), so a resumed run sees the same ones.
type Batcher struct {
	Set        *data.ImageSet
	Cfg        *config.Config
	Batch      int
	gh, gw, nm int
	x          []float32
	view       []float32 // one augmented image (AugmentedPatches)
	mask       []bool
}

// NewBatcher validates the patch grid and mask settings once.
func NewBatcher(c *config.Config, set *data.ImageSet, batch int) (*Batcher, error) {
	p := c.Modalities.Image.PatchSize
	gh, gw, err := set.GridSize(p)
	if err != nil {
		return nil, err
	}
	b := &Batcher{Set: set, Cfg: c, Batch: batch, gh: gh, gw: gw, nm: NumMasked(c)}
	m := c.Masking
	if m.Kind == config.MaskBlock {
		err = masking.ValidateBlock(gh, gw, b.nm, m.MinPerBlock, m.MaxPerBlock, m.MinAspect, m.MaxAspect)
	} else {
		err = masking.ValidateCount(gh*gw, b.nm)
	}
	if err != nil {
		return nil, err
	}
	T := gh * gw
	b.x = make([]float32, batch*T*set.PatchDim(p))
	b.mask = make([]bool, batch*T)
	return b, nil
}

// Tokens is the number of patches per image (the patch grid's area).
func (b *Batcher) Tokens() int { return b.gh * b.gw }

// Patches fills the (len(idx)*T, P) input for dataset rows idx, reusing its
// buffer (sized for Batch rows; grown for larger requests).
func (b *Batcher) Patches(idx []int) []float32 {
	p := b.Cfg.Modalities.Image.PatchSize
	n := b.gh * b.gw * b.Set.PatchDim(p)
	if len(b.x) < len(idx)*n {
		b.x = make([]float32, len(idx)*n)
	}
	for i, r := range idx {
		b.Set.Patches(r, p, b.x[i*n:(i+1)*n])
	}
	return b.x[:len(idx)*n]
}

// Mask fills the (B*T) mask of a step; row i holds sample first+i of the
// step's global batch (first > 0 on later data-parallel ranks), whose mask
// is a pure function of (seed, step, first+i).
func (b *Batcher) Mask(seed, step int64, first int) []bool {
	T := b.gh * b.gw
	for i := 0; i < b.Batch; i++ {
		b.maskRow(seed, step, first+i, b.mask[i*T:(i+1)*T])
	}
	return b.mask
}

// maskRow fills the (T) mask of sample of step's global batch.
func (b *Batcher) maskRow(seed, step int64, sample int, dst []bool) {
	m := b.Cfg.Masking
	r := masking.NewRNG(seed, step, sample)
	if m.Kind == config.MaskBlock {
		masking.Block(r, b.gh, b.gw, b.nm, m.MinPerBlock, m.MaxPerBlock, m.MinAspect, m.MaxAspect, dst)
	} else {
		masking.Random(r, b.gh*b.gw, b.nm, dst)
	}
}

// imageSource feeds image pretraining: patches and block or random masks.
type imageSource struct {
	b   *Batcher
	aug data.AugmentSpec // modalities.image.augment; off: the stored images
}

func newImageSource(cfg *config.Config, B int) (*imageSource, error) {
	set, err := LoadImages(cfg, "train")
	if err != nil {
		return nil, err
	}
	b, err := NewBatcher(cfg, set, B)
	if err != nil {
		return nil, err
	}
	return &imageSource{b: b, aug: AugmentSpec(cfg)}, nil
}

func (s *imageSource) Len() int { return s.b.Set.N }

func (s *imageSource) Name() string {
	return fmt.Sprintf("%s, %d images%s%s", s.b.Set.Source, s.b.Set.N, data.IgnoredNote(s.b.Set.Ignored), AugmentNote(s.aug))
}

func (s *imageSource) Input() Input { return Input{NMask: s.b.nm} }

func (s *imageSource) Batch(idx []int, first int, seed, step int64) (any, any, []bool) {
	var x []float32
	if s.aug.On() {
		x = s.b.AugmentedPatches(s.aug, idx, first, seed, step)
	} else {
		x = s.b.Patches(idx)
	}
	return x, x, s.b.Mask(seed, step, first)
}
