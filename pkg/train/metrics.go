package train

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/d2v/d2v/pkg/checkpoint"
	"github.com/d2v/d2v/pkg/plot"
)

// Metric is one logged step (one JSON line in metrics.jsonl).
type Metric struct {
	Step      int64   `json:"step"` // optimiser updates completed
	Loss      float64 `json:"loss"`
	LR        float64 `json:"lr"`
	EMADecay  float64 `json:"ema_decay"`
	TargetVar float64 `json:"target_var"`        // fairseq compute_var of the targets
	PredVar   float64 `json:"pred_var"`          // the same for the predictions
	GradNorm  float64 `json:"grad_norm"`         // before clipping
	StepMS    float64 `json:"step_ms"`           // wall time of the whole step
	CommMS    float64 `json:"comm_ms,omitempty"` // of which in allreduces (data-parallel runs only)
}

// Metrics appends metric lines to a JSON-lines file and keeps them for plots.
type Metrics struct {
	Path string
	All  []Metric
}

// Truncate keeps only the lines with step <= upTo (all lines after a resume
// past the checkpoint are dropped, so the file matches the restored state).
func (m *Metrics) Truncate(upTo int64) error {
	m.All = nil
	b, err := os.ReadFile(m.Path)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("metrics: %w", err)
	}
	var keep bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var x Metric
		if json.Unmarshal(sc.Bytes(), &x) != nil || x.Step > upTo {
			continue // a torn last line from a killed run, or a step being redone
		}
		m.All = append(m.All, x)
		keep.Write(sc.Bytes())
		keep.WriteByte('\n')
	}
	return checkpoint.WriteFileAtomic(m.Path, keep.Bytes())
}

// Append writes one line.
func (m *Metrics) Append(x Metric) error {
	f, err := os.OpenFile(m.Path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	b, _ := json.Marshal(x)
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("metrics: %s: %w", m.Path, err)
	}
	m.All = append(m.All, x)
	return f.Close()
}

// Plot draws loss, learning rate, EMA decay and target/pred spread over steps.
func (m *Metrics) Plot(path string) error {
	if len(m.All) == 0 {
		return nil
	}
	n := len(m.All)
	x := make([]float64, n)
	col := func(f func(Metric) float64) []float64 {
		y := make([]float64, n)
		for i, v := range m.All {
			y[i] = f(v)
		}
		return y
	}
	for i, v := range m.All {
		x[i] = float64(v.Step)
	}
	s := func(name string, f func(Metric) float64) plot.Series { return plot.Series{Name: name, X: x, Y: col(f)} }
	panels := []plot.Panel{
		{Title: "loss", XLabel: "step", YLabel: "loss", LogY: true, Series: []plot.Series{s("loss", func(v Metric) float64 { return v.Loss })}},
		{Title: "learning rate", XLabel: "step", YLabel: "lr", Series: []plot.Series{s("lr", func(v Metric) float64 { return v.LR })}},
		{Title: "EMA decay", XLabel: "step", YLabel: "decay", Series: []plot.Series{s("ema_decay", func(v Metric) float64 { return v.EMADecay })}},
		{Title: "target / prediction spread", XLabel: "step", YLabel: "std", Series: []plot.Series{
			s("target_var", func(v Metric) float64 { return v.TargetVar }),
			s("pred_var", func(v Metric) float64 { return v.PredVar })}},
	}
	return plot.Panels(path, panels, 2)
}
