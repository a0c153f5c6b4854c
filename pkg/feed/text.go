package feed

import (
	"fmt"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/data"
	"github.com/d2v/d2v/pkg/masking"
	"github.com/d2v/d2v/pkg/tokenizer"
)

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
	s.student, s.orig = make([]float32, B*T), make([]float32, B*T)
	s.mask, s.masked, s.corrupt = make([]bool, B*T), make([]bool, T), make([]int, T)
	return s, nil
}

func (s *textSource) special(id int) bool {
	return id == s.sp.BOS || id == s.sp.EOS || id == s.sp.PAD || id == s.sp.MASK
}

func (s *textSource) Len() int { return len(s.seqs) }

func (s *textSource) Name() string { return s.name }

// Input: the tokenizer's vocabulary and the masked count of every sample.
func (s *textSource) Input() Input { return Input{Vocab: s.vocab, NMask: s.n} }

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

// WordNetTask is the text task: WordNet glosses (nouns and verbs) labelled
// with their lexicographer class, classes with at least 200 glosses, at most
// 300 per class (evenly spaced), 10% stratified test split.
var WordNetTask = data.WordNetOptions{POS: []string{"noun", "verb"}, MinPerClass: 200, MaxPerClass: 300}

// taskCorpus is in-domain pretraining text for the WordNet task (data.source
// task): the definitions of every noun, verb, adjective and adverb synset,
// unlabelled, one document each, minus every text of the task's test split
// (the split LoadTask makes), so no test gloss is seen in pretraining.
func taskCorpus(cfg *config.Config) ([]data.Doc, error) {
	all, err := data.LoadWordNet(cfg.Data.TaskPath, data.WordNetOptions{POS: []string{"noun", "verb", "adj", "adv"}, MinPerClass: -1})
	if err != nil {
		return nil, err
	}
	set, err := data.LoadWordNet(cfg.Data.TaskPath, WordNetTask)
	if err != nil {
		return nil, err
	}
	_, test := data.SplitTextSet(set, 0.1, cfg.Run.Seed)
	held := make(map[string]bool, len(test.Texts))
	for _, t := range test.Texts {
		held[t] = true
	}
	docs := make([]data.Doc, 0, len(all.Texts))
	for i, t := range all.Texts {
		if !held[t] {
			docs = append(docs, data.Doc{Text: t, Source: fmt.Sprintf("%s gloss %d", all.Source, i)})
		}
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("data.task_path: %s: no gloss left for pretraining", all.Source)
	}
	return docs, nil
}
