package train

import (
	"testing"

	"github.com/d2v/d2v/pkg/config"
)

// BenchmarkAudioStep times one full data2vec step of configs/audio-tiny.yaml
// (conv feature encoder and positional convs run by the student and, shared,
// by the teacher), with B/op and allocs/op.
func BenchmarkAudioStep(b *testing.B) {
	cfg, err := config.Load("../../configs/audio-tiny.yaml", nil)
	if err != nil {
		b.Fatal(err)
	}
	benchStep(b, cfg)
}
