package par

import (
	"sync"
	"testing"
)

func TestForCoversEachIndexOnce(t *testing.T) {
	for _, tt := range []struct{ n, minChunk int }{{0, 1}, {1, 1}, {7, 1}, {1000, 16}, {100, 1000}, {12345, 1}} {
		seen := make([]int, tt.n)
		var mu sync.Mutex
		workers := map[int]bool{}
		For(tt.n, tt.minChunk, func(w, lo, hi int) {
			mu.Lock()
			workers[w] = true
			mu.Unlock()
			for i := lo; i < hi; i++ {
				seen[i]++
			}
		})
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("n=%d: index %d visited %d times", tt.n, i, c)
			}
		}
		for w := range workers {
			if w < 0 || w >= Workers() {
				t.Fatalf("n=%d: worker id %d outside [0,%d)", tt.n, w, Workers())
			}
		}
		if tt.n < 2*tt.minChunk && len(workers) > 1 {
			t.Fatalf("n=%d minChunk=%d: want inline, got %d workers", tt.n, tt.minChunk, len(workers))
		}
	}
}
