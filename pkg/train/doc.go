// Package train pretrains. The data2vec step (D2V: student and EMA teacher
// graphs, one forward/backward, the targets; step.go) with the overlap of
// teacher and student (overlap.go), the data2vec 2.0 step beside it
// (D2V2; step2.go, step2_run.go) and the seam that picks one by config
// (method.go), the batch run as parts over the cores
// (parts.go), AdamW with the learning-rate schedules and clipping
// (optim.go), the loop that feeds, steps, logs, checkpoints and resumes
// (pretrain.go, ckpt.go, resume.go, metrics.go, progress.go),
// data-parallel replicas over MPI (replicas.go), the translation of a
// config into the step's static Setup (setup.go), the benchmark (bench.go)
// and the adapter to the GPU step (device*.go).
//
// Pretraining data comes from pkg/feed; evaluation, linear probes and
// fine-tuning live in pkg/downstream, which imports this package. A new
// method is a new step file here sharing the pieces, selected by config,
// not a branch in step.go (docs/ARCHITECTURE.md).
//
// It may import pkg/config, pkg/feed, pkg/model, pkg/teacher, pkg/loss,
// pkg/ops, pkg/masking, pkg/data, pkg/checkpoint, pkg/dist, pkg/gpu,
// pkg/cuda, pkg/gemm, pkg/vmath, pkg/plot and internal/*; never
// pkg/downstream or cmd.
package train
