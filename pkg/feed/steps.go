package feed

import (
	"fmt"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/data"
)

// Steps yields the inputs of successive pretraining steps for one rank:
// its rows [first, first+B) of each global batch of data.batch_size.
type Steps interface {
	// Next returns the inputs of step. Steps are asked for in order from
	// the start step, one after another (streamed data reads forward).
	Next(step int64) (student, teacherIn any, mask []bool, err error)
	Close()
}

// streamed is a Source that reads its examples in its own order.
type streamed interface {
	Source
	steps(cfg *config.Config, first, B int, start int64) (Steps, error)
}

// NewSteps starts src's batches at step start (a resumed run's step) for
// the rank whose rows of each global batch are [first, first+B). Sources
// in memory draw rows with data.Sampler; streamed ones read shards.
func NewSteps(src Source, cfg *config.Config, first, B int, start int64) (Steps, error) {
	switch s := src.(type) {
	case streamed:
		return s.steps(cfg, first, B, start)
	case indexed:
		sampler, err := data.NewSampler(src.Len(), cfg.Data.BatchSize, cfg.Run.Seed)
		if err != nil {
			return nil, fmt.Errorf("data.batch_size: %w", err)
		}
		return &sampled{src: s, sampler: sampler, idx: make([]int, cfg.Data.BatchSize), first: first, B: B, seed: cfg.Run.Seed}, nil
	}
	return nil, fmt.Errorf("feed: %T serves no batches", src)
}

// sampled serves an in-memory source: the sampler's rows of the step.
type sampled struct {
	src      indexed
	sampler  *data.Sampler
	idx      []int // the global batch's rows
	first, B int
	seed     int64
}

func (s *sampled) Next(step int64) (any, any, []bool, error) {
	s.sampler.Indices(step, s.idx)
	x, xt, mask := s.src.Batch(s.idx[s.first:s.first+s.B], s.first, s.seed, step)
	return x, xt, mask, nil
}

func (s *sampled) Close() {}
