package step

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/d2v/d2v/internal/floats"
	"github.com/d2v/d2v/internal/graphrun"
	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/teacher"
)

// D2V owns the student, head and teacher parameters and the two graphs of a
// data2vec step: the student (forward + backward on the masked input) and
// the EMA teacher (forward only on the unmasked input).
type D2V struct {
	Setup
	Student *model.Params // student.* and head.*
	Teacher *model.Params // teacher.*
	Names   []string      // trainable parameter order (student then head)
	pairs   [][2]string
	parted  *partedBatch // Parts > 1: the parts, which own the graphs

	student studentGraph
	teacher teacherGraph
	// featureTeacher is a second teacher graph that starts from the
	// student's local features (speech with scope blocks: the conv feature
	// encoder is shared and sees the same unmasked waveform); ForwardPair
	// uses it when both inputs are the same. nil otherwise.
	featureTeacher *teacherGraph
	features       *tensor.Dense // its input, written by the student's Emit
	handoff        handoff       // targets (and features) between the graphs: overlap.go
	// the targets' memory, reused from step to step
	targets32 teacher.Buffers[float32]
	targets64 teacher.Buffers[float64]
}

// studentGraph is the student's forward and backward pass on the masked input.
type studentGraph struct {
	vm         G.VM
	in         [3]any // the inputs' backing slices: x, mask, masked rows
	loss       G.Value
	pred       *G.Node
	grads      G.Nodes // read in place after a run (no copy): valid until the next run
	predCache  graphrun.Cache
	gradCaches []graphrun.Cache
}

// teacherGraph is a teacher's forward pass; its top-K target layers are
// read in place after a run.
type teacherGraph struct {
	vm          G.VM
	in          any // the input's backing slice (nil for the feature teacher)
	layers      G.Nodes
	layerCaches []graphrun.Cache
}

// Output is what one forward/backward pass produced (views valid until the next pass).
type Output struct {
	Loss    float64
	Pred    any   // (M, D) []float32 or []float64
	Targets any   // (M, D)
	Grads   []any // per Names entry, raw (before clipping)
}

// New declares the parameters and builds both graphs; parameters are zero
// until Init or a checkpoint fills them.
func New(s Setup) (*D2V, error) {
	if err := s.Spec.Validate(); err != nil {
		return nil, err
	}
	if v, ok := s.Mod.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return nil, err
		}
	}
	T := s.Mod.NumTokens()
	if s.NMask < 1 || s.NMask > T {
		return nil, fmt.Errorf("d2v: %d masked positions per sample out of range [1,%d]", s.NMask, T)
	}
	if s.TargetLayer != "block" && s.TargetLayer != "ffn" {
		return nil, fmt.Errorf("d2v: target layer %q (want block or ffn)", s.TargetLayer)
	}
	if s.Scope != "all" && s.Scope != "blocks" {
		return nil, fmt.Errorf("d2v: ema scope %q (want all or blocks)", s.Scope)
	}
	if s.Target.TopK < 1 || s.Target.TopK > s.Spec.Depth {
		return nil, fmt.Errorf("d2v: top_k %d out of range [1,%d]", s.Target.TopK, s.Spec.Depth)
	}
	d := &D2V{Setup: s, Student: model.NewParams(s.Dtype), Teacher: model.NewParams(s.Dtype)}
	emb, enc := s.embedding(), model.Encoder{Spec: s.Spec}
	emb.Declare(d.Student, "student")
	enc.Declare(d.Student, "student")
	model.Head{Spec: s.Spec}.Declare(d.Student)
	if s.Scope == "all" {
		emb.Declare(d.Teacher, "teacher")
	}
	enc.Declare(d.Teacher, "teacher")
	d.Names = d.Student.Names()
	var err error
	if d.pairs, err = teacher.Pairs(d.Teacher, d.Student); err != nil {
		return nil, err
	}
	if n := min(s.Parts, s.Batch); n > 1 {
		if d.parted, err = newPartedBatch(d, n); err != nil {
			return nil, err
		}
		return d, nil
	}
	if err := d.build(); err != nil {
		return nil, err
	}
	return d, nil
}

// build makes the student and teacher graphs over d's parameters.
func (d *D2V) build() error {
	d.handoff = newHandoff(d.sharesLocal())
	if d.sharesLocal() {
		d.features = tensor.New(tensor.Of(d.Dtype), tensor.WithShape(d.Batch*d.Mod.NumTokens(), d.Spec.Dim))
	}
	if err := d.buildStudent(); err != nil {
		return fmt.Errorf("student graph: %w", err)
	}
	if err := d.buildTeacher(); err != nil {
		return fmt.Errorf("teacher graph: %w", err)
	}
	if d.sharesLocal() {
		if err := d.buildTeacherLocal(); err != nil {
			return fmt.Errorf("teacher graph from the student's features: %w", err)
		}
	}
	return nil
}

// sharesLocal: the teacher can take the student's local features (speech,
// scope blocks: the same conv encoder on the same waveform; only the
// masking, applied after it, differs).
func (d *D2V) sharesLocal() bool {
	_, audio := d.Mod.(model.Audio)
	return audio && d.Scope == "blocks" && !d.KeepInput
}

// Init draws the student and head from seed and copies the student into the
// teacher (fairseq: the teacher starts as a deep copy, not a random net).
func (d *D2V) Init(seed uint64) {
	InitEncoder(d.Student, d.Setup, seed)
	r := rand.New(rand.NewPCG(seed, 0x68656164)) // the head has its own stream
	model.Head{Spec: d.Spec}.Init(d.Student, r)
	teacher.Update(d.Teacher, d.Student, d.pairs, 0)
}

// EMA moves the teacher towards the student with decay dec.
func (d *D2V) EMA(dec float64) { teacher.Update(d.Teacher, d.Student, d.pairs, dec) }

func (d *D2V) buildStudent() error {
	B, T, D, M := d.Batch, d.Mod.NumTokens(), d.Spec.Dim, d.Batch*d.NMask
	g := model.NewGraph(d.Dtype, d.Student)
	x, xt := g.Input("student.in.x", d.Mod.InputShape(B)...)
	mask, mt := g.Input("student.in.mask", B*T)
	idx, it := g.Input("student.in.masked_rows", M)
	var tap func(*G.Node) (*G.Node, error)
	if d.features != nil {
		tap = func(loc *G.Node) (*G.Node, error) { return d.handoff.emitFeatures(loc, d.features.Data()) }
	}
	h, err := d.embedding().BuildTap(g, "student", x, mask, tap)
	if err != nil {
		return err
	}
	// the loss reads the student only at the masked rows: its last block
	// runs there only (K and V for every row), L.Out is (M, D)
	L, err := model.Encoder{Spec: d.Spec}.BuildAt(g, "student", h, B, idx)
	if err != nil {
		return err
	}
	pred, err := model.Head{Spec: d.Spec}.Build(g, L.Out)
	if err != nil {
		return err
	}
	// The targets enter after the predictions: the forward pass up to here
	// runs while the teacher computes them (ForwardPair).
	tgt, err := d.handoff.awaitTargets(pred, M, D)
	if err != nil {
		return err
	}
	cost, err := d.Loss.Build(pred, tgt)
	if err != nil {
		return err
	}
	grads, err := G.Grad(cost, g.Nodes(d.Names)...)
	if err != nil {
		return err
	}
	st := &d.student
	st.in = [3]any{xt.Data(), mt.Data(), it.Data()}
	G.Read(cost, &st.loss)
	st.pred, st.grads = pred, grads
	st.gradCaches = make([]graphrun.Cache, len(grads))
	st.vm = G.NewTapeMachine(g.G)
	return nil
}

func (d *D2V) buildTeacher() error {
	B, T := d.Batch, d.Mod.NumTokens()
	// scope blocks: the embedding nodes bind to the student's tensors (shared).
	g := model.NewGraph(d.Dtype, d.Teacher, d.Student)
	x, xt := g.Input("teacher.in.x", d.Mod.InputShape(B)...)
	mask, _ := g.Input("teacher.in.mask", B*T) // stays all zero: the teacher sees everything
	pre := "teacher"
	if d.Scope == "blocks" {
		pre = "student"
	}
	h, err := d.embedding().Build(g, pre, x, mask)
	if err != nil {
		return err
	}
	outs, err := d.teacherLayers(g, h)
	if err != nil {
		return err
	}
	d.teacher = teacherGraph{vm: G.NewTapeMachine(g.G), in: xt.Data(), layers: outs, layerCaches: make([]graphrun.Cache, len(outs))}
	return nil
}

// buildTeacherLocal builds the feature teacher: the teacher from the
// student's features.
func (d *D2V) buildTeacherLocal() error {
	B, T := d.Batch, d.Mod.NumTokens()
	g := model.NewGraph(d.Dtype, d.Teacher, d.Student)
	loc := G.NodeFromAny(g.G, d.features, G.WithName("teacher.in.local"))
	mask, _ := g.Input("teacher.in.mask", B*T) // all zero
	h, err := d.embedding().BuildLocal(g, "student", loc, mask)
	if err != nil {
		return err
	}
	outs, err := d.teacherLayers(g, h)
	if err != nil {
		return err
	}
	d.featureTeacher = &teacherGraph{vm: G.NewTapeMachine(g.G), layers: outs, layerCaches: make([]graphrun.Cache, len(outs))}
	return nil
}

// teacherLayers runs the teacher's blocks on h and returns the top-K
// target layers.
func (d *D2V) teacherLayers(g *model.Graph, h *G.Node) (G.Nodes, error) {
	L, err := model.Encoder{Spec: d.Spec}.Build(g, "teacher", h, d.Batch)
	if err != nil {
		return nil, err
	}
	outs := L.Blocks
	if d.TargetLayer == "ffn" {
		outs = L.FFNs
	}
	return outs[len(outs)-d.Target.TopK:], nil
}

// Targets runs the teacher on the unmasked input x and returns the
// data2vec targets at the masked positions of mask (B*T), (M, D), in
// memory reused by the next pass.
func (d *D2V) Targets(x any, mask []bool) (any, error) {
	if d.parted != nil {
		return d.parted.targets(x, mask)
	}
	if err := graphrun.FillData(d.teacher.in, x); err != nil {
		return nil, fmt.Errorf("teacher input: %w", err)
	}
	return d.targetsFrom(&d.teacher, mask)
}

// targetsFrom runs a teacher graph (its input filled) and builds the
// targets at mask from its top-K layer values, read in place.
func (d *D2V) targetsFrom(tg *teacherGraph, mask []bool) (any, error) {
	defer tg.vm.Reset()
	if err := tg.vm.RunAll(); err != nil {
		return nil, fmt.Errorf("teacher forward: %w", err)
	}
	B, T, D := d.Batch, d.Mod.NumTokens(), d.Spec.Dim
	vals := make([]any, len(tg.layers))
	for i, n := range tg.layers {
		if vals[i] = tg.layerCaches[i].Of(n.Value()); vals[i] == nil {
			return nil, fmt.Errorf("teacher forward: no value for its layer %s", n.Name())
		}
	}
	switch vals[0].(type) {
	case []float32:
		ls := make([][]float32, len(vals))
		for i, v := range vals {
			ls[i] = v.([]float32)
		}
		return d.targets32.Targets(ls, B, T, D, d.Target, mask), nil
	default:
		ls := make([][]float64, len(vals))
		for i, v := range vals {
			ls[i] = v.([]float64)
		}
		return d.targets64.Targets(ls, B, T, D, d.Target, mask), nil
	}
}

// targetsFromFeatures runs the feature teacher once the student's Emit has
// handed over its features (or gives up when the student stopped before them).
func (d *D2V) targetsFromFeatures(mask []bool, abort <-chan struct{}) (any, error) {
	if err := d.handoff.waitFeatures(abort); err != nil {
		return nil, err
	}
	return d.targetsFrom(d.featureTeacher, mask)
}

// StudentPass runs the student forward and backward on x with mask (B*T)
// against fixed targets (M, D).
func (d *D2V) StudentPass(x any, mask []bool, targets any) (*Output, error) {
	if d.parted != nil {
		return d.parted.studentPass(x, mask, targets)
	}
	return d.studentRun(x, mask, func(<-chan struct{}) (any, error) { return targets, nil }, false)
}

// Forward is one data2vec forward/backward: teacher targets, then the student.
func (d *D2V) Forward(x any, mask []bool) (*Output, error) { return d.ForwardPair(x, x, mask) }

// ForwardPair is Forward with different student and teacher inputs (text:
// the student sees the corrupted ids, the teacher the original ones). The
// teacher runs beside the student's forward pass when a core is spare
// (overlap.go); the result is the same as running them in turn.
func (d *D2V) ForwardPair(student, teacherIn any, mask []bool) (*Output, error) {
	if d.parted != nil {
		return d.parted.forwardPair(student, teacherIn, mask)
	}
	if d.featureTeacher != nil && floats.Same(student, teacherIn) { // the teacher starts from the student's features
		return d.studentRun(student, mask, func(abort <-chan struct{}) (any, error) { return d.targetsFromFeatures(mask, abort) }, true)
	}
	return d.studentRun(student, mask, func(<-chan struct{}) (any, error) { return d.Targets(teacherIn, mask) }, false)
}

// studentRun fills the student's inputs and runs it with the targets made
// by targets (beside the student when beside is set or a core is spare:
// handoff.run), then returns its loss, predictions and gradients.
func (d *D2V) studentRun(x any, mask []bool, targets func(abort <-chan struct{}) (any, error), beside bool) (*Output, error) {
	T := d.Mod.NumTokens()
	if len(mask) != d.Batch*T {
		return nil, fmt.Errorf("mask has %d entries, want %d", len(mask), d.Batch*T)
	}
	mf := make([]float64, len(mask))
	rows := make([]float64, 0, d.Batch*d.NMask)
	for r, m := range mask {
		if m {
			if !d.KeepInput {
				mf[r] = 1
			}
			rows = append(rows, float64(r))
		}
	}
	if len(rows) != d.Batch*d.NMask {
		return nil, fmt.Errorf("mask has %d masked positions, want %d per sample x %d", len(rows), d.NMask, d.Batch)
	}
	st := &d.student
	for i, src := range []any{x, mf, rows} {
		if err := graphrun.FillData(st.in[i], src); err != nil {
			return nil, fmt.Errorf("student input %d: %w", i, err)
		}
	}
	defer st.vm.Reset()
	y, err := d.handoff.run(st.vm, targets, d.Batch*d.NMask*d.Spec.Dim, beside)
	if err != nil {
		return nil, err
	}
	out := &Output{Loss: graphrun.Scalar(st.loss), Pred: st.predCache.Of(st.pred.Value()), Targets: y, Grads: make([]any, len(d.Names))}
	if out.Pred == nil {
		return nil, fmt.Errorf("student forward: no value for the predictions")
	}
	for i, g := range st.grads {
		if out.Grads[i] = st.gradCaches[i].Of(g.Value()); out.Grads[i] == nil {
			return nil, fmt.Errorf("student backward: no gradient value for %s", d.Names[i])
		}
	}
	return out, nil
}

// Close releases the graphs' machines.
func (d *D2V) Close() {
	if d.parted != nil {
		d.parted.close()
		return
	}
	d.student.vm.Close()
	d.teacher.vm.Close()
	if d.featureTeacher != nil {
		d.featureTeacher.vm.Close()
	}
}
