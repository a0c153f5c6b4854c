package ops

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MaskPos replaces the masked rows of e (B*T, D) by the mask embedding
// memb (D) and adds the position table pos (T, D):
// out[b*T+t] = (mask[b*T+t] != 0 ? memb : e[b*T+t]) + pos[t].
// mask (B*T) holds 0/1 and gets no gradient.
func MaskPos(e, memb, pos, mask *G.Node) (*G.Node, error) {
	s := e.Shape()
	if s.Dims() != 2 || pos.Dims() != 2 || s[0]%pos.Shape()[0] != 0 {
		return nil, fmt.Errorf("maskpos: e %v and pos %v do not match", s, pos.Shape())
	}
	return apply(maskPos{n: s[0], t: pos.Shape()[0], d: s[1]}, e, memb, pos, mask)
}

type maskPos struct{ n, t, d int }

func (k maskPos) name() string { return fmt.Sprintf("MaskPos(N=%d,T=%d,D=%d)", k.n, k.t, k.d) }
func (k maskPos) inShapes() []tensor.Shape {
	return []tensor.Shape{{k.n, k.d}, {k.d}, {k.t, k.d}, {k.n}}
}
func (k maskPos) outShape() tensor.Shape { return tensor.Shape{k.n, k.d} }
func (k maskPos) diff() []bool           { return []bool{true, true, true, false} }

func (k maskPos) fwd(out any, in []any) {
	dispatch(out, func() {
		maskPosFwd(k, as[float32](out), as[float32](in[0]), as[float32](in[1]), as[float32](in[2]), as[float32](in[3]))
	}, func() {
		maskPosFwd(k, as[float64](out), as[float64](in[0]), as[float64](in[1]), as[float64](in[2]), as[float64](in[3]))
	})
}

func (k maskPos) bwd(gin, in []any, _, gout any) {
	dispatch(gout, func() {
		maskPosBwd(k, as[float32](gin[0]), as[float32](gin[1]), as[float32](gin[2]), as[float32](in[3]), as[float32](gout))
	}, func() {
		maskPosBwd(k, as[float64](gin[0]), as[float64](gin[1]), as[float64](gin[2]), as[float64](in[3]), as[float64](gout))
	})
}

func maskPosFwd[T Float](k maskPos, y, e, memb, pos, mask []T) {
	for r := 0; r < k.n; r++ {
		src := e[r*k.d : (r+1)*k.d]
		if mask[r] != 0 {
			src = memb
		}
		p, yr := pos[(r%k.t)*k.d:(r%k.t+1)*k.d], y[r*k.d:(r+1)*k.d]
		for j := range yr {
			yr[j] = src[j] + p[j]
		}
	}
}

func maskPosBwd[T Float](k maskPos, de, dm, dp, mask, dy []T) {
	clear(dm)
	clear(dp)
	for r := 0; r < k.n; r++ {
		dyr, der := dy[r*k.d:(r+1)*k.d], de[r*k.d:(r+1)*k.d]
		if mask[r] != 0 {
			clear(der)
			for j, v := range dyr {
				dm[j] += v
			}
		} else {
			copy(der, dyr)
		}
		dpr := dp[(r%k.t)*k.d : (r%k.t+1)*k.d]
		for j, v := range dyr {
			dpr[j] += v
		}
	}
}

// Gather returns the rows src[idx[i]] (M, D) of src (R, D). idx (M) holds
// row numbers stored as floats (exact below 2^24) and gets no gradient; the
// gradient of src scatter-adds, so repeated indices accumulate. It is the
// token-embedding lookup and the selection of masked positions.
func Gather(src, idx *G.Node) (*G.Node, error) {
	s := src.Shape()
	if s.Dims() != 2 || idx.Dims() != 1 {
		return nil, fmt.Errorf("gather: want src (R,D) and idx (M), got %v and %v", s, idx.Shape())
	}
	return apply(gather{r: s[0], d: s[1], m: idx.Shape()[0]}, src, idx)
}

type gather struct{ r, d, m int }

func (k gather) name() string { return fmt.Sprintf("Gather(R=%d,D=%d,M=%d)", k.r, k.d, k.m) }
func (k gather) inShapes() []tensor.Shape {
	return []tensor.Shape{{k.r, k.d}, {k.m}}
}
func (k gather) outShape() tensor.Shape { return tensor.Shape{k.m, k.d} }
func (k gather) diff() []bool           { return []bool{true, false} }

func (k gather) fwd(out any, in []any) {
	dispatch(out, func() { gatherFwd(k, as[float32](out), as[float32](in[0]), as[float32](in[1])) },
		func() { gatherFwd(k, as[float64](out), as[float64](in[0]), as[float64](in[1])) })
}

func (k gather) bwd(gin, in []any, _, gout any) {
	dispatch(gout, func() { gatherBwd(k, as[float32](gin[0]), as[float32](in[1]), as[float32](gout)) },
		func() { gatherBwd(k, as[float64](gin[0]), as[float64](in[1]), as[float64](gout)) })
}

func gatherFwd[T Float](k gather, y, src, idx []T) {
	for i, f := range idx {
		r := int(f)
		if r < 0 || r >= k.r {
			panic(fmt.Sprintf("gather: index %d out of range [0,%d)", r, k.r))
		}
		copy(y[i*k.d:(i+1)*k.d], src[r*k.d:(r+1)*k.d])
	}
}

func gatherBwd[T Float](k gather, dsrc, idx, dy []T) {
	clear(dsrc)
	for i, f := range idx {
		r := int(f)
		row, g := dsrc[r*k.d:(r+1)*k.d], dy[i*k.d:(i+1)*k.d]
		for j, v := range g {
			row[j] += v
		}
	}
}
