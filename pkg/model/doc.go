// Package model builds the data2vec networks as Gorgonia graphs: a modality's
// local encoder (patch or token embedding), the shared Transformer encoder
// (pre- or post-LN blocks of multi-head attention and an exact-GELU FFN, each
// exposing its block output and its FFN output before the last residual),
// the regression head, and data2vec 2.0's convolutional decoder (Decoder,
// 1-D over time or 2-D over the patch grid). It knows nothing about
// teachers, masks or losses beyond the inputs it is handed.
//
// Parameters live in Params, an ordered registry of named tensors outside any
// graph; each graph binds nodes to those tensors, so an in-place optimiser or
// EMA update is seen by every graph. Names are the checkpoint keys and follow
// the reference fixtures: student.blocks.0.attn.q.w, every linear weight
// stored (in, out) so y = x @ W + b; the decoder's conv weights keep
// PyTorch's (out, in/groups, kernel...) layout, as the fixtures store them.
package model
