package shard

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// keyOf is a Decode that returns the example's write index.
func keyOf(ex *Example, step int64, row int) (int, error) {
	return strconv.Atoi(ex.Key)
}

// load returns steps [start, start+n) of a loader as write indices.
func load(t *testing.T, dir string, m *Manifest, o Options, n int) [][]int {
	t.Helper()
	l, err := NewLoader(dir, m, o, Decode[int](keyOf))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var out [][]int
	for s := range n {
		step, rows, err := l.Next()
		if err != nil {
			t.Fatal(err)
		}
		if step != o.Start+int64(s) {
			t.Fatalf("step %d, want %d", step, o.Start+int64(s))
		}
		out = append(out, rows)
	}
	return out
}

// The loader yields the order's definition (Order.Source), drops each
// epoch's tail, visits every other example once per epoch, and depends on
// the seed.
func TestLoaderOrder(t *testing.T) {
	dir, m, _ := writeSet(t, 23, 5)
	o := Options{Seed: 7, Window: 6, Batch: 4, Workers: 3, Prefetch: 3}
	got := load(t, dir, m, o, 3*5) // 5 steps per epoch (20 of 23 used)
	ord, _ := NewOrder(7, 6, []int{5, 5, 5, 5, 3})
	for s, rows := range got {
		e := int64(s / 5)
		for j, g := range rows {
			sh, mem := ord.Source(e, (s%5)*4+j)
			if want := sh*5 + mem; g != want {
				t.Fatalf("step %d row %d: example %d, want %d", s, j, g, want)
			}
		}
	}
	for e := range 3 {
		var seen []int
		for _, rows := range got[e*5 : e*5+5] {
			seen = append(seen, rows...)
		}
		slices.Sort(seen)
		if len(slices.Compact(seen)) != 20 {
			t.Errorf("epoch %d repeats an example: %v", e, seen)
		}
	}
	if fmt.Sprint(got[:5]) == fmt.Sprint(got[5:10]) {
		t.Error("epochs 0 and 1 have the same order")
	}
	if again := load(t, dir, m, o, 15); fmt.Sprint(again) != fmt.Sprint(got) {
		t.Error("a second loader gives another order")
	}
	o.Seed = 8
	if other := load(t, dir, m, o, 15); fmt.Sprint(other) == fmt.Sprint(got) {
		t.Error("seeds 7 and 8 give the same order")
	}
}

// A loader started at any step (mid-window, mid-shard, in a later shard or
// epoch) yields what a loader from step 0 yields from that step on.
func TestLoaderResume(t *testing.T) {
	dir, m, _ := writeSet(t, 23, 5)
	o := Options{Seed: 3, Window: 7, Batch: 3, Workers: 2}
	all := load(t, dir, m, o, 21) // 7 steps per epoch, 3 epochs
	for start := 1; start < 21; start++ {
		o.Start = int64(start)
		if got := load(t, dir, m, o, 21-start); fmt.Sprint(got) != fmt.Sprint(all[start:]) {
			t.Fatalf("resumed at step %d: %v, want %v", start, got, all[start:])
		}
	}
}

// Two ranks' rows, side by side, are one process's global batch.
func TestLoaderRanks(t *testing.T) {
	dir, m, _ := writeSet(t, 23, 5)
	for _, ranks := range []int{2, 4} {
		o := Options{Seed: 5, Window: 9, Batch: 4, Start: 2}
		one := load(t, dir, m, o, 12)
		o.Ranks = ranks
		parts := make([][][]int, ranks)
		for r := range ranks {
			o.Rank = r
			parts[r] = load(t, dir, m, o, 12)
		}
		for s := range one {
			var joined []int
			for r := range ranks {
				joined = append(joined, parts[r][s]...)
			}
			if fmt.Sprint(joined) != fmt.Sprint(one[s]) {
				t.Fatalf("%d ranks, step %d: %v, one process %v", ranks, s+2, joined, one[s])
			}
		}
	}
}

func TestLoaderOptions(t *testing.T) {
	dir, m, _ := writeSet(t, 6, 5)
	for _, tt := range []struct {
		o    Options
		want string
	}{
		{Options{Batch: 0}, "batch size must be > 0"},
		{Options{Batch: 7}, "larger than the dataset (6 examples)"},
		{Options{Batch: 3, Ranks: 2}, "rank 0 of 2 cannot take an equal part of a batch of 3"},
	} {
		_, err := NewLoader(dir, m, tt.o, Decode[int](keyOf))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: error %v, want %q", tt.o, err, tt.want)
		}
	}
}

// The decoded images are the source images, whatever the order.
func TestLoaderDecodes(t *testing.T) {
	dir, m, src := writeSet(t, 10, 4)
	l, err := NewLoader(dir, m, Options{Seed: 1, Window: 4, Batch: 5}, Decode[[]float32](decodeImage))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, rows, err := l.Next()
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range rows {
		k := int(x[0]*255+0.5) / 7 // testPNG: pixel 0 is 7*i
		want := decodePNG(t, src[k])
		if fmt.Sprint(x) != fmt.Sprint(want) {
			t.Errorf("decoded image %d differs from its source", k)
		}
	}
}

func decodePNG(t *testing.T, b []byte) []float32 {
	x, err := decodeImage(&Example{Shard: "src", Key: "k", Ext: "png", Data: b}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// The loader decodes at most Prefetch examples ahead of the consumer: the
// memory it holds is bounded by the queue, not by the dataset.
func TestLoaderBounded(t *testing.T) {
	dir, m, _ := writeSet(t, 40, 5)
	var decoded atomic.Int64
	dec := func(ex *Example, step int64, row int) (int, error) {
		decoded.Add(1)
		return 0, nil
	}
	l, err := NewLoader(dir, m, Options{Seed: 1, Window: 8, Batch: 4, Workers: 3, Prefetch: 5}, Decode[int](dec))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for s := range 3 {
		time.Sleep(50 * time.Millisecond) // let the workers run ahead as far as they may
		if n, limit := decoded.Load(), int64(5+4*s); n > limit {
			t.Fatalf("after %d steps: %d examples decoded, more than %d (prefetch 5)", s, n, limit)
		}
		if _, _, err := l.Next(); err != nil {
			t.Fatal(err)
		}
	}
}
