package train

import (
	"fmt"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/data"
	"github.com/d2v/d2v/pkg/masking"
	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/tokenizer"
)

// source feeds pretraining: the inputs of one step for dataset rows idx,
// reproducible from (seed, step, sample) so a resumed run sees the same ones.
// Row i of idx is sample first+i of the step's global batch (first > 0 on
// data-parallel ranks after the first): its mask is keyed by first+i, so 2
// ranks x B/2 samples draw the same masks as 1 rank x B.
type source interface {
	Len() int
	Name() string
	Setup() Setup
	Batch(idx []int, first int, seed, step int64) (student, teacherIn any, mask []bool)
	Fingerprint() string // SHA-256 of the examples as fed (fingerprint.go)
}

// newSource loads the configured training data for batches of B.
func newSource(cfg *config.Config, B int) (source, error) {
	switch cfg.Model.Modality {
	case config.ModalityText:
		return newTextSource(cfg, B)
	case config.ModalityAudio:
		return newAudioSource(cfg, B)
	case config.ModalityImage:
	default:
		return nil, fmt.Errorf("model.modality: pretraining reads image, text or audio data, got %q (tokens input is for the parity fixtures and benchmarks)", cfg.Model.Modality)
	}
	set, err := LoadImages(cfg, "train")
	if err != nil {
		return nil, err
	}
	b, err := NewBatcher(cfg, set, B)
	if err != nil {
		return nil, err
	}
	return &imageSource{b: b, setup: SetupFor(cfg, B)}, nil
}

type imageSource struct {
	b     *Batcher
	setup Setup
}

func (s *imageSource) Len() int     { return s.b.Set.N }
func (s *imageSource) Name() string { return fmt.Sprintf("%s, %d images", s.b.Set.Source, s.b.Set.N) }
func (s *imageSource) Setup() Setup { return s.setup }
func (s *imageSource) Batch(idx []int, first int, seed, step int64) (any, any, []bool) {
	x := s.b.Patches(idx)
	return x, x, s.b.Mask(seed, step, first)
}

// LoadTokenizer returns the configured text tokenizer.
func LoadTokenizer(cfg *config.Config) (tokenizer.Tokenizer, error) {
	tx := cfg.Modalities.Text
	if tx.Tokenizer == config.TokenizerBPE {
		return tokenizer.LoadBPE(tx.VocabFile, tx.MergesFile)
	}
	return tokenizer.NewBytes(), nil
}

// textSource packs a tokenised corpus into <s> ... </s> sequences of seq_len
// and corrupts them with BERT or span masking; the teacher sees the originals.
type textSource struct {
	name          string
	seqs          [][]int
	setup         Setup
	sp            tokenizer.Specials
	kind          config.MaskKind
	n, spanLen    int
	vocab         int
	student, orig []float32
	mask, masked  []bool
	corrupt       []int
}

func newTextSource(cfg *config.Config, B int) (*textSource, error) {
	tok, err := LoadTokenizer(cfg)
	if err != nil {
		return nil, err
	}
	var docs []data.Doc
	name := "embedded Opticks"
	switch cfg.Data.Source {
	case config.SourceText:
		docs, err = data.LoadTextFiles(cfg.Data.Path, string(cfg.Modalities.Text.Docs))
		name = cfg.Data.Path
	case config.SourceTask:
		docs, err = taskCorpus(cfg)
		name = "WordNet glosses at " + cfg.Data.TaskPath + " minus the task's test split"
	default:
		docs, err = data.EmbeddedText()
	}
	if err != nil {
		return nil, err
	}
	ids := make([][]int, len(docs))
	for i, d := range docs {
		if ids[i], err = tok.Encode(d.Text); err != nil {
			return nil, fmt.Errorf("%s: %w", d.Source, err)
		}
	}
	sp := tok.Special()
	T := cfg.Modalities.Text.SeqLen
	seqs, err := data.Pack(ids, T, sp.BOS, sp.EOS, sp.PAD)
	if err != nil {
		return nil, fmt.Errorf("modalities.text.seq_len: %w", err)
	}
	if cfg.Data.Limit > 0 && cfg.Data.Limit < len(seqs) {
		seqs = seqs[:cfg.Data.Limit]
	}
	s := &textSource{seqs: seqs, sp: sp, kind: cfg.Masking.Kind, spanLen: cfg.Masking.SpanLen, vocab: tok.VocabSize()}
	fewest := T
	for _, q := range seqs[:len(seqs)-1] {
		fewest = min(fewest, masking.NonSpecial(q, s.special))
	}
	// The padded tail sequence would set the masked count of every sample:
	// drop it when it holds fewer maskable tokens than the others.
	if last := seqs[len(seqs)-1]; len(seqs) > 1 && masking.NonSpecial(last, s.special) < fewest {
		s.seqs = seqs[:len(seqs)-1]
	} else {
		fewest = min(fewest, masking.NonSpecial(last, s.special))
	}
	s.name = fmt.Sprintf("%s, %d docs -> %d sequences of %d tokens", name, len(docs), len(s.seqs), T)
	// every sample masks the same count: ratio of the fewest maskable tokens
	s.n = masking.TextCount(cfg.Masking.Ratio, fewest)
	if err := masking.ValidateText(fewest, s.n); err != nil {
		return nil, fmt.Errorf("masking.ratio: %w", err)
	}
	s.setup = SetupFor(cfg, B)
	s.setup.Mod = model.Tokens{T: T, Vocab: s.vocab, Dim: cfg.Model.Dim}
	s.setup.NMask = s.n
	s.setup.KeepInput = true
	s.student, s.orig = make([]float32, B*T), make([]float32, B*T)
	s.mask, s.masked, s.corrupt = make([]bool, B*T), make([]bool, T), make([]int, T)
	return s, nil
}

func (s *textSource) special(id int) bool {
	return id == s.sp.BOS || id == s.sp.EOS || id == s.sp.PAD || id == s.sp.MASK
}

func (s *textSource) Len() int     { return len(s.seqs) }
func (s *textSource) Name() string { return s.name }
func (s *textSource) Setup() Setup { return s.setup }

func (s *textSource) Batch(idx []int, first int, seed, step int64) (any, any, []bool) {
	T := len(s.masked)
	for i, r := range idx {
		ids := s.seqs[r]
		rng := masking.NewRNG(seed, step, first+i)
		if s.kind == config.MaskSpan {
			masking.Spans(rng, ids, s.special, s.n, s.spanLen, s.sp.MASK, s.corrupt, s.masked)
		} else {
			masking.BERT(rng, ids, s.special, s.n, s.sp.MASK, s.vocab, s.corrupt, s.masked)
		}
		for t := 0; t < T; t++ {
			s.orig[i*T+t], s.student[i*T+t] = float32(ids[t]), float32(s.corrupt[t])
			s.mask[i*T+t] = s.masked[t]
		}
	}
	return s.student, s.orig, s.mask
}
