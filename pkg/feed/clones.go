package feed

import (
	"fmt"
	"math/rand/v2"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/masking"
)

// CloneMasks draws data2vec 2.0's masks (method data2vec2): M per sample,
// every one keeping exactly NumKept(cfg) positions, each a pure function
// of (seed, step, sample, clone) (masking.CloneMasks). Images draw inverse
// blocks on the patch grid (or random positions), speech wav2vec spans of
// masking.span_len (or random), text and tokens random positions.
type CloneMasks struct {
	B, M, T, K int
	draw       func(r *rand.Rand, row []bool)
	mask       []bool
}

// NumKept is data2vec 2.0's visible positions per clone (method
// data2vec2): masking.KeepCount(masking.ratio, T) = int(T*(1-ratio)).
func NumKept(cfg *config.Config) int { return masking.KeepCount(cfg.Masking.Ratio, cfg.NumTokens()) }

// NewCloneMasks checks the masking settings once, for batches of B samples.
func NewCloneMasks(cfg *config.Config, B int) (*CloneMasks, error) {
	T, K := cfg.NumTokens(), NumKept(cfg)
	if err := masking.ValidateKeep(T, K); err != nil {
		return nil, fmt.Errorf("masking.ratio: %w", err)
	}
	mk := cfg.Masking
	c := &CloneMasks{B: B, M: cfg.Clones.Count, T: T, K: K}
	switch {
	case mk.Kind == config.MaskInverseBlock && cfg.Model.Modality == config.ModalityImage:
		side := cfg.Modalities.Image.Size / cfg.Modalities.Image.PatchSize
		if err := masking.ValidateInverseBlock(side, side, mk.Ratio, mk.BlockWidth, mk.Adjust); err != nil {
			return nil, err
		}
		c.draw = func(r *rand.Rand, row []bool) {
			masking.InverseBlock(r, side, side, mk.Ratio, mk.BlockWidth, mk.Adjust, row)
		}
	case mk.Kind == config.MaskSpan && cfg.Model.Modality == config.ModalityAudio:
		if err := masking.ValidateSpans(T, T-K, mk.SpanLen); err != nil {
			return nil, err
		}
		c.draw = func(r *rand.Rand, row []bool) { masking.TimeSpans(r, T, T-K, mk.SpanLen, mk.Ratio, row) }
	case mk.Kind == config.MaskRandom:
		c.draw = func(r *rand.Rand, row []bool) { masking.Random(r, T, T-K, row) }
	default:
		return nil, fmt.Errorf("masking.kind: %s is not a data2vec 2.0 mask for model.modality %s", mk.Kind, cfg.Model.Modality)
	}
	c.mask = make([]bool, B*c.M*T)
	return c, nil
}

// Masks fills the (B*M rows of T, true = masked) masks of a step whose
// first sample is sample `first` of the global batch; row r is sample
// first + r/M, clone r%M. The slice is reused by the next call.
func (c *CloneMasks) Masks(seed, step int64, first int) []bool {
	masking.CloneMasks(seed, step, first, c.B, c.M, c.T, c.mask, c.draw)
	return c.mask
}
