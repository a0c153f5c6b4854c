package masking

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// maxAttempts is how many random rectangles one placement tries before
// giving up, as BEiT's generator does.
const maxAttempts = 10

// Block fills dst (len gh*gw, row-major over the patch grid) with exactly
// n true cells using BEiT block-wise masking: it repeatedly draws a
// rectangle whose area is uniform in [minPerBlock, min(maxPerBlock,
// still-to-mask)] and whose aspect ratio h/w is log-uniform in
// [minAspect, maxAspect], and masks its cells if that adds between 1 and
// the allowed number of new cells. When a placement fails maxAttempts
// times in a row, the remainder is filled with random unmasked cells next
// to masked ones (any unmasked cell if none borders the mask), so the
// count is always exactly n. maxPerBlock <= 0 means no upper limit.
// BEiT's defaults are minPerBlock 16, minAspect 0.3, maxAspect 1/0.3.
//
// Block panics on parameters ValidateBlock rejects or a wrong len(dst).
func Block(rng *rand.Rand, gh, gw, n, minPerBlock, maxPerBlock int, minAspect, maxAspect float64, dst []bool) {
	if err := ValidateBlock(gh, gw, n, minPerBlock, maxPerBlock, minAspect, maxAspect); err != nil {
		panic(err)
	}
	if len(dst) != gh*gw {
		panic(fmt.Sprintf("masking: Block: len(dst) = %d, want gh*gw = %d", len(dst), gh*gw))
	}
	clear(dst)
	g := grid{gh: gh, gw: gw, cells: dst}
	logMin, logMax := math.Log(minAspect), math.Log(maxAspect)
	count := 0
	for count < n {
		limit := n - count
		if maxPerBlock > 0 {
			limit = min(limit, maxPerBlock)
		}
		added := g.placeBlock(rng, minPerBlock, limit, logMin, logMax)
		if added == 0 {
			break
		}
		count += added
	}
	g.fix(rng, count, n)
}

// grid is a row-major boolean mask over gh x gw patches.
type grid struct {
	gh, gw int
	cells  []bool
}

// placeBlock tries up to maxAttempts rectangles and masks the first one
// that adds between 1 and limit new cells. It returns the cells added.
func (g grid) placeBlock(rng *rand.Rand, minArea, limit int, logMin, logMax float64) int {
	lo, hi := float64(minArea), float64(limit) // hi < lo when few cells remain: the draw then lies in [hi, lo]
	for range maxAttempts {
		area := lo + rng.Float64()*(hi-lo)
		aspect := math.Exp(logMin + rng.Float64()*(logMax-logMin)) // h/w
		h := int(math.Round(math.Sqrt(area * aspect)))
		w := int(math.Round(math.Sqrt(area / aspect)))
		if h < 1 || w < 1 || h > g.gh || w > g.gw {
			continue
		}
		top, left := rng.IntN(g.gh-h+1), rng.IntN(g.gw-w+1)
		fresh := 0
		for y := top; y < top+h; y++ {
			for x := left; x < left+w; x++ {
				if !g.cells[y*g.gw+x] {
					fresh++
				}
			}
		}
		if fresh == 0 || fresh > limit {
			continue
		}
		for y := top; y < top+h; y++ {
			for x := left; x < left+w; x++ {
				g.cells[y*g.gw+x] = true
			}
		}
		return fresh
	}
	return 0
}

// fix brings the mask from count to exactly n true cells: it grows the
// mask one random border cell at a time, or clears random masked cells.
func (g grid) fix(rng *rand.Rand, count, n int) {
	cand := make([]int, 0, len(g.cells))
	for ; count < n; count++ {
		cand = cand[:0]
		for i, m := range g.cells {
			if !m && g.touchesMask(i) {
				cand = append(cand, i)
			}
		}
		if len(cand) == 0 { // empty mask: any cell will do
			for i, m := range g.cells {
				if !m {
					cand = append(cand, i)
				}
			}
		}
		g.cells[cand[rng.IntN(len(cand))]] = true
	}
	for ; count > n; count-- {
		cand = cand[:0]
		for i, m := range g.cells {
			if m {
				cand = append(cand, i)
			}
		}
		g.cells[cand[rng.IntN(len(cand))]] = false
	}
}

// touchesMask reports whether cell i has a masked 4-neighbour.
func (g grid) touchesMask(i int) bool {
	y, x := i/g.gw, i%g.gw
	return (y > 0 && g.cells[i-g.gw]) || (y < g.gh-1 && g.cells[i+g.gw]) ||
		(x > 0 && g.cells[i-1]) || (x < g.gw-1 && g.cells[i+1])
}
