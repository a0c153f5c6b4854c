package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

type recipe struct{ label, config string }

type point struct {
	Recipe       string
	BudgetMin    float64
	Steps        int
	WallS, CPUS  float64 // pretraining process
	Probe, KNN   float64 // encoder, test accuracy in %
	RandomProbe  float64 // random init of the same architecture
	RandomKNN    float64
	RawProbe     float64
	RawKNN       float64
	EvalCPUS     float64
	Checkpoint   string
	RandomSource string
}

type options struct {
	d2v, data, out string
	recipes        []recipe
	budgets        []float64
	calibSteps     int
	warmup         float64
	layers, grid   int
	evalName       string
	sets           []string
}

func main() {
	o, err := parseFlags()
	if err == nil {
		err = run(o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tta:", err)
		os.Exit(1)
	}
}

func parseFlags() (*options, error) {
	o := &options{}
	var recipes, budgets, sets string
	flag.StringVar(&o.d2v, "d2v", "bin/d2v", "the d2v binary")
	flag.StringVar(&o.data, "data", "data/mnist", "folder with the four MNIST IDX files (scripts/get-mnist.sh)")
	flag.StringVar(&o.out, "out", "runs/tta", "folder for the runs, results.csv, results.md and tta.png")
	flag.StringVar(&recipes, "recipes", "data2vec-p7=configs/mnist-full-p7.yaml,data2vec2=configs/image-v2-tiny.yaml", "comma-separated label=config pairs")
	flag.StringVar(&budgets, "budgets", "1,3,5,10,15", "pretraining wall-clock budgets in minutes")
	flag.IntVar(&o.calibSteps, "calib-steps", 40, "steps of the calibration run")
	flag.Float64Var(&o.warmup, "warmup", 0.066, "warmup share of the steps (optim.warmup_steps = this share of run.steps, at least 1)")
	flag.IntVar(&o.layers, "layers", 0, "d2v eval --layers (0: its default)")
	flag.IntVar(&o.grid, "grid", 0, "d2v eval --grid (0: its default)")
	flag.StringVar(&o.evalName, "eval-name", "eval", "sub-folder of each run for its eval.json: another name measures the same checkpoints again (e.g. under another -layers/-grid) without pretraining again")
	flag.StringVar(&sets, "set", "", "extra --set key=value pairs for pretraining, separated by ';'")
	flag.Parse()
	for _, r := range strings.Split(recipes, ",") {
		label, cfg, ok := strings.Cut(strings.TrimSpace(r), "=")
		if !ok || label == "" || cfg == "" {
			return nil, fmt.Errorf("-recipes: %q is not label=config", r)
		}
		o.recipes = append(o.recipes, recipe{label, cfg})
	}
	for _, b := range strings.Split(budgets, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(b), 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("-budgets: %q is not a positive number of minutes", b)
		}
		o.budgets = append(o.budgets, v)
	}
	if sets != "" {
		o.sets = strings.Split(sets, ";")
	}
	if o.evalName == "" || o.evalName != filepath.Base(o.evalName) || strings.HasPrefix(o.evalName, ".") {
		return nil, fmt.Errorf("-eval-name: %q is not a plain folder name", o.evalName)
	}
	if o.calibSteps < 15 {
		return nil, fmt.Errorf("-calib-steps: must be >= 15 (the first 10 steps are not timed), got %d", o.calibSteps)
	}
	return o, nil
}

func run(o *options) error {
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	var pts []point
	for _, r := range o.recipes {
		stepS, fixedS, err := calibrate(o, r)
		if err != nil {
			return fmt.Errorf("%s: calibration: %w", r.label, err)
		}
		fmt.Printf("%s: %.1f ms/step, %.1f s fixed cost\n", r.label, 1000*stepS, fixedS)
		for i, b := range o.budgets {
			steps := int((60*b - fixedS) / stepS)
			if steps < 20 {
				return fmt.Errorf("%s: budget %g min leaves %d steps (%.0f ms/step, %.0f s fixed cost)", r.label, b, steps, 1000*stepS, fixedS)
			}
			p, err := measure(o, r, b, steps, i == 0)
			if err != nil {
				return fmt.Errorf("%s, %g min: %w", r.label, b, err)
			}
			fmt.Printf("%s %g min: %d steps, wall %.0f s, cpu %.0f s: probe %.2f%%, k-NN %.2f%%\n",
				r.label, b, p.Steps, p.WallS, p.CPUS, p.Probe, p.KNN)
			pts = append(pts, *p)
			if err := write(o, pts); err != nil {
				return err
			}
		}
	}
	return nil
}

// d2v runs the binary and returns its wall time and CPU time (user+sys).
func d2v(o *options, logPath string, args ...string) (wall, cpu float64, err error) {
	f, err := os.Create(logPath)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	cmd := exec.Command(o.d2v, args...)
	cmd.Stdout, cmd.Stderr = f, f
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, fmt.Errorf("d2v %s: %w (log: %s)", strings.Join(args, " "), err, logPath)
	}
	st := cmd.ProcessState
	return time.Since(t0).Seconds(), (st.UserTime() + st.SystemTime()).Seconds(), nil
}

func pretrainArgs(o *options, r recipe, name string, steps int) []string {
	warm := max(1, int(o.warmup*float64(steps)))
	args := []string{"pretrain", "-c", r.config, "--name", name, "--steps", strconv.Itoa(steps),
		"--set", "run.dir=" + o.out, "--set", "run.progress=false", "--set", "data.source=idx", "--set", "data.path=" + o.data,
		"--set", "run.ckpt_every=" + strconv.Itoa(steps), "--set", "teacher.ema_anneal_steps=" + strconv.Itoa(steps),
		"--set", "optim.warmup_steps=" + strconv.Itoa(warm), "--set", "run.var_check_after=" + strconv.Itoa(steps)}
	for _, s := range o.sets {
		args = append(args, "--set", s)
	}
	return args
}

// calibrate measures seconds per step and the fixed cost of a run.
func calibrate(o *options, r recipe) (stepS, fixedS float64, err error) {
	name := r.label + "-calib"
	dir := filepath.Join(o.out, name)
	if err := os.RemoveAll(dir); err != nil {
		return 0, 0, err
	}
	args := pretrainArgs(o, r, name, o.calibSteps)
	args = append(args, "--set", "run.log_every=1")
	wall, _, err := d2v(o, filepath.Join(o.out, name+".log"), args...)
	if err != nil {
		return 0, 0, err
	}
	b, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		return 0, 0, err
	}
	var ms []float64
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var m struct {
			Step   int     `json:"step"`
			StepMS float64 `json:"step_ms"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			return 0, 0, fmt.Errorf("%s: %w", dir, err)
		}
		if m.Step > 10 { // the first steps warm caches and allocators
			ms = append(ms, m.StepMS)
		}
	}
	if len(ms) == 0 {
		return 0, 0, fmt.Errorf("%s/metrics.jsonl: no step after 10", dir)
	}
	sort.Float64s(ms)
	stepS = ms[len(ms)/2] / 1000
	return stepS, max(0, wall-float64(o.calibSteps)*stepS), nil
}

// measure pretrains for steps and evaluates; baselines adds the raw and
// random-init rows (the first budget of each recipe). It resumes: a run
// whose checkpoint and tta-timing.json exist is not pretrained again, and an
// evaluation whose eval.json exists (in the -eval-name folder) is read back.
func measure(o *options, r recipe, budget float64, steps int, baselines bool) (*point, error) {
	name := fmt.Sprintf("%s-%gmin", r.label, budget)
	dir := filepath.Join(o.out, name)
	evalDir := filepath.Join(dir, o.evalName)
	timing := filepath.Join(dir, "tta-timing.json")
	p, err := readTiming(timing)
	if err != nil {
		if err := os.RemoveAll(dir); err != nil {
			return nil, err
		}
		wall, cpu, err := d2v(o, filepath.Join(o.out, name+".log"), pretrainArgs(o, r, name, steps)...)
		if err != nil {
			return nil, err
		}
		p = &point{Recipe: r.label, BudgetMin: budget, Steps: steps, WallS: wall, CPUS: cpu,
			Checkpoint: filepath.Join(dir, fmt.Sprintf("ckpt-%08d.safetensors", steps))}
		if err := writeJSON(timing, p); err != nil {
			return nil, err
		}
	}
	p.Recipe, p.BudgetMin = r.label, budget
	evalJSON := filepath.Join(evalDir, "eval.json")
	evalCPU := filepath.Join(evalDir, "tta-eval-cpu.json")
	if b, err := os.ReadFile(evalCPU); err == nil && json.Unmarshal(b, &p.EvalCPUS) == nil {
		return p, readEval(evalJSON, p)
	}
	if _, err := os.Stat(evalJSON); err == nil && o.evalName == "eval" && p.EvalCPUS > 0 {
		return p, readEval(evalJSON, p) // recorded before tta-eval-cpu.json existed
	}
	args := []string{"eval", "--checkpoint", p.Checkpoint, "--data", o.data, "--out", evalDir,
		"--baselines=" + strconv.FormatBool(baselines)}
	if o.layers > 0 {
		args = append(args, "--layers", strconv.Itoa(o.layers))
	}
	if o.grid > 0 {
		args = append(args, "--grid", strconv.Itoa(o.grid))
	}
	logName := name + "-eval.log"
	if o.evalName != "eval" {
		logName = name + "-" + o.evalName + ".log"
	}
	if _, p.EvalCPUS, err = d2v(o, filepath.Join(o.out, logName), args...); err != nil {
		return nil, err
	}
	if err := readEval(evalJSON, p); err != nil {
		return nil, err
	}
	return p, writeJSON(evalCPU, p.EvalCPUS)
}

// readTiming reads a finished pretraining run's record; an error means the
// run must be (re)done: no record, or no checkpoint beside it.
func readTiming(path string) (*point, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p := &point{}
	if err := json.Unmarshal(b, p); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if p.Steps <= 0 || p.Checkpoint == "" {
		return nil, fmt.Errorf("%s: no finished run", path)
	}
	if !filepath.IsAbs(p.Checkpoint) { // records name it as the run did: keep a moved -out usable
		p.Checkpoint = filepath.Join(filepath.Dir(path), filepath.Base(p.Checkpoint))
	} else if _, err := os.Stat(p.Checkpoint); err != nil {
		p.Checkpoint = filepath.Join(filepath.Dir(path), filepath.Base(p.Checkpoint))
	}
	if _, err := os.Stat(p.Checkpoint); err != nil {
		return nil, err
	}
	return p, nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func readEval(path string, p *point) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var rep struct {
		Rows []struct {
			Features, Source string
			Probe            struct{ Accuracy float64 } `json:"linear_probe"`
			KNN              struct{ Accuracy float64 } `json:"knn"`
		}
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, row := range rep.Rows {
		a, k := 100*row.Probe.Accuracy, 100*row.KNN.Accuracy
		switch row.Features {
		case "encoder":
			p.Probe, p.KNN = a, k
		case "random_init":
			p.RandomProbe, p.RandomKNN, p.RandomSource = a, k, row.Source
		case "raw":
			p.RawProbe, p.RawKNN = a, k
		}
	}
	if len(rep.Rows) == 0 || rep.Rows[0].Features != "encoder" {
		return errors.New(path + ": no encoder row")
	}
	return nil
}

func write(o *options, pts []point) error {
	f, err := os.Create(filepath.Join(o.out, "results.csv"))
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"recipe", "budget_min", "steps", "pretrain_wall_s", "pretrain_cpu_s", "probe", "knn", "eval_cpu_s", "checkpoint"})
	for _, p := range pts {
		w.Write([]string{p.Recipe, fmt.Sprint(p.BudgetMin), strconv.Itoa(p.Steps), fmt.Sprintf("%.1f", p.WallS), fmt.Sprintf("%.1f", p.CPUS),
			fmt.Sprintf("%.2f", p.Probe), fmt.Sprintf("%.2f", p.KNN), fmt.Sprintf("%.1f", p.EvalCPUS), p.Checkpoint})
	}
	w.Flush()
	if err := errors.Join(w.Error(), f.Close()); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(o.out, "results.md"), []byte(table(pts)), 0o644); err != nil {
		return err
	}
	return plotPoints(filepath.Join(o.out, "tta.png"), pts)
}

func table(pts []point) string {
	var sb strings.Builder
	host, _ := os.Hostname()
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Fprintf(&sb, "Time to accuracy on MNIST (probe and k-NN fitted on the train images, measured on the test images), "+
		"host %s, %d CPUs, load average at writing: %s. Wall-clock is the pretraining process's, CPU its user+sys; "+
		"budget = the wall-clock the step count was sized for.\n\n", host, runtime.NumCPU(), strings.TrimSpace(string(load)))
	sb.WriteString("| recipe | budget (min) | steps | pretrain wall (s) | pretrain CPU (s) | linear probe | k-NN |\n|---|---|---|---|---|---|---|\n")
	base := map[string]point{}
	for _, p := range pts {
		fmt.Fprintf(&sb, "| %s | %g | %d | %.0f | %.0f | %.2f%% | %.2f%% |\n", p.Recipe, p.BudgetMin, p.Steps, p.WallS, p.CPUS, p.Probe, p.KNN)
		if p.RawProbe > 0 {
			base[p.Recipe] = p
		}
	}
	for _, r := range sortedKeys(base) {
		p := base[r]
		fmt.Fprintf(&sb, "| %s random init (step 0) | - | 0 | - | - | %.2f%% | %.2f%% |\n", r, p.RandomProbe, p.RandomKNN)
	}
	for _, r := range sortedKeys(base) {
		p := base[r]
		fmt.Fprintf(&sb, "| raw pixels | - | - | - | - | %.2f%% | %.2f%% |\n", p.RawProbe, p.RawKNN)
		break
	}
	return sb.String()
}

func sortedKeys(m map[string]point) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
