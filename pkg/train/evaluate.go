package train

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/d2v/d2v/pkg/checkpoint"
	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/data"
	"github.com/d2v/d2v/pkg/eval"
	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/plot"
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
func LoadEncoder(p *model.Params, s Setup, w Weights) (string, error) {
	if w.Checkpoint == "" {
		InitEncoder(p, s, w.Seed)
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
	if err := LoadParams(f, w.Checkpoint, sub); err != nil {
		return "", err
	}
	for _, n := range sub.Names() {
		if err := p.Set(n, sub.Values(n)); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("%s (step %s)", w.Checkpoint, f.Meta["step"]), nil
}

// Features runs the encoder over every image of set, (N, D) mean-pooled.
func Features(enc *Encoder, b *Batcher, set *data.ImageSet) ([]float32, error) {
	D := enc.Setup.Spec.Dim
	out := make([]float32, set.N*D)
	idx := make([]int, b.Batch)
	for lo := 0; lo < set.N; lo += b.Batch {
		for i := range idx {
			idx[i] = min(lo+i, set.N-1) // pad the last batch by repeating the last image
		}
		f, _, _, _, err := enc.Run(b.Patches(idx), nil)
		if err != nil {
			return nil, err
		}
		n := min(b.Batch, set.N-lo)
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
	if cfg.Model.Modality != config.ModalityImage {
		return nil, fmt.Errorf("model.modality: eval supports image, got %q", cfg.Model.Modality)
	}
	train, err := LoadImages(cfg, "train")
	if err != nil {
		return nil, bad(err)
	}
	test, err := LoadImages(cfg, "test")
	if err != nil {
		return nil, bad(err)
	}
	s := SetupFor(cfg, EvalBatch)
	p := EncoderParams(s, 0)
	label, err := LoadEncoder(p, s, w)
	if err != nil {
		return nil, bad(err)
	}
	enc, err := NewEncoder(s, p, EvalBatch, 0, false)
	if err != nil {
		return nil, err
	}
	defer enc.Close()
	rep := &EvalReport{Weights: label, Train: train.Source, Test: test.Source, TrainN: train.N, TestN: test.N}
	fmt.Fprintf(log, "d2v eval: %s; features of %d train and %d test images\n", label, train.N, test.N)
	feats := map[*data.ImageSet]eval.Features{}
	for _, set := range []*data.ImageSet{train, test} {
		b, err := NewBatcher(cfg, set, EvalBatch)
		if err != nil {
			return nil, err
		}
		x, err := Features(enc, b, set)
		if err != nil {
			return nil, err
		}
		feats[set] = eval.Features{X: x, N: set.N, D: s.Spec.Dim, Labels: set.Labels, Classes: len(set.Classes)}
	}
	if rep.Probe, err = eval.LinearProbe(feats[train], feats[test], eval.ProbeOptions{}); err != nil {
		return nil, err
	}
	if rep.KNN, err = eval.KNN(feats[train], feats[test], k); err != nil {
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

func writeEvalPictures(cfg *config.Config, rep *EvalReport, test *data.ImageSet, dir string) error {
	cm := filepath.Join(dir, "confusion_linear_probe.png")
	if err := plot.Confusion(cm, rep.Probe.Confusion, test.Classes,
		fmt.Sprintf("linear probe, test accuracy %.2f%%", 100*rep.Probe.Accuracy)); err != nil {
		return err
	}
	rep.Pictures = append(rep.Pictures, cm)
	if cfg.Modalities.Image.Channels != 1 {
		return nil
	}
	const n = 6
	b, err := NewBatcher(cfg, test, n)
	if err != nil {
		return err
	}
	mask := b.Mask(cfg.Run.Seed, 0)
	T := b.gh * b.gw
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
	fmt.Fprintf(&sb, "weights   %s\ntrain     %s (%d images)\ntest      %s (%d images)\n", r.Weights, r.Train, r.TrainN, r.Test, r.TestN)
	fmt.Fprintf(&sb, "%-24s %s\n", "method", "test accuracy")
	for _, res := range []*eval.Result{r.Probe, r.KNN} {
		fmt.Fprintf(&sb, "%-24s %s%%\n", res.Method, strconv.FormatFloat(100*res.Accuracy, 'f', 2, 64))
	}
	return sb.String()
}
