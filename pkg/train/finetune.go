package train

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"time"

	"github.com/d2v/d2v/pkg/checkpoint"
	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/data"
	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/plot"
)

// FinetuneReport is what `d2v finetune` prints and writes as finetune.json.
type FinetuneReport struct {
	Weights    string  `json:"weights"`
	Steps      int     `json:"steps"`
	TrainN     int     `json:"train_n"`
	TestN      int     `json:"test_n"`
	Accuracy   float64 `json:"test_accuracy"`
	FinalLoss  float64 `json:"final_train_loss"`
	Checkpoint string  `json:"checkpoint"`
	Seconds    float64 `json:"seconds"`
	Confusion  [][]int `json:"confusion"`
}

// Finetune trains a classification head (LayerNorm + Linear on mean-pooled
// features) together with every encoder weight, with layer-wise lr decay,
// then reports test accuracy and writes finetune.safetensors in outDir.
func Finetune(ctx context.Context, cfg *config.Config, w Weights, outDir string, log io.Writer) (*FinetuneReport, error) {
	ft := cfg.Finetune
	B := ft.BatchSize
	train, test, s, err := LoadTask(cfg, B)
	if err != nil {
		return nil, bad(err)
	}
	train.Limit(ft.Limit)
	C := len(train.Classes)
	p := EncoderParams(s, C)
	label, err := LoadEncoder(p, s, w)
	if err != nil {
		return nil, bad(err)
	}
	enc, err := NewEncoder(s, p, B, C, true)
	if err != nil {
		return nil, err
	}
	defer enc.Close()
	sampler, err := data.NewSampler(train.N, B, cfg.Run.Seed)
	if err != nil {
		return nil, bad(fmt.Errorf("finetune.batch_size: %w", err))
	}
	opt := NewAdamW(cfg.Optim.Beta1, cfg.Optim.Beta2, cfg.Optim.Eps, ft.WeightDecay, Decayed)
	opt.LRScale = LayerScale(ft.LayerDecay, s.Spec.Depth)
	fmt.Fprintf(log, "d2v finetune: %s; %s -> %s, %d classes, %d steps\n", label, train.Name, test.Name, C, ft.Steps)
	idx := make([]int, B)
	y := make([]float64, B*C)
	bar := newProgress(log, cfg.Run.Progress, int64(ft.Steps), 0)
	t0 := time.Now()
	rep := &FinetuneReport{Weights: label, Steps: ft.Steps, TrainN: train.N, TestN: test.N}
	for step := 0; step < ft.Steps; step++ {
		if ctx.Err() != nil {
			return nil, ErrInterrupted
		}
		lr := LR(step, ft.WarmupSteps, ft.Steps, ft.LR, ft.LR*0.01, true)
		sampler.Indices(int64(step), idx)
		for i, r := range idx { // label smoothing: (1-eps) one-hot + eps/C
			for c := 0; c < C; c++ {
				y[i*C+c] = ft.LabelSmoothing / float64(C)
			}
			y[i*C+train.Labels[r]] += 1 - ft.LabelSmoothing
		}
		x, pw := train.Inputs(idx)
		_, _, loss, grads, err := enc.Run(x, pw, y)
		if err != nil {
			return nil, fmt.Errorf("finetune step %d: %w", step+1, err)
		}
		if err := checkFinite(step+1, loss); err != nil {
			return nil, err
		}
		opt.Step(p, enc.Names, grads, lr, ClipCoef(GradNorm(grads), cfg.Optim.Clip))
		rep.FinalLoss = loss
		bar.update(int64(step+1), Metric{Loss: loss, LR: lr})
	}
	bar.finish()
	rep.Seconds = time.Since(t0).Seconds()
	if rep.Accuracy, rep.Confusion, err = classify(s, p, C, test); err != nil {
		return nil, err
	}
	rep.Checkpoint = filepath.Join(outDir, "finetune.safetensors")
	if err := saveFinetune(rep.Checkpoint, cfg, p, rep); err != nil {
		return nil, err
	}
	if err := plot.Confusion(filepath.Join(outDir, "confusion_finetune.png"), rep.Confusion, test.Classes,
		fmt.Sprintf("fine-tuned, test accuracy %.2f%%", 100*rep.Accuracy)); err != nil {
		return nil, err
	}
	js, _ := json.MarshalIndent(rep, "", "  ")
	return rep, checkpoint.WriteFileAtomic(filepath.Join(outDir, "finetune.json"), append(js, '\n'))
}

// classify returns test accuracy and the confusion matrix of the fine-tuned
// model, with a forward-only graph sharing the trained tensors.
func classify(s Setup, p *model.Params, C int, test *Split) (float64, [][]int, error) {
	s.Batch = EvalBatch
	enc, err := NewEncoder(s, p, EvalBatch, C, false)
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
		ts = append(ts, f32Tensor(n, p.Get(n)))
	}
	y, err := cfg.YAML()
	if err != nil {
		return err
	}
	return checkpoint.Write(path, ts, map[string]string{
		"format_version": FormatVersion, "kind": "finetune", "config": string(y),
		"step": strconv.Itoa(rep.Steps), "test_accuracy": strconv.FormatFloat(rep.Accuracy, 'f', 6, 64),
		"weights": rep.Weights,
	})
}
