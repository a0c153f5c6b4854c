package data

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// AugmentSpec configures the image augmentations of pretraining: a random
// resized crop (torchvision's RandomResizedCrop, as the BEiT and data2vec
// vision recipes use) and a horizontal flip. The zero value is off.
type AugmentSpec struct {
	Crop               bool    // random resized crop
	ScaleMin, ScaleMax float64 // crop area as a fraction of the image, drawn uniform
	RatioMin, RatioMax float64 // crop width/height, drawn log-uniform
	Flip               bool    // mirror left-right with probability 1/2
}

// On reports whether any augmentation is enabled.
func (a AugmentSpec) On() bool { return a.Crop || a.Flip }

// Validate checks the ranges of an enabled crop.
func (a AugmentSpec) Validate() error {
	if !a.Crop {
		return nil
	}
	if !(a.ScaleMin > 0 && a.ScaleMin <= a.ScaleMax && a.ScaleMax <= 1) {
		return fmt.Errorf("crop scale range [%g, %g] must satisfy 0 < min <= max <= 1", a.ScaleMin, a.ScaleMax)
	}
	if !(a.RatioMin > 0 && a.RatioMin <= a.RatioMax && !math.IsInf(a.RatioMax, 0)) {
		return fmt.Errorf("crop ratio range [%g, %g] must satisfy 0 < min <= max, finite", a.RatioMin, a.RatioMax)
	}
	return nil
}

// Augment is the augmentation drawn for one sample: the source rectangle
// [Top, Top+H) x [Left, Left+W) in pixels and whether to mirror it.
type Augment struct {
	Top, Left, H, W int
	Flip            bool
}

// Draw draws the augmentation of one h x w image from r (callers key r by
// (seed, step, sample), as the masks). The crop follows torchvision's
// RandomResizedCrop.get_params: up to 10 tries of an area fraction and a
// log-uniform aspect ratio whose rounded box fits, placed uniformly; else a
// centred crop of the whole image with its aspect clamped to the range.
// With the crop off the box is the whole image.
func (a AugmentSpec) Draw(r *rand.Rand, h, w int) Augment {
	out := Augment{H: h, W: w}
	if a.Crop {
		out = a.drawCrop(r, h, w)
	}
	if a.Flip {
		out.Flip = r.Float64() < 0.5
	}
	return out
}

func (a AugmentSpec) drawCrop(r *rand.Rand, h, w int) Augment {
	area := float64(h * w)
	lo, hi := math.Log(a.RatioMin), math.Log(a.RatioMax)
	for range 10 {
		target := area * (a.ScaleMin + r.Float64()*(a.ScaleMax-a.ScaleMin))
		ratio := math.Exp(lo + r.Float64()*(hi-lo))
		cw := int(math.Round(math.Sqrt(target * ratio)))
		ch := int(math.Round(math.Sqrt(target / ratio)))
		if cw > 0 && cw <= w && ch > 0 && ch <= h {
			return Augment{Top: r.IntN(h - ch + 1), Left: r.IntN(w - cw + 1), H: ch, W: cw}
		}
	}
	ch, cw := h, w
	switch in := float64(w) / float64(h); {
	case in < a.RatioMin:
		ch = max(1, int(math.Round(float64(cw)/a.RatioMin)))
	case in > a.RatioMax:
		cw = max(1, int(math.Round(float64(ch)*a.RatioMax)))
	}
	return Augment{Top: (h - ch) / 2, Left: (w - cw) / 2, H: ch, W: cw}
}

// Apply writes the augmented view of src, an (h, w, c) image, into dst,
// an (oh, ow, c) image: the box resampled bilinearly (pixel centres
// aligned, as align_corners=False; no antialiasing), mirrored if Flip. The
// whole box of an image of the output size, unflipped, copies it exactly.
// It panics if the box is outside the image or a length is wrong.
func (a Augment) Apply(dst []float32, oh, ow int, src []float32, h, w, c int) {
	if a.Top < 0 || a.Left < 0 || a.H < 1 || a.W < 1 || a.Top+a.H > h || a.Left+a.W > w ||
		len(src) != h*w*c || len(dst) != oh*ow*c {
		panic(fmt.Sprintf("data: Augment.Apply: box %+v of a %dx%dx%d image into %dx%d (len src %d, dst %d)",
			a, h, w, c, oh, ow, len(src), len(dst)))
	}
	type tap struct {
		i0, i1 int // source columns, times c
		f      float32
	}
	taps := make([]tap, ow) // the columns' taps, the same for every row
	for x := range taps {
		sx := x
		if a.Flip {
			sx = ow - 1 - x
		}
		x0, x1, fx := sample(sx, ow, a.Left, a.W)
		taps[x] = tap{x0 * c, x1 * c, fx}
	}
	row := w * c
	for y := range oh {
		y0, y1, fy := sample(y, oh, a.Top, a.H)
		r0, r1 := src[y0*row:(y0+1)*row], src[y1*row:(y1+1)*row]
		out := dst[y*ow*c : (y+1)*ow*c]
		for x, t := range taps {
			o := out[x*c : (x+1)*c]
			for k := range o {
				top := r0[t.i0+k] + t.f*(r0[t.i1+k]-r0[t.i0+k])
				bot := r1[t.i0+k] + t.f*(r1[t.i1+k]-r1[t.i0+k])
				o[k] = top + fy*(bot-top)
			}
		}
	}
}

// sample maps output coordinate i of n onto the source span [off, off+m):
// the two neighbouring source pixels and the weight of the second.
func sample(i, n, off, m int) (i0, i1 int, f float32) {
	s := (float64(i)+0.5)*float64(m)/float64(n) - 0.5
	s = min(max(s, 0), float64(m-1))
	j := int(s)
	return off + j, off + min(j+1, m-1), float32(s - float64(j))
}
