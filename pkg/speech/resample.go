package speech

import (
	"errors"
	"fmt"
	"math"
)

// Resampling filter. The kernel is a Kaiser-windowed sinc, designed with
// Kaiser's formulas for the target stopband attenuation:
//
//   - stopband edge fs = min(from, to)/2 (the lower Nyquist frequency), so
//     nothing that would alias survives when downsampling, and nothing that
//     is an image survives when upsampling;
//   - passband edge fp = 0.9·fs, so the transition band is 0.1·fs wide and the
//     -6 dB cutoff sits at (fp+fs)/2 = 0.95·fs;
//   - stopband attenuation 80 dB, hence Kaiser β = 0.1102·(80-8.7) ≈ 7.86 and
//     a passband ripple of about 1e-4;
//   - Kaiser length N = (80-7.95)/(2.285·2π·(fs-fp)/from) input samples,
//     rounded up to 2·(⌈N/2⌉+1) taps per output sample: 104 taps for
//     8000→16000, 280 for 44100→16000 and 304 for 48000→16000.
//
// Polyphase: with g = gcd(from, to), L = to/g and M = from/g, output n sits at
// input position n·M/L, whose fractional part takes only L values; the kernel
// is tabulated once per phase. When L > maxResamplePhases the table has
// maxResamplePhases+1 phases and the kernel is linearly interpolated between
// neighbours. Samples before the start or after the end count as zeros.
const (
	resampleStopDB    = 80.0 // stopband attenuation
	resamplePassFrac  = 0.9  // passband edge as a fraction of min(from,to)/2
	maxResamplePhases = 1024 // table rows; beyond this, interpolate
)

// Resample converts x from rate from to rate to (Hz) with the band-limited
// filter described above and returns a new slice of round(len(x)·to/from)
// samples. from == to returns a copy. It panics if a rate is not positive.
func Resample(x []float32, from, to int) []float32 {
	if from <= 0 || to <= 0 {
		panic(fmt.Sprintf("data: Resample: rates must be positive, got %d -> %d", from, to))
	}
	if from == to {
		return append([]float32(nil), x...)
	}
	g := gcd(from, to)
	L, M := int64(to/g), int64(from/g)
	nOut := int((2*int64(len(x))*L + M) / (2 * M)) // round half up

	// Kernel in input-sample units: c is the cutoff in cycles per input sample.
	fs := float64(min(from, to)) / 2
	fp := resamplePassFrac * fs
	c := (fp + fs) / 2 / float64(from)
	dw := 2 * math.Pi * (fs - fp) / float64(from)
	half := int(math.Ceil((resampleStopDB-7.95)/(2.285*dw)/2)) + 1 // taps each side
	beta := 0.1102 * (resampleStopDB - 8.7)
	kernel := func(t float64) float64 { // t: distance in input samples
		if math.Abs(t) >= float64(half) {
			return 0
		}
		r := t / float64(half)
		return 2 * c * sinc(2*c*t) * besselI0(beta*math.Sqrt(1-r*r)) / besselI0(beta)
	}

	// Row p holds the taps for fractional position p/P: tap j multiplies input
	// i-half+1+j, where i is the integer part of the position.
	P := int64(min(L, maxResamplePhases))
	width := 2 * half
	table := make([]float64, (P+1)*int64(width))
	for p := int64(0); p <= P; p++ {
		frac := float64(p) / float64(P)
		row := table[p*int64(width) : (p+1)*int64(width)]
		for j := range row {
			row[j] = kernel(frac + float64(half-1-j))
		}
	}

	out := make([]float32, nOut)
	for n := range out {
		pos := int64(n) * M
		i, rem := pos/L, pos%L
		q := rem * P // phase p + w, as p = q/L and w = (q%L)/L
		p, w := q/L, float64(q%L)/float64(L)
		row0 := table[p*int64(width) : (p+1)*int64(width)]
		row1 := table[(p+1)*int64(width) : (p+2)*int64(width)]
		start := int(i) - half + 1
		var acc float64
		for j := range width {
			k := start + j
			if k < 0 || k >= len(x) {
				continue
			}
			h := row0[j]
			if w != 0 {
				h += w * (row1[j] - h)
			}
			acc += h * float64(x[k])
		}
		out[n] = float32(acc)
	}
	return out
}

// Normalize shifts and scales x in place to zero mean and unit variance
// (population variance, as data2vec's per-utterance layer norm on the raw
// waveform) and returns the mean and standard deviation it removed. It
// returns an error, leaving x untouched, for an empty, non-finite or silent
// (standard deviation below 1e-8) signal, so a NaN never reaches training.
//
// Padding rule: normalise each utterance on its own, at 16 kHz, before it is
// padded or cropped to a batch length; padded positions are then zeros
// (the utterance mean) and are excluded by the batch's PadMask.
func Normalize(x []float32) (mean, std float32, err error) {
	if len(x) == 0 {
		return 0, 0, errors.New("data: normalize: empty signal")
	}
	var sum float64
	for _, v := range x {
		sum += float64(v)
	}
	m := sum / float64(len(x))
	var ss float64
	for _, v := range x {
		d := float64(v) - m
		ss += d * d
	}
	s := math.Sqrt(ss / float64(len(x)))
	switch {
	case math.IsNaN(s) || math.IsInf(s, 0):
		return 0, 0, fmt.Errorf("data: normalize: signal of %d samples has non-finite values", len(x))
	case s < 1e-8:
		return 0, 0, fmt.Errorf("data: normalize: signal of %d samples is silent or constant (std %.3g); drop it", len(x), s)
	}
	for i, v := range x {
		x[i] = float32((float64(v) - m) / s)
	}
	return float32(m), float32(s), nil
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// sinc is the normalised sinc, sin(πx)/(πx).
func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 is the modified Bessel function of the first kind, order 0, by its
// power series (converges fast for the β ≈ 8 used here).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	q := x * x / 4
	for k := 1; k < 200; k++ {
		term *= q / float64(k*k)
		sum += term
		if term < 1e-17*sum {
			break
		}
	}
	return sum
}
