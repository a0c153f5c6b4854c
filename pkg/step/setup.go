package step

import (
	"math/rand/v2"

	"gorgonia.org/tensor"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/feed"
	"github.com/d2v/d2v/pkg/loss"
	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/teacher"
)

// Spec translates the model section of a config.
func Spec(c *config.Config) model.Spec {
	return model.Spec{
		Dim: c.Model.Dim, Depth: c.Model.Depth, Heads: c.Model.Heads, FFN: c.Model.FFNDim,
		NormFirst: c.Model.Norm == config.NormPre, LNEps: c.Model.LNEps, HeadLayers: c.Model.HeadLayers,
		LearnedPos: c.Model.Pos == config.PosLearned && c.Model.Modality != config.ModalityAudio, InitStd: c.Model.InitStd,
		EmbedLN: (c.Model.Modality == config.ModalityText && c.Modalities.Text.EmbedLN) ||
			// wav2vec 2.0's encoder LayerNorm after the positional conv (post-LN only;
			// pre-LN blocks end with their final LN instead)
			(c.Model.Modality == config.ModalityAudio && c.Model.Norm == config.NormPost),
	}
}

// Modality builds the configured local encoder; text's vocabulary comes
// from the data (in.Vocab: the tokenizer's).
func Modality(c *config.Config, in feed.Input) model.Modality {
	switch c.Model.Modality {
	case config.ModalityText:
		return model.Tokens{T: c.Modalities.Text.SeqLen, Vocab: in.Vocab, Dim: c.Model.Dim}
	case config.ModalityTokens:
		return model.Tokens{T: c.Modalities.Tokens.SeqLen, Vocab: c.Modalities.Tokens.Vocab, Dim: c.Model.Dim}
	case config.ModalityAudio:
		a := c.Modalities.Audio
		return model.Audio{Samples: a.CropSamples, Conv: a.ConvTable(), ConvDim: a.ConvDim, Dim: c.Model.Dim,
			PosWidth: a.PosConvWidth, PosGroups: a.PosConvGroup, PosDepth: a.PosConvDepth, LNEps: c.Model.LNEps}
	}
	g := c.Modalities.Image.Size / c.Modalities.Image.PatchSize
	return model.Patches{T: g * g, PatchDim: c.PatchDim(), Dim: c.Model.Dim, GridH: g, GridW: g}
}

// SetupFor translates a config into the step's static settings, for input
// the config fixes (images, audio, tokens); text needs SetupWith.
func SetupFor(c *config.Config, batch int) Setup { return SetupWith(c, batch, feed.InputFor(c)) }

// SetupWith translates a config and what the feed decides (feed.Input: the
// masked count, text's vocabulary) into the step's static settings.
func SetupWith(c *config.Config, batch int, in feed.Input) Setup {
	return Setup{
		Spec: Spec(c), Mod: Modality(c, in), Batch: batch, NMask: in.NMask,
		// text: the student input already carries BERT/span corruption
		KeepInput:   c.Model.Modality == config.ModalityText,
		TargetLayer: string(c.Teacher.TargetLayer), Scope: string(c.Teacher.Scope),
		Target: teacher.TargetSpec{TopK: c.Teacher.TopK, LayerNorm: teacher.Norm(c.Teacher.LayerNorm),
			Final: teacher.Norm(c.Teacher.FinalNorm), Eps: 1e-5},
		Loss:  loss.Spec{Beta: c.Loss.Beta, Scale: c.Loss.Scale, Reduction: loss.Reduction(c.Loss.Reduction)},
		Dtype: tensor.Float32,
		Parts: c.Run.BatchSplit,
	}
}

// Setup2For translates a config (method data2vec2) into the data2vec 2.0
// step's settings for B samples: every derived value (kept positions, the
// decoder's widths and positions) comes from here.
func Setup2For(c *config.Config, B int, in feed.Input) Setup2 {
	s := SetupWith(c, B, in)
	dc := c.Decoder
	return Setup2{
		Spec: s.Spec, Mod: s.Mod, Batch: B, Clones: c.Clones.Count, Keep: feed.NumKept(c),
		CLS: c.Clones.CLS, CLSWeight: c.Clones.CLSWeight,
		Decoder: model.Decoder{Kind: model.DecoderKind(dc.Kind), Dim: c.Model.Dim, DecDim: dc.Dim, Kernel: dc.Kernel,
			Groups: dc.Groups, Layers: dc.Layers, Residual: dc.Residual, ProjLayers: dc.ProjLayers,
			Positions: s.Mod.NumTokens(), LNEps: c.Model.LNEps},
		TargetLayer: s.TargetLayer, Scope: s.Scope, Target: s.Target,
		Loss:  loss.Spec{Beta: c.Loss.Beta, Scale: c.Loss.Scale, Reduction: loss.D2V},
		Dtype: tensor.Float32,
	}
}

// InitEncoder draws the student encoder exactly as D2V.Init does for the
// same seed, so a random-init baseline is the pretraining run's step 0.
func InitEncoder(p *model.Params, s Setup, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 0x64327632))
	model.Embedding{Mod: s.Mod, Spec: s.Spec}.Init(p, "student", r)
	model.Encoder{Spec: s.Spec}.Init(p, "student", r)
}

// Setup fixes everything a data2vec step's graphs depend on.
type Setup struct {
	Spec        model.Spec
	Mod         model.Modality
	Batch       int    // B
	NMask       int    // masked positions per sample (the same in every sample)
	TargetLayer string // "block" | "ffn"
	Scope       string // "all": full EMA copy; "blocks": embeddings shared with the student
	Target      teacher.TargetSpec
	Loss        loss.Spec
	Dtype       tensor.Dtype
	// KeepInput: the student input already carries its corruption (text:
	// <mask>/random tokens), so masked positions keep their embeddings instead
	// of the learned mask embedding; the mask only selects the loss rows.
	KeepInput bool
	// Parts splits each batch into this many groups of samples run at once,
	// each on its own graphs bound to the same parameters, the cores shared
	// between them (parts.go); <= 1 runs the batch as one.
	Parts int
}

func (s Setup) embedding() model.Embedding { return model.Embedding{Mod: s.Mod, Spec: s.Spec} }
