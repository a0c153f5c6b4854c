package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// IDX magic numbers: two zero bytes, type code 0x08 (unsigned byte) and the
// number of dimensions (http://yann.lecun.com/exdb/mnist/).
const (
	idxImagesMagic = 0x00000803 // 2051: (N, rows, cols) unsigned bytes
	idxLabelsMagic = 0x00000801 // 2049: (N) unsigned bytes
	// maxIDXBytes bounds the payload a header may claim, so a corrupt header
	// is reported instead of exhausting memory.
	maxIDXBytes = 1 << 32
)

// LoadIDX reads an IDX image file and its IDX label file (each raw or
// gzipped) into an ImageSet with C=1 and classes "0".."max label".
func LoadIDX(imagesPath, labelsPath string) (*ImageSet, error) {
	set, err := readIDXFile(imagesPath, ReadIDXImages)
	if err != nil {
		return nil, err
	}
	labels, err := readIDXFile(labelsPath, ReadIDXLabels)
	if err != nil {
		return nil, err
	}
	if len(labels) != set.N {
		return nil, fmt.Errorf("data: %s has %d images but %s has %d labels; use matching files",
			imagesPath, set.N, labelsPath, len(labels))
	}
	set.Labels = labels
	set.Classes = numericClasses(labels)
	return set, nil
}

func readIDXFile[T any](path string, read func(io.Reader, string) (T, error)) (T, error) {
	f, err := os.Open(path)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("data: %w", err) // *PathError already names the file
	}
	defer f.Close()
	return read(f, path)
}

// ReadIDXImages reads an IDX3 unsigned-byte image file (magic 2051), raw or
// gzipped (detected by its magic bytes, not its name). name is used only in
// error messages. The result has C=1, pixels scaled to [0,1], no labels.
func ReadIDXImages(r io.Reader, name string) (*ImageSet, error) {
	br, closeFn, err := openMaybeGzip(r, name)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	dims, err := readIDXHeader(br, name, idxImagesMagic, 3)
	if err != nil {
		return nil, err
	}
	n, h, w := dims[0], dims[1], dims[2]
	if h == 0 || w == 0 {
		return nil, fmt.Errorf("data: %s: bad image size %dx%d", name, h, w)
	}
	raw, err := readExact(br, name, n*h*w, "pixel bytes")
	if err != nil {
		return nil, err
	}
	pix := make([]float32, len(raw))
	for i, b := range raw {
		pix[i] = float32(b) / 255
	}
	return &ImageSet{N: n, H: h, W: w, C: 1, Pix: pix, Source: name}, nil
}

// ReadIDXLabels reads an IDX1 unsigned-byte label file (magic 2049), raw or
// gzipped. name is used only in error messages.
func ReadIDXLabels(r io.Reader, name string) ([]int, error) {
	br, closeFn, err := openMaybeGzip(r, name)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	dims, err := readIDXHeader(br, name, idxLabelsMagic, 1)
	if err != nil {
		return nil, err
	}
	raw, err := readExact(br, name, dims[0], "label bytes")
	if err != nil {
		return nil, err
	}
	labels := make([]int, len(raw))
	for i, b := range raw {
		labels[i] = int(b)
	}
	return labels, nil
}

// openMaybeGzip returns a reader over the decompressed stream when r starts
// with the gzip magic 0x1f 0x8b, else over r itself.
func openMaybeGzip(r io.Reader, name string) (*bufio.Reader, func(), error) {
	br := bufio.NewReader(r)
	head, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("data: %s: %w", name, err)
	}
	if len(head) < 2 || head[0] != 0x1f || head[1] != 0x8b {
		return br, func() {}, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, nil, fmt.Errorf("data: %s: bad gzip header: %w", name, err)
	}
	return bufio.NewReader(zr), func() { zr.Close() }, nil
}

// readIDXHeader checks the magic and returns the ndim dimension sizes.
func readIDXHeader(r io.Reader, name string, magic uint32, ndim int) ([]int, error) {
	hdr := make([]byte, 4*(1+ndim))
	if got, err := io.ReadFull(r, hdr); err != nil {
		return nil, fmt.Errorf("data: %s: truncated header: want %d bytes, got %d", name, len(hdr), got)
	}
	if m := binary.BigEndian.Uint32(hdr); m != magic {
		return nil, fmt.Errorf("data: %s: bad magic 0x%08x, want 0x%08x (%d); is this the right IDX file?",
			name, m, magic, magic)
	}
	dims := make([]int, ndim)
	total := uint64(1)
	for i := range dims {
		d := binary.BigEndian.Uint32(hdr[4*(i+1):])
		total *= uint64(d)
		if total > maxIDXBytes {
			return nil, fmt.Errorf("data: %s: header claims more than %d data bytes; file is corrupt", name, uint64(maxIDXBytes))
		}
		dims[i] = int(d)
	}
	if dims[0] == 0 {
		return nil, fmt.Errorf("data: %s: empty: header says 0 items", name)
	}
	return dims, nil
}

// readExact reads exactly want bytes and requires the stream to end there.
// It grows the buffer as data arrives, so a lying header cannot force a
// huge allocation before truncation is noticed.
func readExact(r io.Reader, name string, want int, what string) ([]byte, error) {
	buf, err := io.ReadAll(io.LimitReader(r, int64(want)+1))
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF): // gzip stream cut short, maybe only its trailer
		return nil, fmt.Errorf("data: %s: truncated: want %d %s, got %d before the gzip stream broke off", name, want, what, len(buf))
	case err != nil:
		return nil, fmt.Errorf("data: %s: %w", name, err)
	}
	switch {
	case len(buf) < want:
		return nil, fmt.Errorf("data: %s: truncated: want %d %s, got %d", name, want, what, len(buf))
	case len(buf) > want:
		return nil, fmt.Errorf("data: %s: trailing data after %d %s", name, want, what)
	}
	return buf, nil
}
