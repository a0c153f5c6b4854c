package train

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/feed"
	"github.com/d2v/d2v/pkg/gemm"
	"github.com/d2v/d2v/pkg/masking"
	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/step"
	"github.com/d2v/d2v/pkg/teacher"
)

// BenchResult is one `d2v bench` measurement (printed as a JSON line).
type BenchResult struct {
	Config       string    `json:"config"`
	Input        string    `json:"input"`
	MedianStepMS float64   `json:"median_step_ms"`
	MinStepMS    float64   `json:"min_step_ms"`
	StepsMS      []float64 `json:"steps_ms"`
	// MedianCPUMS is the median process CPU time (user+sys, all threads)
	// per step: on a shared machine it does not count the time other
	// processes hold the cores, so it compares builds more steadily than
	// wall time (up to Threads x the wall time when the cores are busy).
	MedianCPUMS float64 `json:"median_step_cpu_ms"`
	// MedianUpdateMS is the part of the step after the forward and
	// backward passes: gradient norm, AdamW and the EMA update.
	MedianUpdateMS float64 `json:"median_update_ms"`
	GEMMKernel     string  `json:"gemm_kernel"`
	GFLOPPerStep   float64 `json:"gflop_per_step"` // matmul FLOPs, as counted for the PyTorch reference
	GFLOPS         float64 `json:"gflops"`         // GFLOPPerStep / median step time
	// GFLOPRun is the matmul FLOPs d2v executes: the model's less the
	// student's last block at unmasked rows (BuildAt), which the reference computes.
	GFLOPRun  float64 `json:"gflop_executed_per_step"`
	GFLOPSRun float64 `json:"gflops_executed"`
	Threads   int     `json:"threads"`
	HeapMiB   float64 `json:"heap_mib"`
}

// StepFLOPs counts the matrix-multiply FLOPs of one data2vec step: teacher
// forward (1x), student forward (1x) and backward (2x) through the blocks,
// plus the head on the masked rows (forward + backward) and the patch
// projection; the same counting as the performance issue's 1.77 GFLOP at S.
func StepFLOPs(s step.Setup) float64 {
	B, T, D, F, H := float64(s.Batch), float64(s.Mod.NumTokens()), float64(s.Spec.Dim), float64(s.Spec.FFN), float64(s.Spec.Heads)
	N := B * T
	perLayer := 2*N*D*D*4 + 2*N*D*F*2 + 2*2*B*H*T*T*(D/H)
	enc := float64(s.Spec.Depth) * perLayer
	M := B * float64(s.NMask)
	head := 2 * M * D * D
	if s.Spec.HeadLayers == 2 {
		head = 2 * M * D * 2 * D * 2
	}
	var embed float64 // patch projection; a token lookup is no matmul
	if sh := s.Mod.InputShape(1); len(sh) == 2 {
		embed = 2 * N * float64(sh[1]) * D
	}
	return 4*enc + 3*head + 4*embed
}

// SkippedFLOPs counts the matmul FLOPs of StepFLOPs that d2v does not run:
// in the student's last block, forward and backward (3x), the unmasked
// rows' Q and output projections, FFN and attention rows.
func SkippedFLOPs(s step.Setup) float64 {
	B, T, D, F := float64(s.Batch), float64(s.Mod.NumTokens()), float64(s.Spec.Dim), float64(s.Spec.FFN)
	perRow := 2*D*D*2 + 2*D*F*2 + 2*2*T*D
	return 3 * B * (T - float64(s.NMask)) * perRow
}

// Bench times `steps` full data2vec steps (after `warmup`) of the configured
// model on synthetic input drawn like the PyTorch reference step's timing
// mode (scripts/bench.sh runs both): uniform token ids or N(0,1) patches, exactly feed.NumMasked random masked
// positions per sample.
func Bench(cfg *config.Config, name string, steps, warmup int) (*BenchResult, error) {
	if cfg.Method == config.MethodData2Vec2 {
		return bench2(cfg, name, steps, warmup) // bench2.go
	}
	if cfg.Run.Threads > 0 {
		runtime.GOMAXPROCS(cfg.Run.Threads)
	}
	B := cfg.Data.BatchSize
	in, err := benchFeedInput(cfg)
	if err != nil {
		return nil, err
	}
	s := step.SetupWith(cfg, B, in)
	d, err := step.New(s)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	d.Init(uint64(cfg.Run.Seed))
	oc := cfg.Optim
	opt := NewAdamW(oc.Beta1, oc.Beta2, oc.Eps, oc.WeightDecay, Decayed)
	inputs := benchInputs(cfg, s, 4) // a few batches, reused round robin
	mask := make([]bool, B*s.Mod.NumTokens())
	res := &BenchResult{Config: name, Input: string(cfg.Model.Modality), GFLOPPerStep: StepFLOPs(s) / 1e9,
		GFLOPRun: (StepFLOPs(s) - SkippedFLOPs(s)) / 1e9,
		Threads:  runtime.GOMAXPROCS(0), GEMMKernel: gemm.Kernel()}
	var out *step.Output
	err = timeSteps(res, warmup, steps,
		func(i int) { benchMask(cfg.Run.Seed, s, i, mask) },
		func(i int) (err error) { out, err = d.Forward(inputs[i%len(inputs)], mask); return err },
		func(i int) {
			opt.Step(d.Student, d.Names, out.Grads, oc.LR, ClipCoef(GradNorm(out.Grads), oc.Clip))
			d.EMA(teacher.Decay(cfg.Teacher.EMAStart, cfg.Teacher.EMAEnd, i+1, cfg.Teacher.EMAAnnealSteps))
		})
	return res, err
}

// timeSteps runs warmup+steps benchmark steps, each prepare (untimed: the
// mask), forward (forward and backward) and update (AdamW and EMA), and
// fills res's per-step times, medians, throughput and heap size. Both
// methods' benchmarks share it.
func timeSteps(res *BenchResult, warmup, steps int, prepare func(int), forward func(int) error, update func(int)) error {
	var cpuMS, updMS []float64
	for i := 0; i < warmup+steps; i++ {
		prepare(i)
		t0, c0 := time.Now(), processCPU()
		if err := forward(i); err != nil {
			return fmt.Errorf("bench step %d: %w", i+1, err)
		}
		t1 := time.Now()
		update(i)
		if i >= warmup {
			updMS = append(updMS, float64(time.Since(t1).Microseconds())/1000)
			res.StepsMS = append(res.StepsMS, float64(time.Since(t0).Microseconds())/1000)
			cpuMS = append(cpuMS, float64((processCPU()-c0).Microseconds())/1000)
		}
	}
	sorted := slices.Clone(res.StepsMS)
	slices.Sort(sorted)
	res.MedianStepMS, res.MinStepMS = sorted[len(sorted)/2], sorted[0]
	slices.Sort(cpuMS)
	res.MedianCPUMS = cpuMS[len(cpuMS)/2]
	slices.Sort(updMS)
	res.MedianUpdateMS = updMS[len(updMS)/2]
	res.GFLOPS = res.GFLOPPerStep / (res.MedianStepMS / 1000)
	res.GFLOPSRun = res.GFLOPRun / (res.MedianStepMS / 1000)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.HeapMiB = float64(ms.HeapInuse) / (1 << 20)
	return nil
}

// benchFeedInput is what the feed would report for the benchmarked
// config: the masked count, and for text the tokenizer's vocabulary (there
// is no corpus: the ids are drawn uniformly).
func benchFeedInput(cfg *config.Config) (feed.Input, error) {
	in := feed.InputFor(cfg)
	if cfg.Model.Modality == config.ModalityText {
		tok, err := feed.LoadTokenizer(cfg)
		if err != nil {
			return in, err
		}
		in.Vocab = tok.VocabSize()
	}
	return in, nil
}

// benchInputs draws k batches of the benchmarked step's synthetic input
// from run.seed+1: random token ids, or N(0,1) values for patches and
// waveforms.
func benchInputs(cfg *config.Config, s step.Setup, k int) [][]float32 {
	n := 1
	for _, v := range s.Mod.InputShape(s.Batch) {
		n *= v
	}
	r := rand.New(rand.NewPCG(uint64(cfg.Run.Seed)+1, 0))
	inputs := make([][]float32, k)
	for i := range inputs {
		x := make([]float32, n)
		for j := range x {
			if tm, ok := s.Mod.(model.Tokens); ok { // token ids (tokens and text input)
				x[j] = float32(r.IntN(tm.Vocab))
			} else {
				x[j] = float32(r.NormFloat64())
			}
		}
		inputs[i] = x
	}
	return inputs
}

// benchMask fills mask (B*T) with the random masks of benchmark step
// `step`: s.NMask positions per sample, from (seed, step, sample).
func benchMask(seed int64, s step.Setup, step int, mask []bool) {
	T := s.Mod.NumTokens()
	for i := 0; i < s.Batch; i++ {
		masking.Random(masking.NewRNG(seed, int64(step), i), T, s.NMask, mask[i*T:(i+1)*T])
	}
}
