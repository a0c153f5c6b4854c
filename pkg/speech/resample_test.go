package speech

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// sine is amp·sin(2πf·n/rate) for n < count.
func sine(f, amp float64, rate, count int) []float32 {
	x := make([]float32, count)
	for n := range x {
		x[n] = float32(amp * math.Sin(2*math.Pi*f*float64(n)/float64(rate)))
	}
	return x
}

// fitSine fits a·cos + b·sin at frequency f to y[lo:hi] (least squares over a
// window long enough that the cross terms vanish) and returns the amplitude
// and the RMS of what the fit leaves over.
func fitSine(y []float32, f float64, rate, lo, hi int) (amp, resid float64) {
	var a, b float64
	for n := lo; n < hi; n++ {
		w := 2 * math.Pi * f * float64(n) / float64(rate)
		a += float64(y[n]) * math.Cos(w)
		b += float64(y[n]) * math.Sin(w)
	}
	a, b = 2*a/float64(hi-lo), 2*b/float64(hi-lo)
	var ss float64
	for n := lo; n < hi; n++ {
		w := 2 * math.Pi * f * float64(n) / float64(rate)
		d := float64(y[n]) - a*math.Cos(w) - b*math.Sin(w)
		ss += d * d
	}
	return math.Hypot(a, b), math.Sqrt(ss / float64(hi-lo))
}

// rms is the root mean square of y[lo:hi].
func rms(y []float32, lo, hi int) float64 {
	var ss float64
	for _, v := range y[lo:hi] {
		ss += float64(v) * float64(v)
	}
	return math.Sqrt(ss / float64(hi-lo))
}

func TestResamplePassband(t *testing.T) {
	tests := []struct {
		from, to int
		f        float64 // Hz, below min(from,to)/2
	}{
		{44100, 16000, 1000},
		{44100, 16000, 6000},
		{48000, 16000, 440},
		{8000, 16000, 1000},
		{8000, 16000, 3500},
		{22050, 16000, 5000},
		{44101, 16000, 3000}, // gcd 1: L = 16000 phases, interpolated table
		{16000, 8000, 3000},
	}
	for _, tt := range tests {
		x := sine(tt.f, 0.8, tt.from, tt.from/4) // 0.25 s
		y := Resample(x, tt.from, tt.to)
		lo, hi := tt.to/20, len(y)-tt.to/20 // skip 50 ms of edge at each end
		amp, resid := fitSine(y, tt.f, tt.to, lo, hi)
		t.Logf("%d -> %d, %g Hz: amplitude error %.2g, residual %.2g", tt.from, tt.to, tt.f, amp/0.8-1, resid/0.8)
		if math.Abs(amp/0.8-1) > 0.01 || resid > 0.01*0.8 {
			t.Errorf("%d -> %d, %g Hz: amplitude %.5f (want 0.8 within 1%%), residual RMS %.2g", tt.from, tt.to, tt.f, amp, resid)
		}
	}
}

// TestResampleNoAliasing: a tone above the new Nyquist frequency must vanish
// instead of folding back into the band (12 kHz at 48 kHz would alias to
// 4 kHz at 16 kHz).
func TestResampleNoAliasing(t *testing.T) {
	tests := []struct {
		from, to int
		f        float64
	}{
		{48000, 16000, 12000},
		{48000, 16000, 8500},
		{44100, 16000, 9000},
		{44100, 16000, 20000},
	}
	for _, tt := range tests {
		x := sine(tt.f, 1, tt.from, tt.from/4)
		y := Resample(x, tt.from, tt.to)
		lo, hi := tt.to/20, len(y)-tt.to/20
		gain := rms(y, lo, hi) / (1 / math.Sqrt2)
		db := 20 * math.Log10(gain)
		t.Logf("%d -> %d, %g Hz: %.1f dB", tt.from, tt.to, tt.f, db)
		if db > -40 {
			t.Errorf("%d -> %d, %g Hz: attenuated only %.1f dB, want <= -40 dB", tt.from, tt.to, tt.f, db)
		}
	}
}

func TestResampleLength(t *testing.T) {
	for _, from := range []int{8000, 11025, 16000, 22050, 44100, 48000} {
		for _, n := range []int{0, 1, 2, 3, 7, 100, 441, 1001} {
			y := Resample(make([]float32, n), from, 16000)
			want := int(math.Round(float64(n) * 16000 / float64(from)))
			if len(y) != want {
				t.Errorf("Resample(%d samples, %d -> 16000) has %d samples, want %d", n, from, len(y), want)
			}
		}
	}
}

func TestResampleIdentityAndDC(t *testing.T) {
	x := []float32{1, -2, 3}
	y := Resample(x, 16000, 16000)
	y[0] = 9
	if !slices.Equal(x, []float32{1, -2, 3}) || !slices.Equal(y, []float32{9, -2, 3}) {
		t.Fatalf("from == to must return a copy: x %v y %v", x, y)
	}
	ones := make([]float32, 4800)
	for i := range ones {
		ones[i] = 1
	}
	for _, from := range []int{8000, 44100, 48000} {
		y := Resample(ones[:from/10], from, 16000)
		for i := 400; i < len(y)-400; i++ {
			if math.Abs(float64(y[i])-1) > 1e-3 {
				t.Fatalf("%d -> 16000: DC gain at %d is %g, want 1", from, i, y[i])
			}
		}
	}
}

func TestNormalize(t *testing.T) {
	x := []float32{1, 3, 1, 3}
	mean, std, err := Normalize(x)
	if err != nil || mean != 2 || std != 1 || !slices.Equal(x, []float32{-1, 1, -1, 1}) {
		t.Fatalf("Normalize = %v, %v, %v; x %v", mean, std, err, x)
	}
	x = sine(440, 0.01, 16000, 1600)
	for i := range x {
		x[i] += 0.3
	}
	if _, _, err := Normalize(x); err != nil {
		t.Fatal(err)
	}
	var s, ss float64
	for _, v := range x {
		s += float64(v)
		ss += float64(v) * float64(v)
	}
	if m, v := s/float64(len(x)), ss/float64(len(x)); math.Abs(m) > 1e-5 || math.Abs(v-1) > 1e-5 {
		t.Fatalf("after Normalize mean %g variance %g", m, v)
	}

	for _, tt := range []struct {
		name string
		x    []float32
		want string
	}{
		{"silence", make([]float32, 100), "silent"},
		{"constant", []float32{0.1, 0.1, 0.1}, "silent"},
		{"empty", nil, "empty"},
		{"nan", []float32{0, float32(math.NaN())}, "non-finite"},
		{"inf", []float32{0, float32(math.Inf(1))}, "non-finite"},
	} {
		orig := slices.Clone(tt.x)
		_, _, err := Normalize(tt.x)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
		if !slices.EqualFunc(orig, tt.x, func(a, b float32) bool { return a == b || a != a && b != b }) {
			t.Errorf("%s: x changed on error", tt.name)
		}
	}
}
