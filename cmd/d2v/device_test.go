package main

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/d2v/d2v/pkg/checkpoint"
	"github.com/d2v/d2v/pkg/train"
)

// TestDeviceUsageErrors: --device cuda in a build without CUDA, or an
// unknown device, is a one-line usage error (exit 2) before any work.
func TestDeviceUsageErrors(t *testing.T) {
	type tc struct {
		name string
		args []string
		want string
	}
	tests := []tc{
		{"unknown", []string{"pretrain", "--device", "tpu"}, `--device: unknown "tpu" (want cpu, cuda or emu)`},
		{"bench unknown", []string{"bench", "--device", "gpu"}, `--device: unknown "gpu"`},
	}
	if !train.HaveCUDA {
		want := "d2v: --device cuda: this d2v was built without CUDA; build it with -tags d2vcuda (scripts/gpu-build.sh)"
		tests = append(tests,
			tc{"pretrain cuda", []string{"pretrain", "--device", "cuda"}, want},
			tc{"bench cuda", []string{"bench", "--device", "cuda"}, want})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantUsageError(t, append(tt.args, "--set", "run.dir="+t.TempDir()), tt.want) })
	}
}

// TestDeviceUnsupportedSetting: a config the GPU step does not implement
// (audio) is a usage error naming it, on emu as it would be on cuda.
func TestDeviceUnsupportedSetting(t *testing.T) {
	code, _, stderr := run(t, "pretrain", "-c", "../../configs/audio-tiny.yaml", "--device", "emu", "--steps", "1",
		"--set", "run.dir="+t.TempDir())
	if code != exitUsage || !strings.Contains(stderr, `--device: gpu: modality "audio": not supported on the GPU`) {
		t.Fatalf("exit %d, want %d; stderr: %s", code, exitUsage, stderr)
	}
}

// TestPretrainDeviceEmu runs the GPU step's loop (forward, update,
// checkpoint sync) on the emulated GPU and compares it with the CPU run:
// same metrics and checkpoint up to float32 summation order.
func TestPretrainDeviceEmu(t *testing.T) {
	dir := t.TempDir()
	for _, dev := range []string{"cpu", "emu"} {
		code, _, stderr := run(t, append([]string{"pretrain"}, tiny(dir, "--name", dev, "--steps", "6", "--device", dev)...)...)
		if code != exitOK {
			t.Fatalf("--device %s: exit %d: %s", dev, code, stderr)
		}
		if dev == "emu" && !strings.Contains(stderr, "device: emu") {
			t.Errorf("--device emu: the log does not name the device: %s", stderr)
		}
		// the CPU splits its batch over the cores; the device runs it whole
		if split := strings.Contains(stderr, " parts of "); split != (dev == "cpu") {
			t.Errorf("--device %s: header says the batch is split: %v: %s", dev, split, stderr)
		}
	}
	mc, me := readMetrics(t, filepath.Join(dir, "cpu", "metrics.jsonl")), readMetrics(t, filepath.Join(dir, "emu", "metrics.jsonl"))
	if len(mc) != len(me) || len(mc) == 0 {
		t.Fatalf("metrics lines: cpu %d, emu %d", len(mc), len(me))
	}
	for i := range mc {
		for _, k := range []string{"loss", "grad_norm", "target_var", "pred_var"} {
			if e := math.Abs(me[i][k]-mc[i][k]) / math.Abs(mc[i][k]); e > 1e-4 {
				t.Errorf("step %v %s: cpu %v, emu %v", mc[i]["step"], k, mc[i][k], me[i][k])
			}
		}
	}
	fc, err := checkpoint.Read(filepath.Join(dir, "cpu", "ckpt-00000006.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	fe, err := checkpoint.Read(filepath.Join(dir, "emu", "ckpt-00000006.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range fc.Tensors {
		te, ok := fe.Tensors[name]
		if !ok {
			t.Errorf("emu checkpoint lacks %s", name)
			continue
		}
		a, _ := tc.Float64s()
		b, _ := te.Float64s()
		var num, den float64
		for i := range a {
			num, den = math.Max(num, math.Abs(a[i]-b[i])), math.Max(den, math.Abs(a[i]))
		}
		tol := 1e-3 * den
		if strings.Contains(name, "attn.k.b") || strings.HasSuffix(name, "k.b") { // zero gradient: noise
			tol = 1e-5
		}
		if num > tol {
			t.Errorf("%s: max abs diff %.3g (max %.3g)", name, num, den)
		}
	}
}
