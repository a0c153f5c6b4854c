package downstream

import (
	"fmt"

	"github.com/d2v/d2v/pkg/model"
)

// Features runs the encoder over every example of a split: (N, FeatDim)
// features, mean-pooled over the real tokens (the split's pooling weights).
// With a NewFeatures encoder and grid > 1 the token grid of an image is cut
// into grid x grid regions (rows and columns split as evenly as they go)
// and each region is pooled on its own: (N, grid*grid*FeatDim), regions in
// row-major order.
func Features(enc *Classifier, sp *Labelled, grid int) ([]float32, error) {
	D, T := enc.FeatDim(), enc.Setup.Mod.NumTokens()
	regions, err := poolRegions(enc, max(grid, 1))
	if err != nil {
		return nil, err
	}
	R := len(regions)
	out := make([]float32, sp.N*R*D)
	idx := make([]int, enc.batch)
	for lo := 0; lo < sp.N; lo += enc.batch {
		for i := range idx {
			idx[i] = min(lo+i, sp.N-1) // pad the last batch by repeating the last example
		}
		x, w := sp.Inputs(idx)
		f, _, _, _, err := enc.Run(x, w, nil)
		if err != nil {
			return nil, err
		}
		n := min(enc.batch, sp.N-lo)
		if !enc.tokens {
			copy(out[lo*D:(lo+n)*D], f[:n*D])
			continue
		}
		for i := range n { // (T, D) tokens -> (R, D) region means
			for r, in := range regions {
				pool(out[((lo+i)*R+r)*D:((lo+i)*R+r+1)*D], f[i*T*D:(i+1)*T*D], w[i*T:(i+1)*T], in)
			}
		}
	}
	return out, nil
}

// pool writes into dst (D) the mean of the tokens x (T, D) in region in,
// weighted by w (T); zeros if the region holds no real token.
func pool(dst, x, w []float32, in []bool) {
	clear(dst)
	D, sum := len(dst), float32(0)
	for t, ok := range in {
		if !ok || w[t] == 0 {
			continue
		}
		sum += w[t]
		for j, v := range x[t*D : (t+1)*D] {
			dst[j] += w[t] * v
		}
	}
	if sum != 0 {
		for j := range dst {
			dst[j] /= sum
		}
	}
}

// poolRegions is the token membership of each pooling region: one region of
// every token, or grid x grid regions of an image's patch grid.
func poolRegions(enc *Classifier, grid int) ([][]bool, error) {
	T := enc.Setup.Mod.NumTokens()
	if grid == 1 {
		all := make([]bool, T)
		for t := range all {
			all[t] = true
		}
		return [][]bool{all}, nil
	}
	m, ok := enc.Setup.Mod.(model.Patches)
	if !ok || !enc.tokens || m.GridH*m.GridW != T || grid > min(m.GridH, m.GridW) {
		return nil, fmt.Errorf("probe grid %d: needs an image patch grid of at least %d x %d tokens", grid, grid, grid)
	}
	regions := make([][]bool, grid*grid)
	for r := range regions {
		regions[r] = make([]bool, T)
	}
	for t := range T {
		y, x := t/m.GridW, t%m.GridW
		regions[(y*grid/m.GridH)*grid+x*grid/m.GridW][t] = true
	}
	return regions, nil
}
