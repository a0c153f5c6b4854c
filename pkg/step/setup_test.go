package step

import (
	"testing"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/feed"
)

// TestAudioFramesAgree: the config's frame count (validation, masking) and
// the model's (graph shapes) are computed separately; they must agree.
func TestAudioFramesAgree(t *testing.T) {
	cfg := config.Default()
	cfg.Model.Modality = config.ModalityAudio
	for _, layers := range []int{1, 3, 7} {
		for _, crop := range []int{400, 401, 720, 9600, 16000, 16321} {
			cfg.Modalities.Audio.ConvLayers, cfg.Modalities.Audio.CropSamples = layers, crop
			if a, b := cfg.Modalities.Audio.Frames(), Modality(cfg, feed.Input{}).NumTokens(); a != b {
				t.Errorf("%d layers, %d samples: config %d frames, model %d", layers, crop, a, b)
			}
		}
	}
}
