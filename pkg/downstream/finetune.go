package downstream

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/d2v/d2v/pkg/checkpoint"
	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/data"
	"github.com/d2v/d2v/pkg/feed"
	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/plot"
	"github.com/d2v/d2v/pkg/step"
	"github.com/d2v/d2v/pkg/train"
)

// FinetuneReport is what `d2v finetune` prints and writes as finetune.json.
type FinetuneReport struct {
	Weights    string  `json:"weights"`
	Steps      int     `json:"steps"`
	TrainN     int     `json:"train_n"`
	TestN      int     `json:"test_n"`
	Measured   string  `json:"measured_on"`   // "test", or "validation" (carved from train) with FinetuneOptions.Val
	Accuracy   float64 `json:"test_accuracy"` // on the measured split
	FinalLoss  float64 `json:"final_train_loss"`
	Checkpoint string  `json:"checkpoint"`
	Seconds    float64 `json:"seconds"`
	Confusion  [][]int `json:"confusion"`
}

// FinetuneOptions are the choices of `d2v finetune` outside the config.
type FinetuneOptions struct {
	Val bool // train on the train split minus its last ValFrac of each class, measure on that part (recipe choices); never reads the test split
}

// Finetune trains a classification head (LayerNorm + Linear on mean-pooled
// features) together with every encoder weight, with layer-wise lr decay,
// then reports test (or, with o.Val, validation) accuracy and writes
// finetune.safetensors in outDir.
func Finetune(ctx context.Context, cfg *config.Config, w Weights, outDir string, o FinetuneOptions, log io.Writer) (*FinetuneReport, error) {
	ft := cfg.Finetune
	B := ft.BatchSize
	trainSet, test, s, err := LoadTask(cfg, B)
	if err != nil {
		return nil, bad(err)
	}
	measured := "test"
	if o.Val {
		if trainSet, test, err = trainSet.Carve(ValFrac); err != nil {
			return nil, bad(err)
		}
		measured = "validation"
	}
	trainSet = trainSet.Limit(ft.Limit)
	C := len(trainSet.Classes)
	p := ClassifierParams(s, C)
	label, err := LoadEncoder(p, s, w)
	if err != nil {
		return nil, bad(err)
	}
	enc, err := NewClassifier(s, p, B, C, true)
	if err != nil {
		return nil, err
	}
	defer enc.Close()
	sampler, err := data.NewSampler(trainSet.N, B, cfg.Run.Seed)
	if err != nil {
		return nil, bad(fmt.Errorf("finetune.batch_size: %w", err))
	}
	aug := feed.AugmentSpecOf(ft.Augment) // config validation allows it for images only
	opt := train.NewAdamW(cfg.Optim.Beta1, cfg.Optim.Beta2, cfg.Optim.Eps, ft.WeightDecay, train.Decayed)
	fmt.Fprintf(log, "d2v finetune: %s; %s%s -> %s, %d classes, %d steps\n", label, trainSet.Name, feed.AugmentNote(aug), test.Name, C, ft.Steps)
	idx := make([]int, B)
	y := make([]float64, B*C)
	bar := train.NewProgress(log, cfg.Run.Progress, int64(ft.Steps), 0)
	t0 := time.Now()
	rep := &FinetuneReport{Weights: label, Steps: ft.Steps, TrainN: trainSet.N, TestN: test.N, Measured: measured}
	for step := 0; step < ft.Steps; step++ {
		if ctx.Err() != nil {
			return nil, train.ErrInterrupted
		}
		lr := train.LR(step, ft.WarmupSteps, ft.Steps, ft.LR, ft.LR*0.01, true)
		opt.LRScale = FinetuneScale(ft.LayerDecay, s.Spec.Depth, step < ft.HeadSteps)
		sampler.Indices(int64(step), idx)
		for i, r := range idx { // label smoothing: (1-eps) one-hot + eps/C
			for c := 0; c < C; c++ {
				y[i*C+c] = ft.LabelSmoothing / float64(C)
			}
			y[i*C+trainSet.Labels[r]] += 1 - ft.LabelSmoothing
		}
		x, pw := trainSet.Inputs(idx)
		if aug.On() {
			x, pw = trainSet.Augmented(aug, idx, cfg.Run.Seed, int64(step))
		}
		_, _, loss, grads, err := enc.Run(x, pw, y)
		if err != nil {
			return nil, fmt.Errorf("finetune step %d: %w", step+1, err)
		}
		if err := checkFinite(step+1, loss); err != nil {
			return nil, err
		}
		opt.Step(p, enc.Names, grads, lr, train.ClipCoef(train.GradNorm(grads), cfg.Optim.Clip))
		rep.FinalLoss = loss
		bar.Update(int64(step+1), train.Metric{Loss: loss, LR: lr})
	}
	bar.Finish()
	rep.Seconds = time.Since(t0).Seconds()
	if rep.Accuracy, rep.Confusion, err = classify(s, p, C, test); err != nil {
		return nil, err
	}
	rep.Checkpoint = filepath.Join(outDir, "finetune.safetensors")
	if err := saveFinetune(rep.Checkpoint, cfg, p, rep); err != nil {
		return nil, err
	}
	if err := plot.Confusion(filepath.Join(outDir, "confusion_finetune.png"), rep.Confusion, test.Classes,
		fmt.Sprintf("fine-tuned, %s accuracy %.2f%%", measured, 100*rep.Accuracy)); err != nil {
		return nil, err
	}
	js, _ := json.MarshalIndent(rep, "", "  ")
	return rep, checkpoint.WriteFileAtomic(filepath.Join(outDir, "finetune.json"), append(js, '\n'))
}

// classify returns test accuracy and the confusion matrix of the fine-tuned
// model, with a forward-only graph sharing the trained tensors.
func classify(s step.Setup, p *model.Params, C int, test *Labelled) (float64, [][]int, error) {
	s.Batch = EvalBatch
	enc, err := NewClassifier(s, p, EvalBatch, C, false)
	if err != nil {
		return 0, nil, err
	}
	defer enc.Close()
	conf := make([][]int, C)
	for i := range conf {
		conf[i] = make([]int, C)
	}
	correct := 0
	idx := make([]int, EvalBatch)
	for lo := 0; lo < test.N; lo += EvalBatch {
		for i := range idx {
			idx[i] = min(lo+i, test.N-1)
		}
		x, pw := test.Inputs(idx)
		_, logits, _, _, err := enc.Run(x, pw, nil)
		if err != nil {
			return 0, nil, err
		}
		for i := 0; i < min(EvalBatch, test.N-lo); i++ {
			row := logits[i*C : (i+1)*C]
			best := 0
			for c := range row {
				if row[c] > row[best] {
					best = c
				}
			}
			want := test.Labels[lo+i]
			conf[want][best]++
			if best == want {
				correct++
			}
		}
	}
	return float64(correct) / float64(test.N), conf, nil
}

// saveFinetune writes the fine-tuned encoder and head with the config.
func saveFinetune(path string, cfg *config.Config, p *model.Params, rep *FinetuneReport) error {
	var ts []checkpoint.Tensor
	for _, n := range p.Names() {
		t := p.Get(n)
		ts = append(ts, checkpoint.F32(n, []int(t.Shape()), t.Data().([]float32)))
	}
	y, err := cfg.YAML()
	if err != nil {
		return err
	}
	return checkpoint.Write(path, ts, map[string]string{
		"format_version": train.FormatVersion, "kind": "finetune", "config": string(y),
		"step": strconv.Itoa(rep.Steps), "test_accuracy": strconv.FormatFloat(rep.Accuracy, 'f', 6, 64),
		"weights": rep.Weights,
	})
}

// LayerID is the layer-wise lr-decay depth of a parameter: embeddings 0,
// block i -> i+1, final LN and the classification head depth+1.
func LayerID(name string, depth int) int {
	if rest, ok := strings.CutPrefix(name, "student.blocks."); ok {
		i, err := strconv.Atoi(strings.SplitN(rest, ".", 2)[0])
		if err == nil {
			return i + 1
		}
	}
	if strings.HasPrefix(name, "student.final_ln.") || strings.HasPrefix(name, "cls.") {
		return depth + 1
	}
	return 0
}

// LayerScale is decay^(depth+1-LayerID): the BEiT/data2vec layer-wise lr decay.
func LayerScale(decay float64, depth int) func(string) float64 {
	return func(name string) float64 { return math.Pow(decay, float64(depth+1-LayerID(name, depth))) }
}

// FinetuneScale is the per-parameter lr factor of fine-tuning: the layer
// decay, except that with headOnly only the classification head (cls.*)
// trains and every encoder weight gets 0 (the linear-probe phase of LP-FT,
// Kumar et al. 2022: a head fitted first does not send random-head gradients
// into the pretrained features).
func FinetuneScale(decay float64, depth int, headOnly bool) func(string) float64 {
	layer := LayerScale(decay, depth)
	return func(name string) float64 {
		if headOnly && !strings.HasPrefix(name, "cls.") {
			return 0
		}
		return layer(name)
	}
}

// checkFinite errors on a NaN or Inf loss.
func checkFinite(step int, loss float64) error {
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return &train.DivergedError{Step: int64(step), Reason: fmt.Sprintf("fine-tuning loss %v", loss)}
	}
	return nil
}
