package train

import (
	"fmt"
	"math/rand/v2"
	"strings"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/d2v/d2v/internal/floats"
	"github.com/d2v/d2v/internal/graphrun"
	"github.com/d2v/d2v/internal/par"
	"github.com/d2v/d2v/pkg/loss"
	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/ops"
	"github.com/d2v/d2v/pkg/teacher"
)

// Setup fixes everything a data2vec step's graphs depend on.
type Setup struct {
	Spec        model.Spec
	Mod         model.Modality
	Batch       int    // B
	NMask       int    // masked positions per sample (the same in every sample)
	TargetLayer string // "block" | "ffn"
	Scope       string // "all": full EMA copy; "blocks": embeddings shared with the student
	Target      teacher.TargetSpec
	Loss        loss.Spec
	Dtype       tensor.Dtype
	// KeepInput: the student input already carries its corruption (text:
	// <mask>/random tokens), so masked positions keep their embeddings instead
	// of the learned mask embedding; the mask only selects the loss rows.
	KeepInput bool
	// Parts splits each batch into this many groups of samples run at once,
	// each on its own graphs bound to the same parameters, the cores shared
	// between them (split.go); <= 1 runs the batch as one.
	Parts int
}

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

	st struct {
		vm           G.VM
		x, mask, idx *tensor.Dense
		in           [3]any           // x, mask, idx's backing slices
		tgt          chan ops.Arrival // the targets, awaited inside the student's run
		loss         G.Value
		pred         *G.Node
		grads        G.Nodes // read in place after a run (no copy): valid until the next run
		predC        graphrun.Cache
		gradC        []graphrun.Cache
	}
	tc struct {
		vm      G.VM
		x, mask *tensor.Dense
		in      any     // x's backing slice
		layers  G.Nodes // the top-K outputs, read in place
		layerC  []graphrun.Cache
		buf32   teacher.Buffers[float32] // the targets' memory, reused
		buf64   teacher.Buffers[float64]
	}
	// tf is a second teacher graph that starts from the student's local
	// features (speech with scope blocks: the conv feature encoder is shared
	// and sees the same unmasked waveform), handed over by an ops.Emit in
	// the student's graph; ForwardPair uses it when both inputs are the same.
	tf struct {
		vm     G.VM
		local  *tensor.Dense // the features, written by the student's Emit
		ready  chan struct{}
		layers G.Nodes
		layerC []graphrun.Cache
	}
}

// Output is what one forward/backward pass produced (views valid until the next pass).
type Output struct {
	Loss    float64
	Pred    any   // (M, D) []float32 or []float64
	Targets any   // (M, D)
	Grads   []any // per Names entry, raw (before clipping)
}

func (s Setup) embedding() model.Embedding { return model.Embedding{Mod: s.Mod, Spec: s.Spec} }

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
	if d.sharesLocal() {
		d.tf.local = tensor.New(tensor.Of(d.Dtype), tensor.WithShape(d.Batch*d.Mod.NumTokens(), d.Spec.Dim))
		d.tf.ready = make(chan struct{}, 1)
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
	if d.tf.local != nil {
		tap = func(loc *G.Node) (*G.Node, error) { return ops.Emit(loc, d.tf.local.Data(), d.tf.ready) }
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
	d.st.tgt = make(chan ops.Arrival, 1)
	tgt, err := ops.Await(pred, M, D, d.st.tgt)
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
	d.st.x, d.st.mask, d.st.idx = xt, mt, it
	d.st.in = [3]any{xt.Data(), mt.Data(), it.Data()}
	G.Read(cost, &d.st.loss)
	d.st.pred, d.st.grads = pred, grads
	d.st.gradC = make([]graphrun.Cache, len(grads))
	d.st.vm = G.NewTapeMachine(g.G)
	return nil
}

func (d *D2V) buildTeacher() error {
	B, T := d.Batch, d.Mod.NumTokens()
	// scope blocks: the embedding nodes bind to the student's tensors (shared).
	g := model.NewGraph(d.Dtype, d.Teacher, d.Student)
	x, xt := g.Input("teacher.in.x", d.Mod.InputShape(B)...)
	mask, mt := g.Input("teacher.in.mask", B*T) // stays all zero: the teacher sees everything
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
	d.tc.layers, d.tc.layerC = outs, make([]graphrun.Cache, len(outs))
	d.tc.x, d.tc.mask, d.tc.in = xt, mt, xt.Data()
	d.tc.vm = G.NewTapeMachine(g.G)
	return nil
}

// buildTeacherLocal builds tf: the teacher from the student's features.
func (d *D2V) buildTeacherLocal() error {
	B, T := d.Batch, d.Mod.NumTokens()
	g := model.NewGraph(d.Dtype, d.Teacher, d.Student)
	loc := G.NodeFromAny(g.G, d.tf.local, G.WithName("teacher.in.local"))
	mask, _ := g.Input("teacher.in.mask", B*T) // all zero
	h, err := d.embedding().BuildLocal(g, "student", loc, mask)
	if err != nil {
		return err
	}
	outs, err := d.teacherLayers(g, h)
	if err != nil {
		return err
	}
	d.tf.layers, d.tf.layerC = outs, make([]graphrun.Cache, len(outs))
	d.tf.vm = G.NewTapeMachine(g.G)
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
	if err := graphrun.FillData(d.tc.in, x); err != nil {
		return nil, fmt.Errorf("teacher input: %w", err)
	}
	defer d.tc.vm.Reset()
	if err := d.tc.vm.RunAll(); err != nil {
		return nil, fmt.Errorf("teacher forward: %w", err)
	}
	return d.targetsFrom(d.tc.layers, d.tc.layerC, mask)
}

// targetsFrom builds the targets at mask from a teacher graph's top-K
// layer values (read in place after its run).
func (d *D2V) targetsFrom(layers G.Nodes, caches []graphrun.Cache, mask []bool) (any, error) {
	B, T, D := d.Batch, d.Mod.NumTokens(), d.Spec.Dim
	vals := make([]any, len(layers))
	for i, n := range layers {
		if vals[i] = caches[i].Of(n.Value()); vals[i] == nil {
			return nil, fmt.Errorf("teacher forward: no value for its layer %s", n.Name())
		}
	}
	switch vals[0].(type) {
	case []float32:
		ls := make([][]float32, len(vals))
		for i, v := range vals {
			ls[i] = v.([]float32)
		}
		return d.tc.buf32.Targets(ls, B, T, D, d.Target, mask), nil
	default:
		ls := make([][]float64, len(vals))
		for i, v := range vals {
			ls[i] = v.([]float64)
		}
		return d.tc.buf64.Targets(ls, B, T, D, d.Target, mask), nil
	}
}

// targetsLocal runs tf once the student's Emit has handed over its
// features (or gives up when the student stopped before them).
func (d *D2V) targetsLocal(mask []bool, abort <-chan struct{}) (any, error) {
	select {
	case <-d.tf.ready:
	case <-abort:
		return nil, fmt.Errorf("teacher: the student stopped before its features")
	}
	defer d.tf.vm.Reset()
	if err := d.tf.vm.RunAll(); err != nil {
		return nil, fmt.Errorf("teacher forward: %w", err)
	}
	return d.targetsFrom(d.tf.layers, d.tf.layerC, mask)
}

// StudentPass runs the student forward and backward on x with mask (B*T)
// against fixed targets (M, D).
func (d *D2V) StudentPass(x any, mask []bool, targets any) (*Output, error) {
	if d.parted != nil {
		return d.parted.studentPass(x, mask, targets)
	}
	return d.studentRun(x, mask, func(<-chan struct{}) (any, error) { return targets, nil }, true)
}

// Forward is one data2vec forward/backward: teacher targets, then the student.
func (d *D2V) Forward(x any, mask []bool) (*Output, error) { return d.ForwardPair(x, x, mask) }

// ForwardPair is Forward with different student and teacher inputs (text:
// the student sees the corrupted ids, the teacher the original ones). With
// a spare core the teacher runs on its own goroutine while the student's
// forward pass runs up to its predictions, and the student then waits for
// the targets; with none (one core, or the parts of a split batch, which
// take a core each) it runs first. The
// graphs share no output memory and every kernel's result is independent
// of scheduling, so the result is the same as running them in turn.
func (d *D2V) ForwardPair(student, teacherIn any, mask []bool) (*Output, error) {
	if d.parted != nil {
		return d.parted.forwardPair(student, teacherIn, mask)
	}
	if d.tf.vm != nil && floats.Same(student, teacherIn) { // the teacher starts from the student's features
		return d.studentRun(student, mask, func(abort <-chan struct{}) (any, error) { return d.targetsLocal(mask, abort) }, false)
	}
	return d.studentRun(student, mask, func(<-chan struct{}) (any, error) { return d.Targets(teacherIn, mask) }, true)
}

// studentRun fills the student's inputs and runs it, with the targets made
// by targets() on another goroutine and handed over through d.st.tgt.
// targets runs on its own goroutine unless inline is allowed and no core
// is spare; it must return once abort is closed (the student's run ended).
func (d *D2V) studentRun(x any, mask []bool, targets func(abort <-chan struct{}) (any, error), inline bool) (*Output, error) {
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
	for i, src := range []any{x, mf, rows} {
		if err := graphrun.FillData(d.st.in[i], src); err != nil {
			return nil, fmt.Errorf("student input %d: %w", i, err)
		}
	}
	if d.tf.ready != nil {
		select { // a pass that stopped after the student's Emit left a stale signal
		case <-d.tf.ready:
		default:
		}
	}
	var y any
	var terr error
	done, abort := make(chan struct{}), make(chan struct{})
	teach := func() {
		defer close(done)
		y, terr = targets(abort)
		if n := d.Batch * d.NMask * d.Spec.Dim; terr == nil && floats.Len(y) != n {
			terr = fmt.Errorf("targets have %d values, want %d", floats.Len(y), n)
		}
		d.st.tgt <- ops.Arrival{Values: y, Err: terr}
	}
	if !inline || par.Workers() > 1 {
		go teach() // a spare core (or the student's features needed): beside the student
	} else {
		teach() // every core busy (one, or a split batch's parts): in turn, caches warm
	}
	defer d.st.vm.Reset()
	err := d.st.vm.RunAll()
	close(abort)
	<-done
	select { // a run that failed before the Await node left the targets unread
	case <-d.st.tgt:
	default:
	}
	if terr != nil {
		return nil, terr
	}
	if err != nil {
		return nil, fmt.Errorf("student forward/backward: %w", err)
	}
	out := &Output{Loss: graphrun.Scalar(d.st.loss), Pred: d.st.predC.Of(d.st.pred.Value()), Targets: y, Grads: make([]any, len(d.Names))}
	if out.Pred == nil {
		return nil, fmt.Errorf("student forward: no value for the predictions")
	}
	for i, g := range d.st.grads {
		if out.Grads[i] = d.st.gradC[i].Of(g.Value()); out.Grads[i] == nil {
			return nil, fmt.Errorf("student backward: no gradient value for %s", d.Names[i])
		}
	}
	return out, nil
}

// Decayed reports whether a parameter gets weight decay: linear and embedding
// weights (names ending in .w), not biases, norms, positions or mask_emb.
func Decayed(name string) bool { return strings.HasSuffix(name, ".w") }

// Close releases the graphs' machines.
func (d *D2V) Close() {
	if d.parted != nil {
		d.parted.close()
		return
	}
	d.st.vm.Close()
	d.tc.vm.Close()
	if d.tf.vm != nil {
		d.tf.vm.Close()
	}
}
