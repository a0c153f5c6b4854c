package config

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// node is one key of the schema derived from Config by reflection: a section
// (struct) with children, or a leaf (int, int64, float64, bool, string or a
// string enum).
type node struct {
	name     string       // YAML key, from the mapstructure tag
	key      string       // dotted path from the root, "" for the root
	typ      reflect.Type // Go type of the field
	index    []int        // field index path from Config, for FieldByIndex
	children []*node      // nil for leaves
}

func (n *node) leaf() bool { return n.children == nil }

func (n *node) child(name string) *node {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// schema returns the root of the key tree, built once.
var schema = sync.OnceValue(func() *node {
	root := &node{typ: reflect.TypeFor[Config]()}
	build(root)
	return root
})

func build(n *node) {
	n.children = []*node{}
	for i := range n.typ.NumField() {
		f := n.typ.Field(i)
		name := f.Tag.Get("mapstructure")
		if name == "" {
			panic(fmt.Sprintf("config: field %s.%s has no mapstructure tag", n.typ.Name(), f.Name))
		}
		c := &node{name: name, key: join(n.key, name), typ: f.Type, index: append(append([]int{}, n.index...), i)}
		if f.Type.Kind() == reflect.Struct {
			build(c)
		}
		n.children = append(n.children, c)
	}
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// leaves returns every leaf in declaration order.
func leaves() []*node {
	var out []*node
	var walk func(*node)
	walk = func(n *node) {
		if n.leaf() {
			out = append(out, n)
			return
		}
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(schema())
	return out
}

// lookup finds the node for a dotted key, or nil.
func lookup(key string) *node {
	n := schema()
	for _, part := range strings.Split(key, ".") {
		if n = n.child(part); n == nil {
			return nil
		}
	}
	return n
}

// Keys returns every dotted key (model.dim, teacher.layer_norm, ...) in the
// order of the Config tree.
func Keys() []string {
	ls := leaves()
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.key
	}
	return out
}

// KeyDoc documents one key for the CLI help and docs/CONFIG.md.
type KeyDoc struct {
	Key     string // dotted key, e.g. "model.dim"
	Type    string // "int", "float", "bool", "string" or the enum's values "pre|post"
	Default string // the value in Default(), as YAML writes it
	Help    string // one line: meaning, units, allowed values
}

// Docs documents every key, in the order of Keys.
func Docs() []KeyDoc {
	def := reflect.ValueOf(Default()).Elem()
	var out []KeyDoc
	for _, l := range leaves() {
		v := def.FieldByIndex(l.index)
		out = append(out, KeyDoc{Key: l.key, Type: typeName(l.typ), Default: scalar(v), Help: help[l.key]})
	}
	return out
}

// Doc returns Docs as a Markdown table (key, default, meaning) for docs/CONFIG.md.
func Doc() string {
	var b strings.Builder
	b.WriteString("| key | default | meaning |\n|---|---|---|\n")
	for _, d := range Docs() {
		h := d.Help
		if strings.Contains(d.Type, "|") {
			h += " (" + d.Type + ")"
		}
		def := d.Default
		if def == "" {
			def = `""`
		}
		h = strings.ReplaceAll(h, "|", `\|`) // a bare | would end the table cell
		fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", d.Key, def, h)
	}
	return b.String()
}

// typeName names a leaf's type for docs and messages.
func typeName(t reflect.Type) string {
	if e, ok := reflect.Zero(t).Interface().(enum); ok {
		return allowed(e)
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64:
		return "int"
	case reflect.Float64:
		return "float"
	case reflect.Bool:
		return "bool"
	case reflect.String:
		return "string"
	}
	panic("config: unsupported field type " + t.String())
}

// help is the one-line description of every key. Keep it in step with the
// Config tree: TestEveryKeyHasHelp fails on a missing or stale entry.
var help = map[string]string{
	"method":              "pretraining method: data2vec 1.0, or data2vec 2.0 (clones, visible tokens only, conv decoder; the clones and decoder sections)",
	"masking.block_width": "inverse_block masking (data2vec 2.0 images): side of each square block of kept patches",
	"masking.adjust":      "inverse_block masking: extra fraction of block centres drawn before the exact count is fixed (fairseq mask_prob_adjust)",
	"clones.count":        "data2vec 2.0: masked copies of every sample, sharing one teacher pass (fairseq clone_batch)",
	"clones.cls":          "data2vec 2.0: a learned CLS token before the visible tokens, regressing the mean of the targets",
	"clones.cls_weight":   "data2vec 2.0: weight of the CLS loss",
	"decoder.kind":        "data2vec 2.0 decoder: convolutions over the positions (1d) or the patch grid (2d, images)",
	"decoder.dim":         "data2vec 2.0 decoder: channels of every conv layer",
	"decoder.kernel":      "data2vec 2.0 decoder: conv kernel size (k x k in 2d)",
	"decoder.groups":      "data2vec 2.0 decoder: conv groups, dividing model.dim and decoder.dim",
	"decoder.layers":      "data2vec 2.0 decoder: number of conv -> LayerNorm -> GELU layers",
	"decoder.residual":    "data2vec 2.0 decoder: add each layer's input when its width matches",
	"decoder.proj_layers": "data2vec 2.0 decoder: 1 = Linear back to model.dim; 2 (1d only) = Linear(dim,2dim)-GELU-Linear(2dim,model.dim)",
	"model.modality":      "input modality: image patches, raw token ids (parity fixtures, benchmarks), tokenised text or 16 kHz speech",
	"model.dim":           "token width D",
	"model.depth":         "number of Transformer blocks L",
	"model.heads":         "attention heads; must divide model.dim",
	"model.ffn_dim":       "hidden width of each block's MLP",
	"model.norm":          "LayerNorm placement: pre-LN blocks plus a final LN, or post-LN blocks",
	"model.pos":           "positional embedding: learned table or fixed sine-cosine",
	"model.head_layers":   "student regression head: 1 = Linear(D,D), 2 = Linear(D,2D)-GELU-Linear(2D,D)",
	"model.init_std":      "std of the truncated-normal weight init",
	"model.ln_eps":        "epsilon of every LayerNorm",

	"modalities.image.patch_size":        "patch side in pixels; must divide modalities.image.size",
	"modalities.image.size":              "images are resized or checked to size x size pixels",
	"modalities.image.channels":          "colour channels: 1 grey, 3 RGB",
	"modalities.image.mean":              "pixel mean for normalisation (pixels scaled to [0,1])",
	"modalities.image.std":               "pixel std for normalisation",
	"modalities.image.augment.crop":      "pretraining: random resized crop of each image, resized back to size x size (off: the whole image)",
	"modalities.image.augment.scale_min": "crop area fraction, drawn uniform in [scale_min, scale_max] (vision recipe: 0.08)",
	"modalities.image.augment.scale_max": "largest crop area fraction",
	"modalities.image.augment.ratio_min": "crop aspect ratio w/h, drawn log-uniform in [ratio_min, ratio_max] (3/4)",
	"modalities.image.augment.ratio_max": "largest crop aspect ratio (4/3)",
	"modalities.image.augment.flip":      "pretraining: mirror each image left-right with probability 1/2",
	"modalities.tokens.vocab":            "number of distinct token ids",
	"modalities.tokens.seq_len":          "tokens per sequence T",
	"modalities.text.tokenizer":          "bytes (256 byte ids + 4 specials, no files) or GPT-2 byte-level BPE",
	"modalities.text.vocab_file":         "bpe: vocab.json or encoder.json",
	"modalities.text.merges_file":        "bpe: merges.txt or vocab.bpe",
	"modalities.text.seq_len":            "tokens per packed sequence T, including <s> and </s>",
	"modalities.text.embed_ln":           "LayerNorm after the token + position embedding (RoBERTa)",
	"modalities.text.docs":               "how text files split into documents: blank-line paragraphs or whole files",
	"modalities.audio.crop_samples":      "waveform samples per example at 16 kHz: a random crop, shorter clips zero-padded at the end",
	"modalities.audio.conv_layers":       "feature-encoder depth: the first N of wav2vec 2.0's 7 convs (kernels 10,3,3,3,3,2,2; strides 5,2,2,2,2,2,2)",
	"modalities.audio.conv_dim":          "channels of every feature-encoder conv",
	"modalities.audio.pos_conv_width":    "positional conv width (fairseq conv_pos); kernel = max(3, width/depth), must be odd",
	"modalities.audio.pos_conv_groups":   "groups of each positional conv; must divide model.dim",
	"modalities.audio.pos_conv_depth":    "number of positional conv layers",
	"modalities.audio.test_frac":         "fraction of voices held out for eval and fine-tuning tests (voice-disjoint split)",

	"masking.kind":          "images: BEiT blocks, random positions or (data2vec2) inverse blocks of kept patches; text: BERT 80/10/10 or spans of <mask> (data2vec2: random); audio: wav2vec 2.0 spans or random",
	"masking.span_len":      "span masking: tokens per span",
	"masking.ratio":         "masked fraction; exactly floor(ratio*T+0.5) tokens per sample (audio spans: wav2vec mask_prob, about 49% masked at 0.65); data2vec2: every clone keeps int(T*(1-ratio))",
	"masking.min_per_block": "block masking: fewest tokens in one block",
	"masking.max_per_block": "block masking: most tokens in one block, 0 = no limit",
	"masking.min_aspect":    "block masking: smallest block aspect ratio (log-uniform)",
	"masking.max_aspect":    "block masking: largest block aspect ratio (log-uniform)",

	"teacher.ema_start":        "EMA decay at step 0",
	"teacher.ema_end":          "EMA decay after teacher.ema_anneal_steps; 1 freezes the teacher",
	"teacher.ema_anneal_steps": "steps of linear annealing from ema_start to ema_end",
	"teacher.scope":            "EMA-updated teacher parameters: the whole model, or only the blocks",
	"teacher.top_k":            "number of top blocks whose outputs are averaged into targets",
	"teacher.target_layer":     "per-block output used for targets: end of block, or FFN before the residual",
	"teacher.layer_norm":       "parameter-free norm of each of the top-k outputs",
	"teacher.final_norm":       "parameter-free norm of their average",

	"loss.beta":      "smooth-L1 beta; 0 = squared error",
	"loss.scale":     "loss scale for reduction d2v; 0 = 1/sqrt(D)",
	"loss.reduction": "mean over tokens and features, or d2v: feature sum x scale, mean over tokens",

	"optim.lr":           "peak learning rate, reached after warmup",
	"optim.min_lr":       "final learning rate of the cosine schedule",
	"optim.warmup_steps": "steps of linear warmup from 0 to lr",
	"optim.schedule":     "learning-rate schedule after warmup: cosine to min_lr, constant, or tri_stage (hold, then decay)",
	"optim.weight_decay": "AdamW decoupled weight decay; biases and 1-D params are exempt",
	"optim.beta1":        "AdamW beta1",
	"optim.beta2":        "AdamW beta2",
	"optim.eps":          "AdamW epsilon",
	"optim.clip":         "global gradient-norm clip, 0 = off",
	"optim.decay_steps":  "tri_stage: final steps of exponential decay from lr to min_lr (fairseq: 7% of the run)",

	"data.source":         "training data: embedded (MNIST subset or Opticks text), MNIST idx files, image class folders, or text files; shards: a d2v shard folder, streamed (image, audio)",
	"data.path":           "idx: folder with the 4 MNIST files; folder: root of class subfolders; shards: the folder with manifest.json",
	"data.task_path":      "text: WordNet database folder (data.noun, data.verb) for eval and fine-tuning",
	"data.test_path":      "held-out test folder for eval and fine-tuning, any modality: <class>/ subfolders named as the train classes; \"\" = the data's own test split",
	"data.batch_size":     "examples per pretraining step",
	"data.limit":          "use only the first N training examples, 0 = all",
	"data.load":           "image folder for pretraining: memory (decode all first), stream (decode on demand, as shards), auto (stream above 2 GiB of pixels)",
	"data.shuffle_window": "shards: examples per shuffle window, the encoded examples the loader holds at once; 0 = the whole set",

	"run.dir":             "parent folder of run directories",
	"run.name":            "run directory name; \"\" = a timestamp",
	"run.steps":           "pretraining optimiser steps",
	"run.seed":            "seed for init, masking and data order",
	"run.log_every":       "steps between metric lines",
	"run.ckpt_every":      "steps between checkpoints",
	"run.keep":            "most recent checkpoints kept, 0 = all",
	"run.min_target_var":  "collapse guard: abort if target_var falls below this",
	"run.min_pred_var":    "collapse guard: abort if pred_var falls below this",
	"run.var_check_after": "collapse guard: first step at which it is checked",
	"run.skip_nonfinite":  "steps with a NaN/Inf loss or gradient norm skipped (no update) before the run aborts with exit 3",
	"run.check_every":     "data-parallel runs: steps between cross-rank checksums of the weights (drift aborts the run), 0 = off",
	"run.threads":         "CPU threads, 0 = all cores",
	"run.batch_split":     "parts of each batch run at once, the cores shared between them (gradients averaged); results depend on it, not on run.threads; 1 = off (best with run.threads 1)",
	"run.progress":        "show a progress bar",

	"finetune.steps":             "fine-tuning optimiser steps",
	"finetune.batch_size":        "examples per fine-tuning step",
	"finetune.lr":                "peak fine-tuning learning rate",
	"finetune.weight_decay":      "AdamW decoupled weight decay",
	"finetune.layer_decay":       "block l's lr is lr * layer_decay^(depth-l); 1 = off",
	"finetune.warmup_steps":      "steps of linear warmup from 0 to lr",
	"finetune.label_smoothing":   "cross-entropy label smoothing",
	"finetune.limit":             "use only N labelled training examples, each class in its share (the first ones of each class), 0 = all",
	"finetune.head_steps":        "the first N steps train only the classification head, then every weight (LP-FT, Kumar et al. 2022); 0 = off",
	"finetune.augment.crop":      "images: random resized crop of each training example per step, resized back (test examples are never augmented)",
	"finetune.augment.scale_min": "crop area fraction, drawn uniform in [scale_min, scale_max] (BEiT fine-tuning: 0.08; digits: about 0.7)",
	"finetune.augment.scale_max": "largest crop area fraction",
	"finetune.augment.ratio_min": "crop aspect ratio w/h, drawn log-uniform in [ratio_min, ratio_max]",
	"finetune.augment.ratio_max": "largest crop aspect ratio",
	"finetune.augment.flip":      "images: mirror each training example left-right with probability 1/2 (not for digits or text)",
}
