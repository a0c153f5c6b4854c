//go:build d2vcudahost && !d2vcuda

// Host emulation of the CUDA execution model, just enough to run
// kernels/d2v.cu on a CPU for tests (build tag d2vcudahost): each block runs
// on a pool of one std::thread per CUDA thread, __syncthreads is a block barrier,
// warp shuffles exchange through a per-warp buffer between two warp
// barriers, __shared__ is a static (one block runs at a time), atomicAdd
// takes a lock. It checks the kernels' indexing, launch shapes, shared
// memory and shuffles; it says nothing about speed, the hardware's float
// intrinsics or memory-model corner cases.

#include <math.h>
#include <stdint.h>
#include <barrier>
#include <cstring>
#include <mutex>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

namespace d2vhost {
struct dim3 {
	unsigned x = 0, y = 0, z = 0;
};
thread_local dim3 threadIdx, blockIdx;
dim3 blockDim, gridDim;
std::barrier<>* block_bar;
struct Warp {
	std::barrier<> bar{32};
	double v[32];
};
std::vector<Warp*> warps;
std::mutex atomic_mu;

inline unsigned tid() { return threadIdx.y * blockDim.x + threadIdx.x; }
}  // namespace d2vhost

using d2vhost::blockDim;
using d2vhost::blockIdx;
using d2vhost::gridDim;
using d2vhost::threadIdx;

#define __global__
#define __device__
#define __shared__ static

inline void __syncthreads() { d2vhost::block_bar->arrive_and_wait(); }

template <class T>
T __shfl_xor_sync(unsigned, T v, int o) {
	unsigned t = d2vhost::tid(), lane = t % 32;
	d2vhost::Warp* w = d2vhost::warps[t / 32];
	w->v[lane] = (double)v;
	w->bar.arrive_and_wait();
	T r = (T)w->v[lane ^ o];
	w->bar.arrive_and_wait();
	return r;
}

inline float atomicAdd(float* p, float v) {
	std::lock_guard<std::mutex> g(d2vhost::atomic_mu);
	float old = *p;
	*p = old + v;
	return old;
}

#include "kernels/d2v.cu"

namespace d2vhost {
using Launcher = void (*)(uint64_t*);

template <class... A, size_t... I>
void call(void (*f)(A...), uint64_t* s, std::index_sequence<I...>) {
	f(*reinterpret_cast<A*>(&s[I])...);
}

template <auto F>
void launcher(uint64_t* s) {
	[]<class... A>(void (*f)(A...), uint64_t* s) { call(f, s, std::index_sequence_for<A...>{}); }(F, s);
}

struct Entry {
	const char* name;
	Launcher fn;
};
#define K(f) {#f, launcher<f>}
const Entry table[] = {
	K(d2v_fill), K(d2v_copy), K(d2v_add), K(d2v_add_to), K(d2v_scale), K(d2v_bias_rows), K(d2v_gather_rows),
	K(d2v_scatter_add_rows), K(d2v_mask_pos), K(d2v_mask_pos_bwd), K(d2v_col_sum), K(d2v_ln_bwd_gb),
	K(d2v_layernorm), K(d2v_ln_bwd_x), K(d2v_softmax), K(d2v_softmax_bwd), K(d2v_norm_rows), K(d2v_norm_cols),
	K(d2v_gelu), K(d2v_gelu_bwd), K(d2v_reg_loss), K(d2v_sumsq), K(d2v_sum_partials), K(d2v_adamw), K(d2v_ema),
};
}  // namespace d2vhost

namespace d2vhost {
// Pool keeps one thread per CUDA thread of a block alive across blocks and
// launches (starting threads per block made the parity fixtures take minutes).
struct Pool {
	unsigned n = 0;  // threads per block
	std::vector<std::thread> ts;
	std::barrier<>* start = nullptr;  // n workers + the launching thread
	std::barrier<>* done = nullptr;
	Launcher fn = nullptr;
	uint64_t* slots = nullptr;
	dim3 block;
	bool quit = false;

	void worker(unsigned t) {
		for (;;) {
			start->arrive_and_wait();
			if (quit) return;
			blockIdx = block;
			threadIdx = {t % blockDim.x, t / blockDim.x, 0};
			fn(slots);
			done->arrive_and_wait();
		}
	}
	void resize(unsigned m) {
		if (m == n) return;
		if (n > 0) {
			quit = true;
			start->arrive_and_wait();
			for (auto& t : ts) t.join();
			ts.clear();
			delete start;
			delete done;
			delete block_bar;
			for (auto w : warps) delete w;
			quit = false;
		}
		n = m;
		start = new std::barrier<>(n + 1);
		done = new std::barrier<>(n + 1);
		block_bar = new std::barrier<>(n);
		warps.assign((n + 31) / 32, nullptr);
		for (auto& w : warps) w = new Warp;
		for (unsigned t = 0; t < n; t++) ts.emplace_back([this, t] { worker(t); });
	}
};
Pool pool;
std::mutex launch_mu;  // one launch at a time
}  // namespace d2vhost

// d2v_host_launch runs kernel name over the grid, one block at a time;
// it returns -1 for an unknown kernel.
extern "C" int d2v_host_launch(const char* name, unsigned gx, unsigned gy, unsigned bx, unsigned by, uint64_t* slots) {
	using namespace d2vhost;
	Launcher fn = nullptr;
	for (const Entry& e : table)
		if (strcmp(e.name, name) == 0) fn = e.fn;
	if (fn == nullptr) return -1;
	std::lock_guard<std::mutex> g(launch_mu);
	gridDim = {gx, gy, 1};
	blockDim = {bx, by, 1};
	pool.resize(bx * by);
	pool.fn = fn;
	pool.slots = slots;
	for (unsigned y = 0; y < gy; y++)
		for (unsigned x = 0; x < gx; x++) {
			pool.block = {x, y, 0};
			pool.start->arrive_and_wait();
			pool.done->arrive_and_wait();
		}
	return 0;
}
