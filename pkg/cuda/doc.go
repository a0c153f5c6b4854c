// Package cuda is pkg/gpu's Device on an NVIDIA GPU: a small cgo binding of
// the CUDA driver API (context, memory, PTX modules, kernel launches) and
// cuBLAS (strided-batched SGEMM), and the kernels of kernels/d2v.cu,
// compiled to PTX by scripts/gen-ptx.sh and embedded.
//
// With the tag d2vcudahost instead (tests, any machine with a C++20
// compiler), host_shim.cc compiles the same kernels/d2v.cu for the CPU with
// a minimal CUDA execution model, and Device runs them through the same
// launch code: the kernels' source is checked without a GPU.
//
// The cgo code is built only with the build tag d2vcuda (not "cuda": that
// tag switches Gorgonia, which d2v links, to its own CUDA VM, which needs
// cuDNN and generated kernels; see docs/GPU.md). The default build compiles
// only this file, the kernel table and the embedded PTX, without cgo.
//
// It calls none of the five driver functions whose signatures changed in
// CUDA 13 (cuCtxCreate, cuMemAdvise, cuMemPrefetchAsync,
// cuGraphAddDependencies, cuGraphGetEdges): the context is the device's
// primary context, as the runtime API and PyTorch use.
package cuda
