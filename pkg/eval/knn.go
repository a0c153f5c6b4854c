package eval

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

const (
	// DefaultK is the neighbour count used when KNN gets k = 0 (DINO uses 20).
	DefaultK = 20
	// KNNTemperature scales cosine similarities in the vote weight
	// exp(sim/T); 0.07 as in InstDisc (Wu et al. 2018) and DINO.
	KNNTemperature = 0.07

	knnTestBlock  = 64   // test rows per similarity tile
	knnTrainBlock = 2048 // train rows per similarity tile: 64x2048 float32 = 512 KiB
)

// KNN classifies each test row by a weighted vote of its k most cosine-similar
// train rows. Both sets are L2-normalised (an all-zero row stays zero and has
// similarity 0 to everything). Neighbour j votes for its label with weight
// exp(sim_j / KNNTemperature), as in InstDisc and DINO, so close neighbours
// dominate. k = 0 means DefaultK; k larger than train.N is clamped to it.
// Ties: among equally similar train rows the lower index is kept, and among
// equal votes the lower class wins. Test rows are processed in parallel;
// each row's answer does not depend on the others, so results are deterministic.
func KNN(train, test Features, k int) (*Result, error) {
	if err := checkPair(train, test); err != nil {
		return nil, fmt.Errorf("knn: %w", err)
	}
	if k < 0 {
		return nil, fmt.Errorf("knn: k: must be >= 0 (0 means %d), got %d", DefaultK, k)
	}
	if k == 0 {
		k = DefaultK
	}
	k = min(k, train.N)
	xTrain, xTest := normalise(train), normalise(test)
	pred := make([]int, test.N)
	blocks := chunks(test.N, (test.N+knnTestBlock-1)/knnTestBlock)
	next := make(chan [2]int, len(blocks))
	for _, b := range blocks {
		next <- b
	}
	close(next)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(blocks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sims := make([]float32, knnTestBlock*knnTrainBlock)
			for b := range next {
				knnBlock(xTrain, xTest, train, b[0], b[1], k, sims, pred)
			}
		}()
	}
	wg.Wait()
	return newResult(fmt.Sprintf("knn_k%d", k), train.Classes, test.Labels, pred)
}

// knnBlock predicts test rows [lo,hi) into pred, using sims as scratch.
func knnBlock(xTrain, xTest []float32, train Features, lo, hi, k int, sims []float32, pred []int) {
	d, m := train.D, hi-lo
	tops := make([]topK, m)
	for i := range tops {
		tops[i] = topK{sim: make([]float32, 0, k), idx: make([]int, 0, k)}
	}
	for t0 := 0; t0 < train.N; t0 += knnTrainBlock {
		n := min(knnTrainBlock, train.N-t0)
		// sims (m, n) = xTest[lo:hi] (m, D) · xTrain[t0:t0+n]ᵀ (D, n)
		gonum.Implementation{}.Sgemm(blas.NoTrans, blas.Trans, m, n, d, 1,
			xTest[lo*d:hi*d], d, xTrain[t0*d:(t0+n)*d], d, 0, sims, n)
		for i := range tops {
			for j, s := range sims[i*n : (i+1)*n] {
				tops[i].push(s, t0+j, k)
			}
		}
	}
	votes := make([]float64, train.Classes)
	for i, tk := range tops {
		clear(votes)
		for j, s := range tk.sim {
			// subtracting the best similarity rescales all weights equally
			// and keeps exp in range
			votes[train.Labels[tk.idx[j]]] += math.Exp(float64(s-tk.sim[0]) / KNNTemperature)
		}
		pred[lo+i] = argmax(votes)
	}
}

// topK keeps the k largest similarities seen so far, sorted descending.
type topK struct {
	sim []float32
	idx []int
}

// push offers train row idx; strict comparisons keep the earlier row on ties.
func (t *topK) push(s float32, idx, k int) {
	if len(t.sim) == k && s <= t.sim[k-1] {
		return
	}
	if len(t.sim) < k {
		t.sim, t.idx = append(t.sim, s), append(t.idx, idx)
	}
	j := len(t.sim) - 1
	for j > 0 && t.sim[j-1] < s {
		t.sim[j], t.idx[j] = t.sim[j-1], t.idx[j-1]
		j--
	}
	t.sim[j], t.idx[j] = s, idx
}

// normalise returns a copy of f.X with each row scaled to unit L2 norm.
func normalise(f Features) []float32 {
	out := make([]float32, len(f.X))
	for i := range f.N {
		row := f.X[i*f.D : (i+1)*f.D]
		ss := 0.0
		for _, v := range row {
			ss += float64(v) * float64(v)
		}
		if ss == 0 {
			continue
		}
		inv := 1 / math.Sqrt(ss)
		for j, v := range row {
			out[i*f.D+j] = float32(float64(v) * inv)
		}
	}
	return out
}
