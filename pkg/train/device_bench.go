package train

import (
	"fmt"
	"runtime"
	"slices"
	"time"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/step"
	"github.com/d2v/d2v/pkg/teacher"
)

// BenchDevice is Bench with the step on a GPU device (OpenDevice): the
// same synthetic input and masks; each step's time ends when the device
// has finished its update.
func BenchDevice(cfg *config.Config, name string, steps, warmup int, device string) (*BenchResult, error) {
	dev, devName, err := OpenDevice(device)
	if err != nil {
		return nil, err
	}
	if dev == nil {
		return Bench(cfg, name, steps, warmup)
	}
	if cfg.Method == config.MethodData2Vec2 {
		dev.Close()
		return nil, fmt.Errorf("--device %s: method data2vec2 runs on the CPU only", device)
	}
	B := cfg.Data.BatchSize
	s := step.SetupFor(cfg, B)
	s.Parts = 1 // the device runs the whole batch
	d, err := step.New(s)
	if err != nil {
		dev.Close()
		return nil, err
	}
	defer d.Close()
	d.Init(uint64(cfg.Run.Seed))
	oc := cfg.Optim
	opt := NewAdamW(oc.Beta1, oc.Beta2, oc.Eps, oc.WeightDecay, Decayed)
	g, err := NewGPUStep(d, opt, dev)
	if err != nil {
		dev.Close()
		return nil, err
	}
	defer g.Close()
	inputs := benchInputs(cfg, s, 4) // as Bench
	mask := make([]bool, B*s.Mod.NumTokens())
	kernel := "cublas"
	if device == DeviceEmu {
		kernel = "pkg/gemm (emu)"
	}
	res := &BenchResult{Config: name + "@" + devName, Input: string(cfg.Model.Modality), GFLOPPerStep: StepFLOPs(s) / 1e9,
		GEMMKernel: kernel, Threads: runtime.GOMAXPROCS(0)}
	for step := 0; step < warmup+steps; step++ {
		benchMask(cfg.Run.Seed, s, step, mask)
		t0 := time.Now()
		x := inputs[step%len(inputs)]
		_, norm, err := g.Forward(x, x, mask)
		if err == nil {
			err = g.Update(oc.LR, ClipCoef(norm, oc.Clip), teacher.Decay(cfg.Teacher.EMAStart, cfg.Teacher.EMAEnd, step+1, cfg.Teacher.EMAAnnealSteps))
		}
		if err != nil {
			return nil, fmt.Errorf("bench step %d on %s: %w", step+1, devName, err)
		}
		if step >= warmup {
			res.StepsMS = append(res.StepsMS, float64(time.Since(t0).Microseconds())/1000)
		}
	}
	sorted := slices.Clone(res.StepsMS)
	slices.Sort(sorted)
	res.MedianStepMS, res.MinStepMS = sorted[len(sorted)/2], sorted[0]
	res.GFLOPS = res.GFLOPPerStep / (res.MedianStepMS / 1000)
	return res, nil
}
