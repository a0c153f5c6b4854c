package shard

import (
	"fmt"

	"github.com/d2v/d2v/pkg/data"
)

// Order is the example order of a shard set: a pure function of (seed,
// epoch). Epoch e concatenates the shards in a permuted order (the
// stream); output index i of the epoch is stream position
// lo + perm_w[i-lo], where w = i / Window, lo = w*Window and perm_w permutes
// the window [lo, min(lo+Window, N)). The window is the shuffle buffer:
// the loader holds one window's encoded examples at a time.
type Order struct {
	Seed   int64
	Window int   // examples per shuffle window, 1 <= Window <= N
	Counts []int // examples per shard, in manifest order
	N      int   // sum of Counts
}

// NewOrder checks the window against the counts; window <= 0 or larger
// than the set means the whole set (a full shuffle of every example).
func NewOrder(seed int64, window int, counts []int) (*Order, error) {
	n := 0
	for i, c := range counts {
		if c <= 0 {
			return nil, fmt.Errorf("shard: shard %d holds %d examples", i, c)
		}
		n += c
	}
	if n == 0 {
		return nil, fmt.Errorf("shard: no examples")
	}
	if window <= 0 || window > n {
		window = n
	}
	return &Order{Seed: seed, Window: window, Counts: counts, N: n}, nil
}

// Keys of the permutations: the shard order of epoch e and window w of it
// are drawn from disjoint keys, each a pure function of (seed, e, w).
const (
	shardKey  = 0x5348415244000000 // "SHARD"
	windowKey = 0x57494e444f570000 // "WINDOW"
)

// ShardPerm returns the shard order of epoch e (indices into Counts).
func (o *Order) ShardPerm(e int64) []int {
	p := make([]int, len(o.Counts))
	data.Permute(p, uint64(o.Seed), shardKey^uint64(e))
	return p
}

// WindowPerm returns the permutation of window w of epoch e.
func (o *Order) WindowPerm(e int64, w int) []int {
	lo := w * o.Window
	p := make([]int, min(lo+o.Window, o.N)-lo)
	data.Permute(p, uint64(o.Seed)^uint64(e)*0x9e3779b97f4a7c15, windowKey^uint64(w))
	return p
}

// Locate returns where stream position pos of epoch e lies: the shard's
// index in Counts and the example's index inside it.
func (o *Order) Locate(e int64, pos int) (shard, member int) {
	for _, s := range o.ShardPerm(e) {
		if pos < o.Counts[s] {
			return s, pos
		}
		pos -= o.Counts[s]
	}
	panic(fmt.Sprintf("shard: Locate: position beyond the %d examples", o.N))
}

// Source returns the shard and member index of output index i of epoch e:
// the definition of the order, one example at a time (the loader walks it
// a window at a time; tests compare the two).
func (o *Order) Source(e int64, i int) (shard, member int) {
	w := i / o.Window
	lo := w * o.Window
	return o.Locate(e, lo+o.WindowPerm(e, w)[i-lo])
}
