package main

import (
	"github.com/d2v/d2v/pkg/plot"
)

// plotPoints draws linear-probe and k-NN accuracy against pretraining
// wall-clock minutes (top) and process CPU minutes (bottom): one line per
// recipe, flat lines for its random init and for the raw pixels (measured
// once, drawn across the budgets).
func plotPoints(path string, pts []point) error {
	var panels []plot.Panel
	for _, axis := range []struct {
		label string
		x     func(point) float64
	}{
		{"pretraining wall-clock (min)", func(p point) float64 { return p.WallS / 60 }},
		{"pretraining CPU time, user+sys (min)", func(p point) float64 { return p.CPUS / 60 }},
	} {
		probe, knn := seriesOf(pts, axis.x)
		panels = append(panels,
			plot.Panel{Title: "linear probe, MNIST test", XLabel: axis.label, YLabel: "accuracy (%)", Series: probe},
			plot.Panel{Title: "k-NN (k=20), MNIST test", XLabel: axis.label, YLabel: "accuracy (%)", Series: knn})
	}
	return plot.Panels(path, panels, 2)
}

// seriesOf is the probe and k-NN series of pts against x.
func seriesOf(pts []point, x func(point) float64) (probe, knn []plot.Series) {
	var order []string
	by := map[string][]point{}
	for _, p := range pts {
		if _, ok := by[p.Recipe]; !ok {
			order = append(order, p.Recipe)
		}
		by[p.Recipe] = append(by[p.Recipe], p)
	}
	lo, hi := x(pts[0]), x(pts[0])
	for _, p := range pts {
		lo, hi = min(lo, x(p)), max(hi, x(p))
	}
	flat := func(name string, y float64) plot.Series {
		return plot.Series{Name: name, X: []float64{lo, hi}, Y: []float64{y, y}}
	}
	var raw *point
	for _, r := range order {
		var ps, ks plot.Series
		ps.Name, ks.Name = r, r
		for _, p := range by[r] {
			ps.X, ps.Y = append(ps.X, x(p)), append(ps.Y, p.Probe)
			ks.X, ks.Y = append(ks.X, x(p)), append(ks.Y, p.KNN)
			if p.RawProbe > 0 {
				probe = append(probe, flat(r+" random init", p.RandomProbe))
				knn = append(knn, flat(r+" random init", p.RandomKNN))
				raw = &p
			}
		}
		probe, knn = append(probe, ps), append(knn, ks)
	}
	if raw != nil {
		probe = append(probe, flat("raw pixels", raw.RawProbe))
		knn = append(knn, flat("raw pixels", raw.RawKNN))
	}
	return probe, knn
}
