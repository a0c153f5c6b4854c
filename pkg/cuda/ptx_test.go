package cuda

import (
	"regexp"
	"slices"
	"testing"
)

// TestPTXHasEveryKernel: the embedded PTX defines exactly the kernels the
// device launches, for sm_90 (the default build checks this without a GPU).
func TestPTXHasEveryKernel(t *testing.T) {
	var entries []string
	for _, m := range regexp.MustCompile(`(?m)^\.visible \.entry (\w+)\(`).FindAllStringSubmatch(PTX, -1) {
		entries = append(entries, m[1])
	}
	for _, k := range Kernels {
		if !slices.Contains(entries, k) {
			t.Errorf("kernel %s is not in kernels/d2v.ptx (run scripts/gen-ptx.sh)", k)
		}
	}
	if len(entries) != len(Kernels) {
		t.Errorf("PTX has %d entries %v, the device launches %d", len(entries), entries, len(Kernels))
	}
	if !regexp.MustCompile(`(?m)^\.target sm_90$`).MatchString(PTX) {
		t.Error("PTX is not for sm_90")
	}
}
