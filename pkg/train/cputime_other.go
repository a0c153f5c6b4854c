//go:build !unix

package train

import "time"

// processCPU is unknown here (0): Bench then reports no CPU time.
func processCPU() time.Duration { return 0 }
