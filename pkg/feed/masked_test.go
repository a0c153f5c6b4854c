package feed

import (
	"testing"

	"github.com/d2v/d2v/pkg/config"
)

// TestNumMasked: the config's masked count (moved here from pkg/config with
// the count itself): 28x28 MNIST in 4x4 patches is 49 tokens, 60% masked
// gives floor(0.6*49 + 0.5) = 29; 10 tokens at 0.25 give 3 (half rounds up,
// like the reference); audio spans count as masking.SpanCount.
func TestNumMasked(t *testing.T) {
	c := config.Default()
	if got := NumMasked(c); got != 29 {
		t.Errorf("default: NumMasked = %d, want 29", got)
	}
	c.Model.Modality = config.ModalityTokens
	c.Modalities.Tokens.SeqLen = 10
	c.Masking.Ratio = 0.25
	if got := NumMasked(c); got != 3 {
		t.Errorf("tokens: NumMasked = %d, want 3", got)
	}
	a := config.Default()
	a.Model.Modality, a.Masking.Kind, a.Masking.Ratio, a.Masking.SpanLen = config.ModalityAudio, config.MaskSpan, 0.65, 10
	T := a.NumTokens()
	// wav2vec: 1-(1-0.65/10)^10 = 48.9% of the frames
	if got, want := NumMasked(a), int(0.489*float64(T)+0.5); got < want-1 || got > want+1 || T < 10 {
		t.Errorf("audio spans: NumMasked = %d of %d frames, want about %d", got, T, want)
	}
	if got := InputFor(c); got != (Input{NMask: 3}) {
		t.Errorf("InputFor = %+v, want the config's count and no vocabulary", got)
	}
}
