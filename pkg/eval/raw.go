package eval

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/dsp/fourier"
)

// Raw front ends: fixed, parameter-free features of the raw input that every
// learned encoder is compared with (the trivial baseline of `d2v eval`).
// Images need none (their normalised pixels are the features); speech gets
// mean-pooled log-mel energies, text a bag of token ids.

// Log-mel front end (Kaldi/Whisper-style filterbank, simplified): 25 ms Hann
// windows every 10 ms at 16 kHz, a 512-point FFT, 40 triangular mel bands
// from 0 to 8 kHz, log(energy + 1e-6).
const (
	MelBands  = 40
	MelWindow = 400 // samples: 25 ms at 16 kHz
	MelHop    = 160 // samples: 10 ms at 16 kHz
	MelFFT    = 512
	melFloor  = 1e-6
)

// LogMel computes log-mel frames of a 16 kHz clip.
type LogMel struct {
	fft    *fourier.FFT
	window []float64   // (MelWindow,) Hann
	banks  [][]float64 // (MelBands, MelFFT/2+1) triangular weights
	frame  []float64
	coeff  []complex128
}

// NewLogMel builds the filterbank for clips sampled at rate Hz.
func NewLogMel(rate int) (*LogMel, error) {
	if rate <= 0 {
		return nil, fmt.Errorf("log-mel: sample rate must be > 0, got %d", rate)
	}
	m := &LogMel{fft: fourier.NewFFT(MelFFT), window: make([]float64, MelWindow),
		frame: make([]float64, MelFFT), coeff: make([]complex128, MelFFT/2+1)}
	for i := range m.window {
		m.window[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(MelWindow))
	}
	mel := func(f float64) float64 { return 2595 * math.Log10(1+f/700) }
	hz := func(m float64) float64 { return 700 * (math.Pow(10, m/2595) - 1) }
	top := mel(float64(rate) / 2)
	edges := make([]float64, MelBands+2) // band edges in Hz, equally spaced in mel
	for i := range edges {
		edges[i] = hz(top * float64(i) / float64(MelBands+1))
	}
	bins := MelFFT/2 + 1
	for b := range MelBands {
		w := make([]float64, bins)
		lo, mid, hi := edges[b], edges[b+1], edges[b+2]
		for k := range bins {
			f := float64(k) * float64(rate) / MelFFT
			switch {
			case f > lo && f <= mid:
				w[k] = (f - lo) / (mid - lo)
			case f > mid && f < hi:
				w[k] = (hi - f) / (hi - mid)
			}
		}
		m.banks = append(m.banks, w)
	}
	return m, nil
}

// MeanFrames writes the mean over frames of the log-mel energies of x into
// dst (MelBands,). A clip shorter than one window is zero-padded to one frame.
func (m *LogMel) MeanFrames(x []float32, dst []float32) {
	frames := 1
	if len(x) > MelWindow {
		frames = 1 + (len(x)-MelWindow)/MelHop
	}
	sum := make([]float64, MelBands)
	for f := range frames {
		clear(m.frame)
		for i, w := range m.window {
			if j := f*MelHop + i; j < len(x) {
				m.frame[i] = w * float64(x[j])
			}
		}
		m.fft.Coefficients(m.coeff, m.frame)
		for b, w := range m.banks {
			e := 0.0
			for k, c := range m.coeff {
				if w[k] != 0 {
					e += w[k] * (real(c)*real(c) + imag(c)*imag(c))
				}
			}
			sum[b] += math.Log(e + melFloor)
		}
	}
	for b, s := range sum {
		dst[b] = float32(s / float64(frames))
	}
}

// TokenVocab maps the most frequent token ids of a training set to the
// columns of a bag of tokens; every other id shares the last column.
type TokenVocab struct {
	col map[int]int
	Dim int // kept ids + 1 ("other")
}

// NewTokenVocab keeps the max most frequent ids of seqs (ties: lower id
// first), skipping the ids in ignore (padding).
func NewTokenVocab(seqs [][]int, max int, ignore ...int) TokenVocab {
	skip := map[int]bool{}
	for _, id := range ignore {
		skip[id] = true
	}
	count := map[int]int{}
	for _, s := range seqs {
		for _, id := range s {
			if !skip[id] {
				count[id]++
			}
		}
	}
	ids := make([]int, 0, len(count))
	for id := range count {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(a, b int) bool {
		if count[ids[a]] != count[ids[b]] {
			return count[ids[a]] > count[ids[b]]
		}
		return ids[a] < ids[b]
	})
	v := TokenVocab{col: map[int]int{}}
	for i, id := range ids[:min(max, len(ids))] {
		v.col[id] = i
	}
	v.Dim = len(v.col) + 1
	return v
}

// Bag writes the term frequencies of seq into dst (Dim,): each id not in
// ignore adds 1/n to its column, n the number of such ids. It is the mean
// over tokens of a one-hot embedding, as the encoder's features are a mean
// over its token outputs.
func (v TokenVocab) Bag(seq []int, dst []float32, ignore ...int) {
	clear(dst)
	n := 0
	for _, id := range seq {
		if !contains(ignore, id) {
			n++
		}
	}
	for _, id := range seq {
		if contains(ignore, id) {
			continue
		}
		c, ok := v.col[id]
		if !ok {
			c = v.Dim - 1
		}
		dst[c] += 1 / float32(n)
	}
}

func contains(s []int, x int) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}
