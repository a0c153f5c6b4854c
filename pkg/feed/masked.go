package feed

import (
	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/masking"
)

// NumMasked is the masked count per sample that the config fixes, the one
// place it is computed: masking.SpanCount for audio span masking (ratio is
// wav2vec's mask_prob, about 49% of the frames at 0.65), else masking.Count
// of masking.ratio over the T tokens, floor(ratio*T+0.5) as the reference
// step computes it. Text sources replace it with the count over the fewest
// maskable tokens of their data (Input.NMask).
func NumMasked(c *config.Config) int {
	if c.Model.Modality == config.ModalityAudio && c.Masking.Kind == config.MaskSpan {
		return masking.SpanCount(c.Masking.Ratio, c.NumTokens(), c.Masking.SpanLen)
	}
	return masking.Count(c.Masking.Ratio, c.NumTokens())
}

// InputFor is the Input the config alone fixes: no vocabulary, the
// config's masked count. Images and audio feed exactly this; text refines it.
func InputFor(c *config.Config) Input { return Input{NMask: NumMasked(c)} }
