package train

import (
	"fmt"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/data"
	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/tokenizer"
)

// Split is one labelled split for evaluation and fine-tuning, in whatever
// modality: Inputs gives the encoder input of rows idx and the pooling
// weights (B*T) that turn token outputs into one feature per example.
type Split struct {
	Name    string
	N       int
	Labels  []int
	Classes []string
	Inputs  func(idx []int) (x any, w []float32)
	Image   *data.ImageSet // nil for text
}

// WordNetTask is the text task: WordNet glosses (nouns and verbs) labelled
// with their lexicographer class, classes with at least 200 glosses, at most
// 300 per class (evenly spaced), 10% stratified test split.
var WordNetTask = data.WordNetOptions{POS: []string{"noun", "verb"}, MinPerClass: 200, MaxPerClass: 300}

// Limit keeps the first n examples (n <= 0 or >= N keeps all).
func (sp *Split) Limit(n int) {
	if n > 0 && n < sp.N {
		sp.N, sp.Labels = n, sp.Labels[:n]
	}
}

// LoadTask loads the train and test splits of the configured labelled task
// and the encoder setup for batches of `batch` (the text vocabulary comes
// from the tokenizer). Inputs accepts any batch size.
func LoadTask(cfg *config.Config, batch int) (train, test *Split, s Setup, err error) {
	s = SetupFor(cfg, batch)
	switch cfg.Model.Modality {
	case config.ModalityImage:
		if train, err = imageSplit(cfg, "train"); err != nil {
			return nil, nil, s, err
		}
		test, err = imageSplit(cfg, "test")
		return train, test, s, err
	case config.ModalityText:
		if cfg.Data.TaskPath == "" {
			return nil, nil, s, fmt.Errorf("data.task_path: set it to the WordNet database folder (scripts/get-wordnet.sh) for text eval and fine-tuning")
		}
		tok, err := LoadTokenizer(cfg)
		if err != nil {
			return nil, nil, s, err
		}
		set, err := data.LoadWordNet(cfg.Data.TaskPath, WordNetTask)
		if err != nil {
			return nil, nil, s, err
		}
		tr, te := data.SplitTextSet(set, 0.1, cfg.Run.Seed)
		T := cfg.Modalities.Text.SeqLen
		s.Mod = model.Tokens{T: T, Vocab: tok.VocabSize(), Dim: cfg.Model.Dim}
		if train, err = textSplit(tr, "train", tok, T); err != nil {
			return nil, nil, s, err
		}
		test, err = textSplit(te, "test", tok, T)
		return train, test, s, err
	case config.ModalityAudio:
		if train, err = audioSplit(cfg, "train"); err != nil {
			return nil, nil, s, err
		}
		test, err = audioSplit(cfg, "test")
		return train, test, s, err
	}
	return nil, nil, s, fmt.Errorf("model.modality: eval and fine-tuning read image, text or audio data, got %q", cfg.Model.Modality)
}

func imageSplit(cfg *config.Config, split string) (*Split, error) {
	set, err := LoadImages(cfg, split)
	if err != nil {
		return nil, err
	}
	b, err := NewBatcher(cfg, set, 1) // validates the patch grid; Patches serves any batch size
	if err != nil {
		return nil, err
	}
	T := b.gh * b.gw
	inputs := func(idx []int) (any, []float32) {
		w := make([]float32, len(idx)*T)
		for i := range w {
			w[i] = 1 / float32(T) // mean over all patches
		}
		return b.Patches(idx), w
	}
	return &Split{Name: fmt.Sprintf("%s (%d images)", set.Source, set.N), N: set.N, Labels: set.Labels, Classes: set.Classes,
		Inputs: inputs, Image: set}, nil
}

// textSplit tokenises each text as <s> ids </s>, truncated to T and padded;
// the pooling weights average the real tokens (not the padding).
func textSplit(set *data.TextSet, split string, tok tokenizer.Tokenizer, T int) (*Split, error) {
	sp := tok.Special()
	seqs := make([][]int, len(set.Texts))
	for i, text := range set.Texts {
		ids, err := tok.Encode(text)
		if err != nil {
			return nil, fmt.Errorf("%s %s example %d: %w", set.Source, split, i, err)
		}
		seq := append([]int{sp.BOS}, ids[:min(len(ids), T-2)]...)
		seq = append(seq, sp.EOS)
		for len(seq) < T {
			seq = append(seq, sp.PAD)
		}
		seqs[i] = seq
	}
	inputs := func(idx []int) (any, []float32) {
		x, w := make([]float32, len(idx)*T), make([]float32, len(idx)*T)
		for i, r := range idx {
			n := 0
			for _, id := range seqs[r] {
				if id != sp.PAD {
					n++
				}
			}
			for t, id := range seqs[r] {
				x[i*T+t] = float32(id)
				if id != sp.PAD {
					w[i*T+t] = 1 / float32(n)
				}
			}
		}
		return x, w
	}
	return &Split{Name: fmt.Sprintf("%s (%d texts)", set.Source, len(seqs)), N: len(seqs),
		Labels: set.Labels, Classes: set.Classes, Inputs: inputs}, nil
}

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
