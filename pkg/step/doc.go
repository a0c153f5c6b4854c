// Package step holds the training steps: what one forward and backward
// pass of a pretraining method is, on graphs built once.
//
// The data2vec step (D2V; step.go): the student graph (forward and
// backward on the masked input) and the EMA teacher graph (forward only
// on the unmasked input), the targets from teacher.Targets, and the
// overlap of the two (overlap.go: what runs where, and why). A batch may
// run as parts over the cores on their own graphs bound to the same
// parameters (parts.go). The data2vec 2.0 step (D2V2; step2.go,
// step2_run.go): the teacher once per sample, M masked clones on the
// student's visible tokens, the conv decoder. setup.go translates a
// config into each step's static settings (Setup, SetupWith, Setup2For)
// and is the one place those derived values are computed; params.go is
// what checkpoints and replicas read (Params, Pairs).
//
// A step owns its parameters and graphs; it does not pick the method,
// update the weights (AdamW), schedule, log or checkpoint: pkg/train
// drives it. It may import pkg/model, pkg/ops, pkg/teacher, pkg/loss,
// pkg/feed (what the data fixes: feed.Input, the kept count), pkg/config
// and internal/*; never pkg/train, pkg/gpu, pkg/downstream or cmd. Its
// own external tests (package step_test) may import pkg/train for the
// optimiser.
package step
