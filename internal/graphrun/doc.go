// Package graphrun holds the plumbing shared by every graph that runs a
// batch: reading node values without Gorgonia's per-call allocation
// (Cache), copying inputs into graph tensors with a dtype conversion
// (Fill), and running a batch as parts at once, each part a graph over
// the same parameters, then combining their outputs (RunParts, SumGrads,
// Concat). The pretraining step (pkg/train) and the downstream classifier
// (pkg/downstream) both use it.
//
// It may import internal/par, pkg/model, pkg/vmath and Gorgonia; nothing
// that builds a step or reads data.
package graphrun
