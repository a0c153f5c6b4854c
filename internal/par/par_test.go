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

func TestForBlocksCoversEachElementOnceInFixedBlocks(t *testing.T) {
	for _, sizes := range [][]int{{}, {0}, {5}, {3, 0, 7, 1, 16, 0, 9}, {100}, {1, 1, 1, 1, 1}, {0, 0, 33}} {
		for _, bl := range []int{1, 4, 16, 1000} {
			seen := make([][]int, len(sizes))
			for i, n := range sizes {
				seen[i] = make([]int, n)
			}
			var mu sync.Mutex
			ForBlocks(sizes, bl, func(b, item, lo, hi int) {
				mu.Lock()
				defer mu.Unlock()
				if lo >= hi {
					t.Errorf("sizes %v block %d: empty piece [%d,%d) of item %d", sizes, bl, lo, hi, item)
				}
				off := 0
				for _, n := range sizes[:item] {
					off += n
				}
				if (off+lo)/bl != b || (off+hi-1)/bl != b {
					t.Errorf("sizes %v block len %d: piece [%d,%d) of item %d is not inside block %d", sizes, bl, lo, hi, item, b)
				}
				for i := lo; i < hi; i++ {
					seen[item][i]++
				}
			})
			for i, s := range seen {
				for j, c := range s {
					if c != 1 {
						t.Fatalf("sizes %v block len %d: item %d element %d visited %d times", sizes, bl, i, j, c)
					}
				}
			}
		}
	}
}

func TestShareDividesTheWorkers(t *testing.T) {
	all := Workers()
	restore := Share(2)
	if got, want := Workers(), max(1, all/2); got != want {
		t.Errorf("Share(2): Workers() = %d, want %d", got, want)
	}
	restore()
	if got := Workers(); got != all {
		t.Errorf("after restore: Workers() = %d, want %d", got, all)
	}
}
