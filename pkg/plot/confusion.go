package plot

import (
	"fmt"
	"image/color"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Confusion writes a heat map of the confusion matrix m (m[t][p] counts rows
// of true class t predicted as p) with each count written in its cell; true
// classes run down the y axis from the top, predictions along x. Cells are
// coloured by row fraction (recall), so rare classes stay readable. classNames
// may be nil (classes are then numbered) or have one name per class. The
// image is square, confusionSide(len(m)) on each side.
func Confusion(path string, m [][]int, classNames []string, title string) error {
	n := len(m)
	if n == 0 {
		return fmt.Errorf("plot %s: empty confusion matrix", path)
	}
	for t, row := range m {
		if len(row) != n {
			return fmt.Errorf("plot %s: confusion row %d has %d columns, want %d (square)", path, t, len(row), n)
		}
	}
	if classNames != nil && len(classNames) != n {
		return fmt.Errorf("plot %s: %d class names for %d classes", path, len(classNames), n)
	}
	if classNames == nil {
		classNames = make([]string, n)
		for i := range classNames {
			classNames[i] = strconv.Itoa(i)
		}
	}
	g := newConfGrid(m)
	p := gplot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, "predicted", "true"
	hm := plotter.NewHeatMap(g, bluePalette(64))
	hm.Min, hm.Max = 0, 1
	p.Add(hm)

	var xys plotter.XYs
	var texts []string
	for r := range n {
		for c := range n {
			xys = append(xys, plotter.XY{X: float64(c), Y: float64(r)})
			texts = append(texts, strconv.Itoa(g.count(c, r)))
		}
	}
	labels, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: texts})
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	for i := range labels.TextStyle {
		st := &labels.TextStyle[i]
		st.XAlign, st.YAlign = draw.XCenter, draw.YCenter
		if g.Z(i%n, i/n) > 0.5 { // white on dark cells
			st.Color = color.White
		}
	}
	p.Add(labels)
	xt, yt := make(gplot.ConstantTicks, n), make(gplot.ConstantTicks, n)
	for i := range n {
		xt[i] = gplot.Tick{Value: float64(i), Label: classNames[i]}
		yt[i] = gplot.Tick{Value: float64(i), Label: classNames[n-1-i]}
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = xt, yt
	p.X.Min, p.X.Max = -0.5, float64(n)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(n)-0.5

	side := confusionSide(n)
	img := vgimg.NewWith(vgimg.UseWH(side, side), vgimg.UseDPI(DPI))
	p.Draw(draw.New(img))
	return writeAtomic(path, vgimg.PngCanvas{Canvas: img}.WriteTo)
}

// confusionSide grows with the class count so counts fit in their cells:
// 4 inches up to 5 classes, 0.6 inch more per class, at most 14 inches.
func confusionSide(n int) vg.Length {
	return vg.Length(min(14, max(4, 1+0.6*float64(n)))) * vg.Inch
}

// confGrid adapts a confusion matrix to plotter.GridXYZ. Grid row r is drawn
// at y = r, so it holds true class n-1-r to put class 0 at the top.
type confGrid struct {
	m    [][]int
	frac [][]float64 // row-normalised m
}

func newConfGrid(m [][]int) confGrid {
	frac := make([][]float64, len(m))
	for t, row := range m {
		frac[t] = make([]float64, len(row))
		sum := 0
		for _, c := range row {
			sum += c
		}
		for p, c := range row {
			if sum > 0 {
				frac[t][p] = float64(c) / float64(sum)
			}
		}
	}
	return confGrid{m: m, frac: frac}
}

func (g confGrid) Dims() (c, r int)   { return len(g.m), len(g.m) }
func (g confGrid) Z(c, r int) float64 { return g.frac[len(g.m)-1-r][c] }
func (g confGrid) X(c int) float64    { return float64(c) }
func (g confGrid) Y(r int) float64    { return float64(r) }
func (g confGrid) count(c, r int) int { return g.m[len(g.m)-1-r][c] }

// bluePalette runs from white (0) to dark blue (1) in n steps.
type bluePalette int

func (n bluePalette) Colors() []color.Color {
	cs := make([]color.Color, n)
	for i := range cs {
		t := float64(i) / float64(n-1)
		cs[i] = color.RGBA{R: uint8(255 - t*247), G: uint8(255 - t*207), B: uint8(255 - t*148), A: 255}
	}
	return cs
}
