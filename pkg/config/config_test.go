package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestDefaultValidates(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	// 28x28 MNIST cut into 4x4 patches: 7x7 tokens of 16 pixels (the masked count: feed.TestNumMasked).
	if got := c.NumTokens(); got != 49 {
		t.Errorf("NumTokens() = %d, want 49", got)
	}
	if got := c.PatchDim(); got != 16 {
		t.Errorf("PatchDim() = %d, want 16", got)
	}
}

func TestTokensHelpers(t *testing.T) {
	c := Default()
	c.Model.Modality = ModalityTokens
	c.Modalities.Tokens.SeqLen = 10
	if got := c.NumTokens(); got != 10 {
		t.Errorf("NumTokens() = %d, want 10", got)
	}
	if got := c.PatchDim(); got != 0 {
		t.Errorf("PatchDim() = %d, want 0 for tokens", got)
	}
}

func TestEnums(t *testing.T) {
	tests := []struct {
		name   string
		zero   enum
		consts []enum
	}{
		{"Modality", Modality(""), []enum{ModalityImage, ModalityTokens, ModalityText, ModalityAudio}},
		{"NormPos", NormPos(""), []enum{NormPre, NormPost}},
		{"PosKind", PosKind(""), []enum{PosLearned, PosSincos}},
		{"MaskKind", MaskKind(""), []enum{MaskBlock, MaskRandom, MaskBERT, MaskSpan, MaskInverseBlock}},
		{"Method", Method(""), []enum{MethodData2Vec, MethodData2Vec2}},
		{"DecoderKind", DecoderKind(""), []enum{Decoder1D, Decoder2D}},
		{"TokenizerKind", TokenizerKind(""), []enum{TokenizerBytes, TokenizerBPE}},
		{"TextDocs", TextDocs(""), []enum{DocsParagraph, DocsFile}},
		{"EMAScope", EMAScope(""), []enum{ScopeAll, ScopeBlocks}},
		{"TargetLayer", TargetLayer(""), []enum{TargetBlock, TargetFFN}},
		{"TargetNorm", TargetNorm(""), []enum{TargetNormLayer, TargetNormInstance, TargetNormNone}},
		{"Reduction", Reduction(""), []enum{ReductionMean, ReductionD2V}},
		{"Schedule", Schedule(""), []enum{ScheduleCosine, ScheduleConstant, ScheduleTriStage}},
		{"DataLoad", DataLoad(""), []enum{LoadAuto, LoadMemory, LoadStream}},
		{"DataSource", DataSource(""), []enum{SourceEmbedded, SourceIdx, SourceFolder, SourceText, SourceTask, SourceShards}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.zero.Valid() {
				t.Errorf("empty value is valid")
			}
			var names []string
			for _, c := range tt.consts {
				if !c.Valid() {
					t.Errorf("%v is not valid", c)
				}
				names = append(names, reflect.ValueOf(c).String())
			}
			if got := tt.zero.Values(); !slices.Equal(got, names) {
				t.Errorf("Values() = %v, constants are %v", got, names)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	keys := Keys()
	if len(keys) != 115 {
		t.Errorf("len(Keys()) = %d, want 115 (update this count when adding a key)", len(keys))
	}
	for _, want := range []string{"model.dim", "model.ffn_dim", "modalities.image.patch_size", "teacher.layer_norm", "run.seed", "finetune.limit"} {
		if !slices.Contains(keys, want) {
			t.Errorf("Keys() lacks %q", want)
		}
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			t.Errorf("duplicate key %q", k)
		}
		seen[k] = true
	}
}

func TestEveryKeyHasHelp(t *testing.T) {
	for _, d := range Docs() {
		if strings.TrimSpace(d.Help) == "" {
			t.Errorf("%s: no description in help", d.Key)
		}
		if strings.Contains(d.Help, "\n") {
			t.Errorf("%s: description must be one line", d.Key)
		}
	}
	keys := Keys()
	for k := range help {
		if !slices.Contains(keys, k) {
			t.Errorf("help has %q, which is not a key", k)
		}
	}
	doc := Doc()
	for _, k := range keys {
		if !strings.Contains(doc, "| `"+k+"` |") {
			t.Errorf("Doc() lacks a row for %s", k)
		}
	}
	// Enum rows list their values, escaped for the Markdown table.
	if !strings.Contains(doc, "| `teacher.layer_norm` | `instance` | parameter-free norm of each of the top-k outputs (layer\\|instance\\|none) |") {
		t.Errorf("Doc() teacher.layer_norm row is not as expected:\n%s", doc)
	}
}

// TestDefaultYAMLIsDefault keeps configs/default.yaml and Default() equal.
func TestDefaultYAMLIsDefault(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "configs", "default.yaml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, Default()) {
		a, _ := c.YAML()
		b, _ := Default().YAML()
		t.Errorf("configs/default.yaml differs from Default():\n--- file\n%s\n--- Default()\n%s", a, b)
	}
}

// TestConfigFiles loads every configs/*.yaml, whoever wrote it.
func TestConfigFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "configs", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("found %d files in configs/, want at least default, mnist-full and finetune-mnist", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := Load(f, nil); err != nil {
				t.Errorf("Load: %v", err)
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(b), "\n"); n > 60 {
				t.Errorf("%d lines, want <= 60 (STYLE.md)", n)
			}
		})
	}
}
