package plot

import (
	"errors"
	"fmt"
	"github.com/d2v/d2v/internal/atomicfile"
	"io"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

const (
	// DPI is the PNG resolution: a 6x4 inch Lines plot is 576x384 pixels.
	DPI = 96
	// LinesWidth and LinesHeight are the size of a Lines plot.
	LinesWidth, LinesHeight = 6 * vg.Inch, 4 * vg.Inch
	// PanelWidth and PanelHeight are the size of one tile in Panels.
	PanelWidth, PanelHeight = 5 * vg.Inch, 3.5 * vg.Inch
)

// Series is one named curve; X and Y have equal length.
type Series struct {
	Name string
	X, Y []float64
}

// Panel is one plot among several tiled by Panels.
type Panel struct {
	Title, XLabel, YLabel string
	Series                []Series
	LogY                  bool // log-scale y axis; points with y <= 0 are skipped
}

// Lines writes a line plot of series, with a legend, to path as a 6x4 inch PNG.
// NaN and ±Inf points are skipped, as are y <= 0 when logY is set; it is an
// error if no series is given, a series is empty or X and Y lengths differ, or
// no drawable point is left.
func Lines(path, title, xLabel, yLabel string, series []Series, logY bool) error {
	p := Panel{Title: title, XLabel: xLabel, YLabel: yLabel, Series: series, LogY: logY}
	return render(path, []Panel{p}, 1, LinesWidth, LinesHeight)
}

// Panels tiles several plots, cols per row and as many rows as needed, into
// one PNG of cols*PanelWidth by rows*PanelHeight: e.g. loss, learning rate,
// EMA decay and target/prediction variance in one curves.png. Each panel
// obeys the rules of Lines.
func Panels(path string, panels []Panel, cols int) error {
	if len(panels) == 0 {
		return fmt.Errorf("plot %s: no panels given", path)
	}
	if cols <= 0 {
		return fmt.Errorf("plot %s: cols: must be > 0, got %d", path, cols)
	}
	cols = min(cols, len(panels))
	rows := (len(panels) + cols - 1) / cols
	return render(path, panels, cols, vg.Length(cols)*PanelWidth, vg.Length(rows)*PanelHeight)
}

// render draws panels on a cols-wide grid of one w x h canvas and saves it.
func render(path string, panels []Panel, cols int, w, h vg.Length) error {
	rows := (len(panels) + cols - 1) / cols
	grid := make([][]*gplot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*gplot.Plot, cols) // trailing cells stay nil: Align skips them
	}
	for i, pn := range panels {
		p, err := newLinePlot(pn)
		if err != nil {
			return fmt.Errorf("plot %s: panel %d %q: %w", path, i, pn.Title, err)
		}
		grid[i/cols][i%cols] = p
	}
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter, PadY: vg.Millimeter,
		PadTop: vg.Millimeter, PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: vg.Millimeter}
	canvases := gplot.Align(grid, tiles, dc)
	for r, row := range grid {
		for c, p := range row {
			if p != nil {
				p.Draw(canvases[r][c])
			}
		}
	}
	return writeAtomic(path, vgimg.PngCanvas{Canvas: img}.WriteTo)
}

// newLinePlot builds one plot with a line per series and a legend.
func newLinePlot(pn Panel) (*gplot.Plot, error) {
	if len(pn.Series) == 0 {
		return nil, errors.New("no series given")
	}
	p := gplot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = pn.Title, pn.XLabel, pn.YLabel
	p.Legend.Top = true
	if pn.LogY {
		p.Y.Scale = gplot.LogScale{}
		p.Y.Tick.Marker = gplot.LogTicks{Prec: -1}
	}
	p.Add(plotter.NewGrid())
	drawn := 0
	for i, s := range pn.Series {
		if len(s.X) == 0 || len(s.X) != len(s.Y) {
			return nil, fmt.Errorf("series %d %q: len(X) = %d, len(Y) = %d; want equal and > 0", i, s.Name, len(s.X), len(s.Y))
		}
		xys := finitePoints(s, pn.LogY)
		if len(xys) == 0 {
			continue // nothing drawable, e.g. a diverged run's all-NaN loss
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("series %d %q: %w", i, s.Name, err)
		}
		l.Color = plotutil.Color(i)
		l.Dashes = plotutil.Dashes(i / 7) // solid until the palette's 7 colours repeat
		l.Width = vg.Points(1.5)
		p.Add(l)
		if s.Name != "" {
			p.Legend.Add(s.Name, l)
		}
		drawn++
	}
	if drawn == 0 {
		return nil, errors.New("no finite point in any series")
	}
	if pn.LogY && p.Y.Min == p.Y.Max {
		// gonum widens a flat range to [y-1, y+1], which is <= 0 for y <= 1
		// and makes LogTicks panic (a first checkpoint with one loss point)
		p.Y.Min, p.Y.Max = p.Y.Min/2, p.Y.Max*2
	}
	return p, nil
}

// finitePoints drops NaN/Inf points, and non-positive y on a log axis.
func finitePoints(s Series, logY bool) plotter.XYs {
	xys := make(plotter.XYs, 0, len(s.X))
	for i, x := range s.X {
		y := s.Y[i]
		if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) || (logY && y <= 0) {
			continue
		}
		xys = append(xys, plotter.XY{X: x, Y: y})
	}
	return xys
}

// writeAtomic writes the picture through internal/atomicfile, so readers see
// the old file or the new one, never a partial one.
func writeAtomic(path string, write func(io.Writer) (int64, error)) error {
	if err := atomicfile.Write(path, func(w io.Writer) error { _, err := write(w); return err }); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return nil
}
