package train

import (
	"testing"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/step"
)

// TestBench2: `d2v bench` times data2vec 2.0 steps for both benchmark
// configs (1-D decoder on tokens, 2-D decoder with CLS on patches).
func TestBench2(t *testing.T) {
	for _, path := range []string{"../../configs/bench-v2.yaml", "../../configs/bench-v2-patches.yaml"} {
		cfg, err := config.Load(path, []string{"model.dim=32", "model.ffn_dim=64", "decoder.dim=32", "decoder.groups=4", "decoder.layers=2"})
		if err != nil {
			t.Fatal(err)
		}
		res, err := Bench(cfg, path, 2, 1)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if res.MedianStepMS <= 0 || len(res.StepsMS) != 2 || res.GFLOPPerStep <= 0 || res.Input == "" {
			t.Errorf("%s: %+v", path, res)
		}
	}
}

// TestStepFLOPs2 checks the count on a case small enough to add up by
// hand: B=1, M=2, T=4 (2x2 grid), K=1, E=1, D=2, F=4, 1 head, 1 layer;
// a 2-D decoder of 2 channels, kernel 1, 1 group, 1 layer; tokens input.
func TestStepFLOPs2(t *testing.T) {
	s := step.Setup2{Spec: model.Spec{Dim: 2, Depth: 1, Heads: 1, FFN: 4}, Mod: model.Tokens{T: 4, Vocab: 3, Dim: 2},
		Batch: 1, Clones: 2, Keep: 1, CLS: true,
		Decoder: model.Decoder{Kind: model.Decoder2D, Dim: 2, DecDim: 2, Kernel: 1, Groups: 1, Layers: 1, ProjLayers: 1, Positions: 4}}
	// teacher: 1 seq of 5: 2*5*2*2*4 + 2*5*2*4*2 + 2*2*1*1*25*2 = 160+160+200 = 520
	// student: 2 seqs of 2: 2*4*2*2*4 + 2*4*2*4*2 + 2*2*2*1*4*2 = 128+128+64 = 320, x3 = 960
	// decoder: rows 8: conv 2*8*2*2*1 = 64, proj 2*8*2*2 = 64; x3 = 384
	if got, want := StepFLOPs2(s), 520.0+960+384; got != want {
		t.Errorf("StepFLOPs2 = %g, want %g", got, want)
	}
}

// TestBenchText: `d2v bench` on text configs (both methods) draws token ids
// from the tokenizer's vocabulary; it used to declare a 0-row embedding and
// panic.
func TestBenchText(t *testing.T) {
	for _, path := range []string{"../../configs/text-tiny.yaml", "../../configs/text-v2-tiny.yaml"} {
		cfg, err := config.Load(path, []string{"model.dim=32", "model.ffn_dim=64", "model.depth=2", "teacher.top_k=2",
			"decoder.dim=32", "decoder.layers=1", "data.batch_size=2", "modalities.text.seq_len=16"})
		if err != nil {
			t.Fatal(err)
		}
		res, err := Bench(cfg, path, 1, 0)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if res.MedianStepMS <= 0 {
			t.Errorf("%s: %+v", path, res)
		}
	}
}
