package config

import (
	"slices"
	"strings"
)

// enum is implemented by every typed string enum in the Config tree.
// Validate and the key docs use it to list the allowed values.
type enum interface {
	Valid() bool
	Values() []string
}

// Modality selects the modality's local encoder and input format.
type Modality string

const (
	ModalityImage  Modality = "image"  // images cut into patches (modalities.image)
	ModalityTokens Modality = "tokens" // integer token ids (modalities.tokens): parity fixtures and benchmarks
	ModalityText   Modality = "text"   // tokenised text (modalities.text)
	ModalityAudio  Modality = "audio"  // 16 kHz speech waveforms (modalities.audio)
)

// Method selects the pretraining method.
type Method string

const (
	MethodData2Vec  Method = "data2vec"  // data2vec 1.0: the student sees every position, masked ones as mask_emb; a head predicts
	MethodData2Vec2 Method = "data2vec2" // data2vec 2.0: clones, the student sees the visible tokens only, a conv decoder predicts
)

// DecoderKind selects the data2vec 2.0 decoder's convolution.
type DecoderKind string

const (
	Decoder1D DecoderKind = "1d" // over the T positions in order (text, speech)
	Decoder2D DecoderKind = "2d" // over the patch grid (images)
)

// NormPos places the LayerNorm in each Transformer block.
type NormPos string

const (
	NormPre  NormPos = "pre"  // x + f(LN(x)), plus a final LN after the last block
	NormPost NormPos = "post" // LN(x + f(x)), no final LN
)

// PosKind selects the positional embedding.
type PosKind string

const (
	PosLearned PosKind = "learned" // trained (T, D) table
	PosSincos  PosKind = "sincos"  // fixed sine-cosine table (2-D for images)
)

// MaskKind selects how the student's masked positions are drawn.
type MaskKind string

const (
	MaskBlock  MaskKind = "block"  // BEiT blockwise: rectangles of patches with random aspect ratio
	MaskRandom MaskKind = "random" // uniformly random positions
	MaskBERT   MaskKind = "bert"   // text: 80% <mask>, 10% random token, 10% unchanged
	MaskSpan   MaskKind = "span"   // text: spans of masking.span_len tokens, all <mask>; audio: wav2vec 2.0 spans
	// data2vec 2.0 images: square blocks of KEPT patches, the rest masked
	MaskInverseBlock MaskKind = "inverse_block"
)

// TokenizerKind selects the text tokenizer.
type TokenizerKind string

const (
	TokenizerBytes TokenizerKind = "bytes" // UTF-8 bytes, 256 ids + 4 specials; no files
	TokenizerBPE   TokenizerKind = "bpe"   // GPT-2 byte-level BPE from vocab_file + merges_file
)

// TextDocs says how text files split into documents.
type TextDocs string

const (
	DocsParagraph TextDocs = "paragraph" // blank-line separated paragraphs
	DocsFile      TextDocs = "file"      // one document per file
)

// EMAScope selects which teacher parameters follow the student by EMA.
type EMAScope string

const (
	ScopeAll    EMAScope = "all"    // the whole model (official vision code)
	ScopeBlocks EMAScope = "blocks" // only the Transformer blocks and final LN; embeddings are shared
)

// TargetLayer selects which per-block output the teacher targets average.
type TargetLayer string

const (
	TargetBlock TargetLayer = "block" // end of block (official vision code, layer_results 'end')
	TargetFFN   TargetLayer = "ffn"   // FFN output before the last residual (paper fn 5)
)

// TargetNorm is a parameter-free normalisation applied to teacher outputs.
type TargetNorm string

const (
	TargetNormLayer    TargetNorm = "layer"    // layer norm over features, per token
	TargetNormInstance TargetNorm = "instance" // instance norm over time, per sample and channel
	TargetNormNone     TargetNorm = "none"     // no normalisation
)

// Reduction selects how the regression loss is reduced.
type Reduction string

const (
	ReductionMean Reduction = "mean" // mean over masked tokens and features (official vision code)
	ReductionD2V  Reduction = "d2v"  // sum over features x loss.scale, mean over masked tokens (fairseq)
)

// Schedule selects the learning-rate schedule after linear warmup.
type Schedule string

const (
	ScheduleCosine   Schedule = "cosine"    // cosine decay from lr to min_lr
	ScheduleConstant Schedule = "constant"  // stay at lr
	ScheduleTriStage Schedule = "tri_stage" // hold lr, then decay to min_lr over the last optim.decay_steps (fairseq tri_stage)
)

// DataSource selects where training images come from.
type DataSource string

const (
	SourceEmbedded DataSource = "embedded" // compiled into the binary: the MNIST subset (image), Newton's Opticks (text), spoken digits (audio)
	SourceIdx      DataSource = "idx"      // the four MNIST idx files in data.path
	SourceFolder   DataSource = "folder"   // data.path/<class>/<file>: images, or WAV files for audio
	SourceText     DataSource = "text"     // a .txt file or a folder of them at data.path
	SourceTask     DataSource = "task"     // text: every WordNet gloss at data.task_path except the task's test split, unlabelled
	SourceShards   DataSource = "shards"   // a folder written by d2v shard, streamed (image, audio); a folder source holding a manifest.json reads the same way
)

// DataLoad selects how a folder of images is read for pretraining.
type DataLoad string

const (
	LoadAuto   DataLoad = "auto"   // stream when the decoded pixels would pass StreamAbove bytes
	LoadMemory DataLoad = "memory" // decode everything before the first step
	LoadStream DataLoad = "stream" // decode on demand, as shards are read
)

// StreamAbove is the size of decoded pixels (float32) above which data.load
// auto streams an image folder: 2 GiB, well under the memory of a
// machine that trains anything at that scale, and far above the bundled
// and MNIST-sized sets, which stay in memory where they are faster.
const StreamAbove = 2 << 30

// Values lists the allowed values, in documentation order.
func (Method) Values() []string      { return []string{"data2vec", "data2vec2"} }
func (DecoderKind) Values() []string { return []string{"1d", "2d"} }
func (Modality) Values() []string    { return []string{"image", "tokens", "text", "audio"} }
func (NormPos) Values() []string     { return []string{"pre", "post"} }
func (PosKind) Values() []string     { return []string{"learned", "sincos"} }
func (MaskKind) Values() []string {
	return []string{"block", "random", "bert", "span", "inverse_block"}
}
func (TokenizerKind) Values() []string { return []string{"bytes", "bpe"} }
func (TextDocs) Values() []string      { return []string{"paragraph", "file"} }
func (EMAScope) Values() []string      { return []string{"all", "blocks"} }
func (TargetLayer) Values() []string   { return []string{"block", "ffn"} }
func (TargetNorm) Values() []string    { return []string{"layer", "instance", "none"} }
func (Reduction) Values() []string     { return []string{"mean", "d2v"} }
func (Schedule) Values() []string      { return []string{"cosine", "constant", "tri_stage"} }
func (DataLoad) Values() []string      { return []string{"auto", "memory", "stream"} }
func (DataSource) Values() []string {
	return []string{"embedded", "idx", "folder", "text", "task", "shards"}
}

// Valid reports whether the value is one of Values().
func (v Method) Valid() bool        { return slices.Contains(v.Values(), string(v)) }
func (v DecoderKind) Valid() bool   { return slices.Contains(v.Values(), string(v)) }
func (v Modality) Valid() bool      { return slices.Contains(v.Values(), string(v)) }
func (v NormPos) Valid() bool       { return slices.Contains(v.Values(), string(v)) }
func (v PosKind) Valid() bool       { return slices.Contains(v.Values(), string(v)) }
func (v MaskKind) Valid() bool      { return slices.Contains(v.Values(), string(v)) }
func (v TokenizerKind) Valid() bool { return slices.Contains(v.Values(), string(v)) }
func (v TextDocs) Valid() bool      { return slices.Contains(v.Values(), string(v)) }
func (v EMAScope) Valid() bool      { return slices.Contains(v.Values(), string(v)) }
func (v TargetLayer) Valid() bool   { return slices.Contains(v.Values(), string(v)) }
func (v TargetNorm) Valid() bool    { return slices.Contains(v.Values(), string(v)) }
func (v Reduction) Valid() bool     { return slices.Contains(v.Values(), string(v)) }
func (v Schedule) Valid() bool      { return slices.Contains(v.Values(), string(v)) }
func (v DataSource) Valid() bool    { return slices.Contains(v.Values(), string(v)) }
func (v DataLoad) Valid() bool      { return slices.Contains(v.Values(), string(v)) }

// allowed formats an enum's values for messages: "layer|instance|none".
func allowed(e enum) string { return strings.Join(e.Values(), "|") }
