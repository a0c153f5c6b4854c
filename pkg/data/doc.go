// Package data owns the image and text datasets of d2v: readers for the
// IDX format used by MNIST and Fashion-MNIST, an ImageFolder reader for
// PNG/JPEG trees, a small real MNIST subset embedded in the binary,
// patching of images into ViT tokens; plain-text corpora (files, folders,
// the embedded public-domain Opticks) and packing of token ids into
// fixed-length <s> ... </s> sequences; WordNet task files; and a
// deterministic, resumable batch sampler shared by every modality. Speech
// (WAV, resampling, clip folders) is pkg/speech.
//
// Every image loader returns an *ImageSet holding float32 pixels in [0,1],
// HWC order per image, so the model side sees one layout whatever the
// source.
//
// Patching follows ViT (Dosovitskiy et al., 2021, "An Image is Worth 16x16
// Words"): an H x W image becomes T = (H/p)*(W/p) tokens of p*p*C values.
//
// This package must not import gorgonia.
package data
