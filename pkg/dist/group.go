package dist

import (
	"fmt"
	"runtime"
	"sync"
)

// NewGroup returns n in-process ranks that share memory: run each in its own
// goroutine. Sums add the ranks' values in rank order, so every rank gets the
// same bits. For tests of data-parallel code without MPI.
func NewGroup(n int) []Comm {
	g := &group{n: n, slots: make([]any, n)}
	g.cond = sync.NewCond(&g.mu)
	cs := make([]Comm, n)
	for r := range cs {
		cs[r] = &member{g: g, rank: r}
	}
	return cs
}

type group struct {
	n            int
	mu           sync.Mutex
	cond         *sync.Cond
	arrived, gen int
	slots        []any  // each rank's contribution to the current collective
	aborted      string // set by Abort: every waiting and later collective fails
}

type member struct {
	g    *group
	rank int
}

// wait is a barrier; it fails once a rank has aborted.
func (g *group) wait() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.aborted != "" {
		return fmt.Errorf("dist: group aborted: %s", g.aborted)
	}
	gen := g.gen
	if g.arrived++; g.arrived == g.n {
		g.arrived, g.gen = 0, g.gen+1
		g.cond.Broadcast()
		return nil
	}
	for gen == g.gen && g.aborted == "" {
		g.cond.Wait()
	}
	if gen == g.gen {
		return fmt.Errorf("dist: group aborted: %s", g.aborted)
	}
	return nil
}

// exchange publishes v, waits for every rank, hands all contributions to
// read, and waits again so no slot is replaced while another rank reads it.
func (m *member) exchange(v any, read func(all []any)) error {
	m.g.slots[m.rank] = v
	if err := m.g.wait(); err != nil {
		return err
	}
	read(m.g.slots)
	return m.g.wait()
}

func (m *member) Rank() int { return m.rank }
func (m *member) Size() int { return m.g.n }

func (m *member) BcastF32(buf []float32, root int) error { return bcast(m, buf, root) }
func (m *member) BcastF64(buf []float64, root int) error { return bcast(m, buf, root) }
func (m *member) SumF32(buf []float32) error             { return sum(m, buf) }
func (m *member) SumF64(buf []float64) error             { return sum(m, buf) }

func bcast[F float32 | float64](m *member, buf []F, root int) error {
	mine := append([]F(nil), buf...)
	return m.exchange(mine, func(all []any) { copy(buf, all[root].([]F)) })
}

func sum[F float32 | float64](m *member, buf []F) error {
	mine := append([]F(nil), buf...)
	return m.exchange(mine, func(all []any) {
		copy(buf, all[0].([]F))
		for _, o := range all[1:] {
			for i, v := range o.([]F) {
				buf[i] += v
			}
		}
	})
}

func (m *member) Allgather(send []byte) ([][]byte, error) {
	out := make([][]byte, m.g.n)
	err := m.exchange(append([]byte(nil), send...), func(all []any) {
		for r, v := range all {
			out[r] = append([]byte(nil), v.([]byte)...)
		}
	})
	return out, err
}

func (m *member) Barrier() error { return m.g.wait() }
func (m *member) Close() error   { return nil }

// Abort fails every pending and later collective of the group with msg and
// ends the calling goroutine (the in-process stand-in for MPI_Abort).
func (m *member) Abort(code int, msg string) {
	m.g.mu.Lock()
	if m.g.aborted == "" {
		m.g.aborted = fmt.Sprintf("rank %d (exit %d): %s", m.rank, code, msg)
	}
	m.g.cond.Broadcast()
	m.g.mu.Unlock()
	runtime.Goexit()
}
