package config

import (
	"math"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *Config)
		want string // the exact error text, one line per problem; "" = valid
	}{
		{"default", func(c *Config) {}, ""},
		{"tokens modality", func(c *Config) { c.Model.Modality = ModalityTokens }, ""},
		{"idx with path", func(c *Config) { c.Data.Source, c.Data.Path = SourceIdx, "data/mnist" }, ""},
		{"top_k = depth", func(c *Config) { c.Teacher.TopK = 4 }, ""},
		{"ema end 1 freezes", func(c *Config) { c.Teacher.EMAEnd = 1 }, ""},

		{"dim 0", func(c *Config) { c.Model.Dim = 0 }, "model.dim: must be > 0, got 0"},
		{"heads 0", func(c *Config) { c.Model.Heads = 0 }, "model.heads: must be > 0, got 0"},
		{"dim % heads", func(c *Config) { c.Model.Dim = 66 }, "model.dim: must be divisible by model.heads (4), got 66"},
		{"depth 0", func(c *Config) { c.Model.Depth = 0 },
			"model.depth: must be >= 1, got 0\nteacher.top_k: must be in [1, model.depth] = [1,0], got 3"},
		{"ffn_dim", func(c *Config) { c.Model.FFNDim = -1 }, "model.ffn_dim: must be > 0, got -1"},
		{"head_layers", func(c *Config) { c.Model.HeadLayers = 3 }, "model.head_layers: must be 1 or 2, got 3"},
		{"bad modality", func(c *Config) { c.Model.Modality = "speech" }, `model.modality: must be one of image|tokens|text|audio, got "speech"`},
		{"audio with block masking", func(c *Config) { c.Model.Modality = ModalityAudio }, `masking.kind: must be span or random for model.modality audio, got block`},
		{"audio crop too short", func(c *Config) {
			c.Model.Modality, c.Masking.Kind = ModalityAudio, MaskSpan
			c.Modalities.Audio.CropSamples = 700
		}, `modalities.audio.crop_samples: must be long enough for >= 2 frames through 7 conv layers (gives 1), got 700`},
		{"audio even pos kernel", func(c *Config) {
			c.Model.Modality, c.Masking.Kind = ModalityAudio, MaskSpan
			c.Modalities.Audio.PosConvWidth = 16
			c.Modalities.Audio.PosConvDepth = 2
		}, `modalities.audio.pos_conv_width: must be such that the kernel max(3, width/pos_conv_depth) is odd (it is 8), got 16`},
		{"audio groups", func(c *Config) {
			c.Model.Modality, c.Masking.Kind = ModalityAudio, MaskSpan
			c.Modalities.Audio.PosConvGroup = 3
		}, `modalities.audio.pos_conv_groups: must be >= 1 and dividing model.dim (64), got 3`},
		{"audio span longer than crop", func(c *Config) {
			c.Model.Modality, c.Masking.Kind = ModalityAudio, MaskSpan
			c.Modalities.Audio.CropSamples = 1600 // 4 frames
			c.Masking.SpanLen = 10
		}, `masking.span_len: must be <= the 4 frames of a crop, got 10`},
		{"audio from idx", func(c *Config) {
			c.Model.Modality, c.Masking.Kind = ModalityAudio, MaskSpan
			c.Data.Source, c.Data.Path = SourceIdx, "x"
		}, `data.source: must be embedded, folder or shards for model.modality audio, got idx`},
		{"audio folder streamed", func(c *Config) {
			c.Model.Modality, c.Masking.Kind = ModalityAudio, MaskSpan
			c.Data.Source, c.Data.Path, c.Data.Load = SourceFolder, "x", LoadStream
		}, `data.load: must be auto or memory for model.modality audio, data.source folder (stream streams image folders; write other data to shards with d2v shard), got stream`},
		{"embedded images streamed", func(c *Config) { c.Data.Load = LoadStream }, `data.load: must be auto or memory for model.modality image, data.source embedded (stream streams image folders; write other data to shards with d2v shard), got stream`},
		{"negative decay", func(c *Config) { c.Optim.DecaySteps = -1 }, `optim.decay_steps: must be >= 0, got -1`},
		{"bad norm", func(c *Config) { c.Model.Norm = "" }, `model.norm: must be one of pre|post, got ""`},
		{"init_std", func(c *Config) { c.Model.InitStd = 0 }, "model.init_std: must be > 0, got 0"},

		{"size % patch", func(c *Config) { c.Modalities.Image.Size = 30 },
			"modalities.image.size: must be a multiple of modalities.image.patch_size (4), got 30"},
		{"patch 0", func(c *Config) { c.Modalities.Image.PatchSize = 0 }, "modalities.image.patch_size: must be >= 1, got 0"},
		{"std 0", func(c *Config) { c.Modalities.Image.Std = 0 }, "modalities.image.std: must be > 0 and finite, got 0"},
		{"seq_len 1", func(c *Config) { c.Model.Modality, c.Modalities.Tokens.SeqLen = ModalityTokens, 1 },
			"modalities.tokens.seq_len: must be >= 2, got 1"},
		{"inactive modality unchecked", func(c *Config) { c.Modalities.Tokens.SeqLen = 0 }, ""},

		{"ratio 1.2", func(c *Config) { c.Masking.Ratio = 1.2 }, "masking.ratio: must be in (0,1), got 1.2"},
		{"ratio NaN", func(c *Config) { c.Masking.Ratio = math.NaN() }, "masking.ratio: must be in (0,1), got NaN"},
		{"nothing masked", func(c *Config) { c.Masking.Ratio = 0.001 },
			"masking.ratio: must be such that floor(ratio*T+0.5) is in [1,48] for T=49 tokens (it is 0), got 0.001"},
		{"everything masked", func(c *Config) { c.Masking.Ratio = 0.99 },
			"masking.ratio: must be such that floor(ratio*T+0.5) is in [1,48] for T=49 tokens (it is 49), got 0.99"},
		{"block bigger than mask", func(c *Config) { c.Masking.MinPerBlock = 30 },
			"masking.min_per_block: must be <= the masked count floor(ratio*T+0.5) = 29, got 30"},
		{"random ignores block size", func(c *Config) { c.Masking.Kind, c.Masking.MinPerBlock = MaskRandom, 30 }, ""},
		{"max_per_block < min", func(c *Config) { c.Masking.MaxPerBlock = 2 },
			"masking.max_per_block: must be 0 (no limit) or >= masking.min_per_block (4), got 2"},
		{"aspect order", func(c *Config) { c.Masking.MaxAspect = 0.2 },
			"masking.max_aspect: must be >= masking.min_aspect (0.3) and finite, got 0.2"},
		{"bad mask kind", func(c *Config) { c.Masking.Kind = "zigzag" }, `masking.kind: must be one of block|random|bert|span|inverse_block, got "zigzag"`},
		{"text mask kind for images", func(c *Config) { c.Masking.Kind = "span" }, `masking.kind: must be block or random for model.modality image, got span`},

		{"ema start > end", func(c *Config) { c.Teacher.EMAStart = 0.99995 },
			"teacher.ema_end: must be in [teacher.ema_start, 1] = [0.99995,1], got 0.999"},
		{"ema start < 0", func(c *Config) { c.Teacher.EMAStart = -0.1 }, "teacher.ema_start: must be in [0,1], got -0.1"},
		{"top_k > depth", func(c *Config) { c.Teacher.TopK = 5 }, "teacher.top_k: must be in [1, model.depth] = [1,4], got 5"},
		{"top_k 0", func(c *Config) { c.Teacher.TopK = 0 }, "teacher.top_k: must be in [1, model.depth] = [1,4], got 0"},
		{"bad layer_norm", func(c *Config) { c.Teacher.LayerNorm = "batch" },
			`teacher.layer_norm: must be one of layer|instance|none, got "batch"`},
		{"bad scope", func(c *Config) { c.Teacher.Scope = "encoder" }, `teacher.scope: must be one of all|blocks, got "encoder"`},
		{"bad target_layer", func(c *Config) { c.Teacher.TargetLayer = "attn" }, `teacher.target_layer: must be one of block|ffn, got "attn"`},

		{"beta < 0", func(c *Config) { c.Loss.Beta = -1 }, "loss.beta: must be >= 0 (0 = squared error), got -1"},
		{"scale < 0", func(c *Config) { c.Loss.Scale = -1 }, "loss.scale: must be >= 0 (0 = 1/sqrt(D)), got -1"},
		{"bad reduction", func(c *Config) { c.Loss.Reduction = "sum" }, `loss.reduction: must be one of mean|d2v, got "sum"`},

		{"lr 0", func(c *Config) { c.Optim.LR = 0 },
			"optim.lr: must be > 0, got 0"},
		{"lr 0 and min_lr < 0", func(c *Config) { c.Optim.LR, c.Optim.MinLR = 0, -1 },
			"optim.lr: must be > 0, got 0\noptim.min_lr: must be >= 0, got -1"},
		{"min_lr > lr", func(c *Config) { c.Optim.MinLR = 0.01 }, "optim.min_lr: must be in [0, optim.lr] = [0,0.002], got 0.01"},
		{"warmup < 0", func(c *Config) { c.Optim.WarmupSteps = -1 }, "optim.warmup_steps: must be >= 0, got -1"},
		{"beta1 1", func(c *Config) { c.Optim.Beta1 = 1 }, "optim.beta1: must be in [0,1), got 1"},
		{"beta2 < 0", func(c *Config) { c.Optim.Beta2 = -0.1 }, "optim.beta2: must be in [0,1), got -0.1"},
		{"eps 0", func(c *Config) { c.Optim.Eps = 0 }, "optim.eps: must be > 0, got 0"},
		{"clip < 0", func(c *Config) { c.Optim.Clip = -1 }, "optim.clip: must be >= 0 (0 = off), got -1"},
		{"wd < 0", func(c *Config) { c.Optim.WeightDecay = -0.1 }, "optim.weight_decay: must be >= 0, got -0.1"},
		{"bad schedule", func(c *Config) { c.Optim.Schedule = "linear" }, `optim.schedule: must be one of cosine|constant|tri_stage, got "linear"`},

		{"idx without path", func(c *Config) { c.Data.Source = SourceIdx }, `data.path: must be set when data.source is idx, got ""`},
		{"folder without path", func(c *Config) { c.Data.Source = SourceFolder }, `data.path: must be set when data.source is folder, got ""`},
		{"bad source", func(c *Config) { c.Data.Source = "s3" }, `data.source: must be one of embedded|idx|folder|text|task|shards, got "s3"`},
		{"batch 0", func(c *Config) { c.Data.BatchSize = 0 }, "data.batch_size: must be >= 1, got 0"},
		{"limit < batch", func(c *Config) { c.Data.Limit = 10 }, "data.limit: must be 0 (all) or >= data.batch_size (64), got 10"},

		{"run dir empty", func(c *Config) { c.Run.Dir = "" }, `run.dir: must be set, got ""`},
		{"run name with /", func(c *Config) { c.Run.Name = "a/b" }, `run.name: must be a name without / or \, got "a/b"`},
		{"steps 0", func(c *Config) { c.Run.Steps = 0 }, "run.steps: must be >= 1, got 0"},
		{"log_every 0", func(c *Config) { c.Run.LogEvery = 0 }, "run.log_every: must be >= 1, got 0"},
		{"ckpt_every 0", func(c *Config) { c.Run.CkptEvery = 0 }, "run.ckpt_every: must be >= 1, got 0"},
		{"keep < 0", func(c *Config) { c.Run.Keep = -1 }, "run.keep: must be >= 0 (0 = all), got -1"},
		{"threads < 0", func(c *Config) { c.Run.Threads = -1 }, "run.threads: must be >= 0 (0 = all cores), got -1"},
		{"min_target_var < 0", func(c *Config) { c.Run.MinTargetVar = -1 }, "run.min_target_var: must be >= 0, got -1"},

		{"layer_decay 0", func(c *Config) { c.Finetune.LayerDecay = 0 }, "finetune.layer_decay: must be in (0,1] (1 = off), got 0"},
		{"layer_decay 1.5", func(c *Config) { c.Finetune.LayerDecay = 1.5 }, "finetune.layer_decay: must be in (0,1] (1 = off), got 1.5"},
		{"label_smoothing 1", func(c *Config) { c.Finetune.LabelSmoothing = 1 }, "finetune.label_smoothing: must be in [0,1), got 1"},
		{"head_steps = steps", func(c *Config) { c.Finetune.HeadSteps = 600 }, "finetune.head_steps: must be >= 0 and < finetune.steps (600), got 600"},
		{"finetune crop scale", func(c *Config) { c.Finetune.Augment.Crop, c.Finetune.Augment.ScaleMin = true, 0 }, "finetune.augment.scale_min: must be in (0, scale_max], got 0"},
		{"finetune flip on text", func(c *Config) {
			c.Model.Modality, c.Masking.Kind, c.Finetune.Augment.Flip = ModalityText, MaskSpan, true
		}, "finetune.augment: must be off (crop and flip are for images) with model.modality text, got \"on\""},
		{"finetune lr 0", func(c *Config) { c.Finetune.LR = 0 }, "finetune.lr: must be > 0, got 0"},
		{"finetune steps 0", func(c *Config) { c.Finetune.Steps = 0 }, "finetune.steps: must be >= 1, got 0"},

		// method data2vec2 (the default image model: 7x7 patches of 64 channels)
		{"v2 image", v2Image, ""},
		{"v2 bad method", func(c *Config) { c.Method = "data2vec3" }, `method: must be one of data2vec|data2vec2, got "data2vec3"`},
		{"v2 block masking", func(c *Config) { v2Image(c); c.Masking.Kind = MaskBlock },
			"masking.kind: must be inverse_block or random for method data2vec2 and model.modality image, got block"},
		{"v2 block width", func(c *Config) { v2Image(c); c.Masking.BlockWidth = 8 },
			"masking.block_width: must be in [1,7], the patch grid's side, got 8"},
		{"v2 clones 0", func(c *Config) { v2Image(c); c.Clones.Count = 0 }, "clones.count: must be >= 1, got 0"},
		{"v2 groups", func(c *Config) { v2Image(c); c.Decoder.Groups = 5 },
			"decoder.groups: must be >= 1 and dividing model.dim (64) and decoder.dim (64), got 5"},
		{"v2 2d text", func(c *Config) {
			v2Image(c)
			c.Model.Modality, c.Masking.Kind, c.Data.Source = ModalityText, MaskRandom, SourceEmbedded
		}, "decoder.kind: must be 1d for model.modality text (2d runs over an image's patch grid), got 2d"},
		{"v2 2d two projections", func(c *Config) { v2Image(c); c.Decoder.ProjLayers = 2 },
			"decoder.proj_layers: must be 1, or 2 with decoder.kind 1d, got 2"},
		{"v2 mean loss", func(c *Config) { v2Image(c); c.Loss.Reduction = ReductionMean },
			"loss.reduction: must be d2v for method data2vec2 (sum x scale over the masked positions of all clones), got mean"},

		{"all problems reported", func(c *Config) { c.Model.HeadLayers, c.Optim.Eps, c.Run.Keep = 0, 0, -2 },
			"model.head_layers: must be 1 or 2, got 0\noptim.eps: must be > 0, got 0\nrun.keep: must be >= 0 (0 = all), got -2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.edit(c)
			err := c.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Validate()\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// v2Image switches the default config to data2vec 2.0 images.
func v2Image(c *Config) {
	c.Method, c.Masking.Kind, c.Masking.Ratio, c.Loss.Reduction, c.Loss.Beta = MethodData2Vec2, MaskInverseBlock, 0.8, ReductionD2V, 0
}
