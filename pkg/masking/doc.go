// Package masking owns the choice of which tokens the student cannot see.
//
// Block follows BEiT's block-wise masking (Bao et al., 2022, "BEiT: BERT
// Pre-Training of Image Transformers", Algorithm 1; used by data2vec for
// images, Baevski et al., 2022); Random masks uniformly. Both mask an
// exact count n per sample, so every batch has the same (B, n) shape and
// the graph stays static.
//
// Randomness always comes from an explicit *rand.Rand (math/rand/v2);
// NewRNG derives one per (seed, step, sample) so a mask never depends on
// what was drawn before, which makes resumed runs bit-identical.
//
// This package must not import gorgonia.
package masking
