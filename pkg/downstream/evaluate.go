package downstream

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/d2v/d2v/pkg/checkpoint"
	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/eval"
	"github.com/d2v/d2v/pkg/feed"
	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/plot"
	"github.com/d2v/d2v/pkg/train"
)

// EvalBatch is the batch size of feature extraction (the last partial batch is padded).
const EvalBatch = 250

// Weights says where an encoder's weights come from.
type Weights struct {
	Checkpoint string // a pretraining or fine-tuning checkpoint; "" = random init
	Seed       uint64 // random init seed (the pretraining init for that seed)
}

// LoadEncoder fills encoder params (student.* only; cls.* keep their init)
// from a checkpoint, or draws them randomly. It returns a label for reports.
func LoadEncoder(p *model.Params, s train.Setup, w Weights) (string, error) {
	if w.Checkpoint == "" {
		train.InitEncoder(p, s, w.Seed)
		return fmt.Sprintf("random init (seed %d)", w.Seed), nil
	}
	f, err := checkpoint.Read(w.Checkpoint)
	if err != nil {
		return "", err
	}
	sub := model.NewParams(p.Dtype)
	for _, n := range p.Names() {
		if strings.HasPrefix(n, "student.") {
			sub.Add(n, []int(p.Get(n).Shape())...)
		}
	}
	if err := train.LoadParams(f, w.Checkpoint, sub); err != nil {
		return "", err
	}
	for _, n := range sub.Names() {
		if err := p.Set(n, sub.Values(n)); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("%s (step %s)", w.Checkpoint, f.Meta["step"]), nil
}

// Features runs the encoder over every example of a split, (N, D) pooled.
func Features(enc *Classifier, sp *Labelled) ([]float32, error) {
	D := enc.Setup.Spec.Dim
	out := make([]float32, sp.N*D)
	idx := make([]int, enc.batch)
	for lo := 0; lo < sp.N; lo += enc.batch {
		for i := range idx {
			idx[i] = min(lo+i, sp.N-1) // pad the last batch by repeating the last example
		}
		x, w := sp.Inputs(idx)
		f, _, _, _, err := enc.Run(x, w, nil)
		if err != nil {
			return nil, err
		}
		n := min(enc.batch, sp.N-lo)
		copy(out[lo*D:(lo+n)*D], f[:n*D])
	}
	return out, nil
}

// EvalReport is what `d2v eval` prints and writes as eval.json.
type EvalReport struct {
	Weights  string       `json:"weights"`
	Train    string       `json:"train_data"`
	Test     string       `json:"test_data"`
	TrainN   int          `json:"train_n"`
	TestN    int          `json:"test_n"`
	Probe    *eval.Result `json:"linear_probe"`
	KNN      *eval.Result `json:"knn"`
	Pictures []string     `json:"pictures"`
}

// Evaluate extracts frozen mean-pooled features of the train and test
// splits and reports linear-probe and k-NN accuracy; it writes eval.json,
// a confusion-matrix PNG and a PNG of test images with their block masks.
func Evaluate(cfg *config.Config, w Weights, outDir string, k int, log io.Writer) (*EvalReport, error) {
	trainSet, test, s, err := LoadTask(cfg, EvalBatch)
	if err != nil {
		return nil, bad(err)
	}
	p := ClassifierParams(s, 0)
	label, err := LoadEncoder(p, s, w)
	if err != nil {
		return nil, bad(err)
	}
	enc, err := NewClassifier(s, p, EvalBatch, 0, false)
	if err != nil {
		return nil, err
	}
	defer enc.Close()
	rep := &EvalReport{Weights: label, Train: trainSet.Name, Test: test.Name, TrainN: trainSet.N, TestN: test.N}
	fmt.Fprintf(log, "d2v eval: %s; features of %d train and %d test examples\n", label, trainSet.N, test.N)
	var feats [2]eval.Features
	for i, sp := range []*Labelled{trainSet, test} {
		x, err := Features(enc, sp)
		if err != nil {
			return nil, err
		}
		feats[i] = eval.Features{X: x, N: sp.N, D: s.Spec.Dim, Labels: sp.Labels, Classes: len(trainSet.Classes)}
	}
	if rep.Probe, err = eval.LinearProbe(feats[0], feats[1], eval.ProbeOptions{}); err != nil {
		return nil, err
	}
	if rep.KNN, err = eval.KNN(feats[0], feats[1], k); err != nil {
		return nil, err
	}
	if err := writeEvalPictures(cfg, rep, test, outDir); err != nil {
		return nil, err
	}
	b, _ := json.MarshalIndent(rep, "", "  ")
	if err := checkpoint.WriteFileAtomic(filepath.Join(outDir, "eval.json"), append(b, '\n')); err != nil {
		return nil, err
	}
	return rep, nil
}

func writeEvalPictures(cfg *config.Config, rep *EvalReport, sp *Labelled, dir string) error {
	cm := filepath.Join(dir, "confusion_linear_probe.png")
	if err := plot.Confusion(cm, rep.Probe.Confusion, sp.Classes,
		fmt.Sprintf("linear probe, test accuracy %.2f%%", 100*rep.Probe.Accuracy)); err != nil {
		return err
	}
	rep.Pictures = append(rep.Pictures, cm)
	test := sp.Image
	if test == nil || cfg.Modalities.Image.Channels != 1 {
		return nil // mask pictures are for grey images
	}
	const n = 6
	b, err := feed.NewBatcher(cfg, test, n)
	if err != nil {
		return err
	}
	mask := b.Mask(cfg.Run.Seed, 0, 0)
	T := b.Tokens()
	im := cfg.Modalities.Image
	imgs, masks := make([][]float32, n), make([][]bool, n)
	for i := 0; i < n && i < test.N; i++ {
		px := test.Image(i)
		raw := make([]float32, len(px))
		for j, v := range px { // undo the normalisation for display
			raw[j] = v*float32(im.Std) + float32(im.Mean)
		}
		imgs[i], masks[i] = raw, mask[i*T:(i+1)*T]
	}
	mp := filepath.Join(dir, "masks.png")
	if err := plot.MaskGrid(mp, imgs, test.H, test.W, masks, im.PatchSize, 6); err != nil {
		return err
	}
	rep.Pictures = append(rep.Pictures, mp)
	return nil
}

// Table formats an eval report for the terminal.
func (r *EvalReport) Table() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "weights   %s\ntrain     %s\ntest      %s\n", r.Weights, r.Train, r.Test)
	fmt.Fprintf(&sb, "%-24s %s\n", "method", "test accuracy")
	for _, res := range []*eval.Result{r.Probe, r.KNN} {
		fmt.Fprintf(&sb, "%-24s %s%%\n", res.Method, strconv.FormatFloat(100*res.Accuracy, 'f', 2, 64))
	}
	return sb.String()
}

// bad marks err as bad input (the CLI exits 2 for it).
func bad(err error) error {
	if err == nil {
		return nil
	}
	return &train.InputError{Err: err}
}
