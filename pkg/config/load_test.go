package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func writeYAML(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name string
		yaml string // "" = no file
		sets []string
		want func(c *Config) // edits Default() into the expected config
	}{
		{"defaults", "", nil, func(c *Config) {}},
		{"empty file", "# nothing\n", nil, func(c *Config) {}},
		{"yaml overrides defaults", "model: {dim: 128, heads: 8}\nteacher:\n  layer_norm: instance\n", nil, func(c *Config) {
			c.Model.Dim, c.Model.Heads, c.Teacher.LayerNorm = 128, 8, TargetNormInstance
		}},
		{"set overrides yaml", "model: {dim: 128, heads: 8}\n", []string{"model.dim=96"}, func(c *Config) {
			c.Model.Dim, c.Model.Heads = 96, 8
		}},
		{"later set wins", "", []string{"run.steps=10", "run.steps=20"}, func(c *Config) { c.Run.Steps = 20 }},
		{"set every type", "", []string{
			"optim.lr=3e-4", "run.progress=false", "run.seed=7", "teacher.final_norm=none", "run.name=smoke", "model.dim= 32 ",
		}, func(c *Config) {
			c.Optim.LR, c.Run.Progress, c.Run.Seed, c.Teacher.FinalNorm, c.Run.Name, c.Model.Dim = 3e-4, false, 7, TargetNormNone, "smoke", 32
		}},
		{"set empty string", "run: {name: x}\n", []string{"run.name="}, func(c *Config) {}},
		{"yaml integral float for int", "run: {steps: 1e3}\n", nil, func(c *Config) { c.Run.Steps = 1000 }},
		{"yaml int for float", "loss: {beta: 1}\n", nil, func(c *Config) { c.Loss.Beta = 1 }},
		{"tokens modality", "model: {modality: tokens}\nmasking: {kind: random}\n", nil, func(c *Config) {
			c.Model.Modality, c.Masking.Kind = ModalityTokens, MaskRandom
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.yaml != "" {
				path = writeYAML(t, tt.yaml)
			}
			got, err := Load(path, tt.sets)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := Default()
			tt.want(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", *got, *want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		sets []string
		want string // the exact error text
	}{
		{"unknown key in yaml", "model:\n  dims: 128\n", nil, `config: $F:2: unknown key "model.dims" (did you mean "model.dim"?)`},
		{"unknown key in set", "", []string{"model.dims=128"}, `config: unknown key "model.dims" (did you mean "model.dim"?)`},
		{"unknown section", "modle: {dim: 3}\n", nil, `config: $F:1: unknown key "modle" (did you mean "model"?)`},
		{"unknown key, same name elsewhere", "", []string{"run.batch_size=8"}, `config: unknown key "run.batch_size" (did you mean "data.batch_size"?)`},
		{"unknown key, nothing close", "", []string{"foo.bar=1"}, `config: unknown key "foo.bar"`},
		{"keys are case-sensitive", "Model: {dim: 3}\n", nil, `config: $F:1: unknown key "Model" (did you mean "model"?)`},
		{"wrong type in yaml", "model: {dim: \"abc\"}\n", nil, `config: $F:1: model.dim: expected an integer, got "abc"`},
		{"quoted number in yaml", "model: {dim: \"64\"}\n", nil, `config: $F:1: model.dim: expected an integer, got "64"`},
		{"wrong type in set", "", []string{"model.dim=abc"}, `config: model.dim: expected an integer, got "abc"`},
		{"fraction for int", "model: {dim: 64.5}\n", nil, `config: $F:1: model.dim: expected an integer, got 64.5`},
		{"string for float", "optim: {lr: fast}\n", nil, `config: $F:1: optim.lr: expected a number, got "fast"`},
		{"bad bool in set", "", []string{"run.progress=maybe"}, `config: run.progress: expected true or false, got "maybe"`},
		{"number for string", "run: {name: 123}\n", nil, `config: $F:1: run.name: expected a string, got 123`},
		{"empty value", "model:\n  dim:\n", nil, `config: $F:2: model.dim: expected an integer, got nothing (null)`},
		{"mapping for leaf", "model: {dim: {a: 1}}\n", nil, `config: $F:1: model.dim: expected an integer, got a mapping`},
		{"scalar for section", "model: 3\n", nil, `config: $F:1: model: expected a mapping of keys, got 3`},
		{"list at top level", "- a\n", nil, `config: $F:1: top level: expected a mapping of keys, got a list`},
		{"wrong type deep in a section", "model:\n  dim: 8\nmodalities:\n  image:\n    size: 28\n\n    patch_size: seven\n", nil,
			`config: $F:7: modalities.image.patch_size: expected an integer, got "seven"`},
		{"list for a section, deep", "modalities:\n  text:\n    - seq_len: 4\n", nil, `config: $F:2: modalities.text: expected a mapping of keys, got a list`},
		{"unknown key deep, flow style", "run: {dir: runs,\n  nmae: x}\n", nil, `config: $F:2: unknown key "run.nmae" (did you mean "run.name"?)`},
		{"unknown key under an anchor's alias", "model: &m {dim: 8}\nmodalities: {image: *m}\n", nil, `config: $F:2: unknown key "modalities.image.dim" (did you mean "modalities.image.size"?)`},
		{"section in set", "", []string{"model=3"}, `config: "model" is a section, not a key: set one of its keys, e.g. "model.modality"`},
		{"set without =", "", []string{"model.dim"}, `config: --set "model.dim": expected key=value, e.g. model.dim=128`},
		{"bad enum", "teacher: {layer_norm: batch}\n", nil, `teacher.layer_norm: must be one of layer|instance|none, got "batch"`},
		{"bad enum in set", "", []string{"model.norm=mid"}, `model.norm: must be one of pre|post, got "mid"`},
		{"invalid after merge", "model: {depth: 2}\n", nil, `teacher.top_k: must be in [1, model.depth] = [1,2], got 3`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.yaml != "" {
				path = writeYAML(t, tt.yaml)
			}
			c, err := Load(path, tt.sets)
			if err == nil {
				t.Fatalf("Load succeeded with %+v, want error %s", c, tt.want)
			}
			if want := strings.ReplaceAll(tt.want, "$F", path); err.Error() != want {
				t.Errorf("error\n got %s\nwant %s", err, want)
			}
		})
	}
}

func TestLoadFileErrors(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), nil)
	if err == nil || !strings.HasPrefix(err.Error(), "config: open ") {
		t.Errorf("missing file: got %v, want config: open ...", err)
	}
	p := writeYAML(t, "model: {dim: 3\n")
	_, err = Load(p, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "config: "+p+": yaml: ") {
		t.Errorf("syntax error: got %v, want it to name the file", err)
	}
	_, err = Load(writeYAML(t, "model:\n  dim: 1\n  dim: 2\n"), nil)
	if err == nil || !strings.Contains(err.Error(), `"dim" already defined`) {
		t.Errorf("duplicate key: got %v", err)
	}
}

// changed returns a valid config whose every leaf differs from Default(),
// with strings that YAML would misread unless quoted.
func changed() *Config {
	c := Default()
	c.Model = Model{Modality: ModalityTokens, Dim: 48, Depth: 3, Heads: 6, FFNDim: 100, Norm: NormPost, Pos: PosLearned, HeadLayers: 2, InitStd: 0.01, LNEps: 1e-6}
	c.Modalities = Modalities{Image: Image{PatchSize: 7, Size: 35, Channels: 3, Mean: 0.5, Std: 0.25,
		Augment: Augment{Crop: true, ScaleMin: 0.2, ScaleMax: 0.9, RatioMin: 0.5, RatioMax: 2, Flip: true}}, Tokens: Tokens{Vocab: 17, SeqLen: 13},
		Text: Text{Tokenizer: TokenizerBPE, VocabFile: "v: 1.json", MergesFile: "#m.txt", SeqLen: 9, EmbedLN: false, Docs: DocsFile}}
	c.Masking = Masking{Kind: MaskRandom, Ratio: 0.3, MinPerBlock: 2, MaxPerBlock: 5, MinAspect: 0.5, MaxAspect: 2, SpanLen: 3}
	c.Teacher = Teacher{EMAStart: 0.99, EMAEnd: 1, EMAAnnealSteps: 7, Scope: ScopeBlocks, TopK: 2, TargetLayer: TargetFFN, LayerNorm: TargetNormInstance, FinalNorm: TargetNormNone}
	c.Loss = Loss{Beta: 0.25, Scale: 1.0 / 3, Reduction: ReductionD2V}
	c.Optim = Optim{LR: 5e-4, MinLR: 0, WarmupSteps: 0, Schedule: ScheduleConstant, WeightDecay: 0.01, Beta1: 0.8, Beta2: 0.999, Eps: 1e-8, Clip: 0}
	c.Data = Data{Source: SourceFolder, Path: "data/a b: c", TestPath: "#test", BatchSize: 5, Limit: 100, ShuffleWindow: 7, Load: LoadMemory}
	c.Run = Run{Dir: "true", Name: "0123", Steps: 9, Seed: -3, LogEvery: 1, CkptEvery: 2, Keep: 0, MinTargetVar: 0, MinPredVar: 1e-300, VarCheckAfter: 0, SkipNonFinite: 4, CheckEvery: 7, Threads: 2, BatchSplit: 3, Progress: false}
	c.Finetune = Finetune{Steps: 1, BatchSize: 2, LR: 0.1, WeightDecay: 0, LayerDecay: 1, WarmupSteps: 0, LabelSmoothing: 0, Limit: 2}
	return c
}

func TestYAMLRoundTrip(t *testing.T) {
	for name, c := range map[string]*Config{"default": Default(), "changed": changed()} {
		t.Run(name, func(t *testing.T) {
			if err := c.Validate(); err != nil {
				t.Fatalf("test config invalid: %v", err)
			}
			b, err := c.YAML()
			if err != nil {
				t.Fatal(err)
			}
			got, err := FromYAML(b)
			if err != nil {
				t.Fatalf("FromYAML: %v\n%s", err, b)
			}
			if !reflect.DeepEqual(got, c) {
				t.Errorf("round trip changed the config:\n got %+v\nwant %+v\nyaml:\n%s", *got, *c, b)
			}
			// The YAML holds every key exactly once, in Keys() order.
			var root yaml.Node
			if err := yaml.Unmarshal(b, &root); err != nil {
				t.Fatal(err)
			}
			if got, want := flatten("", root.Content[0]), Keys(); !reflect.DeepEqual(got, want) {
				t.Errorf("YAML keys\n got %v\nwant %v", got, want)
			}
		})
	}
}

func flatten(prefix string, n *yaml.Node) []string {
	if n.Kind != yaml.MappingNode {
		return []string{prefix}
	}
	var out []string
	for i := 0; i < len(n.Content); i += 2 {
		out = append(out, flatten(join(prefix, n.Content[i].Value), n.Content[i+1])...)
	}
	return out
}

func TestFromYAML(t *testing.T) {
	c, err := FromYAML([]byte("model: {dim: 32}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Model.Dim != 32 || c.Model.Depth != Default().Model.Depth {
		t.Errorf("FromYAML: dim %d depth %d, want 32 and the default depth", c.Model.Dim, c.Model.Depth)
	}
	_, err = FromYAML([]byte("teacher: {topk: 2}\n"))
	if want := `config: unknown key "teacher.topk" (did you mean "teacher.top_k"?)`; err == nil || err.Error() != want {
		t.Errorf("unknown key: got %v, want %s", err, want)
	}
}
