package shard

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/d2v/d2v/pkg/data"
)

// Set is what a Loader streams: numbered parts of examples, each read
// from its start in order. A shard folder's parts are its shards; an image
// folder's are runs of its (permuted) files.
type Set interface {
	Counts() []int // examples per part
	open(part int) (partReader, error)
}

// partReader reads the examples of one part in order.
type partReader interface {
	scan(read bool) (*Example, error) // io.EOF after the last
	scanned() int                     // examples scanned so far
	end() error                       // after Counts()[part] examples: nothing may follow
	where() string                    // for messages
	close()
}

// Shards is the Set of a shard folder described by its manifest.
type Shards struct {
	Dir string
	M   *Manifest
}

// Counts returns the manifest's count per shard.
func (s Shards) Counts() []int {
	c := make([]int, len(s.M.Shards))
	for i, e := range s.M.Shards {
		c[i] = e.Count
	}
	return c
}

func (s Shards) open(part int) (partReader, error) {
	sc, err := openShard(s.Dir, s.M.Shards[part], s.M)
	if err != nil {
		return nil, err // a nil *scanner in an interface would not be nil
	}
	return sc, nil
}

// ImageFolder is the Set of an image folder read file by file, decoded on
// demand: the layout LoadImageFolder reads, in a permutation of its
// listing drawn from a seed (as d2v shard writes it), cut into parts of
// folderPart files so that the Order permutes runs of files, not classes.
type ImageFolder struct {
	Dir     string
	Classes []string
	paths   []string
	labels  []int
	sizes   []int64
}

// folderPart is the files per part of an ImageFolder.
const folderPart = 1000

// NewImageFolder lists dir (as data.ListImageFolder: sorted classes, image
// files by content) and stats every file; it reads no image.
func NewImageFolder(dir string, seed int64) (*ImageFolder, error) {
	classes, files, _, err := data.ListImageFolder(dir)
	if err != nil {
		return nil, err
	}
	f := &ImageFolder{Dir: dir, Classes: classes}
	f.labels, f.paths = shuffled(files, true, seed)
	for _, p := range f.paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("shard: %w", err)
		}
		f.sizes = append(f.sizes, st.Size())
	}
	return f, nil
}

// Len is the number of images.
func (f *ImageFolder) Len() int { return len(f.paths) }

// Counts returns folderPart per part, the rest in the last.
func (f *ImageFolder) Counts() []int {
	var c []int
	for n := len(f.paths); n > 0; n -= folderPart {
		c = append(c, min(n, folderPart))
	}
	return c
}

// Fingerprint is the SHA-256 of every file's path (relative to Dir),
// size and class in the streamed order: it reads no image, so it notices
// files added, removed, renamed, relabelled or resized, not a file
// rewritten in place with the same size.
func (f *ImageFolder) Fingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "image folder\n%q\n", f.Classes)
	for i, p := range f.paths {
		rel, _ := filepath.Rel(f.Dir, p)
		fmt.Fprintf(h, "%q %d %d\n", rel, f.sizes[i], f.labels[i])
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (f *ImageFolder) open(part int) (partReader, error) {
	lo := part * folderPart
	hi := min(lo+folderPart, len(f.paths))
	return &fileReader{f: f, lo: lo, hi: hi, k: lo}, nil
}

// fileReader reads files [lo, hi) of an ImageFolder.
type fileReader struct {
	f         *ImageFolder
	lo, hi, k int
}

func (r *fileReader) scan(read bool) (*Example, error) {
	if r.k == r.hi {
		return nil, io.EOF
	}
	p := r.f.paths[r.k]
	base := filepath.Base(p)
	ex := &Example{Shard: filepath.Dir(p), Key: strings.TrimSuffix(base, filepath.Ext(base)),
		Ext: strings.TrimPrefix(filepath.Ext(base), "."), Label: r.f.labels[r.k]}
	r.k++
	if !read {
		return ex, nil
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("shard: %w", err)
	}
	ex.Data = b
	return ex, nil
}

func (r *fileReader) scanned() int  { return r.k - r.lo }
func (r *fileReader) end() error    { return nil }
func (r *fileReader) where() string { return fmt.Sprintf("%s (files %d-%d)", r.f.Dir, r.lo, r.hi-1) }
func (r *fileReader) close()        {}

// Path returns the file of example i in the streamed (permuted) order.
func (f *ImageFolder) Path(i int) string { return f.paths[i] }
