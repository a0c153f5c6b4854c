package shard

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Writer writes examples into numbered shards of PerShard examples each
// (the last one may hold fewer) and the manifest on Close. The output is a
// function of the examples alone (fixed member times and modes), so
// writing the same data twice gives the same bytes and checksums.
type Writer struct {
	dir      string
	perShard int
	m        Manifest
	f        *os.File
	tw       *tar.Writer
	h        hash.Hash
	cur      Entry
	n        int // examples written in total, the next key
}

// NewWriter creates dir (which must not already hold a manifest) for
// examples of kind; classes names the labels (empty: unlabelled); source
// is recorded in the manifest for logs.
func NewWriter(dir string, perShard int, kind Kind, classes []string, source string) (*Writer, error) {
	if perShard <= 0 {
		return nil, fmt.Errorf("shard: examples per shard must be > 0, got %d", perShard)
	}
	if _, ok := dataExts[kind]; !ok {
		return nil, fmt.Errorf("shard: kind %q, want image, audio or text", kind)
	}
	if IsDir(dir) {
		return nil, fmt.Errorf("shard: %s already holds a %s; pick a new folder", dir, ManifestName)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("shard: %w", err)
	}
	return &Writer{dir: dir, perShard: perShard,
		m: Manifest{Format: FormatVersion, Kind: kind, Classes: classes, Source: source}}, nil
}

// Add appends one example: payload with extension ext (one of the kind's,
// e.g. "png") and its class label (-1 for an unlabelled set).
func (w *Writer) Add(ext string, payload []byte, label int) error {
	if !isDataExt(w.m.Kind, ext) {
		return fmt.Errorf("shard: extension %q does not hold a %s example", ext, w.m.Kind)
	}
	if w.m.Labelled() != (label >= 0) || label >= len(w.m.Classes) {
		return fmt.Errorf("shard: example %d: label %d for %d classes", w.n, label, len(w.m.Classes))
	}
	if w.tw == nil {
		if err := w.open(); err != nil {
			return err
		}
	}
	key := fmt.Sprintf("%09d", w.n)
	if err := w.member(key+"."+ext, payload); err != nil {
		return err
	}
	if label >= 0 {
		if err := w.member(key+".cls", []byte(strconv.Itoa(label))); err != nil {
			return err
		}
		w.cur.ClassCounts[label]++
	}
	w.n++
	if w.cur.Count++; w.cur.Count == w.perShard {
		return w.closeShard()
	}
	return nil
}

func (w *Writer) open() error {
	name := fmt.Sprintf("shard-%06d.tar", len(w.m.Shards))
	f, err := os.Create(filepath.Join(w.dir, name))
	if err != nil {
		return fmt.Errorf("shard: %w", err)
	}
	w.f, w.h = f, sha256.New()
	w.tw = tar.NewWriter(io.MultiWriter(f, w.h))
	w.cur = Entry{Name: name}
	if w.m.Labelled() {
		w.cur.ClassCounts = make([]int, len(w.m.Classes))
	}
	return nil
}

func (w *Writer) member(name string, b []byte) error {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(b)), Mode: 0o644,
		ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("shard: %s: %s: %w", w.cur.Name, name, err)
	}
	if _, err := w.tw.Write(b); err != nil {
		return fmt.Errorf("shard: %s: %s: %w", w.cur.Name, name, err)
	}
	return nil
}

func (w *Writer) closeShard() error {
	err := w.tw.Close()
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("shard: %s: %w", w.cur.Name, err)
	}
	st, err := os.Stat(filepath.Join(w.dir, w.cur.Name))
	if err != nil {
		return fmt.Errorf("shard: %w", err)
	}
	w.cur.Bytes, w.cur.SHA256 = st.Size(), hex.EncodeToString(w.h.Sum(nil))
	w.m.Shards = append(w.m.Shards, w.cur)
	w.m.Count += w.cur.Count
	w.tw, w.f = nil, nil
	return nil
}

// Close finishes the last shard and writes the manifest, which makes the
// folder readable: a folder without one is an unfinished write.
func (w *Writer) Close() (*Manifest, error) {
	if w.tw != nil {
		if err := w.closeShard(); err != nil {
			return nil, err
		}
	}
	if w.m.Count == 0 {
		return nil, fmt.Errorf("shard: %s: no examples written", w.dir)
	}
	if err := w.m.write(w.dir); err != nil {
		return nil, err
	}
	return &w.m, nil
}

func isDataExt(k Kind, ext string) bool {
	for _, e := range dataExts[k] {
		if e == ext {
			return true
		}
	}
	return false
}
