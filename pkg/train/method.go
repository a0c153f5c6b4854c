package train

import (
	"fmt"

	"gorgonia.org/tensor"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/feed"
	"github.com/d2v/d2v/pkg/loss"
	"github.com/d2v/d2v/pkg/model"
)

// Model is the state a pretraining method trains: the student's trainable
// parameters (in the optimiser's order) and the EMA teacher. Checkpoints,
// resume and the data-parallel replicas only need this. *D2V (data2vec)
// and *D2V2 (data2vec 2.0) are Models.
type Model interface {
	Params() (student, teacher *model.Params, names []string)
}

// Params returns the student (and head), the teacher and the trainable names.
func (d *D2V) Params() (*model.Params, *model.Params, []string) { return d.Student, d.Teacher, d.Names }

// Params returns the student (and decoder), the teacher and the trainable names.
func (d *D2V2) Params() (*model.Params, *model.Params, []string) {
	return d.Student, d.Teacher, d.Names
}

// trainee is one method's step as Pretrain drives it.
type trainee interface {
	Model
	Init(seed uint64)
	EMA(dec float64)
	Close()
	// pass is one forward/backward on a batch from feed.Source.Batch: the
	// student's and the teacher's inputs and the source's masks; sample
	// `first` of the global batch is its first row.
	pass(student, teacherIn any, mask []bool, seed, step int64, first int) (*Output, error)
	describe() string // the header's "<T> tokens (<n> masked)..." part
	decayed(name string) bool
}

func (d *D2V) pass(student, teacherIn any, mask []bool, _, _ int64, _ int) (*Output, error) {
	return d.ForwardPair(student, teacherIn, mask)
}

func (d *D2V) describe() string {
	return fmt.Sprintf("%d tokens (%d masked)", d.Mod.NumTokens(), d.NMask)
}

func (d *D2V) decayed(name string) bool { return Decayed(name) }

// Setup2For translates a config (method data2vec2) into the data2vec 2.0
// step's settings for B samples: every derived value (kept positions, the
// decoder's widths and positions) comes from here.
func Setup2For(c *config.Config, B int, in feed.Input) Setup2 {
	s := SetupWith(c, B, in)
	dc := c.Decoder
	return Setup2{
		Spec: s.Spec, Mod: s.Mod, Batch: B, Clones: c.Clones.Count, Keep: feed.NumKept(c),
		CLS: c.Clones.CLS, CLSWeight: c.Clones.CLSWeight,
		Decoder: model.Decoder{Kind: model.DecoderKind(dc.Kind), Dim: c.Model.Dim, DecDim: dc.Dim, Kernel: dc.Kernel,
			Groups: dc.Groups, Layers: dc.Layers, Residual: dc.Residual, ProjLayers: dc.ProjLayers,
			Positions: s.Mod.NumTokens(), LNEps: c.Model.LNEps},
		TargetLayer: s.TargetLayer, Scope: s.Scope, Target: s.Target,
		Loss:  loss.Spec{Beta: c.Loss.Beta, Scale: c.Loss.Scale, Reduction: loss.D2V},
		Dtype: tensor.Float32,
	}
}

// v2Trainee is the data2vec 2.0 step with its clone masks: it ignores the
// source's data2vec 1 masks and the student's corrupted text, and feeds
// the clean input (the teacher's) to both.
type v2Trainee struct {
	*D2V2
	masks *feed.CloneMasks
}

func (v *v2Trainee) pass(_, teacherIn any, _ []bool, seed, step int64, first int) (*Output, error) {
	o, err := v.Forward2(teacherIn, v.masks.Masks(seed, step, first))
	if err != nil {
		return nil, err
	}
	return &Output{Loss: o.Loss, Pred: o.Pred, Targets: o.Targets, Grads: o.Grads}, nil
}

func (v *v2Trainee) describe() string {
	sh := v.Shape()
	cls := ""
	if v.CLS {
		cls = " + CLS"
	}
	return fmt.Sprintf("data2vec 2.0: %d tokens, %d clones each keeping %d%s, %s decoder", sh.T, sh.M, sh.K, cls, v.Decoder.Kind)
}

func (v *v2Trainee) decayed(name string) bool { return Decayed2(name) }

// newTrainee builds the configured method's step for B samples.
func newTrainee(cfg *config.Config, B int, in feed.Input, device string) (trainee, error) {
	if cfg.Method != config.MethodData2Vec2 {
		setup := SetupWith(cfg, B, in)
		if device != "" && device != DeviceCPU {
			setup.Parts = 1 // the device runs the whole batch; CPU parts would go unused
		}
		return New(setup)
	}
	if device != "" && device != DeviceCPU {
		return nil, bad(fmt.Errorf("--device %s: method data2vec2 runs on the CPU only", device))
	}
	masks, err := feed.NewCloneMasks(cfg, B)
	if err != nil {
		return nil, bad(err)
	}
	d, err := New2(Setup2For(cfg, B, in))
	if err != nil {
		return nil, err
	}
	return &v2Trainee{D2V2: d, masks: masks}, nil
}
