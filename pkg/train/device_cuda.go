//go:build d2vcuda || d2vcudahost

package train

import (
	"github.com/d2v/d2v/pkg/cuda"
	"github.com/d2v/d2v/pkg/gpu"
)

// openCUDA opens GPU 0 with the embedded kernels.
func openCUDA() (gpu.Device, string, error) {
	d, err := cuda.Open(0)
	if err != nil {
		return nil, "", err
	}
	return d, d.Name(), nil
}

// HaveCUDA reports whether this binary can run --device cuda.
const HaveCUDA = true
