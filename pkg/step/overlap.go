package step

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/d2v/d2v/internal/floats"
	"github.com/d2v/d2v/internal/par"
	"github.com/d2v/d2v/pkg/ops"
)

// The overlap of teacher and student in one data2vec step.
//
// What runs where, and why: the student's loss is the first thing that
// needs the teacher's targets, and it comes after the student's whole
// forward pass up to its predictions. So the targets enter the student's
// graph through an ops.Await node placed after the predictions, and the
// teacher (its forward pass and teacher.Targets) runs on its own goroutine
// while the student's graph runs on the calling one: when the tape reaches
// the Await node it blocks until the targets arrive, then finishes the loss
// and the backward pass. With a core to spare this made the step 4-12%
// faster; with none (one core, or the parts of a split batch, which hold a
// core each) the teacher runs first on the calling goroutine, which keeps
// the caches warm.
//
// Speech with EMA scope blocks goes one step further: the teacher shares
// the student's conv feature encoder and sees the same waveform, so it
// starts from the student's features instead of recomputing them. An
// ops.Emit node in the student's graph copies them into that teacher's
// input and signals featuresReady; that teacher always runs beside the
// student, since it waits for the student.
//
// The graphs share no output memory and every kernel's result is
// independent of scheduling, so the bits are those of running the teacher
// and then the student (TestForwardPairOverlapIsExact,
// TestAudioTeacherFromStudentFeaturesIsExact).

// handoff carries the teacher's targets, and for speech the student's
// features, between the two graphs of one step.
type handoff struct {
	targets       chan ops.Arrival // read by the Await node of the student's graph
	featuresReady chan struct{}    // signalled by the student's Emit node; nil without one
}

func newHandoff(features bool) handoff {
	h := handoff{targets: make(chan ops.Arrival, 1)}
	if features {
		h.featuresReady = make(chan struct{}, 1)
	}
	return h
}

// awaitTargets is the student graph's node for the (m, d) targets, run
// after `after` (the predictions).
func (h *handoff) awaitTargets(after *G.Node, m, d int) (*G.Node, error) {
	return ops.Await(after, m, d, h.targets)
}

// emitFeatures passes x through and, when it runs, copies its value into
// dst (the feature teacher's input) and signals featuresReady.
func (h *handoff) emitFeatures(x *G.Node, dst any) (*G.Node, error) {
	return ops.Emit(x, dst, h.featuresReady)
}

// waitFeatures blocks until the student's Emit has run, or fails once the
// student's run has ended without it (abort closed).
func (h *handoff) waitFeatures(abort <-chan struct{}) error {
	select {
	case <-h.featuresReady:
		return nil
	case <-abort:
		return fmt.Errorf("teacher: the student stopped before its features")
	}
}

// run runs the student's graph while teach makes its n targets (teach
// must return once abort is closed): beside the student when beside is set
// or a core is spare, else first. It returns the targets, teach's error,
// or the student's; the caller reads the student's outputs, then resets it.
func (h *handoff) run(student G.VM, teach func(abort <-chan struct{}) (any, error), n int, beside bool) (any, error) {
	if h.featuresReady != nil {
		select { // a pass that stopped after the student's Emit left a stale signal
		case <-h.featuresReady:
		default:
		}
	}
	var y any
	var terr error
	done, abort := make(chan struct{}), make(chan struct{})
	teacher := func() {
		defer close(done)
		y, terr = teach(abort)
		if terr == nil && floats.Len(y) != n {
			terr = fmt.Errorf("targets have %d values, want %d", floats.Len(y), n)
		}
		h.targets <- ops.Arrival{Values: y, Err: terr}
	}
	if beside || par.Workers() > 1 {
		go teacher() // a spare core (or the student's features needed): beside the student
	} else {
		teacher() // every core busy (one, or a split batch's parts): in turn, caches warm
	}
	err := student.RunAll()
	close(abort)
	<-done
	select { // a run that failed before the Await node left the targets unread
	case <-h.targets:
	default:
	}
	if terr != nil {
		return nil, terr
	}
	if err != nil {
		return nil, fmt.Errorf("student forward/backward: %w", err)
	}
	return y, nil
}
