package shard

import (
	"fmt"
	"runtime"
	"sync"
)

// Options configure a Loader.
type Options struct {
	Seed     int64 // the order's seed (run.seed)
	Window   int   // shuffle window in examples; <= 0: the whole set
	Batch    int   // global batch: examples per step over all ranks
	Rank     int   // this rank, 0 <= Rank < Ranks
	Ranks    int   // data-parallel ranks (0 or 1: one process)
	Start    int64 // first step to load (a resumed run's step)
	Workers  int   // decode goroutines; <= 0: GOMAXPROCS
	Prefetch int   // decoded examples queued ahead of the step; <= 0: 2 batches
}

// Decode turns one example into what a step consumes. It runs on a worker
// goroutine and must depend only on its arguments: step and row (the
// example's row in the global batch) key any randomness, like the masks.
// Its errors reach Next as they are: they should name ex.Member().
type Decode[T any] func(ex *Example, step int64, row int) (T, error)

// Loader yields this rank's rows of successive global batches, reading
// the shards sequentially in Order and decoding on Workers goroutines.
// It holds at most one window of encoded examples (only this rank's) and
// Prefetch decoded ones. Epochs drop their last N % Batch examples, as
// data.Sampler does, so every batch is full.
type Loader[T any] struct {
	set   Set
	ord   *Order
	o     Options
	local int   // rows per rank
	spe   int64 // steps per epoch
	next  int64 // the step Next returns
	queue chan chan result[T]
	quit  chan struct{}
	wg    sync.WaitGroup
	err   error
}

type result[T any] struct {
	v    T
	step int64
	err  error
}

type job[T any] struct {
	ex   *Example
	step int64
	row  int
	done chan result[T]
}

// NewLoader starts loading the shards in dir (described by m) at step
// o.Start. Close it to stop its goroutines.
func NewLoader[T any](dir string, m *Manifest, o Options, decode Decode[T]) (*Loader[T], error) {
	return NewSetLoader(Shards{Dir: dir, M: m}, o, decode)
}

// NewSetLoader starts loading set at step o.Start, as NewLoader does.
func NewSetLoader[T any](set Set, o Options, decode Decode[T]) (*Loader[T], error) {
	counts := set.Counts()
	total := 0
	for _, c := range counts {
		total += c
	}
	if o.Ranks <= 0 {
		o.Ranks = 1
	}
	switch {
	case o.Batch <= 0:
		return nil, fmt.Errorf("shard: batch size must be > 0, got %d", o.Batch)
	case o.Batch > total:
		return nil, fmt.Errorf("shard: batch size %d is larger than the dataset (%d examples); lower the batch size", o.Batch, total)
	case o.Batch%o.Ranks != 0 || o.Rank < 0 || o.Rank >= o.Ranks:
		return nil, fmt.Errorf("shard: rank %d of %d cannot take an equal part of a batch of %d", o.Rank, o.Ranks, o.Batch)
	case o.Start < 0:
		return nil, fmt.Errorf("shard: start step %d < 0", o.Start)
	}
	ord, err := NewOrder(o.Seed, o.Window, counts)
	if err != nil {
		return nil, err
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	local := o.Batch / o.Ranks
	if o.Prefetch <= 0 {
		o.Prefetch = 2 * local
	}
	l := &Loader[T]{set: set, ord: ord, o: o, local: local, spe: int64(total / o.Batch), next: o.Start,
		queue: make(chan chan result[T], o.Prefetch), quit: make(chan struct{})}
	jobs := make(chan job[T])
	for range o.Workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for j := range jobs {
				v, err := decode(j.ex, j.step, j.row)
				j.done <- result[T]{v: v, step: j.step, err: err}
			}
		}()
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer close(jobs)
		l.produce(jobs)
	}()
	return l, nil
}

// StepsPerEpoch is N / Batch: the number of full global batches per epoch.
func (l *Loader[T]) StepsPerEpoch() int64 { return l.spe }

// Next returns the step it loaded and this rank's rows of its global batch
// (rows [Rank*B, (Rank+1)*B) of the Batch), in a new slice. After an error,
// every later call returns it again.
func (l *Loader[T]) Next() (int64, []T, error) {
	if l.err != nil {
		return 0, nil, l.err
	}
	rows := make([]T, l.local)
	for i := range rows {
		r := <-<-l.queue
		if r.err == nil && r.step != l.next {
			r.err = fmt.Errorf("shard: internal: loaded step %d, want %d", r.step, l.next)
		}
		if r.err != nil {
			l.err = r.err
			return 0, nil, r.err
		}
		rows[i] = r.v
	}
	l.next++
	return l.next - 1, rows, nil
}

// Close stops the loader's goroutines and closes its files.
func (l *Loader[T]) Close() {
	close(l.quit)
	l.wg.Wait()
}

// send queues a result channel, or reports false once the loader closes.
func (l *Loader[T]) send(c chan result[T]) bool {
	select {
	case l.queue <- c:
		return true
	case <-l.quit:
		return false
	}
}

// fail queues err for Next.
func (l *Loader[T]) fail(err error) {
	c := make(chan result[T], 1)
	c <- result[T]{err: err}
	l.send(c)
}

// produce walks the order a window at a time from the start step's
// window, reads each window's members (data only for this rank's rows),
// and hands them to the workers in output order.
func (l *Loader[T]) produce(jobs chan<- job[T]) {
	G, W := l.o.Batch, l.ord.Window
	used := int(l.spe) * G // output indices per epoch that reach a batch
	e, first := l.o.Start/l.spe, int(l.o.Start%l.spe)*G
	for ; ; e, first = e+1, 0 {
		st := &stream{set: l.set, counts: l.ord.Counts, perm: l.ord.ShardPerm(e)}
		for w := first / W; w*W < used; w++ {
			lo := w * W
			hi := min(lo+W, l.ord.N)
			perm := l.ord.WindowPerm(e, w)
			out := make([]int, hi-lo) // stream position -> output index + 1 (0: not this rank's)
			for i := max(lo, first); i < min(hi, used); i++ {
				if (i%G)/l.local == l.o.Rank {
					out[perm[i-lo]] = i + 1
				}
			}
			exs := make([]*Example, hi-lo) // by output index - lo
			if err := st.seek(lo); err != nil {
				st.close()
				l.fail(err)
				return
			}
			for p := range out {
				ex, err := st.scan(out[p] > 0)
				if err != nil {
					st.close()
					l.fail(err)
					return
				}
				if out[p] > 0 {
					exs[out[p]-1-lo] = ex
				}
			}
			for k, ex := range exs {
				if ex == nil {
					continue
				}
				i := lo + k
				j := job[T]{ex: ex, step: e*l.spe + int64(i/G), row: i % G, done: make(chan result[T], 1)}
				if !l.send(j.done) {
					st.close()
					return
				}
				select {
				case jobs <- j:
				case <-l.quit:
					st.close()
					return
				}
			}
		}
		st.close()
	}
}
