// Package data owns the datasets of d2v: readers for the IDX format used by
// MNIST and Fashion-MNIST, an ImageFolder reader for PNG/JPEG trees, a small
// real MNIST subset embedded in the binary, patching of images into ViT
// tokens; plain-text corpora (files, folders, the embedded public-domain
// Opticks) and packing of token ids into fixed-length <s> ... </s> sequences;
// speech: a WAV reader, a resampler to 16 kHz, folders of WAV clips
// (SpeechSet, LoadSpeechDir), embedded espeak-ng spoken digits
// (EmbeddedSpeech), voice-disjoint splits and crop-or-pad to a fixed length;
// and a deterministic, resumable batch sampler shared by all of them.
//
// Every loader returns an *ImageSet holding float32 pixels in [0,1], HWC
// order per image, so the model side sees one layout whatever the source.
//
// Patching follows ViT (Dosovitskiy et al., 2021, "An Image is Worth 16x16
// Words"): an H x W image becomes T = (H/p)*(W/p) tokens of p*p*C values.
//
// This package must not import gorgonia.
package data
