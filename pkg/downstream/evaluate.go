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
	"github.com/d2v/d2v/pkg/step"
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
func LoadEncoder(p *model.Params, s step.Setup, w Weights) (string, error) {
	if w.Checkpoint == "" {
		step.InitEncoder(p, s, w.Seed)
		return fmt.Sprintf("random init (seed %d)", w.Seed), nil
	}
	f, err := checkpoint.Read(w.Checkpoint)
	if err != nil {
		return "", err
	}
	// a data2vec 2.0 checkpoint has no student.mask_emb (its student drops
	// the masked tokens); nothing is masked downstream, so the init's stays.
	// Its CLS token and decoder are not part of the encoder and stay behind.
	noMaskEmb := false
	if y, ok := f.Meta["config"]; ok {
		if c, err := config.FromYAML([]byte(y)); err == nil && c.Method == config.MethodData2Vec2 {
			noMaskEmb = true
		}
	}
	sub := model.NewParams(p.Dtype)
	for _, n := range p.Names() {
		if strings.HasPrefix(n, "student.") && !(noMaskEmb && n == "student.mask_emb") {
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

// EvalReport is what `d2v eval` prints and writes as eval.json.
type EvalReport struct {
	Weights  string    `json:"weights"`
	Train    string    `json:"train_data"`
	Test     string    `json:"test_data"`
	Measured string    `json:"measured_on"` // "test", or "validation" (carved from train) with EvalOptions.Val
	TrainN   int       `json:"train_n"`
	TestN    int       `json:"test_n"`
	Protocol string    `json:"protocol"` // Protocol(layers), the same for every row
	Rows     []EvalRow `json:"rows"`     // the encoder's first, then the baselines
	Pictures []string  `json:"pictures"`
}

// EvalRow is one set of frozen features and its two accuracies.
type EvalRow struct {
	Features string       `json:"features"` // "encoder", "random_init" or "raw"
	Source   string       `json:"source"`   // the weights, or the raw front end
	Dim      int          `json:"dim"`      // feature width given to the probe
	Probe    *eval.Result `json:"linear_probe"`
	KNN      *eval.Result `json:"knn"`
}

// Protocol states how every row of a report is measured.
func Protocol(layers, grid int) string {
	feats := "the final layer (after the final LN when pre-LN)"
	if layers > 1 {
		feats = fmt.Sprintf("each of the last %d layers (the final one after the final LN when pre-LN), concatenated", layers)
	}
	pooled := "mean-pooled over the real tokens"
	if grid > 1 {
		pooled = fmt.Sprintf("mean-pooled over each of %d x %d regions of the patch grid, concatenated", grid, grid)
	}
	return "frozen features of " + feats + ", " + pooled + "; " +
		"linear probe: each feature standardised with the fit split's mean and std (MAE's parameter-free BatchNorm), " +
		"softmax regression with L2 1e-4 by full-batch L-BFGS; k-NN: cosine similarity, exp(sim/0.07)-weighted vote; " +
		"raw rows get the same probe and k-NN on a fixed front end of the input"
}

// EvalOptions are the choices of one evaluation.
type EvalOptions struct {
	K         int  // k-NN neighbours (0: eval.DefaultK)
	Layers    int  // last layers whose mean-pooled outputs are concatenated (0: DefaultProbe's)
	Grid      int  // images: pool each of Grid x Grid regions of the patch grid on its own (0: DefaultProbe's)
	Baselines bool // add the raw-input row and, for a checkpoint, a random-init row
	Val       bool // fit on the train split minus its last ValFrac, measure on that part (recipe choices); never reads the test split
}

// DefaultProbe is the protocol of `d2v eval` without --layers/--grid: for
// images the last 2 layers, each pooled over the 2 x 2 quadrants of the
// patch grid, the best of (1 or 2 layers) x (grid 1 or 2) for every
// pretrained encoder on the embedded validation split (docs/RESULTS.md);
// other modalities keep one mean over the final layer (not measured).
// Layers is capped at the model's depth.
func DefaultProbe(c *config.Config) (layers, grid int) {
	if c.Model.Modality == config.ModalityImage {
		return min(2, c.Model.Depth), 2
	}
	return 1, 1
}

// ValFrac is the share of the train split held out as the validation split
// (MNIST: 10,000 of 60,000, the customary split; the embedded subset: 1,000 of 6,000).
const ValFrac = 1.0 / 6

// Evaluate extracts frozen features of the fit and measure splits (train and
// test, or train minus validation and validation) and reports linear-probe
// and k-NN accuracy for the encoder and its baselines; it writes eval.json,
// a confusion-matrix PNG and a PNG of test images with their block masks.
func Evaluate(cfg *config.Config, w Weights, outDir string, o EvalOptions, log io.Writer) (*EvalReport, error) {
	trainSet, test, s, err := LoadTask(cfg, EvalBatch)
	if err != nil {
		return nil, bad(err)
	}
	if o.Val {
		if trainSet, test, err = trainSet.Carve(ValFrac); err != nil {
			return nil, bad(err)
		}
	}
	rep := &EvalReport{Train: trainSet.Name, Test: test.Name, TrainN: trainSet.N, TestN: test.N, Measured: "test"}
	layers, grid := DefaultProbe(cfg)
	if o.Layers == 0 {
		o.Layers = layers
	}
	if o.Grid == 0 {
		o.Grid = grid
	}
	rep.Protocol = Protocol(o.Layers, o.Grid)
	if o.Val {
		rep.Measured = "validation"
	}
	encoders := []Weights{w}
	if o.Baselines && w.Checkpoint != "" {
		encoders = append(encoders, Weights{Seed: uint64(cfg.Run.Seed)})
	}
	for i, wi := range encoders {
		row, err := encoderRow(s, wi, trainSet, test, o, log)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			rep.Weights = row.Source
		}
		rep.Rows = append(rep.Rows, *row)
	}
	if o.Baselines {
		row, err := rawRow(trainSet, test, o.K)
		if err != nil {
			return nil, err
		}
		rep.Rows = append(rep.Rows, *row)
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

// encoderRow measures the frozen features of the encoder with weights w.
func encoderRow(s step.Setup, w Weights, trainSet, test *Labelled, o EvalOptions, log io.Writer) (*EvalRow, error) {
	p := ClassifierParams(s, 0)
	label, err := LoadEncoder(p, s, w)
	if err != nil {
		return nil, bad(err)
	}
	enc, err := NewFeatures(s, p, EvalBatch, o.Layers)
	if err != nil {
		return nil, bad(err)
	}
	defer enc.Close()
	fmt.Fprintf(log, "d2v eval: %s; features of %d train and %d test examples\n", label, trainSet.N, test.N)
	var feats [2]eval.Features
	for i, sp := range []*Labelled{trainSet, test} {
		x, err := Features(enc, sp, o.Grid)
		if err != nil {
			return nil, err
		}
		feats[i] = eval.Features{X: x, N: sp.N, D: len(x) / sp.N, Labels: sp.Labels, Classes: len(trainSet.Classes)}
	}
	kind := "encoder"
	if w.Checkpoint == "" {
		kind = "random_init"
	}
	return measure(kind, label, feats, o.K)
}

// rawRow measures the splits' raw front end (Split.Raw).
func rawRow(trainSet, test *Labelled, k int) (*EvalRow, error) {
	var feats [2]eval.Features
	for i, sp := range []*Labelled{trainSet, test} {
		if sp.Raw == nil {
			return nil, fmt.Errorf("%s: no raw-input baseline for this data", sp.Name)
		}
		x := make([]float32, sp.N*sp.RawDim)
		for r := range sp.N {
			sp.Raw(r, x[r*sp.RawDim:(r+1)*sp.RawDim])
		}
		feats[i] = eval.Features{X: x, N: sp.N, D: sp.RawDim, Labels: sp.Labels, Classes: len(trainSet.Classes)}
	}
	return measure("raw", trainSet.RawDesc, feats, k)
}

// measure runs the probe and k-NN: fit on feats[0], measured on feats[1].
func measure(kind, source string, feats [2]eval.Features, k int) (*EvalRow, error) {
	row := &EvalRow{Features: kind, Source: source, Dim: feats[0].D}
	var err error
	if row.Probe, err = eval.LinearProbe(feats[0], feats[1], eval.ProbeOptions{}); err != nil {
		return nil, err
	}
	if row.KNN, err = eval.KNN(feats[0], feats[1], k); err != nil {
		return nil, err
	}
	return row, nil
}

func writeEvalPictures(cfg *config.Config, rep *EvalReport, sp *Labelled, dir string) error {
	cm := filepath.Join(dir, "confusion_linear_probe.png")
	probe := rep.Rows[0].Probe
	if err := plot.Confusion(cm, probe.Confusion, sp.Classes,
		fmt.Sprintf("linear probe, %s accuracy %.2f%%", rep.Measured, 100*probe.Accuracy)); err != nil {
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
	fmt.Fprintf(&sb, "weights   %s\nfit on    %s\n%-9s %s\n", r.Weights, r.Train, r.Measured, r.Test)
	fmt.Fprintf(&sb, "%-12s %5s %13s %13s  %s\n", "features", "dim", r.Rows[0].Probe.Method, r.Rows[0].KNN.Method, "source")
	pct := func(x float64) string { return strconv.FormatFloat(100*x, 'f', 2, 64) + "%" }
	for _, row := range r.Rows {
		fmt.Fprintf(&sb, "%-12s %5d %13s %13s  %s\n", row.Features, row.Dim, pct(row.Probe.Accuracy), pct(row.KNN.Accuracy), row.Source)
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
