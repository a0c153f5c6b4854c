package step

import (
	"fmt"

	"github.com/d2v/d2v/internal/graphrun"
	"github.com/d2v/d2v/pkg/ops"
	"github.com/d2v/d2v/pkg/teacher"
)

// cloneIndex writes the student's index inputs for the clone masks
// (ops.CloneIndex in the graph's dtype).
func (d *D2V2) cloneIndex(mask []bool) error {
	sh, in := d.Shape(), d.st.in
	switch k := in.keep.(type) {
	case []float32:
		if err := ops.CloneIndex(k, in.place.([]float32), in.rows.([]float32), mask, sh.N, sh.T, sh.M, sh.E); err != nil {
			return err
		}
		if in.cloned != nil {
			clonedRows(sh, mask, k, in.cloned.([]float32))
		}
		return nil
	case []float64:
		if err := ops.CloneIndex(k, in.place.([]float64), in.rows.([]float64), mask, sh.N, sh.T, sh.M, sh.E); err != nil {
			return err
		}
		if in.cloned != nil {
			clonedRows(sh, mask, k, in.cloned.([]float64))
		}
		return nil
	}
	return fmt.Errorf("unsupported index type %T", in.keep)
}

// clonedRows is the speech student's indexing (studentTokens): cloned
// (N*T) takes each clone's frames from its sample's rows of the un-cloned
// features, -1 (zero) where masked, and keep is moved from the sample's
// rows (s*T+t) to the clone's (r*T+t).
func clonedRows[F float32 | float64](sh Shape, mask []bool, keep, cloned []F) {
	for r := 0; r < sh.N; r++ {
		s := r / sh.M
		for t := 0; t < sh.T; t++ {
			cloned[r*sh.T+t] = F(s*sh.T + t)
			if mask[r*sh.T+t] {
				cloned[r*sh.T+t] = -1
			}
		}
		for j := sh.E; j < sh.E+sh.K; j++ { // the CLS entries stay -1
			i := r*(sh.E+sh.K) + j
			keep[i] += F((r - s) * sh.T)
		}
	}
}

func fillIndex(dst any, src []float64) {
	if err := graphrun.FillData(dst, src); err != nil {
		panic(err) // sizes are fixed when the graph is built
	}
}

// TargetsFull runs the teacher once on the un-cloned, unmasked input x and
// returns the targets of every position, (B, T, D), in memory reused by
// the next pass.
func (d *D2V2) TargetsFull(x any) (any, error) {
	sh := d.Shape()
	if err := graphrun.FillData(d.tc.in, x); err != nil {
		return nil, fmt.Errorf("teacher input: %w", err)
	}
	defer d.tc.vm.Reset()
	if err := d.tc.vm.RunAll(); err != nil {
		return nil, fmt.Errorf("teacher forward: %w", err)
	}
	vals := make([]any, len(d.tc.layers))
	for i, n := range d.tc.layers {
		if vals[i] = d.tc.layerC[i].Of(n.Value()); vals[i] == nil {
			return nil, fmt.Errorf("teacher forward: no value for its layer %s", n.Name())
		}
	}
	switch vals[0].(type) {
	case []float32:
		d.tc.drop32 = dropCLS(d.tc.drop32, vals, sh)
		return d.tc.buf32.Targets(d.tc.drop32, sh.B, sh.T, sh.D, d.Target, d.tc.all), nil
	default:
		d.tc.drop64 = dropCLS(d.tc.drop64, vals, sh)
		return d.tc.buf64.Targets(d.tc.drop64, sh.B, sh.T, sh.D, d.Target, d.tc.all), nil
	}
}

// dropCLS returns the teacher's layers (B*(E+T), D) without their CLS
// rows, (B*T, D); without CLS they are used in place.
func dropCLS[F teacher.Float](dst [][]F, vals []any, sh Shape) [][]F {
	if len(dst) != len(vals) {
		dst = make([][]F, len(vals))
	}
	n := sh.B * sh.T * sh.D
	for i, v := range vals {
		l := v.([]F)
		if sh.E == 0 {
			dst[i] = l
			continue
		}
		if len(dst[i]) != n {
			dst[i] = make([]F, n)
		}
		for s := 0; s < sh.B; s++ { // (B, 1+T, D) -> (B, T, D)
			copy(dst[i][s*sh.T*sh.D:(s+1)*sh.T*sh.D], l[(s*(1+sh.T)+1)*sh.D:(s+1)*(1+sh.T)*sh.D])
		}
	}
	return dst
}

// Forward2 is one data2vec 2.0 forward/backward: the teacher once per
// sample of x (B samples, unmasked), then the student on the clones'
// visible tokens with mask (B*M rows of T, true = masked, row r = sample
// r/M, clone r%M) against those targets repeated for the clones.
func (d *D2V2) Forward2(x any, mask []bool) (*Output2, error) {
	full, err := d.TargetsFull(x)
	if err != nil {
		return nil, err
	}
	return d.StudentPass2(x, mask, full)
}

// StudentPass2 runs the student forward and backward on x with mask
// against fixed full targets (B, T, D), as TargetsFull returns them.
func (d *D2V2) StudentPass2(x any, mask []bool, full any) (*Output2, error) {
	sh := d.Shape()
	st := &d.st
	if len(mask) != sh.N*sh.T {
		return nil, fmt.Errorf("mask has %d entries, want %d clones x %d positions", len(mask), sh.N, sh.T)
	}
	if err := d.cloneIndex(mask); err != nil {
		return nil, err
	}
	var tgt, ctgt any
	switch f := full.(type) {
	case []float32:
		st.tgt32 = teacher.RepeatMasked(st.tgt32, f, sh.B, sh.M, sh.T, sh.D, mask)
		st.cls32 = teacher.CloneMeans(st.cls32, f, sh.B, sh.M, sh.T, sh.D)
		tgt, ctgt = st.tgt32, st.cls32
	case []float64:
		st.tgt64 = teacher.RepeatMasked(st.tgt64, f, sh.B, sh.M, sh.T, sh.D, mask)
		st.cls64 = teacher.CloneMeans(st.cls64, f, sh.B, sh.M, sh.T, sh.D)
		tgt, ctgt = st.tgt64, st.cls64
	default:
		return nil, fmt.Errorf("targets of type %T", full)
	}
	if err := graphrun.FillData(st.in.x, x); err != nil {
		return nil, fmt.Errorf("student input: %w", err)
	}
	if err := graphrun.FillData(st.in.tgt, tgt); err != nil {
		return nil, fmt.Errorf("student targets: %w", err)
	}
	if d.CLS {
		if err := graphrun.FillData(st.in.clsTgt, ctgt); err != nil {
			return nil, fmt.Errorf("student CLS targets: %w", err)
		}
	}
	defer st.vm.Reset()
	if err := st.vm.RunAll(); err != nil {
		return nil, fmt.Errorf("student forward/backward: %w", err)
	}
	out := &Output2{Loss: graphrun.Scalar(st.loss), LossReg: graphrun.Scalar(st.lossReg), TargetsFull: full, Targets: tgt,
		Pred: st.predC.Of(st.pred.Value()), StudentOut: st.outC.Of(st.out.Value()), Grads: make([]any, len(d.Names))}
	if d.CLS {
		out.LossCLS, out.CLSPred, out.CLSTarget = graphrun.Scalar(st.lossCLS), st.clsC.Of(st.clsPred.Value()), ctgt
	}
	for i, g := range st.grads {
		if out.Grads[i] = st.gradC[i].Of(g.Value()); out.Grads[i] == nil {
			return nil, fmt.Errorf("student backward: no gradient value for %s", d.Names[i])
		}
	}
	return out, nil
}
