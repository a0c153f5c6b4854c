package data

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/image/draw"
)

// LoadImageFolder reads dir laid out as dir/<class>/<image>, one
// subfolder per class; sorted folder names give class ids 0, 1, ...
// PNG and JPEG files are recognised by content, so a misnamed file still
// loads; files with another extension that are not PNG/JPEG are passed over
// and listed in Ignored; hidden files and folders are ignored. Each image is
// converted to gray (C=1, ITU-R 601 luma) or RGB (C=3), alpha composited
// over black, and resized to h x w with bilinear interpolation. With h == 0 or w == 0 the first
// image's size is used and every image must have that size.
func LoadImageFolder(dir string, h, w int, gray bool) (*ImageSet, error) {
	if h < 0 || w < 0 {
		return nil, fmt.Errorf("data: %s: image size must be >= 0, got %dx%d", dir, h, w)
	}
	classes, files, ignored, err := ListImageFolder(dir)
	if err != nil {
		return nil, err
	}
	set := &ImageSet{H: h, W: w, C: 3, Classes: classes, Source: dir, Ignored: ignored}
	if gray {
		set.C = 1
	}
	fixed := h > 0 && w > 0
	total := 0
	for _, fs := range files {
		total += len(fs)
	}
	for label := range classes {
		for _, f := range files[label] {
			img, err := decodeImage(f)
			if err != nil {
				return nil, err
			}
			if set.N == 0 && !fixed {
				set.H, set.W = img.Bounds().Dy(), img.Bounds().Dx()
			}
			if set.N == 0 { // the size is known: one allocation, not append's doubling (peak 2x and more)
				set.Pix = make([]float32, 0, total*set.H*set.W*set.C)
			}
			if sz := img.Bounds().Size(); !fixed && (sz.X != set.W || sz.Y != set.H) {
				return nil, fmt.Errorf("data: %s: size %dx%d differs from the first image's %dx%d; pass a size to resize",
					f, sz.Y, sz.X, set.H, set.W)
			}
			set.Pix = appendPixels(set.Pix, img, set.H, set.W, gray)
			set.Labels = append(set.Labels, label)
			set.N++
		}
	}
	return set, nil
}

// ListImageFolder lists dir as LoadImageFolder reads it: the sorted class
// folder names, for each class its image files in sorted order, and the
// stray files passed over (not PNG/JPEG by name or content). It reads no
// image; every class folder must hold at least one.
func ListImageFolder(dir string) (classes []string, files [][]string, ignored []string, err error) {
	if classes, err = listClasses(dir); err != nil {
		return nil, nil, nil, err
	}
	files = make([][]string, len(classes))
	for i, class := range classes {
		if files[i], ignored, err = listImages(filepath.Join(dir, class), ignored); err != nil {
			return nil, nil, nil, err
		}
	}
	return classes, files, ignored, nil
}

// listClasses returns the sorted, non-hidden subfolder names of dir.
func listClasses(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("data: image folder: %w", err)
	}
	var classes []string
	for _, e := range entries { // ReadDir sorts by name
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			classes = append(classes, e.Name())
		}
	}
	if len(classes) == 0 {
		return nil, fmt.Errorf("data: %s: no class folders; want one subfolder per class", dir)
	}
	return classes, nil
}

// listImages returns the image files in a class folder, sorted by name,
// and ignored with the folder's other non-hidden regular files appended.
func listImages(dir string, ignored []string) ([]string, []string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("data: image folder: %w", err)
	}
	var files []string
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".png", ".jpg", ".jpeg":
			files = append(files, p) // must decode: a broken one is an error
		default:
			if kind, _ := sniffFile(p); kind != "" {
				files = append(files, p)
			} else {
				ignored = append(ignored, p)
			}
		}
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("data: %s: no PNG or JPEG images in class folder", dir)
	}
	return files, ignored, nil
}

// sniff names the format from magic bytes: "png", "jpeg" or "".
func sniff(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(head, []byte{0xff, 0xd8, 0xff}):
		return "jpeg"
	}
	return ""
}

func sniffFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 8)
	n, _ := f.Read(head)
	return sniff(head[:n]), nil
}

// maxImagePixels bounds the width*height an image header may claim. The
// PNG and JPEG decoders allocate the whole image from the header before
// reading any pixel data, so a few corrupt header bytes could otherwise ask
// for gigabytes (a 65535x65535 PNG is 17 GB as RGBA). 2^26 pixels is a
// 8192x8192 photo; datasets for a small ViT are far below it.
const maxImagePixels = 1 << 26

// decodeImage decodes a PNG or JPEG chosen by content.
func decodeImage(path string) (image.Image, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	return decodeImageBytes(b, path)
}

// decodeImageBytes decodes b (a PNG or JPEG, chosen by content); name is
// used in error messages only. The header's size is checked against
// maxImagePixels before the decoder allocates the image.
func decodeImageBytes(b []byte, name string) (image.Image, error) {
	var decode func(io.Reader) (image.Image, error)
	var config func(io.Reader) (image.Config, error)
	switch sniff(b) {
	case "png":
		decode, config = png.Decode, png.DecodeConfig
	case "jpeg":
		decode, config = jpeg.Decode, jpeg.DecodeConfig
	default:
		return nil, fmt.Errorf("data: %s: not a PNG or JPEG file", name)
	}
	cfg, err := config(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("data: %s: corrupt image: %v", name, err)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > maxImagePixels {
		return nil, fmt.Errorf("data: %s: header says %dx%d pixels, more than the %d-pixel limit (corrupt file?)",
			name, cfg.Width, cfg.Height, maxImagePixels)
	}
	img, err := decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("data: %s: corrupt image: %v", name, err)
	}
	if r := img.Bounds(); r.Empty() {
		return nil, fmt.Errorf("data: %s: image has no pixels", name)
	}
	return img, nil
}

// appendPixels resizes img to h x w and appends it as (h, w, C) floats.
func appendPixels(pix []float32, img image.Image, h, w int, gray bool) []float32 {
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	if img.Bounds().Dx() == w && img.Bounds().Dy() == h {
		draw.Draw(rgba, rgba.Bounds(), img, img.Bounds().Min, draw.Src)
	} else {
		draw.BiLinear.Scale(rgba, rgba.Bounds(), img, img.Bounds(), draw.Src, nil)
	}
	for i := 0; i < len(rgba.Pix); i += 4 {
		r, g, b := float32(rgba.Pix[i]), float32(rgba.Pix[i+1]), float32(rgba.Pix[i+2])
		if gray {
			pix = append(pix, min((0.299*r+0.587*g+0.114*b)/255, 1))
		} else {
			pix = append(pix, r/255, g/255, b/255)
		}
	}
	return pix
}

// DecodeImage decodes one PNG or JPEG image b (chosen by content, as
// LoadImageFolder does) into h*w*C float32 pixels in [0,1], HWC, resized
// and converted exactly as LoadImageFolder converts a file; name is used in
// error messages only.
func DecodeImage(b []byte, name string, h, w int, gray bool) ([]float32, error) {
	img, err := decodeImageBytes(b, name)
	if err != nil {
		return nil, err
	}
	c := 3
	if gray {
		c = 1
	}
	return appendPixels(make([]float32, 0, h*w*c), img, h, w, gray), nil
}

// DecodeImageNative decodes b as DecodeImage does but keeps the image's own
// size, returned as h x w; a random resized crop then reads the full
// resolution.
func DecodeImageNative(b []byte, name string, gray bool) (pix []float32, h, w int, err error) {
	img, err := decodeImageBytes(b, name)
	if err != nil {
		return nil, 0, 0, err
	}
	h, w = img.Bounds().Dy(), img.Bounds().Dx()
	c := 3
	if gray {
		c = 1
	}
	return appendPixels(make([]float32, 0, h*w*c), img, h, w, gray), h, w, nil
}
