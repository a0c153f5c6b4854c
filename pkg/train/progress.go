package train

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Progress shows a bar on a terminal, or a plain line every few seconds
// otherwise (CI logs, redirected output).
type Progress struct {
	bar   *progressbar.ProgressBar
	w     io.Writer
	total int64
	start time.Time
	first int64
	last  time.Time
}

// NewProgress shows steps done of total on w (a bar on a terminal); enabled
// false shows nothing.
func NewProgress(w io.Writer, enabled bool, total, done int64) *Progress {
	p := &Progress{w: w, total: total, start: time.Now(), first: done}
	if !enabled {
		p.w = nil
		return p
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(w), progressbar.OptionShowCount(),
			progressbar.OptionShowIts(), progressbar.OptionSetItsString("steps"), progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionSetWidth(20), progressbar.OptionFullWidth())
		_ = p.bar.Set64(done)
	}
	return p
}

// Update shows step done and its metrics.
func (p *Progress) Update(done int64, m Metric) {
	desc := fmt.Sprintf("loss %.4f lr %.2e ema %.5f tvar %.3f pvar %.3f", m.Loss, m.LR, m.EMADecay, m.TargetVar, m.PredVar)
	if p.bar != nil {
		p.bar.Describe(desc)
		_ = p.bar.Set64(done)
		return
	}
	if p.w == nil || (time.Since(p.last) < 5*time.Second && done != p.total) {
		return
	}
	p.last = time.Now()
	el := time.Since(p.start).Seconds()
	rate := float64(done-p.first) / el
	eta := time.Duration(float64(p.total-done)/rate) * time.Second
	fmt.Fprintf(p.w, "step %d/%d %s %.2f steps/s eta %s\n", done, p.total, desc, rate, eta.Round(time.Second))
}

// Finish ends the bar.
func (p *Progress) Finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
		fmt.Fprintln(p.w)
	}
}
