package data

import "fmt"

// GridSize returns the patch grid (gh, gw) = (H/p, W/p) for patch size p,
// or an error when p is not positive or does not divide H and W.
func (s *ImageSet) GridSize(p int) (gh, gw int, err error) {
	if p <= 0 {
		return 0, 0, fmt.Errorf("data: patch size must be > 0, got %d", p)
	}
	if s.H%p != 0 || s.W%p != 0 {
		return 0, 0, fmt.Errorf("data: %s: image size %dx%d is not divisible by patch size %d", s.Source, s.H, s.W, p)
	}
	return s.H / p, s.W / p, nil
}

// PatchDim is the length of one patch token, p*p*C.
func (s *ImageSet) PatchDim(p int) int { return p * p * s.C }

// Patches writes image i into dst as a (T, p*p*C) row-major matrix,
// T = (H/p)*(W/p). Tokens follow the patch grid in row-major order; inside
// a token values are ordered (py, px, c), as ViT's patch flattening.
// It panics when GridSize(p) fails or len(dst) != T*p*p*C: check GridSize
// once when building the model, then call Patches per sample.
func (s *ImageSet) Patches(i, p int, dst []float32) {
	gh, gw, err := s.GridSize(p)
	if err != nil {
		panic(err)
	}
	if want := gh * gw * p * p * s.C; len(dst) != want {
		panic(fmt.Sprintf("data: Patches: len(dst) = %d, want T*p*p*C = %d", len(dst), want))
	}
	PatchImage(s.Image(i), s.H, s.W, s.C, p, dst)
}

// PatchImage writes img, an (h, w, c) image whose sides p divides, into dst
// as ImageSet.Patches does: a (T, p*p*c) matrix, tokens in row-major grid
// order, values (py, px, c) inside a token.
func PatchImage(img []float32, h, w, c, p int, dst []float32) {
	gh, gw := h/p, w/p
	rowLen := p * c // values in one patch row: (px, c)
	stride := w * c
	k := 0
	for gy := range gh {
		for gx := range gw {
			for py := range p {
				off := (gy*p+py)*stride + gx*rowLen
				k += copy(dst[k:k+rowLen], img[off:off+rowLen])
			}
		}
	}
}
