package feed

import (
	"slices"
	"strings"
	"testing"

	"github.com/d2v/d2v/pkg/config"
)

func TestCloneMasksPerModality(t *testing.T) {
	img := config.Default()
	img.Method, img.Masking.Kind, img.Masking.Ratio = config.MethodData2Vec2, config.MaskInverseBlock, 0.8
	txt := config.Default()
	txt.Method, txt.Model.Modality, txt.Masking.Kind, txt.Masking.Ratio = config.MethodData2Vec2, config.ModalityText, config.MaskRandom, 0.48
	aud := config.Default()
	aud.Method, aud.Model.Modality, aud.Masking.Kind, aud.Masking.Ratio, aud.Masking.SpanLen = config.MethodData2Vec2, config.ModalityAudio, config.MaskSpan, 0.5, 5
	for name, c := range map[string]*config.Config{"image": img, "text": txt, "audio": aud} {
		t.Run(name, func(t *testing.T) {
			cm, err := NewCloneMasks(c, 3)
			if err != nil {
				t.Fatal(err)
			}
			m := slices.Clone(cm.Masks(1, 7, 0))
			if len(m) != 3*c.Clones.Count*c.NumTokens() {
				t.Fatalf("%d mask entries, want 3 x %d x %d", len(m), c.Clones.Count, c.NumTokens())
			}
			for r := 0; r < 3*cm.M; r++ {
				kept := 0
				for _, v := range m[r*cm.T : (r+1)*cm.T] {
					if !v {
						kept++
					}
				}
				if kept != NumKept(c) {
					t.Errorf("row %d keeps %d, want %d", r, kept, NumKept(c))
				}
			}
			if !slices.Equal(m, cm.Masks(1, 7, 0)) {
				t.Error("the same (seed, step) drew other masks")
			}
		})
	}
	bad := config.Default()
	bad.Method, bad.Masking.Kind = config.MethodData2Vec2, config.MaskBlock
	if _, err := NewCloneMasks(bad, 2); err == nil {
		t.Error("BEiT block masking for data2vec2: no error")
	}
	none := config.Default()
	none.Method, none.Masking.Kind, none.Masking.Ratio = config.MethodData2Vec2, config.MaskInverseBlock, 0.99
	if _, err := NewCloneMasks(none, 2); err == nil || !strings.Contains(err.Error(), "masking.ratio") {
		t.Errorf("ratio 0.99 keeps int(49*0.01) = 0: got %v, want an error naming masking.ratio", err)
	}
}
