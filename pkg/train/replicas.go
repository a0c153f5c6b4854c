package train

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"
	"unsafe"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/dist"
	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/teacher"
)

// replicas keeps the data-parallel copies of one run in step: every rank
// holds the same student, head, teacher and AdamW state, computes gradients
// on its share of the global batch, and applies the same averaged update.
// With one rank every method leaves its inputs as they are, so the default
// build's arithmetic is unchanged.
type replicas struct {
	c       dist.Comm
	scratch []float32     // gradient bucket
	stats   []float64     // per-step reduction: loss, flags, variance moments
	comm    time.Duration // time spent in the gradient and statistics allreduces
	last    time.Duration // the part of comm spent in the latest step
	perStep []float64     // each reduced step's time in allreduces, ms
}

func newReplicas(c dist.Comm) *replicas {
	if c == nil {
		c = dist.Single{}
	}
	r := &replicas{c: c}
	if c.Size() > 1 {
		r.scratch = make([]float32, dist.BucketF32)
	}
	return r
}

func (r *replicas) lead() bool { return r.c.Rank() == 0 }

// localBatch is each rank's share of the global batch data.batch_size.
func (r *replicas) localBatch(cfg *config.Config) (int, error) {
	B, n := cfg.Data.BatchSize, r.c.Size()
	if B%n != 0 {
		return 0, fmt.Errorf("data.batch_size: %d is the global batch and must divide evenly over the %d ranks (use a multiple of %d)", B, n, n)
	}
	return B / n, nil
}

// agreeConfig fails on every rank if the resolved configs differ.
func (r *replicas) agreeConfig(cfg *config.Config) error {
	if r.c.Size() == 1 {
		return nil
	}
	y, err := cfg.YAML()
	if err != nil {
		return err
	}
	h := sha256.Sum256(y)
	all, err := r.c.Allgather(h[:8])
	if err != nil {
		return err
	}
	for k, b := range all {
		if string(b) != string(all[0]) {
			return fmt.Errorf("data-parallel: rank %d's resolved config differs from rank 0's (sha256 %x vs %x): start every rank with the same --config, --set and --resume", k, b, all[0])
		}
	}
	return nil
}

// syncState copies rank 0's weights, teacher, AdamW state, step and skip
// count to every rank (initial weights, or the checkpoint rank 0 resumed).
func (r *replicas) syncState(d Model, opt *AdamW, start, skipped *int64) error {
	if r.c.Size() == 1 {
		return nil
	}
	// the broadcasts below need the same tensors everywhere: a rank that
	// resumed another checkpoint (a newer one appeared meanwhile) must not
	// reach them
	ts := stateTensors(d, opt)
	mine := binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, uint64(*start)), uint64(len(ts)))
	all, err := r.c.Allgather(mine)
	if err != nil {
		return err
	}
	for k, b := range all {
		if string(b) != string(all[0]) {
			return fmt.Errorf("data-parallel: rank %d starts at step %d, rank 0 at step %d (different checkpoints?): start every rank on the same run folder", k,
				binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(all[0]))
		}
	}
	for _, t := range ts {
		if err := bcastAny(r.c, t); err != nil {
			return fmt.Errorf("data-parallel: broadcast of the initial state: %w", err)
		}
	}
	head := []float64{float64(*start), float64(*skipped), float64(opt.T)}
	if err := r.c.BcastF64(head, 0); err != nil {
		return err
	}
	*start, *skipped, opt.T = int64(head[0]), int64(head[1]), int64(head[2])
	return nil
}

func bcastAny(c dist.Comm, t any) error {
	switch x := t.(type) {
	case []float32:
		return c.BcastF32(x, 0)
	case []float64:
		return c.BcastF64(x, 0)
	}
	return fmt.Errorf("unsupported tensor type %T", t)
}

// stateTensors lists everything a rank's replica holds, in a fixed order:
// student and head, teacher, then the AdamW moments that exist.
func stateTensors(d Model, opt *AdamW) []any {
	student, teacher, _ := d.Params()
	return append(append(paramData(student), paramData(teacher)...), optData(d, opt)...)
}

// average replaces each rank's gradients with their mean over the ranks:
// float32 gradients go through bucketed allreduces.
func (r *replicas) average(grads []any) error {
	n := r.c.Size()
	if n == 1 {
		return nil
	}
	t0 := time.Now()
	defer func() { r.last = time.Since(t0); r.comm += r.last }()
	var f32 [][]float32
	for _, g := range grads {
		switch x := g.(type) {
		case []float32:
			f32 = append(f32, x)
		case []float64:
			if err := r.c.SumF64(x); err != nil {
				return err
			}
			scale(x, 1/float64(n))
		}
	}
	if _, err := dist.SumBuckets(r.c, f32, r.scratch); err != nil {
		return fmt.Errorf("data-parallel: gradient allreduce: %w", err)
	}
	for _, x := range f32 {
		scale(x, float32(1/float64(n)))
	}
	return nil
}

func scale[F float32 | float64](x []F, s F) {
	for i := range x {
		x[i] *= s
	}
}

// stepStats are one step's numbers as every rank must see them.
type stepStats struct {
	Loss               float64 // mean over ranks
	Bad                bool    // some rank saw a NaN/Inf loss or gradient norm
	Interrupted        bool    // some rank got SIGINT/SIGTERM
	TargetVar, PredVar float64 // fairseq compute_var over the global batch
}

// reduce agrees on a step's loss, skip and stop decisions and variance
// statistics in one float64 allreduce; norm is the averaged gradients' norm.
func (r *replicas) reduce(loss, norm float64, interrupted bool, targets, pred any, dim int) (stepStats, error) {
	bad := !finite(loss) || !finite(norm)
	if r.c.Size() == 1 {
		return stepStats{Loss: loss, Bad: bad, Interrupted: interrupted,
			TargetVar: spread(targets, dim), PredVar: spread(pred, dim)}, nil
	}
	t0 := time.Now()
	defer func() {
		dt := time.Since(t0)
		r.last += dt
		r.comm += dt
		r.perStep = append(r.perStep, float64(r.last.Microseconds())/1000)
	}()
	// layout: loss, bad, interrupted, rows, then per feature: target sum,
	// target sum of squares, prediction sum, prediction sum of squares
	if need := 4 + 4*dim; len(r.stats) != need {
		r.stats = make([]float64, need)
	}
	s := r.stats
	clear(s)
	s[0], s[1], s[2] = loss, b2f(bad), b2f(interrupted)
	s[3] = float64(moments(targets, dim, s[4:4+dim], s[4+dim:4+2*dim]))
	moments(pred, dim, s[4+2*dim:4+3*dim], s[4+3*dim:])
	if err := r.c.SumF64(s); err != nil {
		return stepStats{}, fmt.Errorf("data-parallel: statistics allreduce: %w", err)
	}
	return stepStats{Loss: s[0] / float64(r.c.Size()), Bad: s[1] > 0, Interrupted: s[2] > 0,
		TargetVar: teacher.StdFromMoments(s[3], s[4:4+dim], s[4+dim:4+2*dim]),
		PredVar:   teacher.StdFromMoments(s[3], s[4+2*dim:4+3*dim], s[4+3*dim:])}, nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// moments adds the per-feature sums and sums of squares of the rows of v
// (n, dim) to sum and sumsq and returns n.
func moments(v any, dim int, sum, sumsq []float64) int {
	switch x := v.(type) {
	case []float32:
		return teacher.Moments(x, dim, sum, sumsq)
	case []float64:
		return teacher.Moments(x, dim, sum, sumsq)
	}
	return 0
}

// checkDrift compares a checksum of every rank's replica with rank 0's and
// fails on every rank, naming the part that drifted, if any differs.
func (r *replicas) checkDrift(d Model, opt *AdamW, step int64) error {
	if r.c.Size() == 1 {
		return nil
	}
	student, teacher, _ := d.Params()
	sums := make([]byte, 0, 24)
	parts := []struct {
		name string
		ts   []any
	}{{"student and head (or decoder) weights", paramData(student)}, {"teacher weights", paramData(teacher)}, {"AdamW moments", optData(d, opt)}}
	for _, p := range parts {
		h := sha256.New()
		for _, t := range p.ts {
			h.Write(bytesOf(t))
		}
		sums = h.Sum(sums)[:len(sums)+8]
	}
	all, err := r.c.Allgather(binary.LittleEndian.AppendUint64(sums, uint64(opt.T)))
	if err != nil {
		return err
	}
	for k, b := range all {
		for i, p := range parts {
			if string(b[8*i:8*i+8]) != string(all[0][8*i:8*i+8]) {
				return fmt.Errorf("data-parallel: after step %d rank %d's %s differ from rank 0's (checksum %x vs %x): the replicas drifted apart (a non-deterministic reduction or a faulty rank); resume from the last checkpoint", step, k, p.name, b[8*i:8*i+8], all[0][8*i:8*i+8])
			}
		}
		if string(b[24:]) != string(all[0][24:]) {
			return fmt.Errorf("data-parallel: after step %d rank %d's AdamW step count differs from rank 0's", step, k)
		}
	}
	return nil
}

func paramData(p *model.Params) []any {
	var ts []any
	for _, n := range p.Names() {
		ts = append(ts, p.Get(n).Data())
	}
	return ts
}

func optData(d Model, opt *AdamW) []any {
	_, _, names := d.Params()
	var ts []any
	for _, n := range names {
		if opt.M[n] != nil {
			ts = append(ts, opt.M[n], opt.V[n])
		}
	}
	return ts
}

// bytesOf views a float slice's memory (the checksum only compares ranks of
// one build on one architecture).
func bytesOf(t any) []byte {
	switch x := t.(type) {
	case []float32:
		if len(x) > 0 {
			return unsafe.Slice((*byte)(unsafe.Pointer(&x[0])), 4*len(x))
		}
	case []float64:
		if len(x) > 0 {
			return unsafe.Slice((*byte)(unsafe.Pointer(&x[0])), 8*len(x))
		}
	}
	return nil
}

// lastMS is the latest step's time in allreduces, in milliseconds (0 on one rank).
func (r *replicas) lastMS() float64 { return float64(r.last.Microseconds()) / 1000 }

// summary is the end-of-run line on the allreduce cost (the time also
// holds waiting for slower ranks); "" on one rank.
func (r *replicas) summary() string {
	n := len(r.perStep)
	if n == 0 {
		return ""
	}
	s := slices.Clone(r.perStep)
	slices.Sort(s)
	return fmt.Sprintf("data-parallel: %d ranks; time in allreduce per step: median %.3f ms, mean %.3f ms over %d steps",
		r.c.Size(), s[n/2], float64(r.comm.Microseconds())/1000/float64(n), n)
}
