package data

import (
	"slices"
	"strings"
	"testing"
)

func TestPatches(t *testing.T) {
	// 4x4 gray image with pixel (y, x) = 10*y + x:
	//   0  1 |  2  3
	//  10 11 | 12 13
	//  -------------
	//  20 21 | 22 23
	//  30 31 | 32 33
	gray := &ImageSet{N: 1, H: 4, W: 4, C: 1, Pix: make([]float32, 16)}
	for y := range 4 {
		for x := range 4 {
			gray.Pix[y*4+x] = float32(10*y + x)
		}
	}
	// 2x2 RGB image: pixel (y, x) channel c = 100*y + 10*x + c.
	rgb := &ImageSet{N: 2, H: 2, W: 2, C: 3, Pix: make([]float32, 24)}
	for y := range 2 {
		for x := range 2 {
			for c := range 3 {
				rgb.Pix[12+(y*2+x)*3+c] = float32(100*y + 10*x + c) // image 1
			}
		}
	}
	tests := []struct {
		name string
		set  *ImageSet
		i, p int
		want []float32
	}{
		{"gray p=2", gray, 0, 2, []float32{
			0, 1, 10, 11, // patch (0,0)
			2, 3, 12, 13, // patch (0,1)
			20, 21, 30, 31, // patch (1,0)
			22, 23, 32, 33, // patch (1,1)
		}},
		{"gray p=4 is the image", gray, 0, 4, gray.Pix},
		{"gray p=1 is the image", gray, 0, 1, gray.Pix},
		{"rgb image 1 p=1", rgb, 1, 1, rgb.Pix[12:]},
		{"rgb image 1 p=2 keeps (py, px, c)", rgb, 1, 2, []float32{0, 1, 2, 10, 11, 12, 100, 101, 102, 110, 111, 112}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gh, gw, err := tt.set.GridSize(tt.p)
			if err != nil {
				t.Fatal(err)
			}
			dst := make([]float32, gh*gw*tt.set.PatchDim(tt.p))
			tt.set.Patches(tt.i, tt.p, dst)
			if !slices.Equal(dst, tt.want) {
				t.Errorf("got  %v\nwant %v", dst, tt.want)
			}
		})
	}
}

func TestGridSizeErrors(t *testing.T) {
	s := &ImageSet{N: 1, H: 28, W: 28, C: 1, Source: "mnist"}
	for _, p := range []int{0, -2, 3, 5} {
		if _, _, err := s.GridSize(p); err == nil {
			t.Errorf("GridSize(%d): want error", p)
		}
	}
	_, _, err := s.GridSize(3)
	if !strings.Contains(err.Error(), "28x28") || !strings.Contains(err.Error(), "3") {
		t.Errorf("error %q should give the size and patch", err)
	}
	if gh, gw, err := s.GridSize(7); err != nil || gh != 4 || gw != 4 {
		t.Errorf("GridSize(7) = %d, %d, %v; want 4, 4, nil", gh, gw, err)
	}
}

func TestPatchesPanicsOnBadDst(t *testing.T) {
	s := &ImageSet{N: 1, H: 4, W: 4, C: 1, Pix: make([]float32, 16)}
	defer func() {
		if recover() == nil {
			t.Error("want panic for short dst")
		}
	}()
	s.Patches(0, 2, make([]float32, 15))
}
