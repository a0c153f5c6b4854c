package shard

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// FromImageFolder writes a class-sorted folder in a seeded permutation:
// the first shard holds both classes, the same seed writes the same
// shards, another seed others.
func TestFromImageFolderShuffles(t *testing.T) {
	in := t.TempDir()
	for i := range 40 {
		p := filepath.Join(in, []string{"a", "b"}[i/20], fmt.Sprintf("%02d.png", i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, testPNG(t, i), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name string, seed int64) *Manifest {
		m, err := FromImageFolder(in, filepath.Join(t.TempDir(), name), 10, seed)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := write("s0", 0)
	if c := m.Shards[0].ClassCounts; c[0] == 0 || c[1] == 0 {
		t.Errorf("first shard's class counts %v: not mixed", c)
	}
	if write("again", 0).Fingerprint() != m.Fingerprint() {
		t.Error("the same seed wrote other shards")
	}
	if write("s1", 1).Fingerprint() == m.Fingerprint() {
		t.Error("seeds 0 and 1 wrote the same shards")
	}
}
