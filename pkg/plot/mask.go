package plot

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
)

// MaskBorder is the white gap, in output pixels, around and between the
// images of a MaskGrid.
const MaskBorder = 4

// maskColour is blended half-and-half into masked pixels.
var maskColour = [3]float64{1, 0.15, 0.1} // red

// MaskGrid writes one row per image: the gray image imgs[i] (h*w values in
// [0,1], row-major, C = 1; out-of-range values are clamped) on the left and,
// on the right, the same image with the patches where masks[i] is true tinted
// red. masks[i] has gh*gw entries, row-major, gh = h/patch, gw = w/patch.
// Pixels are upscaled scale times by nearest neighbour, so the PNG is
// 2*w*scale + 3*MaskBorder wide and n*h*scale + (n+1)*MaskBorder high.
func MaskGrid(path string, imgs [][]float32, h, w int, masks [][]bool, patch int, scale int) error {
	if err := checkMaskArgs(imgs, h, w, masks, patch, scale); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	n, gw := len(imgs), w/patch
	sh, sw := h*scale, w*scale
	out := image.NewRGBA(image.Rect(0, 0, 2*sw+3*MaskBorder, n*sh+(n+1)*MaskBorder))
	for i := range out.Pix {
		out.Pix[i] = 255 // white background and borders
	}
	for i, im := range imgs {
		top := MaskBorder + i*(sh+MaskBorder)
		for y := range sh {
			for x := range sw {
				v := clamp01(im[(y/scale)*w+x/scale])
				g := uint8(math.Round(v * 255))
				c := color.RGBA{g, g, g, 255}
				out.SetRGBA(MaskBorder+x, top+y, c)
				if masks[i][(y/scale/patch)*gw+x/scale/patch] {
					c = tint(v)
				}
				out.SetRGBA(2*MaskBorder+sw+x, top+y, c)
			}
		}
	}
	return writeAtomic(path, func(wr io.Writer) (int64, error) { return 0, png.Encode(wr, out) })
}

// checkMaskArgs validates MaskGrid's arguments, naming the bad one.
func checkMaskArgs(imgs [][]float32, h, w int, masks [][]bool, patch, scale int) error {
	switch {
	case len(imgs) == 0:
		return fmt.Errorf("imgs: no images given")
	case h <= 0 || w <= 0:
		return fmt.Errorf("h, w: must be > 0, got %dx%d", h, w)
	case patch <= 0 || h%patch != 0 || w%patch != 0:
		return fmt.Errorf("patch: %d must be > 0 and divide h=%d and w=%d", patch, h, w)
	case scale <= 0:
		return fmt.Errorf("scale: must be > 0, got %d", scale)
	case len(masks) != len(imgs):
		return fmt.Errorf("masks: %d masks for %d images", len(masks), len(imgs))
	}
	for i := range imgs {
		if len(imgs[i]) != h*w {
			return fmt.Errorf("imgs[%d]: len %d, want h*w = %d (gray, C = 1)", i, len(imgs[i]), h*w)
		}
		if g := (h / patch) * (w / patch); len(masks[i]) != g {
			return fmt.Errorf("masks[%d]: len %d, want (h/patch)*(w/patch) = %d", i, len(masks[i]), g)
		}
	}
	return nil
}

// tint blends gray level v half-and-half with maskColour.
func tint(v float64) color.RGBA {
	var c [3]uint8
	for k, m := range maskColour {
		c[k] = uint8(math.Round(255 * (v + m) / 2))
	}
	return color.RGBA{c[0], c[1], c[2], 255}
}

func clamp01(v float32) float64 {
	if !(v > 0) { // also catches NaN
		return 0
	}
	return math.Min(float64(v), 1)
}
