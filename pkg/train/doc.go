// Package train pretrains: the loop that feeds, steps, logs, checkpoints
// and resumes (pretrain.go, ckpt.go, resume.go, metrics.go, progress.go),
// the seam that picks the method's step by config (method.go; the steps
// themselves are in pkg/step), AdamW with the learning-rate schedules,
// clipping and the weight-decay groups (optim.go), data-parallel replicas
// over MPI (replicas.go), the benchmarks (bench.go, bench2.go) and the
// adapter to the GPU step (device*.go).
//
// Pretraining data comes from pkg/feed; evaluation, linear probes and
// fine-tuning live in pkg/downstream, which imports this package. A new
// method is a new step in pkg/step, sharing the pieces, and a case in
// newTrainee (method.go), not a branch in the loop (docs/ARCHITECTURE.md).
//
// It may import pkg/step, pkg/config, pkg/feed, pkg/model, pkg/teacher,
// pkg/masking, pkg/data, pkg/checkpoint, pkg/dist, pkg/gpu, pkg/cuda,
// pkg/gemm, pkg/plot, pkg/vmath and internal/*; never pkg/downstream or cmd. Its parity tests replay the
// reference fixtures through pkg/step with this package's optimiser.
package train
