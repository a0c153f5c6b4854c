package ops

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// GatherFill returns out (M, D) with out[i] = src[idx[i]] for idx[i] >= 0
// and out[i] = fill for idx[i] < 0, from src (R, D), fill (D) and idx (M).
// idx holds row numbers stored as floats (exact below 2^24) and gets no
// gradient; the gradient of src scatter-adds (repeated rows accumulate) and
// that of fill sums the filled rows.
//
// It is both ends of data2vec 2.0's visible-token path (CloneIndex builds
// the indices):
//
//   - the student input: the kept positions of every clone gathered from
//     the un-cloned embeddings, with the CLS vector as fill in front of
//     each clone (fairseq contextualized_features on the masked batch);
//   - the decoder input: the student outputs put back at their positions,
//     the CLS output skipped, every masked slot filled with the learned
//     mask vector (fairseq decoder_input; the reference's decoder.mask_emb).
func GatherFill(src, fill, idx *G.Node) (*G.Node, error) {
	s := src.Shape()
	if s.Dims() != 2 || fill.Dims() != 1 || fill.Shape()[0] != s[1] || idx.Dims() != 1 {
		return nil, fmt.Errorf("gatherfill: want src (R,D), fill (D) and idx (M), got %v, %v and %v", s, fill.Shape(), idx.Shape())
	}
	return apply(gatherFill{r: s[0], d: s[1], m: idx.Shape()[0]}, src, fill, idx)
}

type gatherFill struct{ r, d, m int }

func (k gatherFill) name() string { return fmt.Sprintf("GatherFill(R=%d,D=%d,M=%d)", k.r, k.d, k.m) }
func (k gatherFill) inShapes() []tensor.Shape {
	return []tensor.Shape{{k.r, k.d}, {k.d}, {k.m}}
}
func (k gatherFill) outShape() tensor.Shape { return tensor.Shape{k.m, k.d} }
func (k gatherFill) diff() []bool           { return []bool{true, true, false} }

func (k gatherFill) fwd(out any, in []any) {
	dispatch(out, func() { gatherFillFwd(k, as[float32](out), as[float32](in[0]), as[float32](in[1]), as[float32](in[2])) },
		func() { gatherFillFwd(k, as[float64](out), as[float64](in[0]), as[float64](in[1]), as[float64](in[2])) })
}

func (k gatherFill) bwd(gin, in []any, _, gout any) {
	dispatch(gout, func() {
		gatherFillBwd(k, as[float32](gin[0]), as[float32](gin[1]), as[float32](in[2]), as[float32](gout))
	},
		func() {
			gatherFillBwd(k, as[float64](gin[0]), as[float64](gin[1]), as[float64](in[2]), as[float64](gout))
		})
}

func gatherFillFwd[T Float](k gatherFill, y, src, fill, idx []T) {
	for _, f := range idx { // checked up front: a panic inside a worker would kill the process
		if r := int(f); f >= 0 && r >= k.r {
			panic(fmt.Sprintf("gatherfill: index %d out of range [0,%d)", r, k.r))
		}
	}
	parallel(k.m, 256, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			row := fill
			if f := idx[i]; f >= 0 {
				row = src[int(f)*k.d : (int(f)+1)*k.d]
			}
			copy(y[i*k.d:(i+1)*k.d], row)
		}
	})
}

func gatherFillBwd[T Float](k gatherFill, dsrc, dfill, idx, dy []T) {
	clear(dsrc)
	clear(dfill)
	for i, f := range idx { // in index order: fixed, whatever the repeats
		dst := dfill
		if f >= 0 {
			dst = dsrc[int(f)*k.d : (int(f)+1)*k.d]
		}
		addTo(dst, dy[i*k.d:(i+1)*k.d])
	}
}

// CloneIndex writes GatherFill's indices for data2vec 2.0 from the clone
// masks: mask (rows*T) is row-major (rows = B*clones, row r is sample
// r/clones; true = masked) and every row keeps the same number K of
// positions. E = extra tokens (the CLS token: 0 or 1) in front of each
// student row. Each destination may be nil (not wanted); their lengths fix K:
//
//   - keep (rows*(E+K)): the student input. keep[r*(E+K)+e] = -1 (the fill,
//     i.e. CLS) for e < E, then (r/clones)*T + t for row r's kept positions
//     t in ascending order: rows of the un-cloned (B*T, D) embeddings, so the
//     clones are never materialised and their gradients add up per sample.
//   - place (rows*T): the decoder input. place[r*T+t] = r*(E+K) + E + j when
//     t is row r's j-th kept position (a row of the student output), -1
//     (the mask vector) where t is masked.
//   - masked (rows*(T-K)): r*T+t for every masked (r, t) in row-major order:
//     the Gather of the decoder output that gives the predictions, in the
//     order of the reference's pred and targets.
func CloneIndex[T Float](keep, place, masked []T, mask []bool, rows, t, clones, extra int) error {
	if rows < 1 || t < 1 || clones < 1 || rows%clones != 0 || extra < 0 || len(mask) != rows*t {
		return fmt.Errorf("cloneindex: mask of %d values for %d rows of %d positions (clones %d, extra %d)", len(mask), rows, t, clones, extra)
	}
	nk := t
	for _, m := range mask[:t] {
		if m {
			nk--
		}
	}
	if nk < 1 {
		return fmt.Errorf("cloneindex: mask row 0 keeps no position of %d: the student needs at least one", t)
	}
	for _, n := range []struct {
		name      string
		got, want int
	}{
		{"keep", len(keep), rows * (extra + nk)},
		{"place", len(place), rows * t},
		{"masked", len(masked), rows * (t - nk)},
	} {
		if n.got != 0 && n.got != n.want {
			return fmt.Errorf("cloneindex: %s has %d values, want %d (%d rows keeping %d of %d positions)", n.name, n.got, n.want, rows, nk, t)
		}
	}
	ki, mi := 0, 0
	for r := 0; r < rows; r++ {
		if keep != nil {
			for e := 0; e < extra; e++ {
				keep[ki] = -1
				ki++
			}
		}
		j := 0
		for p, m := range mask[r*t : (r+1)*t] {
			if m {
				if masked != nil && mi < len(masked) {
					masked[mi] = T(r*t + p)
				}
				mi++
				if place != nil {
					place[r*t+p] = -1
				}
				continue
			}
			if j < nk {
				if keep != nil {
					keep[ki] = T((r/clones)*t + p)
					ki++
				}
				if place != nil {
					place[r*t+p] = T(r*(extra+nk) + extra + j)
				}
			}
			j++
		}
		if j != nk {
			return fmt.Errorf("cloneindex: mask row %d keeps %d positions, row 0 keeps %d: every clone must keep the same count", r, j, nk)
		}
	}
	return nil
}
