package train

import (
	"fmt"

	"gorgonia.org/tensor"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/data"
	"github.com/d2v/d2v/pkg/loss"
	"github.com/d2v/d2v/pkg/masking"
	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/teacher"
)

// Spec translates the model section of a config.
func Spec(c *config.Config) model.Spec {
	return model.Spec{
		Dim: c.Model.Dim, Depth: c.Model.Depth, Heads: c.Model.Heads, FFN: c.Model.FFNDim,
		NormFirst: c.Model.Norm == config.NormPre, LNEps: c.Model.LNEps, HeadLayers: c.Model.HeadLayers,
		LearnedPos: c.Model.Pos == config.PosLearned && c.Model.Modality != config.ModalityAudio, InitStd: c.Model.InitStd,
		EmbedLN: (c.Model.Modality == config.ModalityText && c.Modalities.Text.EmbedLN) ||
			// wav2vec 2.0's encoder LayerNorm after the positional conv (post-LN only;
			// pre-LN blocks end with their final LN instead)
			(c.Model.Modality == config.ModalityAudio && c.Model.Norm == config.NormPost),
	}
}

// Modality builds the configured local encoder.
func Modality(c *config.Config) model.Modality {
	switch c.Model.Modality {
	case config.ModalityTokens:
		return model.Tokens{T: c.Modalities.Tokens.SeqLen, Vocab: c.Modalities.Tokens.Vocab, Dim: c.Model.Dim}
	case config.ModalityAudio:
		a := c.Modalities.Audio
		return model.Audio{Samples: a.CropSamples, Conv: a.ConvTable(), ConvDim: a.ConvDim, Dim: c.Model.Dim,
			PosWidth: a.PosConvWidth, PosGroups: a.PosConvGroup, PosDepth: a.PosConvDepth, LNEps: c.Model.LNEps}
	}
	g := c.Modalities.Image.Size / c.Modalities.Image.PatchSize
	return model.Patches{T: g * g, PatchDim: c.PatchDim(), Dim: c.Model.Dim, GridH: g, GridW: g}
}

// SetupFor translates a config into the step's static settings.
func SetupFor(c *config.Config, batch int) Setup {
	return Setup{
		Spec: Spec(c), Mod: Modality(c), Batch: batch, NMask: c.NumMasked(),
		TargetLayer: string(c.Teacher.TargetLayer), Scope: string(c.Teacher.Scope),
		Target: teacher.TargetSpec{TopK: c.Teacher.TopK, LayerNorm: teacher.Norm(c.Teacher.LayerNorm),
			Final: teacher.Norm(c.Teacher.FinalNorm), Eps: 1e-5},
		Loss:  loss.Spec{Beta: c.Loss.Beta, Scale: c.Loss.Scale, Reduction: loss.Reduction(c.Loss.Reduction)},
		Dtype: tensor.Float32,
		Parts: c.Run.BatchSplit,
	}
}

// LoadImages reads the configured image split ("train" or "test"),
// checks its size against the config and normalises the pixels.
func LoadImages(c *config.Config, split string) (*data.ImageSet, error) {
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
	mask       []bool
}

// NewBatcher validates the patch grid and mask settings once.
func NewBatcher(c *config.Config, set *data.ImageSet, batch int) (*Batcher, error) {
	p := c.Modalities.Image.PatchSize
	gh, gw, err := set.GridSize(p)
	if err != nil {
		return nil, err
	}
	b := &Batcher{Set: set, Cfg: c, Batch: batch, gh: gh, gw: gw, nm: c.NumMasked()}
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
	T, m := b.gh*b.gw, b.Cfg.Masking
	for i := 0; i < b.Batch; i++ {
		r := masking.NewRNG(seed, step, first+i)
		dst := b.mask[i*T : (i+1)*T]
		if m.Kind == config.MaskBlock {
			masking.Block(r, b.gh, b.gw, b.nm, m.MinPerBlock, m.MaxPerBlock, m.MinAspect, m.MaxAspect, dst)
		} else {
			masking.Random(r, T, b.nm, dst)
		}
	}
	return b.mask
}
