package masking

import (
	"fmt"
	"math"
)

// Count returns the number of masked tokens for a mask ratio over t
// tokens: n = floor(ratio*t + 0.5), i.e. rounded half up, then clamped to
// [1, t-1] so at least one token is predicted and one stays visible
// (data2vec needs both a target and a context). For t < 2 no such n
// exists and Count returns 0, which ValidateCount rejects.
func Count(ratio float64, t int) int {
	if t < 2 {
		return 0
	}
	n := int(math.Floor(ratio*float64(t) + 0.5))
	return min(max(n, 1), t-1)
}

// ValidateCount reports whether n of t tokens can be masked: 1 <= n < t.
func ValidateCount(t, n int) error {
	if t < 2 {
		return fmt.Errorf("masking: t: need at least 2 tokens to mask, got %d", t)
	}
	if n < 1 || n >= t {
		return fmt.Errorf("masking: n: masked count must be in [1, %d] for %d tokens, got %d", t-1, t, n)
	}
	return nil
}

// ValidateBlock checks the parameters of Block once, at setup, so the
// per-sample call can panic on misuse instead of returning errors.
func ValidateBlock(gh, gw, n, minPerBlock, maxPerBlock int, minAspect, maxAspect float64) error {
	if gh < 1 || gw < 1 {
		return fmt.Errorf("masking: grid: must be at least 1x1, got %dx%d", gh, gw)
	}
	if err := ValidateCount(gh*gw, n); err != nil {
		return err
	}
	switch {
	case minPerBlock < 1:
		return fmt.Errorf("masking: min_per_block: must be >= 1, got %d", minPerBlock)
	case maxPerBlock > 0 && maxPerBlock < minPerBlock:
		return fmt.Errorf("masking: max_per_block: must be >= min_per_block (%d) or <= 0 for no limit, got %d", minPerBlock, maxPerBlock)
	case !(minAspect > 0) || math.IsInf(minAspect, 0):
		return fmt.Errorf("masking: min_aspect: must be a finite value > 0, got %g", minAspect)
	case !(maxAspect >= minAspect) || math.IsInf(maxAspect, 0):
		return fmt.Errorf("masking: max_aspect: must be finite and >= min_aspect (%g), got %g", minAspect, maxAspect)
	}
	return nil
}
