package train

import (
	"fmt"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/feed"
	"github.com/d2v/d2v/pkg/model"
	"github.com/d2v/d2v/pkg/step"
)

// Model is the state a pretraining method trains: the student's trainable
// parameters (in the optimiser's order) and the EMA teacher. Checkpoints,
// resume and the data-parallel replicas only need this. *step.D2V
// (data2vec) and *step.D2V2 (data2vec 2.0) are Models.
type Model interface {
	Params() (student, teacher *model.Params, names []string)
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
	pass(student, teacherIn any, mask []bool, seed, step int64, first int) (*step.Output, error)
	describe() string // the header's "<T> tokens (<n> masked)..." part
	decayed(name string) bool
}

// v1Trainee is the data2vec step: it runs on the source's inputs and masks.
type v1Trainee struct{ *step.D2V }

func (d v1Trainee) pass(student, teacherIn any, mask []bool, _, _ int64, _ int) (*step.Output, error) {
	return d.ForwardPair(student, teacherIn, mask)
}

func (d v1Trainee) describe() string {
	return fmt.Sprintf("%d tokens (%d masked)", d.Mod.NumTokens(), d.NMask)
}

func (d v1Trainee) decayed(name string) bool { return Decayed(name) }

// v2Trainee is the data2vec 2.0 step with its clone masks: it ignores the
// source's data2vec 1 masks and the student's corrupted text, and feeds
// the clean input (the teacher's) to both.
type v2Trainee struct {
	*step.D2V2
	masks *feed.CloneMasks
}

func (v *v2Trainee) pass(_, teacherIn any, _ []bool, seed, stepNo int64, first int) (*step.Output, error) {
	o, err := v.Forward2(teacherIn, v.masks.Masks(seed, stepNo, first))
	if err != nil {
		return nil, err
	}
	return &step.Output{Loss: o.Loss, Pred: o.Pred, Targets: o.Targets, Grads: o.Grads}, nil
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
		setup := step.SetupWith(cfg, B, in)
		if device != "" && device != DeviceCPU {
			setup.Parts = 1 // the device runs the whole batch; CPU parts would go unused
		}
		d, err := step.New(setup)
		if err != nil {
			return nil, err
		}
		return v1Trainee{d}, nil
	}
	if device != "" && device != DeviceCPU {
		return nil, bad(fmt.Errorf("--device %s: method data2vec2 runs on the CPU only", device))
	}
	masks, err := feed.NewCloneMasks(cfg, B)
	if err != nil {
		return nil, bad(err)
	}
	d, err := step.New2(step.Setup2For(cfg, B, in))
	if err != nil {
		return nil, err
	}
	return &v2Trainee{D2V2: d, masks: masks}, nil
}
