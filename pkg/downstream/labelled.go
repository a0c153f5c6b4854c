package downstream

import (
	"fmt"
	"math"
	"slices"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/data"
	"github.com/d2v/d2v/pkg/eval"
	"github.com/d2v/d2v/pkg/feed"
	"github.com/d2v/d2v/pkg/speech"
	"github.com/d2v/d2v/pkg/step"
	"github.com/d2v/d2v/pkg/tokenizer"
)

// Labelled is one labelled split for evaluation and fine-tuning, in whatever
// modality: Inputs gives the encoder input of rows idx and the pooling
// weights (B*T) that turn token outputs into one feature per example.
type Labelled struct {
	Name    string
	N       int
	Labels  []int
	Classes []string
	Inputs  func(idx []int) (x any, w []float32)
	// Augmented is Inputs with each image replaced by its augmented view,
	// drawn from (seed, step, position in idx); nil for speech and text.
	Augmented func(spec data.AugmentSpec, idx []int, seed, step int64) (x any, w []float32)
	Image     *data.ImageSet // nil for text
	// Raw writes the trivial baseline's features of example i into dst
	// (RawDim,): a fixed front end of the raw input, described by RawDesc.
	Raw     func(i int, dst []float32)
	RawDim  int
	RawDesc string
	seqs    [][]int // text: padded token ids, for the baseline's vocabulary
}

// Limit returns n of the examples with each class in its share of the
// split (largest remainders), the
// first ones of each class in their order; n <= 0 or >= N returns sp. A set
// stored class by class (the WordNet gloss task is, by part of speech) would
// otherwise keep only its first classes.
func (sp *Labelled) Limit(n int) *Labelled {
	if n <= 0 || n >= sp.N {
		return sp
	}
	perClass := map[int][]int{}
	var classes []int
	for i, l := range sp.Labels[:sp.N] {
		if perClass[l] == nil {
			classes = append(classes, l)
		}
		perClass[l] = append(perClass[l], i)
	}
	slices.Sort(classes)
	quota := make(map[int]int, len(classes))
	type rem struct {
		class int
		frac  float64
	}
	var rems []rem
	left := n
	for _, c := range classes {
		exact := float64(n) * float64(len(perClass[c])) / float64(sp.N)
		quota[c] = int(exact)
		left -= quota[c]
		rems = append(rems, rem{c, exact - float64(quota[c])})
	}
	slices.SortStableFunc(rems, func(a, b rem) int {
		switch {
		case a.frac > b.frac:
			return -1
		case a.frac < b.frac:
			return 1
		}
		return 0
	})
	for i := 0; left > 0; i = (i + 1) % len(rems) {
		if c := rems[i].class; quota[c] < len(perClass[c]) {
			quota[c]++
			left--
		}
	}
	keep := make([]bool, sp.N)
	for _, c := range classes {
		for _, r := range perClass[c][:quota[c]] {
			keep[r] = true
		}
	}
	var rows []int
	for i, k := range keep {
		if k {
			rows = append(rows, i)
		}
	}
	return sp.subset(rows, "limited")
}

// LoadTask loads the train and test splits of the configured labelled task
// and the encoder setup for batches of `batch` (the text vocabulary comes
// from the tokenizer). Inputs accepts any batch size.
func LoadTask(cfg *config.Config, batch int) (trainSet, test *Labelled, s step.Setup, err error) {
	s = step.SetupFor(cfg, batch)
	switch cfg.Model.Modality {
	case config.ModalityImage:
		if trainSet, err = imageSplit(cfg, "train"); err != nil {
			return nil, nil, s, err
		}
		if test, err = imageSplit(cfg, "test"); err != nil {
			return nil, nil, s, err
		}
		return trainSet, test, s, sameClasses(cfg, trainSet, test)
	case config.ModalityText:
		if cfg.Data.TaskPath == "" {
			return nil, nil, s, fmt.Errorf("data.task_path: set it to the WordNet database folder (scripts/get-wordnet.sh) for text eval and fine-tuning")
		}
		tok, err := feed.LoadTokenizer(cfg)
		if err != nil {
			return nil, nil, s, err
		}
		set, err := data.LoadWordNet(cfg.Data.TaskPath, feed.WordNetTask)
		if err != nil {
			return nil, nil, s, err
		}
		tr, te := data.SplitTextSet(set, 0.1, cfg.Run.Seed)
		if cfg.Data.TestPath != "" {
			if te, err = heldOutText(cfg); err != nil {
				return nil, nil, s, err
			}
		}
		T := cfg.Modalities.Text.SeqLen
		in := feed.InputFor(cfg)
		in.Vocab = tok.VocabSize()
		s = step.SetupWith(cfg, batch, in)
		if trainSet, err = textSplit(tr, "train", tok, T); err != nil {
			return nil, nil, s, err
		}
		if test, err = textSplit(te, "test", tok, T); err != nil {
			return nil, nil, s, err
		}
		pad := tok.Special().PAD
		vocab := eval.NewTokenVocab(trainSet.seqs, RawTextVocab, pad)
		for _, sp := range []*Labelled{trainSet, test} {
			sp.Raw, sp.RawDim = textRaw(sp.seqs, vocab, pad), vocab.Dim
			sp.RawDesc = fmt.Sprintf("bag of token ids: term frequencies of the %d most frequent train ids + 1 other", vocab.Dim-1)
		}
		return trainSet, test, s, sameClasses(cfg, trainSet, test)
	case config.ModalityAudio:
		if trainSet, err = audioSplit(cfg, "train"); err != nil {
			return nil, nil, s, err
		}
		if test, err = audioSplit(cfg, "test"); err != nil {
			return nil, nil, s, err
		}
		return trainSet, test, s, sameClasses(cfg, trainSet, test)
	}
	return nil, nil, s, fmt.Errorf("model.modality: eval and fine-tuning read image, text or audio data, got %q", cfg.Model.Modality)
}

func imageSplit(cfg *config.Config, split string) (*Labelled, error) {
	load := feed.LoadImages
	if split == "test" && cfg.Data.TestPath != "" {
		load = func(cfg *config.Config, _ string) (*data.ImageSet, error) { return heldOutImages(cfg) }
	}
	set, err := load(cfg, split)
	if err != nil {
		return nil, err
	}
	b, err := feed.NewBatcher(cfg, set, 1) // validates the patch grid; Patches serves any batch size
	if err != nil {
		return nil, err
	}
	T := b.Tokens()
	mean := func(n int) []float32 { // pooling weights: the mean over all patches
		w := make([]float32, n*T)
		for i := range w {
			w[i] = 1 / float32(T)
		}
		return w
	}
	inputs := func(idx []int) (any, []float32) { return b.Patches(idx), mean(len(idx)) }
	augmented := func(spec data.AugmentSpec, idx []int, seed, step int64) (any, []float32) {
		return b.AugmentedPatches(spec, idx, 0, seed, step), mean(len(idx))
	}
	raw := func(i int, dst []float32) { copy(dst, set.Image(i)) }
	return &Labelled{Name: fmt.Sprintf("%s (%d images)", set.Source, set.N), N: set.N, Labels: set.Labels, Classes: set.Classes,
		Inputs: inputs, Augmented: augmented, Image: set, Raw: raw, RawDim: set.ImageLen(),
		RawDesc: fmt.Sprintf("pixels normalised as the encoder's input (x-%g)/%g", cfg.Modalities.Image.Mean, cfg.Modalities.Image.Std)}, nil
}

// textSplit tokenises each text as <s> ids </s>, truncated to T and padded;
// the pooling weights average the real tokens (not the padding).
func textSplit(set *data.TextSet, split string, tok tokenizer.Tokenizer, T int) (*Labelled, error) {
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
	return &Labelled{Name: fmt.Sprintf("%s (%d texts)", set.Source, len(seqs)), N: len(seqs),
		Labels: set.Labels, Classes: set.Classes, Inputs: inputs, seqs: seqs}, nil
}

// RawTextVocab is the number of token ids (the most frequent in the train
// split) that get their own column in the text baseline's bag of tokens.
const RawTextVocab = 2048

func textRaw(seqs [][]int, v eval.TokenVocab, pad int) func(int, []float32) {
	return func(i int, dst []float32) { v.Bag(seqs[i], dst, pad) }
}

// audioSplit is a labelled speech split for eval and fine-tuning: each clip
// centre-cropped (or zero-padded) to crop_samples; the pooling weights
// average the frames computed from real samples, not the padding.
func audioSplit(cfg *config.Config, split string) (*Labelled, error) {
	load := feed.LoadSpeech
	if split == "test" && cfg.Data.TestPath != "" {
		load = func(cfg *config.Config, _ string) (*speech.Set, error) { return heldOutSpeech(cfg) }
	}
	set, err := load(cfg, split)
	if err != nil {
		return nil, err
	}
	if len(set.Classes) == 0 {
		return nil, fmt.Errorf("%s: unlabelled clips (a flat folder): eval and fine-tuning need <class>/*.wav folders", set.Source)
	}
	au := cfg.Modalities.Audio
	crop, T := au.CropSamples, au.Frames()
	labels := make([]int, len(set.Clips))
	for i, c := range set.Clips {
		labels[i] = c.Label
	}
	inputs := func(idx []int) (any, []float32) {
		x, w := make([]float32, len(idx)*crop), make([]float32, len(idx)*T)
		for i, r := range idx {
			clip := set.Clips[r].Samples
			speech.CropOrPad(x[i*crop:(i+1)*crop], clip, max(0, (len(clip)-crop)/2))
			real := au
			real.CropSamples = min(len(clip), crop)
			n := min(max(real.Frames(), 1), T)
			for t := 0; t < n; t++ {
				w[i*T+t] = 1 / float32(n)
			}
		}
		return x, w
	}
	mel, err := eval.NewLogMel(speech.Rate)
	if err != nil {
		return nil, err
	}
	raw := func(i int, dst []float32) { // the clip as the encoder sees it: centre crop, no padding
		clip := set.Clips[i].Samples
		off := max(0, (len(clip)-crop)/2)
		mel.MeanFrames(clip[off:off+min(len(clip), crop)], dst)
	}
	return &Labelled{Name: fmt.Sprintf("%s (%d clips, %d voices)", set.Source, len(set.Clips), len(set.Voices())),
		N: len(set.Clips), Labels: labels, Classes: set.Classes, Inputs: inputs, Raw: raw, RawDim: eval.MelBands,
		RawDesc: fmt.Sprintf("log-mel: mean over 25 ms frames (10 ms hop) of %d log mel energies of the centre crop", eval.MelBands)}, nil
}

// sameClasses gives a test split read from data.test_path the train
// split's class ids, by class name.
func sameClasses(cfg *config.Config, trainSet, test *Labelled) error {
	if cfg.Data.TestPath == "" || slices.Equal(trainSet.Classes, test.Classes) {
		return nil
	}
	if err := relabel(test.Labels, test.Classes, trainSet.Classes, test.Name); err != nil {
		return err
	}
	test.Classes = trainSet.Classes
	return nil
}

// Carve holds out the last frac of each class's examples (at least one
// example on each side) as a validation split: recipe choices are measured on
// it, fitted on the rest, and the test split is never read. Holding out per
// class keeps both sides stratified when a set is stored class by class (the
// embedded spoken digits are); the carved splits keep the original order and
// have no Image (no mask pictures).
func (sp *Labelled) Carve(frac float64) (fit, val *Labelled, err error) {
	perClass := map[int][]int{}
	for i, l := range sp.Labels[:sp.N] {
		perClass[l] = append(perClass[l], i)
	}
	held := make([]bool, sp.N)
	nv := 0
	for _, rows := range perClass {
		k := int(math.Round(frac * float64(len(rows))))
		for _, r := range rows[len(rows)-k:] {
			held[r] = true
		}
		nv += k
	}
	if nv < 1 || nv >= sp.N {
		return nil, nil, fmt.Errorf("%s: %d examples: too few to hold out %.3g of each class for validation", sp.Name, sp.N, frac)
	}
	var fitRows, valRows []int
	for i, h := range held {
		if h {
			valRows = append(valRows, i)
		} else {
			fitRows = append(fitRows, i)
		}
	}
	return sp.subset(fitRows, "fit"), sp.subset(valRows, "validation"), nil
}

// subset is the view of the examples at rows (ascending) as a split of its own.
func (sp *Labelled) subset(rows []int, what string) *Labelled {
	v := *sp
	v.Name = fmt.Sprintf("%s: %s split, %d of %d examples", sp.Name, what, len(rows), sp.N)
	v.N, v.Image = len(rows), nil
	v.Labels = make([]int, len(rows))
	for i, r := range rows {
		v.Labels[i] = sp.Labels[r]
	}
	mapped := func(idx []int) []int {
		m := make([]int, len(idx))
		for i, r := range idx {
			m[i] = rows[r]
		}
		return m
	}
	v.Inputs = func(idx []int) (any, []float32) { return sp.Inputs(mapped(idx)) }
	if sp.Augmented != nil {
		v.Augmented = func(spec data.AugmentSpec, idx []int, seed, step int64) (any, []float32) {
			return sp.Augmented(spec, mapped(idx), seed, step)
		}
	}
	if sp.Raw != nil {
		v.Raw = func(i int, dst []float32) { sp.Raw(rows[i], dst) }
	}
	if sp.seqs != nil {
		v.seqs = make([][]int, len(rows))
		for i, r := range rows {
			v.seqs[i] = sp.seqs[r]
		}
	}
	return &v
}
