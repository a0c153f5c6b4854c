// Command tta runs the time-to-accuracy study: for each recipe (a label and
// a pretraining config) and each wall-clock budget it pretrains on full
// MNIST for as many steps as fit the budget, then measures the frozen
// encoder with `d2v eval` (linear probe and k-NN, 60k train -> 10k test
// images), beside the raw-pixel and random-init rows. It writes
// results.csv, results.md (a table) and tta.png (accuracy against
// pretraining wall-clock) into -out. scripts/time-to-accuracy.sh is the
// one command that reproduces it.
//
// Steps per budget: a short calibration run of the recipe gives the
// seconds per step (median step_ms) and the fixed cost (start-up, data
// loading, graph building, the checkpoint); steps = (budget - fixed) / step.
// The schedules follow the step count: run.steps, teacher.ema_anneal_steps
// and optim.warmup_steps (a -warmup share of the steps). The table
// reports the ACTUAL wall-clock and the process CPU time (user+sys, from
// the kernel's rusage of the pretraining process), so
// a contended machine shows up as wall > budget or CPU < 2 x wall.
//
// It resumes where it stopped: a finished pretraining run (its
// tta-timing.json and checkpoint) is not run again, and a finished
// evaluation (its eval.json) is read back. -eval-name picks the sub-folder
// of each run that holds its eval.json, so the same checkpoints can be
// measured again under another protocol (-layers, -grid) without
// pretraining again.
package main
