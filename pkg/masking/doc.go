// Package masking owns the choice of which tokens the student cannot see.
//
// Block follows BEiT's block-wise masking (Bao et al., 2022, "BEiT: BERT
// Pre-Training of Image Transformers", Algorithm 1; used by data2vec for
// images, Baevski et al., 2022); Random masks uniformly. For text, BERT
// masks 15% with 80% <mask> / 10% random / 10% unchanged, and Spans masks
// runs of tokens (the data2vec text config: span 4, p 0.35); special tokens
// are never masked. All of them mask an exact count n per sample, so every
// batch has the same (B, n) shape and the graph stays static.
//
// data2vec 2.0 (clones.go) masks each sample M times; InverseBlock marks
// square blocks of KEPT patches and masks the rest, and every clone keeps
// exactly KeepCount(ratio, T) = int(T*(1-ratio)) positions, so the
// student's visible-token input has one shape. NewCloneRNG and CloneMasks
// key each clone's mask by (seed, step, sample, clone).
//
// Randomness always comes from an explicit *rand.Rand (math/rand/v2);
// NewRNG derives one per (seed, step, sample) so a mask never depends on
// what was drawn before, which makes resumed runs bit-identical.
//
// This package must not import gorgonia.
package masking
