package train

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/d2v/d2v/pkg/checkpoint"
	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/dist"
	"github.com/d2v/d2v/pkg/step"
)

// pretrainRanks runs Pretrain on n in-process ranks (n = 0: no Comm at all)
// writing to dir, and returns each rank's error.
func pretrainRanks(t *testing.T, n int, cfgs func(rank int) *config.Config, dir string) []error {
	t.Helper()
	if n == 0 {
		return []error{Pretrain(context.Background(), PretrainOptions{Cfg: cfgs(0), RunDir: dir, Log: io.Discard})}
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for r, c := range dist.NewGroup(n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[r] = Pretrain(context.Background(), PretrainOptions{Cfg: cfgs(r), RunDir: dir, Log: io.Discard, Comm: c})
		}()
	}
	wg.Wait()
	return errs
}

func readMetrics(t *testing.T, dir string) []Metric {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ms []Metric
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var m Metric
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	return ms
}

// maxStateDiff is the largest |a-b| / (max|a| over the tensor + 1e-3) over
// every tensor of two checkpoints, and the tensor where it occurs.
func maxStateDiff(t *testing.T, pa, pb string) (float64, string) {
	t.Helper()
	a, err := checkpoint.Read(pa)
	if err != nil {
		t.Fatal(err)
	}
	b, err := checkpoint.Read(pb)
	if err != nil {
		t.Fatal(err)
	}
	worst, where := 0.0, ""
	for name, ta := range a.Tensors {
		tb, ok := b.Tensors[name]
		if !ok {
			t.Fatalf("%s lacks %s", pb, name)
		}
		va, _ := ta.Float64s()
		vb, _ := tb.Float64s()
		var scale, d float64
		for i := range va {
			scale = max(scale, math.Abs(va[i]))
			d = max(d, math.Abs(va[i]-vb[i]))
		}
		if r := d / (scale + 1e-3); r > worst {
			worst, where = r, name
		}
	}
	return worst, where
}

// TestDataParallelEquivalence: 1, 2 and 4 in-process ranks, each with its
// share of the global batch, train like one process with the whole batch:
// the same losses, statistics and final weights within float32 tolerance
// (only the order of the gradient sums differs), for images and for text
// (corrupted student input, span masks keyed by the global sample).
func TestDataParallelEquivalence(t *testing.T) {
	text, err := config.Load("../../configs/text-tiny.yaml", []string{"model.depth=2", "model.dim=32",
		"teacher.top_k=2", "modalities.text.seq_len=32", "data.batch_size=8", "data.limit=64", "run.progress=false"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		cfg  *config.Config
	}{{"image", tinyConfig(t)}, {"text", text}} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Run.Steps, cfg.Run.LogEvery, cfg.Run.CkptEvery, cfg.Run.CheckEvery = 8, 1, 8, 2
			cfg.Optim.WarmupSteps = 2
			equivalent(t, cfg)
		})
	}
}

func equivalent(t *testing.T, cfg *config.Config) {
	one := func(int) *config.Config { return cfg }
	base := filepath.Join(t.TempDir(), "one")
	if errs := pretrainRanks(t, 0, one, base); errs[0] != nil {
		t.Fatal(errs[0])
	}
	want := readMetrics(t, base)
	for _, n := range []int{1, 2, 4} {
		dir := filepath.Join(t.TempDir(), "ranks")
		for r, err := range pretrainRanks(t, n, one, dir) {
			if err != nil {
				t.Fatalf("%d ranks: rank %d: %v", n, r, err)
			}
		}
		got := readMetrics(t, dir)
		if len(got) != len(want) {
			t.Fatalf("%d ranks: %d metric lines, want %d", n, len(got), len(want))
		}
		for i := range want {
			g, w := got[i], want[i]
			for _, f := range []struct {
				name string
				g, w float64
			}{{"loss", g.Loss, w.Loss}, {"grad_norm", g.GradNorm, w.GradNorm}, {"target_var", g.TargetVar, w.TargetVar}, {"pred_var", g.PredVar, w.PredVar}} {
				if math.Abs(f.g-f.w) > 1e-4*math.Abs(f.w) {
					t.Errorf("%d ranks: step %d %s = %.7g, one process %.7g", n, w.Step, f.name, f.g, f.w)
				}
			}
		}
		d, where := maxStateDiff(t, checkpoint.StepPath(base, 8), checkpoint.StepPath(dir, 8))
		if d > 1e-4 || (n == 1 && d != 0) {
			t.Errorf("%d ranks: final state differs from one process by %.3g (relative to the tensor's scale) in %s", n, d, where)
		}
		t.Logf("%d ranks: worst state difference %.3g (%s)", n, d, where)
	}
}

func TestDataParallelConfigErrors(t *testing.T) {
	cfg := tinyConfig(t)
	for _, tt := range []struct {
		name string
		n    int
		cfgs func(r int) *config.Config
		want string
	}{
		{"batch not divisible", 3, func(int) *config.Config { return cfg }, "data.batch_size: 16 is the global batch and must divide evenly over the 3 ranks"},
		{"configs differ", 2, func(r int) *config.Config {
			c := *cfg
			c.Run.Seed = int64(r)
			return &c
		}, "rank 1's resolved config differs from rank 0's"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for r, err := range pretrainRanks(t, tt.n, tt.cfgs, t.TempDir()) {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("rank %d: err = %v, want %q", r, err, tt.want)
				}
			}
		})
	}
}

// TestCheckDrift: a replica whose weights moved apart is named on every rank.
func TestCheckDrift(t *testing.T) {
	cfg := tinyConfig(t)
	cs := dist.NewGroup(2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for r, c := range cs {
		d, err := step.New(step.SetupFor(cfg, 2))
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		d.Init(0)
		opt := NewAdamW(0.9, 0.98, 1e-6, 0.05, Decayed)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep := newReplicas(c)
			if errs[r] = rep.checkDrift(d, opt, 1); errs[r] != nil {
				return
			}
			if r == 1 {
				d.Teacher.Get("teacher.blocks.1.attn.q.w").Data().([]float32)[3] += 1e-7
			}
			errs[r] = rep.checkDrift(d, opt, 2)
		}()
	}
	wg.Wait()
	for r, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "after step 2 rank 1's teacher weights differ from rank 0's") {
			t.Errorf("rank %d: err = %v, want the drift message", r, err)
		}
	}
}

// TestSyncStateStartsDiffer: ranks that resumed different checkpoints stop
// with a message before any broadcast.
func TestSyncStateStartsDiffer(t *testing.T) {
	cfg := tinyConfig(t)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for r, c := range dist.NewGroup(2) {
		d, err := step.New(step.SetupFor(cfg, 2))
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			start, skipped := int64(5+2*r), int64(0)
			errs[r] = newReplicas(c).syncState(d, NewAdamW(0.9, 0.98, 1e-6, 0.05, Decayed), &start, &skipped)
		}()
	}
	wg.Wait()
	for r, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "rank 1 starts at step 7, rank 0 at step 5") {
			t.Errorf("rank %d: err = %v", r, err)
		}
	}
}
