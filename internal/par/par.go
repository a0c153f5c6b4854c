// Package par runs loops over [0,n) on GOMAXPROCS goroutines: the one
// parallel-for of the training step (ops kernels, AdamW).
package par

import (
	"runtime"
	"sync"
)

// Workers is the most workers For uses.
func Workers() int { return runtime.GOMAXPROCS(0) }

// For splits [0,n) into contiguous chunks, one per worker, and runs
// f(worker, lo, hi) for each; small n runs inline. Workers never exceed
// GOMAXPROCS, so per-worker scratch can be indexed by worker.
func For(n, minChunk int, f func(w, lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers > n/max(minChunk, 1) {
		workers = n / max(minChunk, 1)
	}
	if workers <= 1 {
		f(0, 0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for w := 0; w < workers; w++ {
		lo, hi := w*chunk, min((w+1)*chunk, n)
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func(w, lo, hi int) {
			defer wg.Done()
			f(w, lo, hi)
		}(w, lo, hi)
	}
	wg.Wait()
}
