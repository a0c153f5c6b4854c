package main

import (
	"strings"
	"testing"
)

// TestConfigShow: `d2v config show` prints the resolved config of a file
// plus overrides, and rejects a bad value with exit 2.
func TestConfigShow(t *testing.T) {
	code, out, stderr := run(t, "config", "show", "-c", "../../configs/audio-tiny.yaml", "--set", "model.depth=3")
	if code != exitOK || !strings.Contains(out, "modality: audio") || !strings.Contains(out, "depth: 3") {
		t.Fatalf("config show: exit %d, stderr %q, out:\n%s", code, stderr, out)
	}
	if code, _, stderr := run(t, "config", "show", "--set", "model.dim=-1"); code != exitUsage || !strings.Contains(stderr, "model.dim") {
		t.Errorf("config show with a bad value: exit %d, %q", code, stderr)
	}
}
