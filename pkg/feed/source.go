package feed

import (
	"fmt"

	"github.com/d2v/d2v/pkg/config"
)

// Source is the training data of pretraining; NewSteps turns it into the
// inputs of successive steps.
type Source interface {
	Len() int
	Name() string
	// Input is what the data decides about the step's input beyond the
	// config (step.SetupWith reads it).
	Input() Input
	Fingerprint() string // SHA-256 of the examples as fed (fingerprint.go)
}

// indexed is a Source held in memory: the inputs of one step for dataset
// rows idx, reproducible from (seed, step, sample) so a resumed run sees
// the same ones. Row i of idx is sample first+i of the step's global batch
// (first > 0 on data-parallel ranks after the first): its mask is keyed by
// first+i, so 2 ranks x B/2 samples draw the same masks as 1 rank x B.
type indexed interface {
	Source
	Batch(idx []int, first int, seed, step int64) (student, teacherIn any, mask []bool)
}

// Input is what the feed decides about a step's input: the masked count
// per sample (NumMasked; for text a ratio of the fewest maskable tokens of
// any sequence) and, for text, the tokenizer's vocabulary. InputFor gives
// the config's when there is no data at hand.
type Input struct {
	Vocab int // token vocabulary (text); 0 otherwise
	NMask int // masked positions per sample
}

// New loads the configured training data for batches of B.
func New(cfg *config.Config, B int) (Source, error) {
	switch cfg.Model.Modality {
	case config.ModalityText:
		return newTextSource(cfg, B)
	case config.ModalityAudio:
		if Streamed(cfg) {
			return newShardSource(cfg, B)
		}
		return newAudioSource(cfg, B)
	case config.ModalityImage:
		if Streamed(cfg) {
			return newShardSource(cfg, B)
		}
		return newImageSource(cfg, B)
	}
	return nil, fmt.Errorf("model.modality: pretraining reads image, text or audio data, got %q (tokens input is for the parity fixtures and benchmarks)", cfg.Model.Modality)
}
