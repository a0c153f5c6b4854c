package speech

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	_ "embed" // for speechTar
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"unicode"
)

// speechTar is a small set of synthetic spoken digits (see digits/README.md):
// a gzipped tar of 16 kHz mono 16-bit WAV files laid out as
// <class>/<voice>_<rest>.wav, the layout LoadDir reads, so
// `tar xzf digits.tar.gz` gives a folder that loads the same way.
//
//go:embed digits/digits.tar.gz
var speechTar []byte

// maxTarClipBytes bounds one archived clip (about 30 s of 16 kHz 16-bit
// mono); the embedded ones are under 30 KB.
const maxTarClipBytes = 1 << 20

// speechTarName names the embedded archive in Source and clip paths.
const speechTarName = "embedded:speech/digits.tar.gz"

// Embedded returns a fresh copy of the embedded spoken-digit set: ten
// classes ("eight" ... "zero", sorted names as LoadDir gives them),
// synthesised by espeak-ng over many voices; split it with SplitByVoice.
func Embedded() (*Set, error) {
	zr, err := gzip.NewReader(bytes.NewReader(speechTar))
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", speechTarName, err)
	}
	defer zr.Close()
	return readSpeechTar(zr, speechTarName)
}

// readSpeechTar reads an (uncompressed) tar of <class>/<file>.wav entries;
// name is used in Source, clip paths and messages.
func readSpeechTar(r io.Reader, name string) (*Set, error) {
	type entry struct {
		class, path string
		audio       *Audio
	}
	var entries []entry
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("data: %s: %w", name, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue // directories
		}
		class, file, ok := strings.Cut(path.Clean(h.Name), "/")
		if !ok || class == "" || class == ".." || strings.Contains(file, "/") || strings.ContainsFunc(h.Name, unicode.IsControl) {
			return nil, fmt.Errorf("data: %s: entry %q is not <class>/<file>.wav", name, h.Name)
		}
		p := name + ":" + h.Name
		if h.Size > maxTarClipBytes { // also bounds sparse entries, which expand without data
			return nil, fmt.Errorf("data: %s: %d bytes, more than the %d a clip may have", p, h.Size, maxTarClipBytes)
		}
		a, err := ReadWAV(tr, p)
		if err != nil {
			return nil, err
		}
		entries = append(entries, entry{class, p, a})
	}
	sort.Slice(entries, func(i, j int) bool { // as LoadDir: by class, then file
		if entries[i].class != entries[j].class {
			return entries[i].class < entries[j].class
		}
		return entries[i].path < entries[j].path
	})
	set := &Set{Source: name}
	labels := map[string]int{}
	for _, e := range entries {
		if _, ok := labels[e.class]; !ok {
			labels[e.class] = 0
			set.Classes = append(set.Classes, e.class)
		}
	}
	sort.Strings(set.Classes)
	for i, c := range set.Classes {
		labels[c] = i
	}
	for _, e := range entries {
		if err := set.add(e.audio, labels[e.class], voiceOf(e.path), e.path); err != nil {
			return nil, err
		}
	}
	return set.nonEmpty()
}
