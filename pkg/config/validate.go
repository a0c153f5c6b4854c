package config

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Validate checks ranges and combinations of values. It reports every
// problem, one per line, each as "<dotted.key>: must be ..., got ...".
// Only the section of the selected modality is checked.
func (c *Config) Validate() error {
	var v checker
	m := c.Model
	v.enum("method", c.Method)
	v2 := c.Method == MethodData2Vec2
	v.enum("model.modality", m.Modality)
	v.check(m.Dim > 0, "model.dim", "> 0", m.Dim)
	v.check(m.Heads > 0, "model.heads", "> 0", m.Heads)
	if m.Dim > 0 && m.Heads > 0 {
		v.check(m.Dim%m.Heads == 0, "model.dim", fmt.Sprintf("divisible by model.heads (%d)", m.Heads), m.Dim)
	}
	v.check(m.Depth >= 1, "model.depth", ">= 1", m.Depth)
	v.check(m.FFNDim > 0, "model.ffn_dim", "> 0", m.FFNDim)
	v.enum("model.norm", m.Norm)
	v.enum("model.pos", m.Pos)
	v.check(m.HeadLayers == 1 || m.HeadLayers == 2, "model.head_layers", "1 or 2", m.HeadLayers)
	v.check(m.InitStd > 0, "model.init_std", "> 0", m.InitStd)
	v.check(m.LNEps > 0, "model.ln_eps", "> 0", m.LNEps)

	tokensOK := true // whether NumTokens is meaningful, for the masking checks
	switch m.Modality {
	case ModalityImage:
		im := c.Modalities.Image
		tokensOK = im.PatchSize >= 1 && im.Size >= 1
		v.check(im.PatchSize >= 1, "modalities.image.patch_size", ">= 1", im.PatchSize)
		v.check(im.Size >= 1, "modalities.image.size", ">= 1", im.Size)
		if tokensOK && im.Size%im.PatchSize != 0 {
			tokensOK = false
			v.check(false, "modalities.image.size", fmt.Sprintf("a multiple of modalities.image.patch_size (%d)", im.PatchSize), im.Size)
		}
		v.check(im.Channels >= 1, "modalities.image.channels", ">= 1", im.Channels)
		v.check(!math.IsNaN(im.Mean) && !math.IsInf(im.Mean, 0), "modalities.image.mean", "finite", im.Mean)
		v.check(im.Std > 0 && !math.IsInf(im.Std, 0), "modalities.image.std", "> 0 and finite", im.Std)
		v.augment("modalities.image.augment", im.Augment)
	case ModalityTokens:
		tk := c.Modalities.Tokens
		tokensOK = tk.SeqLen >= 2
		v.check(tk.Vocab >= 1, "modalities.tokens.vocab", ">= 1", tk.Vocab)
		v.check(tk.SeqLen >= 2, "modalities.tokens.seq_len", ">= 2", tk.SeqLen)
	case ModalityText:
		tx := c.Modalities.Text
		tokensOK = tx.SeqLen >= 3
		v.check(tx.SeqLen >= 3, "modalities.text.seq_len", ">= 3 (<s>, a token, </s>)", tx.SeqLen)
		v.enum("modalities.text.tokenizer", tx.Tokenizer)
		v.enum("modalities.text.docs", tx.Docs)
		if tx.Tokenizer == TokenizerBPE {
			v.check(tx.VocabFile != "", "modalities.text.vocab_file", "set when modalities.text.tokenizer is bpe", tx.VocabFile)
			v.check(tx.MergesFile != "", "modalities.text.merges_file", "set when modalities.text.tokenizer is bpe", tx.MergesFile)
		}
		if c.Masking.Kind.Valid() && !v2 {
			v.check(c.Masking.Kind == MaskBERT || c.Masking.Kind == MaskSpan, "masking.kind",
				"bert or span for model.modality text", c.Masking.Kind)
		}
		v.check(c.Data.Source == SourceEmbedded || c.Data.Source == SourceText || c.Data.Source == SourceTask, "data.source",
			"embedded, text or task for model.modality text", c.Data.Source)
		v.check(c.Data.Source != SourceTask || c.Data.TaskPath != "", "data.task_path",
			"set when data.source is task (the WordNet database folder)", c.Data.TaskPath)
	case ModalityAudio:
		au := c.Modalities.Audio
		v.check(au.ConvLayers >= 1 && au.ConvLayers <= len(Wav2VecConv), "modalities.audio.conv_layers",
			fmt.Sprintf("in [1,%d]", len(Wav2VecConv)), au.ConvLayers)
		v.check(au.ConvDim >= 1, "modalities.audio.conv_dim", ">= 1", au.ConvDim)
		v.check(au.PosConvDepth >= 1, "modalities.audio.pos_conv_depth", ">= 1", au.PosConvDepth)
		v.check(au.PosConvWidth >= 1, "modalities.audio.pos_conv_width", ">= 1", au.PosConvWidth)
		if k := max(3, au.PosConvWidth/max(au.PosConvDepth, 1)); k%2 == 0 {
			v.check(false, "modalities.audio.pos_conv_width",
				fmt.Sprintf("such that the kernel max(3, width/pos_conv_depth) is odd (it is %d)", k), au.PosConvWidth)
		}
		v.check(au.PosConvGroup >= 1 && m.Dim%max(au.PosConvGroup, 1) == 0, "modalities.audio.pos_conv_groups",
			fmt.Sprintf(">= 1 and dividing model.dim (%d)", m.Dim), au.PosConvGroup)
		v.check(au.TestFrac > 0 && au.TestFrac < 1, "modalities.audio.test_frac", "in (0,1)", au.TestFrac)
		tokensOK = au.ConvLayers >= 1 && au.Frames() >= 2
		v.check(tokensOK, "modalities.audio.crop_samples",
			fmt.Sprintf("long enough for >= 2 frames through %d conv layers (gives %d)", au.ConvLayers, au.Frames()), au.CropSamples)
		if c.Masking.Kind.Valid() && !v2 {
			v.check(c.Masking.Kind == MaskSpan || c.Masking.Kind == MaskRandom, "masking.kind",
				"span or random for model.modality audio", c.Masking.Kind)
		}
		if tokensOK && c.Masking.Kind == MaskSpan {
			v.check(c.Masking.SpanLen <= au.Frames(), "masking.span_len",
				fmt.Sprintf("<= the %d frames of a crop", au.Frames()), c.Masking.SpanLen)
		}
		v.check(c.Data.Source == SourceEmbedded || c.Data.Source == SourceFolder || c.Data.Source == SourceShards, "data.source",
			"embedded, folder or shards for model.modality audio", c.Data.Source)
	default:
		tokensOK = false
	}
	if (m.Modality == ModalityImage || m.Modality == ModalityTokens) && c.Masking.Kind.Valid() && !v2 {
		v.check(c.Masking.Kind == MaskBlock || c.Masking.Kind == MaskRandom, "masking.kind",
			fmt.Sprintf("block or random for model.modality %s", m.Modality), c.Masking.Kind)
	}

	c.validateMasking(&v, tokensOK)
	if v2 {
		c.validateV2(&v, tokensOK)
	}
	c.validateTraining(&v)
	return v.err()
}

// validateV2 checks the settings of method data2vec2: the masks each clone
// draws, the clones and the decoder (DATA2VEC2 in the README).
func (c *Config) validateV2(v *checker, tokensOK bool) {
	m, mk := c.Model, c.Masking
	kinds := map[Modality][]MaskKind{
		ModalityImage: {MaskInverseBlock, MaskRandom}, ModalityAudio: {MaskSpan, MaskRandom},
		ModalityText: {MaskRandom}, ModalityTokens: {MaskRandom},
	}
	if ks := kinds[m.Modality]; mk.Kind.Valid() && len(ks) > 0 {
		names := make([]string, len(ks))
		for i, k := range ks {
			names[i] = string(k)
		}
		v.check(slices.Contains(ks, mk.Kind), "masking.kind",
			fmt.Sprintf("%s for method data2vec2 and model.modality %s", strings.Join(names, " or "), m.Modality), mk.Kind)
	}
	// the kept count, feed.NumKept, is checked where it is derived (feed.NewCloneMasks)
	if mk.Kind == MaskInverseBlock && m.Modality == ModalityImage && tokensOK {
		side := c.Modalities.Image.Size / c.Modalities.Image.PatchSize
		v.check(mk.BlockWidth >= 1 && mk.BlockWidth <= side, "masking.block_width",
			fmt.Sprintf("in [1,%d], the patch grid's side", side), mk.BlockWidth)
		v.check(mk.Adjust >= 0 && mk.Adjust < 1, "masking.adjust", "in [0,1)", mk.Adjust)
	}
	cl := c.Clones
	v.check(cl.Count >= 1, "clones.count", ">= 1", cl.Count)
	v.check(cl.CLSWeight >= 0 && !math.IsInf(cl.CLSWeight, 0), "clones.cls_weight", ">= 0", cl.CLSWeight)
	d := c.Decoder
	v.enum("decoder.kind", d.Kind)
	v.check(d.Kind != Decoder2D || m.Modality == ModalityImage, "decoder.kind",
		fmt.Sprintf("1d for model.modality %s (2d runs over an image's patch grid)", m.Modality), d.Kind)
	v.check(d.Dim >= 1, "decoder.dim", ">= 1", d.Dim)
	v.check(d.Kernel >= 1, "decoder.kernel", ">= 1", d.Kernel)
	v.check(d.Layers >= 1, "decoder.layers", ">= 1", d.Layers)
	v.check(d.Groups >= 1 && m.Dim%max(d.Groups, 1) == 0 && d.Dim%max(d.Groups, 1) == 0, "decoder.groups",
		fmt.Sprintf(">= 1 and dividing model.dim (%d) and decoder.dim (%d)", m.Dim, d.Dim), d.Groups)
	v.check(d.ProjLayers == 1 || (d.ProjLayers == 2 && d.Kind == Decoder1D), "decoder.proj_layers",
		"1, or 2 with decoder.kind 1d", d.ProjLayers)
	v.check(c.Loss.Reduction == ReductionD2V, "loss.reduction", "d2v for method data2vec2 (sum x scale over the masked positions of all clones)", c.Loss.Reduction)
}

func (c *Config) validateMasking(v *checker, tokensOK bool) {
	mk := c.Masking
	v.enum("masking.kind", mk.Kind)
	ratioOK := mk.Ratio > 0 && mk.Ratio < 1
	v.check(ratioOK, "masking.ratio", "in (0,1)", mk.Ratio)
	// Audio span masking's count (masking.SpanCount, wav2vec's mask_prob) is
	// in range for any ratio once there are 2 frames; the others must be.
	spans := c.Model.Modality == ModalityAudio && mk.Kind == MaskSpan
	if ratioOK && tokensOK && !spans && c.Method != MethodData2Vec2 { // data2vec2 counts kept positions (validateV2)
		// The rounded count before masking.Count clamps it to [1,T-1]
		// (feed.NumMasked computes the count used): a ratio that needs the
		// clamp is a mistake.
		t, n := c.NumTokens(), int(mk.Ratio*float64(c.NumTokens())+0.5)
		v.check(n >= 1 && n <= t-1, "masking.ratio",
			fmt.Sprintf("such that floor(ratio*T+0.5) is in [1,%d] for T=%d tokens (it is %d)", t-1, t, n), mk.Ratio)
		if mk.Kind == MaskBlock && n >= 1 { // with n = 0 the ratio is the one mistake
			v.check(mk.MinPerBlock <= n, "masking.min_per_block",
				fmt.Sprintf("<= the masked count floor(ratio*T+0.5) = %d", n), mk.MinPerBlock)
		}
	}
	v.check(mk.SpanLen >= 1, "masking.span_len", ">= 1", mk.SpanLen)
	v.check(mk.MinPerBlock >= 1, "masking.min_per_block", ">= 1", mk.MinPerBlock)
	v.check(mk.MaxPerBlock == 0 || mk.MaxPerBlock >= mk.MinPerBlock, "masking.max_per_block",
		fmt.Sprintf("0 (no limit) or >= masking.min_per_block (%d)", mk.MinPerBlock), mk.MaxPerBlock)
	v.check(mk.MinAspect > 0, "masking.min_aspect", "> 0", mk.MinAspect)
	v.check(mk.MaxAspect >= mk.MinAspect && !math.IsInf(mk.MaxAspect, 0), "masking.max_aspect",
		fmt.Sprintf(">= masking.min_aspect (%s) and finite", num(mk.MinAspect)), mk.MaxAspect)

	t := c.Teacher
	v.check(t.EMAStart >= 0 && t.EMAStart <= 1, "teacher.ema_start", "in [0,1]", t.EMAStart)
	v.check(t.EMAEnd >= t.EMAStart && t.EMAEnd <= 1, "teacher.ema_end",
		fmt.Sprintf("in [teacher.ema_start, 1] = [%s,1]", num(t.EMAStart)), t.EMAEnd)
	v.check(t.EMAAnnealSteps >= 0, "teacher.ema_anneal_steps", ">= 0", t.EMAAnnealSteps)
	v.enum("teacher.scope", t.Scope)
	v.check(t.TopK >= 1 && t.TopK <= c.Model.Depth, "teacher.top_k",
		fmt.Sprintf("in [1, model.depth] = [1,%d]", c.Model.Depth), t.TopK)
	v.enum("teacher.target_layer", t.TargetLayer)
	v.enum("teacher.layer_norm", t.LayerNorm)
	v.enum("teacher.final_norm", t.FinalNorm)

	l := c.Loss
	v.check(l.Beta >= 0 && !math.IsInf(l.Beta, 0), "loss.beta", ">= 0 (0 = squared error)", l.Beta)
	v.check(l.Scale >= 0 && !math.IsInf(l.Scale, 0), "loss.scale", ">= 0 (0 = 1/sqrt(D))", l.Scale)
	v.enum("loss.reduction", l.Reduction)
}

func (c *Config) validateTraining(v *checker) {
	o := c.Optim
	v.check(o.LR > 0 && !math.IsInf(o.LR, 0), "optim.lr", "> 0", o.LR)
	if o.LR > 0 && !math.IsInf(o.LR, 0) { // else optim.lr is the one mistake
		v.check(o.MinLR >= 0 && o.MinLR <= o.LR, "optim.min_lr", fmt.Sprintf("in [0, optim.lr] = [0,%s]", num(o.LR)), o.MinLR)
	} else {
		v.check(o.MinLR >= 0, "optim.min_lr", ">= 0", o.MinLR)
	}
	v.check(o.WarmupSteps >= 0, "optim.warmup_steps", ">= 0", o.WarmupSteps)
	v.enum("optim.schedule", o.Schedule)
	v.check(o.WeightDecay >= 0, "optim.weight_decay", ">= 0", o.WeightDecay)
	v.check(o.Beta1 >= 0 && o.Beta1 < 1, "optim.beta1", "in [0,1)", o.Beta1)
	v.check(o.Beta2 >= 0 && o.Beta2 < 1, "optim.beta2", "in [0,1)", o.Beta2)
	v.check(o.Eps > 0, "optim.eps", "> 0", o.Eps)
	v.check(o.Clip >= 0, "optim.clip", ">= 0 (0 = off)", o.Clip)
	v.check(o.DecaySteps >= 0, "optim.decay_steps", ">= 0", o.DecaySteps)

	d := c.Data
	v.enum("data.source", d.Source)
	v.enum("data.load", d.Load)
	v.check(d.Load != LoadStream || (c.Model.Modality == ModalityImage && (d.Source == SourceFolder || d.Source == SourceShards)), "data.load",
		fmt.Sprintf("auto or memory for model.modality %s, data.source %s (stream streams image folders; write other data to shards with d2v shard)",
			c.Model.Modality, d.Source), d.Load)
	if d.Source == SourceIdx || d.Source == SourceFolder || d.Source == SourceText || d.Source == SourceShards {
		v.check(d.Path != "", "data.path", fmt.Sprintf("set when data.source is %s", d.Source), d.Path)
	}
	v.check(d.BatchSize >= 1, "data.batch_size", ">= 1", d.BatchSize)
	v.check(d.ShuffleWindow >= 0, "data.shuffle_window", ">= 0 (0 = the whole set)", d.ShuffleWindow)
	v.check(d.Limit == 0 || d.Limit >= d.BatchSize, "data.limit",
		fmt.Sprintf("0 (all) or >= data.batch_size (%d)", d.BatchSize), d.Limit)

	r := c.Run
	v.check(r.Dir != "", "run.dir", "set", r.Dir)
	v.check(!strings.ContainsAny(r.Name, `/\`), "run.name", "a name without / or \\", r.Name)
	v.check(r.Steps >= 1, "run.steps", ">= 1", r.Steps)
	v.check(r.LogEvery >= 1, "run.log_every", ">= 1", r.LogEvery)
	v.check(r.CkptEvery >= 1, "run.ckpt_every", ">= 1", r.CkptEvery)
	v.check(r.Keep >= 0, "run.keep", ">= 0 (0 = all)", r.Keep)
	v.check(r.MinTargetVar >= 0, "run.min_target_var", ">= 0", r.MinTargetVar)
	v.check(r.MinPredVar >= 0, "run.min_pred_var", ">= 0", r.MinPredVar)
	v.check(r.VarCheckAfter >= 0, "run.var_check_after", ">= 0", r.VarCheckAfter)
	v.check(r.SkipNonFinite >= 0, "run.skip_nonfinite", ">= 0", r.SkipNonFinite)
	v.check(r.CheckEvery >= 0, "run.check_every", ">= 0 (0 = off)", r.CheckEvery)
	v.check(r.Threads >= 0, "run.threads", ">= 0 (0 = all cores)", r.Threads)
	v.check(r.BatchSplit >= 1, "run.batch_split", ">= 1 (1 = off)", r.BatchSplit)

	f := c.Finetune
	v.check(f.Steps >= 1, "finetune.steps", ">= 1", f.Steps)
	v.check(f.BatchSize >= 1, "finetune.batch_size", ">= 1", f.BatchSize)
	v.check(f.LR > 0 && !math.IsInf(f.LR, 0), "finetune.lr", "> 0", f.LR)
	v.check(f.WeightDecay >= 0, "finetune.weight_decay", ">= 0", f.WeightDecay)
	v.check(f.LayerDecay > 0 && f.LayerDecay <= 1, "finetune.layer_decay", "in (0,1] (1 = off)", f.LayerDecay)
	v.check(f.WarmupSteps >= 0, "finetune.warmup_steps", ">= 0", f.WarmupSteps)
	v.check(f.LabelSmoothing >= 0 && f.LabelSmoothing < 1, "finetune.label_smoothing", "in [0,1)", f.LabelSmoothing)
	v.augment("finetune.augment", f.Augment)
	v.check(f.HeadSteps >= 0 && f.HeadSteps < max(f.Steps, 1), "finetune.head_steps", fmt.Sprintf(">= 0 and < finetune.steps (%d)", f.Steps), f.HeadSteps)
	if f.Augment.Crop || f.Augment.Flip {
		v.check(c.Model.Modality == ModalityImage, "finetune.augment", "off (crop and flip are for images) with model.modality "+string(c.Model.Modality), "on")
	}
	v.check(f.Limit == 0 || f.Limit >= f.BatchSize, "finetune.limit",
		fmt.Sprintf("0 (all) or >= finetune.batch_size (%d)", f.BatchSize), f.Limit)
}

// checker collects validation failures. Conditions are written so that NaN
// fails them (NaN compares false).
type checker struct{ errs []error }

func (v *checker) check(ok bool, key, want string, got any) {
	if !ok {
		v.errs = append(v.errs, fmt.Errorf("%s: must be %s, got %s", key, want, value(got)))
	}
}

func (v *checker) enum(key string, e enum) {
	if !e.Valid() {
		v.errs = append(v.errs, fmt.Errorf("%s: must be one of %s, got %q", key, allowed(e), fmt.Sprint(e)))
	}
}

func (v *checker) err() error { return errors.Join(v.errs...) }

func value(got any) string {
	switch x := got.(type) {
	case float64:
		return num(x)
	case string:
		return strconv.Quote(x)
	}
	return fmt.Sprint(got)
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// augment checks the ranges of an image augmentation section at key.
func (v *checker) augment(key string, a Augment) {
	if !a.Crop {
		return
	}
	v.check(a.ScaleMin > 0 && a.ScaleMin <= a.ScaleMax, key+".scale_min", "in (0, scale_max]", a.ScaleMin)
	v.check(a.ScaleMax <= 1, key+".scale_max", "<= 1", a.ScaleMax)
	v.check(a.RatioMin > 0 && a.RatioMin <= a.RatioMax, key+".ratio_min", "in (0, ratio_max]", a.RatioMin)
	v.check(!math.IsInf(a.RatioMax, 0), key+".ratio_max", "finite", a.RatioMax)
}
