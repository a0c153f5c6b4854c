//go:build d2vcuda || d2vcudahost

package gpu_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/d2v/d2v/pkg/cuda"
)

// TestParityCUDA replays the PyTorch fixtures through the step on GPU 0
// (build tag d2vcuda; scripts/gpu-check.sh runs it on the GPU host), or on
// the host emulation of the same kernels (tag d2vcudahost).
func TestParityCUDA(t *testing.T) {
	for _, f := range fixtures(t) {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".safetensors"), func(t *testing.T) {
			dev, err := cuda.Open(0)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("device: %s", dev.Name())
			replay(t, f, dev, afterTolCUDA)
		})
	}
}
