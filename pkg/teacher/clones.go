package teacher

import "fmt"

// data2vec 2.0 runs the teacher once per sample on its unmasked input and
// regresses each of the sample's M clones (each with its own mask) on the
// same targets: the targets are repeated, never recomputed. Rows of a
// cloned batch are ordered sample-major: row r is sample r/M, clone r%M
// (torch repeat_interleave, fairseq clone_batch).

// RepeatMasked appends to dst the target rows of every clone's masked
// positions, row-major (clone row r outer, position t inner): full holds
// the targets of b samples (b, t, d); mask holds b*m rows of t (true =
// masked). It returns dst, (n_masked_total, d).
func RepeatMasked[F Float](dst, full []F, b, m, t, d int, mask []bool) []F {
	if len(full) != b*t*d || len(mask) != b*m*t {
		panic(fmt.Sprintf("teacher: RepeatMasked: %d targets and %d mask entries, want %d and %d", len(full), len(mask), b*t*d, b*m*t))
	}
	dst = dst[:0]
	for r := 0; r < b*m; r++ {
		s := r / m
		for p := 0; p < t; p++ {
			if mask[r*t+p] {
				dst = append(dst, full[(s*t+p)*d:(s*t+p+1)*d]...)
			}
		}
	}
	return dst
}

// CloneMeans appends to dst, for each of the b*m clone rows, the mean over
// the t positions of its sample's targets (b, t, d): data2vec 2.0's CLS
// target (fairseq d2v cls_loss: y.mean(1), repeated for the clones). It
// returns dst, (b*m, d).
func CloneMeans[F Float](dst, full []F, b, m, t, d int) []F {
	if len(full) != b*t*d {
		panic(fmt.Sprintf("teacher: CloneMeans: %d targets, want %d", len(full), b*t*d))
	}
	dst = dst[:0]
	mean := make([]float64, d)
	for s := 0; s < b; s++ {
		clear(mean)
		for p := 0; p < t; p++ {
			for c, v := range full[(s*t+p)*d : (s*t+p+1)*d] {
				mean[c] += float64(v)
			}
		}
		for range m {
			for _, v := range mean {
				dst = append(dst, F(v/float64(t)))
			}
		}
	}
	return dst
}
