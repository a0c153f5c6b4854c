package data

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
)

// pngWithSize returns a valid 1x1 gray PNG whose IHDR claims w x h pixels
// (the CRC is fixed up, so only the size is a lie).
func pngWithSize(tb testing.TB, w, h uint32) []byte {
	tb.Helper()
	var buf bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, 1, 1))
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	b := buf.Bytes()
	// 8-byte signature, then IHDR: length(4) "IHDR"(4) width(4) height(4) ... crc
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// jpegWithSize returns a valid 8x8 JPEG whose SOF0 marker claims w x h.
func jpegWithSize(tb testing.TB, w, h uint16) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, solid(8, 8, color.White), nil); err != nil {
		tb.Fatal(err)
	}
	b := buf.Bytes()
	i := bytes.Index(b, []byte{0xff, 0xc0})
	if i < 0 {
		tb.Fatal("no SOF0 marker")
	}
	// marker(2) length(2) precision(1) height(2) width(2)
	binary.BigEndian.PutUint16(b[i+5:], h)
	binary.BigEndian.PutUint16(b[i+7:], w)
	return b
}

// TestDecodeImageSizeLimit: a header claiming a huge image is refused before
// the decoder allocates it (a 65535x65535 PNG would be 17 GB as RGBA).
func TestDecodeImageSizeLimit(t *testing.T) {
	for _, tt := range []struct {
		name string
		b    []byte
	}{
		{"png 65535x65535", pngWithSize(t, 65535, 65535)},
		{"png 1x2^30", pngWithSize(t, 1, 1<<30)},
		{"jpeg 65535x65535", jpegWithSize(t, 65535, 65535)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeImageBytes(tt.b, "big.img")
			if err == nil || !strings.Contains(err.Error(), "big.img") || !strings.Contains(err.Error(), "pixel limit") {
				t.Fatalf("error = %v, want the pixel limit naming big.img", err)
			}
		})
	}
	if _, err := decodeImageBytes(pngWithSize(t, 1, 1), "ok.png"); err != nil {
		t.Fatalf("the unmodified 1x1 PNG: %v", err)
	}
}

// FuzzDecodeImage: decodeImageBytes never panics or allocates past the pixel
// limit; its errors are one line naming the file; an accepted image has
// pixels and converts to a fixed size.
func FuzzDecodeImage(f *testing.F) {
	var p, j bytes.Buffer
	if err := png.Encode(&p, solid(3, 2, color.RGBA{10, 20, 30, 255})); err != nil {
		f.Fatal(err)
	}
	if err := jpeg.Encode(&j, solid(8, 8, color.White), nil); err != nil {
		f.Fatal(err)
	}
	f.Add(p.Bytes())
	f.Add(j.Bytes())
	f.Add(p.Bytes()[:len(p.Bytes())/2])
	f.Add(j.Bytes()[:len(j.Bytes())/2])
	f.Add(pngWithSize(f, 65535, 65535))
	f.Add(jpegWithSize(f, 65535, 65535))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte{0xff, 0xd8, 0xff})
	f.Add([]byte("GIF89a"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := decodeImageBytes(b, "f.img")
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "f.img") {
				t.Fatalf("error is not one line naming the file: %q", msg)
			}
			return
		}
		r := img.Bounds()
		if r.Empty() || int64(r.Dx())*int64(r.Dy()) > maxImagePixels {
			t.Fatalf("accepted an image of %v", r)
		}
		if r.Dx()*r.Dy() <= 1<<16 { // converting is the slow part; keep the fuzzer fast
			if pix := appendPixels(nil, img, 4, 4, false); len(pix) != 4*4*3 {
				t.Fatalf("%d values, want 48", len(pix))
			}
		}
	})
}
