package feed

import (
	"fmt"
	"math/rand/v2"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/data"
	"github.com/d2v/d2v/pkg/masking"
	"github.com/d2v/d2v/pkg/speech"
)

// LoadSpeech reads the configured speech set and returns the voice-disjoint
// split ("train" or "test"; modalities.audio.test_frac of the voices are
// test). Pretraining reads the train split only, so evaluation measures
// voices the encoder never heard.
func LoadSpeech(c *config.Config, split string) (*speech.Set, error) {
	if err := inMemory(c); err != nil {
		return nil, err
	}
	var set *speech.Set
	var err error
	switch c.Data.Source {
	case config.SourceEmbedded:
		set, err = speech.Embedded()
	case config.SourceFolder:
		set, err = speech.LoadDir(c.Data.Path)
	default:
		return nil, fmt.Errorf("data.source: audio reads embedded or folder, got %q", c.Data.Source)
	}
	if err != nil {
		return nil, err
	}
	if len(set.Voices()) < 2 { // an unsplittable set (one speaker) pretrains on everything
		if split == "test" {
			return nil, fmt.Errorf("%s: one voice only: no voice-disjoint test split for evaluation", set.Source)
		}
	} else {
		tr, te, err := set.SplitByVoice(c.Modalities.Audio.TestFrac)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", set.Source, err)
		}
		if set = tr; split == "test" {
			set = te
		}
	}
	if split == "train" && c.Data.Limit > 0 && c.Data.Limit < len(set.Clips) {
		set.Clips = set.Clips[:c.Data.Limit]
	}
	if len(set.Clips) == 0 {
		return nil, fmt.Errorf("%s: no clips in the %s split", set.Source, split)
	}
	return set, nil
}

// audioSource feeds speech pretraining: a random crop of crop_samples from
// each clip (offset drawn from (seed, step, sample), as the mask), the
// whole clip zero-padded at the end when it is shorter (speech.CropOrPad's
// rule), and wav2vec 2.0 span masks over the frames. The teacher sees the
// same unmasked waveform; with teacher.scope blocks it shares the feature
// encoder and positional convolution with the student, as data2vec feeds
// its teacher the student's unmasked features.
type audioSource struct {
	set          *speech.Set
	cfg          *config.Config
	crop, frames int
	nMask        int // masked frames per sample
	short        int // clips shorter than the crop (zero-padded)
	x            []float32
	mask         []bool
}

func newAudioSource(cfg *config.Config, B int) (*audioSource, error) {
	set, err := LoadSpeech(cfg, "train")
	if err != nil {
		return nil, err
	}
	s := &audioSource{set: set, cfg: cfg,
		crop: cfg.Modalities.Audio.CropSamples, frames: cfg.Modalities.Audio.Frames(), nMask: NumMasked(cfg)}
	if err := validateAudioMask(cfg, s.frames); err != nil {
		return nil, err
	}
	for _, c := range set.Clips {
		if len(c.Samples) < s.crop {
			s.short++
		}
	}
	s.x = make([]float32, B*s.crop)
	s.mask = make([]bool, B*s.frames)
	return s, nil
}

func validateAudioMask(cfg *config.Config, frames int) error {
	n := NumMasked(cfg)
	if cfg.Masking.Kind == config.MaskSpan {
		return masking.ValidateSpans(frames, n, cfg.Masking.SpanLen)
	}
	return masking.ValidateCount(frames, n)
}

func (s *audioSource) Len() int     { return len(s.set.Clips) }
func (s *audioSource) Input() Input { return Input{NMask: s.nMask} }
func (s *audioSource) Name() string {
	return fmt.Sprintf("%s, %d clips of %d voices (%d skipped at load, %d shorter than the %d-sample crop, zero-padded), %d frames per crop%s",
		s.set.Source, len(s.set.Clips), len(s.set.Voices()), s.set.Skipped, s.short, s.crop, s.frames, data.IgnoredNote(s.set.Ignored))
}

func (s *audioSource) Batch(idx []int, first int, seed, step int64) (any, any, []bool) {
	x, mask := s.x[:len(idx)*s.crop], s.mask[:len(idx)*s.frames]
	for i, r := range idx {
		cropAndMask(s.cfg, s.nMask, masking.NewRNG(seed, step, first+i), s.set.Clips[r].Samples,
			x[i*s.crop:(i+1)*s.crop], mask[i*s.frames:(i+1)*s.frames])
	}
	return x, x, mask
}

// cropAndMask writes one example of speech pretraining: a crop of the
// normalised clip into x (offset drawn from rng; a shorter clip is
// zero-padded, speech.CropOrPad's rule) and n masked frames into mask, drawn
// next from the same rng.
func cropAndMask(cfg *config.Config, n int, rng *rand.Rand, clip, x []float32, mask []bool) {
	m := cfg.Masking
	off := 0
	if len(clip) > len(x) {
		off = rng.IntN(len(clip) - len(x) + 1)
	}
	speech.CropOrPad(x, clip, off)
	if m.Kind == config.MaskSpan {
		masking.TimeSpans(rng, len(mask), n, m.SpanLen, m.Ratio, mask)
	} else {
		masking.Random(rng, len(mask), n, mask)
	}
}
