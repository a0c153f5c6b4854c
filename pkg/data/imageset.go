package data

import "fmt"

// ImageSet is a labelled set of equally sized images held in memory.
type ImageSet struct {
	N, H, W, C int       // image count, height, width, channels (1 gray, 3 RGB)
	Pix        []float32 // (N, H, W, C) row-major; values in [0,1] until Normalize
	Labels     []int     // len N; class ids indexing Classes
	Classes    []string  // class names, e.g. "0".."9"; index = label
	Source     string    // file or folder the set came from, for messages
	Ignored    []string  // stray files passed over in the class folders (not PNG/JPEG by name or content)
}

// ImageLen is the number of float32 values per image, H*W*C.
func (s *ImageSet) ImageLen() int { return s.H * s.W * s.C }

// Image returns image i as a (H, W, C) row-major view into Pix (not a copy).
func (s *ImageSet) Image(i int) []float32 {
	n := s.ImageLen()
	return s.Pix[i*n : (i+1)*n]
}

// Normalize maps every pixel x to (x-mean)/std in place. It panics if std
// is not positive, since that is a programming error, not a data error.
func (s *ImageSet) Normalize(mean, std float32) { NormalizePixels(s.Pix, mean, std) }

// NormalizePixels maps every x of pix to (x-mean)/std in place, as
// ImageSet.Normalize; it panics if std is not positive.
func NormalizePixels(pix []float32, mean, std float32) {
	if !(std > 0) {
		panic(fmt.Sprintf("data: Normalize: std must be > 0, got %g", std))
	}
	inv := 1 / std
	for i, x := range pix {
		pix[i] = (x - mean) * inv
	}
}

// Subset returns a copy of the first n images (all of them when n > N), so
// normalising the subset never changes the parent. It panics if n < 0.
func (s *ImageSet) Subset(n int) *ImageSet {
	if n < 0 {
		panic(fmt.Sprintf("data: Subset: n must be >= 0, got %d", n))
	}
	n = min(n, s.N)
	out := *s
	out.N = n
	out.Pix = append([]float32(nil), s.Pix[:n*s.ImageLen()]...)
	out.Labels = append([]int(nil), s.Labels[:n]...)
	out.Classes = append([]string(nil), s.Classes...)
	return &out
}

// numericClasses names classes "0".."k-1" where k = max(labels)+1.
func numericClasses(labels []int) []string {
	k := 0
	for _, l := range labels {
		k = max(k, l+1)
	}
	names := make([]string, k)
	for i := range names {
		names[i] = fmt.Sprint(i)
	}
	return names
}

// IgnoredNote is what a log or message says about the stray files a folder
// reader passed over (ImageSet.Ignored, speech.Set.Ignored): "" for none,
// else ", N stray files ignored (first: PATH)".
func IgnoredNote(ignored []string) string {
	switch len(ignored) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf(", 1 stray file ignored (%s)", ignored[0])
	}
	return fmt.Sprintf(", %d stray files ignored (first: %s)", len(ignored), ignored[0])
}
