package step

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/d2v/d2v/internal/graphrun"
	"github.com/d2v/d2v/pkg/loss"
	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/ops"
	"github.com/d2v/d2v/pkg/teacher"
)

// Setup2 fixes everything a data2vec 2.0 step's graphs depend on (Baevski
// et al., 2022, arXiv 2212.07525; fairseq data2vec2.py): the teacher
// encodes each unmasked sample once; each sample is cloned Clones times,
// each clone with its own mask keeping Keep positions; the student encodes
// only the visible tokens (plus an optional CLS token), a convolutional
// decoder fills the masked positions, and the loss regresses the
// teacher's targets there (plus a CLS loss regressing their mean).
type Setup2 struct {
	Spec        model.Spec
	Mod         model.Modality
	Batch       int           // B, samples before cloning
	Clones      int           // M, masked copies of every sample
	Keep        int           // K, visible positions of every clone
	CLS         bool          // a learned CLS token before each clone's visible tokens
	CLSWeight   float64       // weight of the CLS loss (fairseq cls_loss)
	Decoder     model.Decoder // its Dim and Positions are the model width and T
	TargetLayer string        // "block" | "ffn"
	Scope       string        // "all": the whole encoder is EMA'd; "blocks": only the blocks
	Target      teacher.TargetSpec
	Loss        loss.Spec // reduction d2v: sum * scale / (B*M*(T-K))
	Dtype       tensor.Dtype
}

// Shape is the derived sizes of a data2vec 2.0 step, computed only here.
type Shape struct {
	B, M, N, T, K, E, D int // N = B*M cloned rows; E = 1 with a CLS token
	Masked, SampleSize  int // T-K per clone; N*(T-K) in all (fairseq sample_size)
}

// Shape returns the step's derived sizes.
func (s Setup2) Shape() Shape {
	T := s.Mod.NumTokens()
	sh := Shape{B: s.Batch, M: s.Clones, N: s.Batch * s.Clones, T: T, K: s.Keep, D: s.Spec.Dim, Masked: T - s.Keep}
	if s.CLS {
		sh.E = 1
	}
	sh.SampleSize = sh.N * sh.Masked
	return sh
}

func (s Setup2) embedding() model.Embedding {
	return model.Embedding{Mod: s.Mod, Spec: s.Spec, NoMaskEmb: true}
}

// teacherEncoder: scope blocks EMAs the blocks only (fairseq
// ema_encoder_only), so a pre-LN teacher has no final LN of its own.
func (s Setup2) teacherEncoder() model.Encoder {
	return model.Encoder{Spec: s.Spec, NoFinalLN: s.Scope == "blocks"}
}

// Validate reports a setting the step cannot build.
func (s Setup2) Validate() error {
	if err := s.Spec.Validate(); err != nil {
		return err
	}
	sh := s.Shape()
	switch {
	case s.Batch < 1 || s.Clones < 1:
		return fmt.Errorf("d2v2: batch %d and clones %d must be >= 1", s.Batch, s.Clones)
	case s.Keep < 1 || s.Keep >= sh.T:
		return fmt.Errorf("d2v2: %d visible positions per clone out of range [1,%d]", s.Keep, sh.T-1)
	case s.TargetLayer != "block" && s.TargetLayer != "ffn":
		return fmt.Errorf("d2v2: target layer %q (want block or ffn)", s.TargetLayer)
	case s.Scope != "all" && s.Scope != "blocks":
		return fmt.Errorf("d2v2: ema scope %q (want all or blocks)", s.Scope)
	case s.Target.TopK < 1 || s.Target.TopK > s.Spec.Depth:
		return fmt.Errorf("d2v2: top_k %d out of range [1,%d]", s.Target.TopK, s.Spec.Depth)
	case s.Loss.Reduction != loss.D2V:
		return fmt.Errorf("d2v2: loss reduction %q (data2vec 2.0 uses d2v)", s.Loss.Reduction)
	}
	if s.Decoder.Dim != s.Spec.Dim || s.Decoder.Positions != sh.T {
		return fmt.Errorf("d2v2: decoder for width %d over %d positions, the model has %d and %d", s.Decoder.Dim, s.Decoder.Positions, s.Spec.Dim, sh.T)
	}
	return s.Decoder.Validate()
}

// D2V2 owns the student (encoder, CLS token, decoder) and teacher
// parameters and the two graphs of a data2vec 2.0 step.
type D2V2 struct {
	Setup2
	Student *model.Params // student.* and decoder.*
	Teacher *model.Params // teacher.*
	Names   []string      // trainable parameter order (student then decoder)
	pairs   [][2]string

	st struct {
		vm                     G.VM
		in                     inputs2
		loss, lossReg, lossCLS G.Value
		pred, out, clsPred     *G.Node
		grads                  G.Nodes
		predC, outC, clsC      graphrun.Cache
		gradC                  []graphrun.Cache
		tgt32, cls32           []float32
		tgt64, cls64           []float64
	}
	tc struct {
		vm     G.VM
		in     any // x
		layers G.Nodes
		layerC []graphrun.Cache
		drop32 [][]float32 // the layers without their CLS rows
		drop64 [][]float64
		buf32  teacher.Buffers[float32]
		buf64  teacher.Buffers[float64]
		all    []bool // every position: the full targets
	}
}

// inputs2 is the backing memory of the student graph's inputs.
type inputs2 struct {
	x, keep, place, rows any // ops.CloneIndex writes the indices in place
	cloned               any // speech: (N*T) rows of the un-cloned features, -1 where masked; nil otherwise
	tgt, clsTgt          any // (N*(T-K), D) and (N, D); clsTgt nil without CLS
}

// Output2 is what one data2vec 2.0 pass produced (views valid until the next pass).
type Output2 struct {
	Loss, LossReg, LossCLS float64
	Pred, Targets          any   // (B*M*(T-K), D): masked rows, clone row outer
	TargetsFull            any   // (B, T, D)
	StudentOut             any   // (B*M, E+K, D)
	CLSPred, CLSTarget     any   // (B*M, D), nil without CLS
	Grads                  []any // per Names entry, raw (before clipping)
}

// New2 declares the parameters and builds both graphs; parameters are zero
// until Init or a checkpoint fills them.
func New2(s Setup2) (*D2V2, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	d := &D2V2{Setup2: s, Student: model.NewParams(s.Dtype), Teacher: model.NewParams(s.Dtype)}
	emb := s.embedding()
	emb.Declare(d.Student, "student")
	if s.CLS {
		d.Student.Add("student.cls", s.Spec.Dim)
	}
	model.Encoder{Spec: s.Spec}.Declare(d.Student, "student")
	s.Decoder.Declare(d.Student)
	if s.Scope == "all" {
		emb.Declare(d.Teacher, "teacher")
		if s.CLS {
			d.Teacher.Add("teacher.cls", s.Spec.Dim)
		}
	}
	s.teacherEncoder().Declare(d.Teacher, "teacher")
	d.Names = d.Student.Names()
	var err error
	if d.pairs, err = teacher.Pairs(d.Teacher, d.Student); err != nil {
		return nil, err
	}
	if err := d.buildStudent(); err != nil {
		return nil, fmt.Errorf("data2vec 2.0 student graph: %w", err)
	}
	if err := d.buildTeacher(); err != nil {
		return nil, fmt.Errorf("data2vec 2.0 teacher graph: %w", err)
	}
	return d, nil
}

// Init draws the student, CLS token and decoder from seed and copies the
// student into the teacher.
func (d *D2V2) Init(seed uint64) {
	r := rand.New(rand.NewPCG(seed, 0x64327632))
	d.embedding().Init(d.Student, "student", r)
	model.Encoder{Spec: d.Spec}.Init(d.Student, "student", r)
	if d.CLS {
		d.Student.TruncNormal("student.cls", d.Spec.InitStd, r)
	}
	d.Decoder.Init(d.Student, rand.New(rand.NewPCG(seed, 0x6465636f)))
	teacher.Update(d.Teacher, d.Student, d.pairs, 0)
}

// EMA moves the teacher towards the student with decay dec.
func (d *D2V2) EMA(dec float64) { teacher.Update(d.Teacher, d.Student, d.pairs, dec) }

// clsNode is the node GatherFill puts where an index is -1: the CLS token
// prefix.cls, or, without one, a zero vector that no index selects.
func (d *D2V2) clsNode(g *model.Graph, prefix string) *G.Node {
	if d.CLS {
		return g.Param(prefix + ".cls")
	}
	n, _ := g.Input(prefix+".in.no_cls", d.Spec.Dim)
	return n
}

// studentTokens is the student's input: each clone's [CLS,] visible
// tokens, (N*(E+K), D), gathered by keep (ops.CloneIndex's). The embedding
// runs once per un-cloned sample; a modality whose positions come from a
// convolution over its features (speech) instead runs that convolution on
// every clone with its masked frames zeroed, as fairseq does (it must not
// see the masked frames), so keep then indexes the N*T cloned rows.
func (d *D2V2) studentTokens(g *model.Graph, x, none, keep *G.Node) (*G.Node, error) {
	emb := d.embedding()
	pe, conv := d.Mod.(model.PosEncoder)
	if !conv {
		h, err := emb.Build(g, "student", x, none) // (B*T, D), un-cloned
		if err != nil {
			return nil, err
		}
		return ops.GatherFill(h, d.clsNode(g, "student"), keep)
	}
	sh := d.Shape()
	loc, err := d.Mod.Build(g, "student", x) // (B*T, D), un-cloned local features
	if err != nil {
		return nil, fmt.Errorf("%s local encoder: %w", d.Mod.Name(), err)
	}
	cl, ct := g.Input("student.in.cloned", sh.N*sh.T)
	d.st.in.cloned = ct.Data()
	zero, _ := g.Input("student.in.zero_frame", sh.D)
	xm, err := ops.GatherFill(loc, zero, cl) // every clone's frames, masked ones zero: (N*T, D)
	if err != nil {
		return nil, err
	}
	p, err := pe.BuildPos(g, "student", xm)
	if err != nil {
		return nil, fmt.Errorf("%s positional encoder: %w", d.Mod.Name(), err)
	}
	h := G.Must(ops.Add(xm, p))
	if d.Spec.EmbedLN {
		if h, err = ops.LayerNorm(h, g.Param("student.embed_ln.g"), g.Param("student.embed_ln.b"), d.Spec.LNEps); err != nil {
			return nil, err
		}
	}
	return ops.GatherFill(h, d.clsNode(g, "student"), keep)
}

func (d *D2V2) buildStudent() error {
	sh := d.Shape()
	g := model.NewGraph(d.Dtype, d.Student)
	x, xt := g.Input("student.in.x", d.Mod.InputShape(sh.B)...)
	none, _ := g.Input("student.in.no_mask", sh.B*sh.T) // all zero: nothing masked in the embedding
	keep, kt := g.Input("student.in.keep", sh.N*(sh.E+sh.K))
	place, pt := g.Input("student.in.place", sh.N*sh.T)
	rows, rt := g.Input("student.in.masked_rows", sh.SampleSize)
	tgt, tt := g.Input("student.in.targets", sh.SampleSize, sh.D)
	hv, err := d.studentTokens(g, x, none, keep) // clone r's [CLS,] visible tokens: (N*(E+K), D)
	if err != nil {
		return err
	}
	L, err := model.Encoder{Spec: d.Spec}.Build(g, "student", hv, sh.N)
	if err != nil {
		return err
	}
	// the student's outputs back at their positions, mask_emb at the masked ones: (N*T, D)
	full, err := d.Decoder.Input(g, L.Out, place)
	if err != nil {
		return err
	}
	y, err := d.Decoder.Build(g, full)
	if err != nil {
		return fmt.Errorf("decoder: %w", err)
	}
	pred, err := ops.Gather(y, rows) // (N*(T-K), D)
	if err != nil {
		return err
	}
	coef, err := d.Loss.Coef(sh.SampleSize, sh.D)
	if err != nil {
		return err
	}
	cost, err := ops.RegressionLoss(pred, tgt, d.Loss.Beta, coef)
	if err != nil {
		return err
	}
	G.Read(cost, &d.st.lossReg)
	d.st.in.x, d.st.in.keep, d.st.in.place, d.st.in.rows, d.st.in.tgt = xt.Data(), kt.Data(), pt.Data(), rt.Data(), tt.Data()
	if d.CLS {
		cr, crt := g.Input("student.in.cls_rows", sh.N)
		idx := make([]float64, sh.N)
		for r := range idx {
			idx[r] = float64(r * (1 + sh.K)) // each clone's first row
		}
		fillIndex(crt.Data(), idx)
		ctg, ctt := g.Input("student.in.cls_targets", sh.N, sh.D)
		cp, err := ops.Gather(L.Out, cr) // (N, D)
		if err != nil {
			return err
		}
		// not divided by the sample size: fairseq scales it by cls_loss * sample_size
		cc, err := d.Loss.Coef(1, sh.D)
		if err != nil {
			return err
		}
		lc, err := ops.RegressionLoss(cp, ctg, d.Loss.Beta, d.CLSWeight*cc)
		if err != nil {
			return err
		}
		G.Read(lc, &d.st.lossCLS)
		if cost, err = G.Add(cost, lc); err != nil {
			return err
		}
		d.st.clsPred, d.st.in.clsTgt = cp, ctt.Data()
	}
	grads, err := G.Grad(cost, g.Nodes(d.Names)...)
	if err != nil {
		return err
	}
	G.Read(cost, &d.st.loss)
	d.st.pred, d.st.out, d.st.grads = pred, L.Out, grads
	d.st.gradC = make([]graphrun.Cache, len(grads))
	d.st.vm = G.NewTapeMachine(g.G)
	return nil
}

func (d *D2V2) buildTeacher() error {
	sh := d.Shape()
	// scope blocks: the embedding and CLS nodes bind to the student's tensors.
	g := model.NewGraph(d.Dtype, d.Teacher, d.Student)
	x, xt := g.Input("teacher.in.x", d.Mod.InputShape(sh.B)...)
	none, _ := g.Input("teacher.in.no_mask", sh.B*sh.T)
	pre := "teacher"
	if d.Scope == "blocks" {
		pre = "student"
	}
	h, err := d.embedding().Build(g, pre, x, none) // (B*T, D)
	if err != nil {
		return err
	}
	if d.CLS { // every sample's rows become [CLS, t = 0..T-1]: (B*(1+T), D)
		idx, it := g.Input("teacher.in.cls_first", sh.B*(1+sh.T))
		rows := make([]float64, 0, sh.B*(1+sh.T))
		for s := 0; s < sh.B; s++ {
			rows = append(rows, -1) // the CLS token
			for p := 0; p < sh.T; p++ {
				rows = append(rows, float64(s*sh.T+p))
			}
		}
		fillIndex(it.Data(), rows)
		if h, err = ops.GatherFill(h, d.clsNode(g, pre), idx); err != nil {
			return err
		}
	}
	L, err := d.teacherEncoder().Build(g, "teacher", h, sh.B)
	if err != nil {
		return err
	}
	outs := L.Blocks
	if d.TargetLayer == "ffn" {
		outs = L.FFNs
	}
	d.tc.layers = outs[len(outs)-d.Target.TopK:]
	d.tc.layerC = make([]graphrun.Cache, len(d.tc.layers))
	d.tc.in = xt.Data()
	d.tc.all = make([]bool, sh.B*sh.T)
	for i := range d.tc.all {
		d.tc.all[i] = true
	}
	d.tc.vm = G.NewTapeMachine(g.G)
	return nil
}

// Close releases the graphs' machines.
func (d *D2V2) Close() {
	d.st.vm.Close()
	d.tc.vm.Close()
}
