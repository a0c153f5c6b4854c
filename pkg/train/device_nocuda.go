//go:build !d2vcuda && !d2vcudahost

package train

import "github.com/d2v/d2v/pkg/gpu"

// openCUDA: this binary has no CUDA support.
func openCUDA() (gpu.Device, string, error) { return nil, "", ErrNoCUDA }

// HaveCUDA reports whether this binary can run --device cuda.
const HaveCUDA = false
