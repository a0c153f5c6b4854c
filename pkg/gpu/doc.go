// Package gpu runs a whole data2vec training step (teacher forward, targets,
// student forward and backward, gradient norm, AdamW and the EMA update) on
// a Device: flat float32 buffers, GEMMs and a fixed set of fused kernels,
// with every tensor staying on the device across the step.
//
// The step is written once, against the Device interface. Two devices
// implement it:
//
//   - Emu (this package, pure Go): each kernel as a plain loop, GEMMs on
//     pkg/gemm. It exists so that the step's wiring (buffer shapes,
//     strides, call order, the backward pass) is tested against the
//     PyTorch parity fixtures on any CPU, in the default build.
//   - pkg/cuda (build tag d2vcuda, cgo): the CUDA driver API, cuBLAS and
//     the kernels in pkg/cuda/kernels/*.cu compiled to PTX. Each CUDA
//     kernel mirrors the Emu method of the same name.
//
// The maths is that of pkg/train's Gorgonia graphs (pkg/ops kernels,
// teacher.Targets, train.AdamW, teacher.Update); see docs/GPU.md.
//
// Coverage: the data2vec (v1) step on image patches and token input only;
// no speech encoder and no data2vec 2.0. No GPU has run it yet: until one
// does and passes the parity replay there, this package is frozen (kept
// compiling and passing the emulated parity in go test, not extended).
package gpu
