package data

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func ramp(h, w, c int) []float32 {
	x := make([]float32, h*w*c)
	for i := range x {
		x[i] = float32(i%97) / 97
	}
	return x
}

var recipe = AugmentSpec{Crop: true, ScaleMin: 0.08, ScaleMax: 1, RatioMin: 3.0 / 4, RatioMax: 4.0 / 3, Flip: true}

func TestAugmentOffIsIdentity(t *testing.T) {
	var off AugmentSpec
	if off.On() || off.Validate() != nil {
		t.Fatal("the zero AugmentSpec is not off and valid")
	}
	src := ramp(6, 5, 3)
	a := off.Draw(rand.New(rand.NewPCG(1, 2)), 6, 5)
	if a != (Augment{H: 6, W: 5}) {
		t.Fatalf("off draws %+v, want the whole image unflipped", a)
	}
	dst := make([]float32, len(src))
	a.Apply(dst, 6, 5, src, 6, 5, 3)
	if !slices.Equal(dst, src) {
		t.Error("the whole box at the same size is not an exact copy")
	}
}

func TestAugmentDeterministic(t *testing.T) {
	draw := func(s uint64) Augment { return recipe.Draw(rand.New(rand.NewPCG(s, 9)), 224, 224) }
	if draw(1) != draw(1) {
		t.Error("the same generator state draws two augmentations")
	}
	differ := 0
	for s := range uint64(20) {
		if draw(s) != draw(s+100) {
			differ++
		}
	}
	if differ < 19 {
		t.Errorf("only %d of 20 seed pairs draw different crops", differ)
	}
}

// Every crop lies inside the image; a crop from the tries has its area
// fraction and aspect ratio within the ranges (up to rounding to pixels),
// and about half the samples are flipped.
func TestAugmentBounds(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, sz := range [][2]int{{224, 224}, {28, 28}, {10, 40}, {1, 1}} {
		h, w := sz[0], sz[1]
		flips := 0
		for range 2000 {
			a := recipe.Draw(r, h, w)
			if a.Top < 0 || a.Left < 0 || a.H < 1 || a.W < 1 || a.Top+a.H > h || a.Left+a.W > w {
				t.Fatalf("%dx%d: crop %+v outside the image", h, w, a)
			}
			if a.Flip {
				flips++
			}
			if h < 28 || w != h {
				continue // rounding and the fallback dominate small or wide images
			}
			frac := float64(a.H*a.W) / float64(h*w)
			ratio := float64(a.W) / float64(a.H)
			tol := 2.0 / float64(min(a.H, a.W)) // one pixel of rounding on each side
			if frac < recipe.ScaleMin*(1-2*tol) || frac > recipe.ScaleMax+1e-9 ||
				ratio < recipe.RatioMin*(1-tol) || ratio > recipe.RatioMax*(1+tol) {
				t.Fatalf("%dx%d: crop %+v: area %.3f, ratio %.3f outside the ranges", h, w, a, frac, ratio)
			}
		}
		if flips < 900 || flips > 1100 {
			t.Errorf("%dx%d: %d of 2000 flipped, want about 1000", h, w, flips)
		}
	}
	// a wide image whose ratio is outside the range falls back to a centred crop
	a := AugmentSpec{Crop: true, ScaleMin: 1, ScaleMax: 1, RatioMin: 1, RatioMax: 1}.Draw(r, 10, 40)
	if a != (Augment{Top: 0, Left: 15, H: 10, W: 10}) {
		t.Errorf("fallback crop of 10x40 at ratio 1: %+v, want the centred 10x10", a)
	}
}

func TestAugmentApply(t *testing.T) {
	h, w, c := 8, 6, 2
	src := ramp(h, w, c)
	// a box of the output's size copies that rectangle
	box := Augment{Top: 2, Left: 1, H: 4, W: 3}
	dst := make([]float32, 4*3*c)
	box.Apply(dst, 4, 3, src, h, w, c)
	for y := range 4 {
		for x := range 3 {
			for k := range c {
				if got, want := dst[(y*3+x)*c+k], src[((y+2)*w+x+1)*c+k]; got != want {
					t.Fatalf("(%d,%d,%d): %v, want %v", y, x, k, got, want)
				}
			}
		}
	}
	// flipping mirrors each row
	box.Flip = true
	flipped := make([]float32, len(dst))
	box.Apply(flipped, 4, 3, src, h, w, c)
	for y := range 4 {
		for x := range 3 {
			for k := range c {
				if flipped[(y*3+x)*c+k] != dst[(y*3+2-x)*c+k] {
					t.Fatalf("flip: (%d,%d,%d) is not the mirror", y, x, k)
				}
			}
		}
	}
	// upsampling a 2x2 box to 4x4 interpolates between its pixels
	one := []float32{0, 1, 2, 3} // 2x2, c=1
	up := make([]float32, 16)
	Augment{H: 2, W: 2}.Apply(up, 4, 4, one, 2, 2, 1)
	want := []float32{0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3}
	for i := range up {
		if math.Abs(float64(up[i]-want[i])) > 1e-6 {
			t.Fatalf("upsampled %v, want %v", up, want)
		}
	}
}

func TestAugmentValidate(t *testing.T) {
	for _, bad := range []AugmentSpec{
		{Crop: true, ScaleMin: 0, ScaleMax: 1, RatioMin: 1, RatioMax: 1},
		{Crop: true, ScaleMin: 0.5, ScaleMax: 0.4, RatioMin: 1, RatioMax: 1},
		{Crop: true, ScaleMin: 0.5, ScaleMax: 1.2, RatioMin: 1, RatioMax: 1},
		{Crop: true, ScaleMin: 0.5, ScaleMax: 1, RatioMin: 2, RatioMax: 1},
	} {
		if bad.Validate() == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
	if recipe.Validate() != nil {
		t.Error("the recipe's ranges are refused")
	}
}

// BenchmarkAugmentApply: a crop of half the area of a 224x224 RGB image
// resampled to 224x224, mirrored.
func BenchmarkAugmentApply(b *testing.B) {
	src, dst := ramp(224, 224, 3), make([]float32, 224*224*3)
	a := Augment{Top: 30, Left: 20, H: 160, W: 150, Flip: true}
	b.ReportAllocs()
	for range b.N {
		a.Apply(dst, 224, 224, src, 224, 224, 3)
	}
}
