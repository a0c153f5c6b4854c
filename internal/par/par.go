package par

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// groups is how many callers run parallel work at once and share the
// cores (the parts of a split batch); 0 or 1 = one caller has them all.
var groups atomic.Int32

// Workers is the most workers For uses: GOMAXPROCS, divided between the
// groups set by Share (at least 1).
func Workers() int {
	w := runtime.GOMAXPROCS(0)
	if g := int(groups.Load()); g > 1 {
		w = max(1, w/g)
	}
	return w
}

// Share divides the cores between g concurrent callers until the returned
// function restores the previous setting. Work split by For and by the
// GEMM computes every element the same way whatever the worker count, so
// this changes speed, never results. Calls must not overlap.
func Share(g int) (restore func()) {
	prev := groups.Swap(int32(g))
	return func() { groups.Store(prev) }
}

// For splits [0,n) into contiguous chunks, one per worker, and runs
// f(worker, lo, hi) for each; small n runs inline. Workers never exceed
// Workers(), so per-worker scratch can be indexed by worker.
func For(n, minChunk int, f func(w, lo, hi int)) {
	workers := Workers()
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

// ForBlocks runs f over the concatenation of items of the given sizes, cut
// into fixed blocks of blockLen elements that are split between the
// workers: f(block, item, lo, hi) is called, in order within each block,
// for every piece [lo,hi) of an item that lies in that block. The blocks
// do not depend on the worker count, so per-block partial results summed
// in block order give the same bits on any number of cores.
func ForBlocks(sizes []int, blockLen int, f func(block, item, lo, hi int)) {
	total := 0
	for _, n := range sizes {
		total += n
	}
	blocks := (total + blockLen - 1) / blockLen
	For(blocks, 1, func(_, b0, b1 int) {
		start := b0 * blockLen // flat index of the worker's first element
		item, off := 0, 0      // the item holding start, and its flat offset
		for item < len(sizes) && off+sizes[item] <= start {
			off += sizes[item]
			item++
		}
		for b := b0; b < b1; b++ {
			end := min((b+1)*blockLen, total)
			for pos := max(b*blockLen, start); pos < end; {
				for sizes[item] == 0 || off+sizes[item] <= pos {
					off += sizes[item]
					item++
				}
				hi := min(end, off+sizes[item])
				f(b, item, pos-off, hi-off)
				pos = hi
			}
		}
	})
}
