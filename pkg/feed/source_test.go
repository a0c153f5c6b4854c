package feed

import (
	"testing"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/data"
)

// TestTaskCorpusHoldsOutTheTestSplit: data.source task pretrains on WordNet
// glosses of every part of speech but never on a gloss of the task's test
// split, and keeps the train glosses.
func TestTaskCorpusHoldsOutTheTestSplit(t *testing.T) {
	defer func(o data.WordNetOptions) { WordNetTask = o }(WordNetTask)
	WordNetTask = data.WordNetOptions{POS: []string{"noun", "verb"}, MinPerClass: 1}
	cfg := config.Default()
	cfg.Model.Modality, cfg.Data.Source, cfg.Data.TaskPath = config.ModalityText, config.SourceTask, "../data/testdata/wordnet"
	docs, err := taskCorpus(cfg)
	if err != nil {
		t.Fatal(err)
	}
	set, err := data.LoadWordNet(cfg.Data.TaskPath, WordNetTask)
	if err != nil {
		t.Fatal(err)
	}
	train, test := data.SplitTextSet(set, 0.1, cfg.Run.Seed)
	if len(test.Texts) == 0 || len(train.Texts) == 0 {
		t.Fatalf("fixture split is degenerate: %d train, %d test", len(train.Texts), len(test.Texts))
	}
	in := map[string]bool{}
	for _, d := range docs {
		in[d.Text] = true
	}
	for _, x := range test.Texts {
		if in[x] {
			t.Errorf("test gloss %q is in the pretraining corpus", x)
		}
	}
	for _, x := range train.Texts {
		if !in[x] {
			t.Errorf("train gloss %q is missing from the pretraining corpus", x)
		}
	}
	cfg.Data.TaskPath = t.TempDir()
	if _, err := taskCorpus(cfg); err == nil {
		t.Error("an empty WordNet folder gave no error")
	}
}
