package config

// Config is the whole d2v configuration. The tree mirrors the YAML files:
// each field's mapstructure tag is its YAML key, and a leaf's dotted path
// (model.dim, teacher.layer_norm) is the key used by --set, Keys and Docs.
type Config struct {
	Method     Method     `mapstructure:"method"`
	Model      Model      `mapstructure:"model"`
	Modalities Modalities `mapstructure:"modalities"`
	Masking    Masking    `mapstructure:"masking"`
	Teacher    Teacher    `mapstructure:"teacher"`
	Loss       Loss       `mapstructure:"loss"`
	Clones     Clones     `mapstructure:"clones"`
	Decoder    Decoder    `mapstructure:"decoder"`
	Optim      Optim      `mapstructure:"optim"`
	Data       Data       `mapstructure:"data"`
	Run        Run        `mapstructure:"run"`
	Finetune   Finetune   `mapstructure:"finetune"`
}

// Model is the shared Transformer encoder and the student's regression head.
type Model struct {
	Modality   Modality `mapstructure:"modality"`
	Dim        int      `mapstructure:"dim"`         // D, token width
	Depth      int      `mapstructure:"depth"`       // L, number of blocks
	Heads      int      `mapstructure:"heads"`       // attention heads; Dim % Heads == 0
	FFNDim     int      `mapstructure:"ffn_dim"`     // hidden width of each block's MLP
	Norm       NormPos  `mapstructure:"norm"`        // pre-LN or post-LN blocks
	Pos        PosKind  `mapstructure:"pos"`         // positional embedding
	HeadLayers int      `mapstructure:"head_layers"` // 1: Linear(D,D); 2: Linear(D,2D)-GELU-Linear(2D,D)
	InitStd    float64  `mapstructure:"init_std"`    // std of the truncated-normal weight init
	LNEps      float64  `mapstructure:"ln_eps"`      // epsilon of every LayerNorm
}

// Modalities holds one section per modality; only Model.Modality's is used.
type Modalities struct {
	Image  Image  `mapstructure:"image"`
	Tokens Tokens `mapstructure:"tokens"`
	Text   Text   `mapstructure:"text"`
	Audio  Audio  `mapstructure:"audio"`
}

// Audio configures 16 kHz speech: fixed crops of the waveform, the wav2vec
// 2.0 convolutional feature encoder and the convolutional positional
// encoding (data2vec speech, DATA2VEC.md §1.3).
type Audio struct {
	CropSamples  int     `mapstructure:"crop_samples"`   // waveform samples per example (random crop; shorter clips are padded)
	ConvLayers   int     `mapstructure:"conv_layers"`    // feature-encoder depth: the first N rows of the wav2vec 2.0 table
	ConvDim      int     `mapstructure:"conv_dim"`       // channels of every feature-encoder conv
	PosConvWidth int     `mapstructure:"pos_conv_width"` // fairseq conv_pos; kernel = max(3, width/depth), must be odd
	PosConvGroup int     `mapstructure:"pos_conv_groups"`
	PosConvDepth int     `mapstructure:"pos_conv_depth"`
	TestFrac     float64 `mapstructure:"test_frac"` // fraction of voices held out for evaluation (voice-disjoint)
}

// Wav2VecConv is the wav2vec 2.0 feature encoder's (kernel, stride) table
// (fairseq conv_feature_layers "[(512,10,5)] + [(512,3,2)]*4 +
// [(512,2,2)]*2"): 320 samples (20 ms at 16 kHz) per frame, a 400-sample
// receptive field. modalities.audio.conv_layers keeps its first rows.
var Wav2VecConv = [][2]int{{10, 5}, {3, 2}, {3, 2}, {3, 2}, {3, 2}, {2, 2}, {2, 2}}

// ConvTable is the (kernel, stride) of each configured conv layer.
func (a Audio) ConvTable() [][2]int {
	n := min(max(a.ConvLayers, 0), len(Wav2VecConv))
	return Wav2VecConv[:n]
}

// Frames is the number of feature frames T of a crop (0 if too short).
func (a Audio) Frames() int {
	l := a.CropSamples
	for _, ks := range a.ConvTable() {
		if l < ks[0] {
			return 0
		}
		l = (l-ks[0])/ks[1] + 1
	}
	return l
}

// Text configures tokenised text: a token embedding, learned positions and
// an optional embedding LayerNorm, as RoBERTa and data2vec text.
type Text struct {
	Tokenizer  TokenizerKind `mapstructure:"tokenizer"`
	VocabFile  string        `mapstructure:"vocab_file"`  // bpe: vocab.json or encoder.json
	MergesFile string        `mapstructure:"merges_file"` // bpe: merges.txt or vocab.bpe
	SeqLen     int           `mapstructure:"seq_len"`     // T, tokens per packed sequence incl. <s> and </s>
	EmbedLN    bool          `mapstructure:"embed_ln"`    // LayerNorm after token + position embedding
	Docs       TextDocs      `mapstructure:"docs"`        // how files split into documents
}

// Image configures square images cut into non-overlapping square patches.
type Image struct {
	PatchSize int     `mapstructure:"patch_size"` // patch side in pixels
	Size      int     `mapstructure:"size"`       // images are resized or checked to Size x Size pixels
	Channels  int     `mapstructure:"channels"`   // 1 for grey, 3 for RGB
	Mean      float64 `mapstructure:"mean"`       // pixel normalisation (x/255 - Mean) / Std
	Std       float64 `mapstructure:"std"`
	Augment   Augment `mapstructure:"augment"` // pretraining only; evaluation never augments
}

// Augment configures an image augmentation (off by default): a random
// resized crop and a horizontal flip drawn per sample from (seed, step,
// sample). In pretraining (modalities.image.augment) one view is shared by
// teacher and student as in the data2vec vision recipe (BEiT's
// RandomResizedCrop + flip); fine-tuning (finetune.augment) draws its own.
type Augment struct {
	Crop     bool    `mapstructure:"crop"`      // random resized crop, resized back to size x size
	ScaleMin float64 `mapstructure:"scale_min"` // crop area fraction drawn uniform in [scale_min, scale_max]
	ScaleMax float64 `mapstructure:"scale_max"`
	RatioMin float64 `mapstructure:"ratio_min"` // crop aspect w/h drawn log-uniform in [ratio_min, ratio_max]
	RatioMax float64 `mapstructure:"ratio_max"`
	Flip     bool    `mapstructure:"flip"` // mirror left-right with probability 1/2
}

// Tokens configures sequences of integer token ids.
type Tokens struct {
	Vocab  int `mapstructure:"vocab"`   // number of distinct ids
	SeqLen int `mapstructure:"seq_len"` // T, fixed sequence length
}

// Masking configures which of the student's tokens are masked.
type Masking struct {
	Kind        MaskKind `mapstructure:"kind"`
	Ratio       float64  `mapstructure:"ratio"`         // masked fraction; count = floor(Ratio*T + 0.5)
	MinPerBlock int      `mapstructure:"min_per_block"` // block: fewest tokens in one block
	MaxPerBlock int      `mapstructure:"max_per_block"` // block: most tokens in one block, 0 = no limit
	MinAspect   float64  `mapstructure:"min_aspect"`    // block: aspect ratio h/w drawn log-uniform in [MinAspect, MaxAspect]
	MaxAspect   float64  `mapstructure:"max_aspect"`
	SpanLen     int      `mapstructure:"span_len"`    // span: tokens per span
	BlockWidth  int      `mapstructure:"block_width"` // inverse_block: side of each square block of kept patches
	Adjust      float64  `mapstructure:"adjust"`      // inverse_block: extra fraction of block centres drawn (fairseq mask_prob_adjust)
}

// Clones configures data2vec 2.0's multi-mask training (method data2vec2):
// each sample is masked Count times, the teacher's targets are shared.
type Clones struct {
	Count     int     `mapstructure:"count"`      // M, masked copies of every sample (fairseq clone_batch)
	CLS       bool    `mapstructure:"cls"`        // a learned CLS token before the visible tokens, regressing the targets' mean
	CLSWeight float64 `mapstructure:"cls_weight"` // weight of the CLS loss (fairseq cls_loss)
}

// Decoder configures data2vec 2.0's student-only convolutional decoder
// (method data2vec2), dropped downstream.
type Decoder struct {
	Kind       DecoderKind `mapstructure:"kind"`        // 1d over positions, 2d over the patch grid (images)
	Dim        int         `mapstructure:"dim"`         // channels of every conv layer
	Kernel     int         `mapstructure:"kernel"`      // conv kernel (k x k in 2d)
	Groups     int         `mapstructure:"groups"`      // conv groups; divide model.dim and decoder.dim
	Layers     int         `mapstructure:"layers"`      // conv layers
	Residual   bool        `mapstructure:"residual"`    // add each layer's input when the widths match
	ProjLayers int         `mapstructure:"proj_layers"` // 1: Linear(dim, model.dim); 2 (1d): Linear(dim, 2dim)-GELU-Linear(2dim, model.dim)
}

// Teacher configures the EMA teacher and how its targets are built.
type Teacher struct {
	EMAStart       float64     `mapstructure:"ema_start"`        // decay at step 0
	EMAEnd         float64     `mapstructure:"ema_end"`          // decay after EMAAnnealSteps
	EMAAnnealSteps int         `mapstructure:"ema_anneal_steps"` // linear anneal length in optimiser steps
	Scope          EMAScope    `mapstructure:"scope"`
	TopK           int         `mapstructure:"top_k"`        // K, number of top blocks averaged
	TargetLayer    TargetLayer `mapstructure:"target_layer"` // which output of each block
	LayerNorm      TargetNorm  `mapstructure:"layer_norm"`   // applied to each of the K outputs
	FinalNorm      TargetNorm  `mapstructure:"final_norm"`   // applied to their average
}

// Loss configures the regression loss between student head and targets.
type Loss struct {
	Beta      float64   `mapstructure:"beta"`  // smooth-L1 beta; 0 = squared error
	Scale     float64   `mapstructure:"scale"` // reduction d2v only; 0 = 1/sqrt(D)
	Reduction Reduction `mapstructure:"reduction"`
}

// Optim configures AdamW, the learning-rate schedule and gradient clipping.
type Optim struct {
	LR          float64  `mapstructure:"lr"`           // peak learning rate, reached after warmup
	MinLR       float64  `mapstructure:"min_lr"`       // final learning rate of the cosine schedule
	WarmupSteps int      `mapstructure:"warmup_steps"` // linear warmup from 0 to LR
	Schedule    Schedule `mapstructure:"schedule"`
	WeightDecay float64  `mapstructure:"weight_decay"` // decoupled; not applied to biases and 1-D params
	Beta1       float64  `mapstructure:"beta1"`
	Beta2       float64  `mapstructure:"beta2"`
	Eps         float64  `mapstructure:"eps"`
	Clip        float64  `mapstructure:"clip"`        // global gradient-norm clip, 0 = off
	DecaySteps  int      `mapstructure:"decay_steps"` // tri_stage: length of the final decay to min_lr
}

// Data configures the training (and evaluation) data.
type Data struct {
	Source    DataSource `mapstructure:"source"`
	Path      string     `mapstructure:"path"`       // idx: folder with the 4 MNIST files; folder: root of class subfolders
	TestPath  string     `mapstructure:"test_path"`  // held-out <class>/ folder for eval and fine-tuning, any modality; "" = the data's own test split
	TaskPath  string     `mapstructure:"task_path"`  // text: WordNet database folder for eval and fine-tuning
	BatchSize int        `mapstructure:"batch_size"` // examples per pretraining step
	Limit     int        `mapstructure:"limit"`      // use only the first Limit training examples, 0 = all
	// shards: examples per shuffle window (the loader holds one window's
	// encoded examples); 0 = the whole set
	ShuffleWindow int `mapstructure:"shuffle_window"`
	// folder of images: decode it all first, or stream it as shards are
	// streamed; auto streams above StreamAbove bytes of pixels
	Load DataLoad `mapstructure:"load"`
}

// Run configures the run directory, length, logging, checkpoints and the
// collapse guard.
type Run struct {
	Dir           string  `mapstructure:"dir"`             // parent of all run directories
	Name          string  `mapstructure:"name"`            // run directory name; "" = a timestamp
	Steps         int     `mapstructure:"steps"`           // optimiser steps
	Seed          int64   `mapstructure:"seed"`            // init, masking and data order
	LogEvery      int     `mapstructure:"log_every"`       // steps between metric lines
	CkptEvery     int     `mapstructure:"ckpt_every"`      // steps between checkpoints
	Keep          int     `mapstructure:"keep"`            // checkpoints kept; 0 = keep all
	MinTargetVar  float64 `mapstructure:"min_target_var"`  // abort when target_var falls below, after VarCheckAfter
	MinPredVar    float64 `mapstructure:"min_pred_var"`    // abort when pred_var falls below, after VarCheckAfter
	VarCheckAfter int     `mapstructure:"var_check_after"` // first step of the collapse guard
	SkipNonFinite int     `mapstructure:"skip_nonfinite"`  // steps with a NaN/Inf loss or gradient skipped before aborting
	CheckEvery    int     `mapstructure:"check_every"`     // data-parallel: steps between cross-rank weight checksums; 0 = off
	Threads       int     `mapstructure:"threads"`         // CPU threads, 0 = all cores
	BatchSplit    int     `mapstructure:"batch_split"`     // batch parts run at once over the cores (1 = off); results depend on it, not on threads
	Progress      bool    `mapstructure:"progress"`        // show a progress bar
}

// Finetune configures supervised fine-tuning of a pretrained encoder with a
// linear classifier on the mean-pooled tokens.
type Finetune struct {
	Steps          int     `mapstructure:"steps"`
	BatchSize      int     `mapstructure:"batch_size"`
	LR             float64 `mapstructure:"lr"`
	WeightDecay    float64 `mapstructure:"weight_decay"`
	LayerDecay     float64 `mapstructure:"layer_decay"` // block l gets lr * LayerDecay^(depth-l); 1 = off
	WarmupSteps    int     `mapstructure:"warmup_steps"`
	LabelSmoothing float64 `mapstructure:"label_smoothing"`
	Limit          int     `mapstructure:"limit"`      // use only the first Limit training examples, 0 = all
	Augment        Augment `mapstructure:"augment"`    // images: a random view of each training example per step
	HeadSteps      int     `mapstructure:"head_steps"` // the first HeadSteps steps train only the head (LP-FT)
}

// Default returns the configuration of `d2v pretrain` with no flags: a small
// ViT on 28x28 MNIST (patch 4: 7x7 = 49 tokens of 16 pixels) that trains in
// a few minutes on two CPU cores. Values follow the data2vec 1.0 vision
// recipe (DATA2VEC.md §1.2), scaled down where noted.
func Default() *Config {
	return &Config{
		Method: MethodData2Vec,
		Model: Model{
			Modality: ModalityImage,
			Dim:      64, Depth: 4, Heads: 4, FFNDim: 256,
			Norm: NormPre, Pos: PosSincos,
			HeadLayers: 1, // vision: one Linear(D,D) (fairseq issue #4199)
			InitStd:    0.02,
			LNEps:      1e-5,
		},
		Modalities: Modalities{
			Image: Image{PatchSize: 4, Size: 28, Channels: 1, Mean: 0.1307, Std: 0.3081, // MNIST statistics
				// off for digits (a crop or mirror can change a digit); the vision
				// recipe's ranges are ready for crop: true
				Augment: Augment{ScaleMin: 0.08, ScaleMax: 1, RatioMin: 3.0 / 4, RatioMax: 4.0 / 3}},
			Tokens: Tokens{Vocab: 1000, SeqLen: 64}, // as ref_step.py
			Text:   Text{Tokenizer: TokenizerBytes, SeqLen: 128, EmbedLN: true, Docs: DocsParagraph},
			// data2vec base speech: 7 convs of 512, positional conv 95/16/5 (k 19);
			// 1 s crops (the recipe crops 2-20 s; our clips are single words).
			Audio: Audio{CropSamples: 16000, ConvLayers: 7, ConvDim: 512, PosConvWidth: 95, PosConvGroup: 16, PosConvDepth: 5, TestFrac: 0.25},
		},
		Masking: Masking{
			// Paper: 60% in blocks of >= 16 of 196 patches; 4 of 49 keeps the same block/image ratio.
			Kind: MaskBlock, Ratio: 0.6, MinPerBlock: 4, MaxPerBlock: 0,
			MinAspect: 0.3, MaxAspect: 1 / 0.3,
			SpanLen: 4, // text spans (data2vec text config: mask_multiple_length 4)
			// data2vec 2.0 images: 3x3 blocks of kept patches, mask_prob_adjust 0.07
			BlockWidth: 3, Adjust: 0.07,
		},
		Teacher: Teacher{
			// The paper uses 0.9998 constant over 800 epochs; a run of ~1000 steps needs
			// a faster-moving teacher (measured on embedded MNIST, docs/RESULTS.md), so anneal
			// 0.99 -> 0.999 over the run, as fairseq anneals for speech and text.
			EMAStart: 0.99, EMAEnd: 0.999, EMAAnnealSteps: 1200,
			Scope: ScopeAll, // the official vision code EMAs the whole model
			TopK:  3,        // paper K=6 of 12 blocks; here 3 of 4
			// FFN outputs (paper fn 5) with instance norm per layer and a final layer
			// norm (data2vec 2.0 images): on embedded MNIST this beat end-of-block +
			// layer norms by 6 points of linear probe at 400 steps (docs/RESULTS.md).
			TargetLayer: TargetFFN,
			LayerNorm:   TargetNormInstance,
			FinalNorm:   TargetNormLayer,
		},
		Loss: Loss{Beta: 2, Scale: 0, Reduction: ReductionMean}, // official vision code: mean smooth-L1, beta 2
		// method data2vec2 only; the data2vec 2.0 image recipe, scaled to model.dim 64
		Clones:  Clones{Count: 8, CLS: true, CLSWeight: 0.01},
		Decoder: Decoder{Kind: Decoder2D, Dim: 64, Kernel: 3, Groups: 16, Layers: 4, Residual: true, ProjLayers: 1},
		Optim: Optim{
			LR: 2e-3, MinLR: 1e-5, WarmupSteps: 100, Schedule: ScheduleCosine, WeightDecay: 0.05, // lr 2e-3: +2 points of probe over 1e-3 on the validation split (docs/RESULTS.md)
			// torch AdamW betas of the PyTorch reference step the parity fixtures come from
			Beta1: 0.9, Beta2: 0.98, Eps: 1e-6,
			Clip: 3, // as the vision recipe
		},
		Data: Data{Source: SourceEmbedded, BatchSize: 64, ShuffleWindow: 4096, Load: LoadAuto},
		Run: Run{
			Dir: "runs", Steps: 1200, Seed: 0, LogEvery: 10, CkptEvery: 250, Keep: 3,
			// fairseq aborts below 0.1 / 0.01 after 5000 updates; a 64-wide model
			// with ~1000 steps gets ten times lower thresholds and an earlier check.
			MinTargetVar: 0.01, MinPredVar: 0.001, VarCheckAfter: 500, SkipNonFinite: 0,
			// a cross-rank weight checksum costs about as much as one AdamW update
			CheckEvery: 100, Threads: 0, BatchSplit: 2, Progress: true,
		},
		Finetune: Finetune{
			Steps: 600, BatchSize: 64, LR: 1e-3, WeightDecay: 0.05,
			LayerDecay: 0.75, WarmupSteps: 50, LabelSmoothing: 0.1, Limit: 0,
			Augment: Augment{ScaleMin: 0.08, ScaleMax: 1, RatioMin: 3.0 / 4, RatioMax: 4.0 / 3},
		},
	}
}

// NumTokens returns T, the number of tokens the encoder sees: (size /
// patch_size)^2 for images, seq_len for tokens, 0 for an unknown modality.
func (c *Config) NumTokens() int {
	switch c.Model.Modality {
	case ModalityImage:
		im := c.Modalities.Image
		if im.PatchSize <= 0 {
			return 0
		}
		n := im.Size / im.PatchSize
		return n * n
	case ModalityTokens:
		return c.Modalities.Tokens.SeqLen
	case ModalityText:
		return c.Modalities.Text.SeqLen
	case ModalityAudio:
		return c.Modalities.Audio.Frames()
	}
	return 0
}

// PatchDim returns the length of one flattened image patch,
// patch_size^2 * channels, or 0 when the modality is not image.
func (c *Config) PatchDim() int {
	if c.Model.Modality != ModalityImage {
		return 0
	}
	im := c.Modalities.Image
	return im.PatchSize * im.PatchSize * im.Channels
}
