package data

import (
	"bytes"
	"compress/gzip"
	"math"
	"slices"
	"strings"
	"testing"
)

// gzipTB is gz for any testing.TB (gz takes a *testing.T).
func gzipTB(tb testing.TB, raw []byte) []byte {
	tb.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(raw); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// checkIDXError requires a one-line error that names the file.
func checkIDXError(t *testing.T, err error, name string) {
	t.Helper()
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Fatalf("error spans several lines: %q", msg)
	}
	if !strings.Contains(msg, name) {
		t.Fatalf("error does not name %q: %q", name, msg)
	}
}

// addIDXSeeds adds raw and gzipped versions of good, a truncation of each,
// and good with the other IDX magic.
func addIDXSeeds(f *testing.F, good []byte, otherMagic uint32) {
	f.Helper()
	z := gzipTB(f, good)
	f.Add(good)
	f.Add(z)
	f.Add(good[:len(good)-1])
	f.Add(good[:5])
	f.Add(z[:len(z)-4]) // gzip trailer cut
	f.Add(z[:len(z)/2])
	f.Add(append(bytes.Clone(good), 0)) // trailing byte
	wrong := bytes.Clone(good)
	wrong[2], wrong[3] = byte(otherMagic>>8), byte(otherMagic)
	f.Add(wrong)
	f.Add(gzipTB(f, wrong))
	f.Add([]byte{})
	f.Add([]byte{0x1f})
	f.Add([]byte{0x1f, 0x8b})
}

// FuzzReadIDXImages checks that ReadIDXImages never panics, that its errors
// are one line naming the file, and that what it accepts is consistent and
// re-encodes to a file that reads back the same.
func FuzzReadIDXImages(f *testing.F) {
	imgs, _ := tinyIDX()
	addIDXSeeds(f, imgs, idxLabelsMagic)
	f.Add(idxBytes(idxImagesMagic, []uint32{1, 1, 1}, []byte{255}))
	f.Add(idxBytes(idxImagesMagic, []uint32{0, 2, 2}, nil))
	f.Add(idxBytes(idxImagesMagic, []uint32{1, 0, 2}, nil))
	f.Add(idxBytes(idxImagesMagic, []uint32{1 << 16, 1 << 16, 2}, []byte{1, 2, 3}))
	f.Add(gzipTB(f, idxBytes(idxImagesMagic, []uint32{2, 3, 1}, []byte{0, 1, 2, 3, 4, 5})))
	const name = "fuzz-images.idx"
	f.Fuzz(func(t *testing.T, b []byte) {
		set, err := ReadIDXImages(bytes.NewReader(b), name)
		if err != nil {
			checkIDXError(t, err, name)
			return
		}
		if set.N <= 0 || set.H <= 0 || set.W <= 0 || set.C != 1 {
			t.Fatalf("bad shape N=%d H=%d W=%d C=%d", set.N, set.H, set.W, set.C)
		}
		if set.N*set.H*set.W != len(set.Pix) {
			t.Fatalf("N*H*W = %d*%d*%d but %d pixels", set.N, set.H, set.W, len(set.Pix))
		}
		if set.Labels != nil || set.Source != name {
			t.Fatalf("labels %v, source %q; want none and %q", set.Labels, set.Source, name)
		}
		raw := make([]byte, len(set.Pix))
		for i, p := range set.Pix {
			if !(p >= 0 && p <= 1) {
				t.Fatalf("pixel %d = %v outside [0,1]", i, p)
			}
			raw[i] = byte(math.Round(float64(p) * 255))
		}
		again, err := ReadIDXImages(bytes.NewReader(idxBytes(idxImagesMagic,
			[]uint32{uint32(set.N), uint32(set.H), uint32(set.W)}, raw)), "again")
		if err != nil {
			t.Fatalf("re-encoded file does not read: %v", err)
		}
		if again.N != set.N || again.H != set.H || again.W != set.W || !slices.Equal(again.Pix, set.Pix) {
			t.Fatal("re-encoded file reads back different")
		}
	})
}

// FuzzReadIDXLabels is FuzzReadIDXImages for label files.
func FuzzReadIDXLabels(f *testing.F) {
	_, lbls := tinyIDX()
	addIDXSeeds(f, lbls, idxImagesMagic)
	f.Add(idxBytes(idxLabelsMagic, []uint32{0}, nil))
	f.Add(idxBytes(idxLabelsMagic, []uint32{1}, []byte{255}))
	f.Add(idxBytes(idxLabelsMagic, []uint32{1 << 31}, []byte{1, 2}))
	const name = "fuzz-labels.idx"
	f.Fuzz(func(t *testing.T, b []byte) {
		labels, err := ReadIDXLabels(bytes.NewReader(b), name)
		if err != nil {
			checkIDXError(t, err, name)
			return
		}
		if len(labels) == 0 {
			t.Fatal("accepted a file with no labels")
		}
		raw := make([]byte, len(labels))
		for i, l := range labels {
			if l < 0 || l > 255 {
				t.Fatalf("label %d = %d outside [0,255]", i, l)
			}
			raw[i] = byte(l)
		}
		again, err := ReadIDXLabels(bytes.NewReader(idxBytes(idxLabelsMagic, []uint32{uint32(len(labels))}, raw)), "again")
		if err != nil {
			t.Fatalf("re-encoded file does not read: %v", err)
		}
		if !slices.Equal(again, labels) {
			t.Fatal("re-encoded file reads back different labels")
		}
	})
}
