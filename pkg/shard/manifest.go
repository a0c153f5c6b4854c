package shard

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ManifestName is the manifest's file name inside a shard folder.
const ManifestName = "manifest.json"

// FormatVersion names this layout in every manifest.
const FormatVersion = "d2v-shards/1"

// Kind is what one example holds.
type Kind string

// Kinds of examples and the member extension each needs.
const (
	KindImage Kind = "image" // .png or .jpg (.jpeg)
	KindAudio Kind = "audio" // .wav
	KindText  Kind = "text"  // .txt, UTF-8
)

// dataExts are the extensions that carry an example's payload, per kind.
var dataExts = map[Kind][]string{
	KindImage: {"png", "jpg", "jpeg"},
	KindAudio: {"wav"},
	KindText:  {"txt"},
}

// Manifest describes a shard folder.
type Manifest struct {
	Format  string   `json:"format"`  // FormatVersion
	Kind    Kind     `json:"kind"`    // what every example holds
	Count   int      `json:"count"`   // examples over all shards
	Classes []string `json:"classes"` // class names, index = .cls value; empty: unlabelled
	Source  string   `json:"source"`  // what the shards were written from, for logs
	Shards  []Entry  `json:"shards"`  // in write order
}

// Entry is one shard of a manifest.
type Entry struct {
	Name        string `json:"name"`                   // file name inside the folder
	Count       int    `json:"count"`                  // examples in the shard
	Bytes       int64  `json:"bytes"`                  // file size
	SHA256      string `json:"sha256"`                 // hex checksum of the file
	ClassCounts []int  `json:"class_counts,omitempty"` // examples per class (labelled sets)
}

// Labelled says whether every example must carry a .cls member.
func (m *Manifest) Labelled() bool { return len(m.Classes) > 0 }

// IsDir reports whether dir holds a manifest, the sign of a shard folder.
func IsDir(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, ManifestName))
	return err == nil && st.Mode().IsRegular()
}

// ReadManifest reads and checks dir/manifest.json, and checks each shard's
// size against it (a cheap test for a truncated or replaced shard; Verify
// checks the contents).
func ReadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestName)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("shard: %w", err)
	}
	var m Manifest
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("shard: %s: %v", path, err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("shard: %s: %w", path, err)
	}
	for _, e := range m.Shards {
		st, err := os.Stat(filepath.Join(dir, e.Name))
		if err != nil {
			return nil, fmt.Errorf("shard: %w", err)
		}
		if st.Size() != e.Bytes {
			return nil, fmt.Errorf("shard: %s: %d bytes, the manifest says %d (truncated or replaced?); rewrite it with d2v shard",
				filepath.Join(dir, e.Name), st.Size(), e.Bytes)
		}
	}
	return &m, nil
}

// check validates the manifest's own fields.
func (m *Manifest) check() error {
	if m.Format != FormatVersion {
		return fmt.Errorf("format %q, want %q", m.Format, FormatVersion)
	}
	if _, ok := dataExts[m.Kind]; !ok {
		return fmt.Errorf("kind %q, want image, audio or text", m.Kind)
	}
	if len(m.Shards) == 0 {
		return fmt.Errorf("no shards")
	}
	total := 0
	for i, e := range m.Shards {
		if e.Name == "" || e.Name != filepath.Base(e.Name) || strings.HasPrefix(e.Name, ".") {
			return fmt.Errorf("shard %d: name %q must be a plain file name in the folder", i, e.Name)
		}
		if e.Count <= 0 || e.Bytes <= 0 {
			return fmt.Errorf("%s: count %d and bytes %d must be > 0", e.Name, e.Count, e.Bytes)
		}
		if m.Labelled() && len(e.ClassCounts) != len(m.Classes) {
			return fmt.Errorf("%s: %d class counts for %d classes", e.Name, len(e.ClassCounts), len(m.Classes))
		}
		total += e.Count
	}
	if total != m.Count {
		return fmt.Errorf("count %d, but the shards hold %d", m.Count, total)
	}
	return nil
}

// write stores the manifest as dir/manifest.json through a temporary file,
// so a reader never sees half of one.
func (m *Manifest) write(dir string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+ManifestName+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("shard: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, ManifestName)); err != nil {
		return fmt.Errorf("shard: %w", err)
	}
	return nil
}

// Verify recomputes every shard's SHA-256 and compares it with the
// manifest; it reads the whole dataset once.
func (m *Manifest) Verify(dir string) error {
	for _, e := range m.Shards {
		f, err := os.Open(filepath.Join(dir, e.Name))
		if err != nil {
			return fmt.Errorf("shard: %w", err)
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("shard: %s: %w", e.Name, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != e.SHA256 {
			return fmt.Errorf("shard: %s: sha256 %.12s..., the manifest says %.12s... (corrupt or replaced)", filepath.Join(dir, e.Name), got, e.SHA256)
		}
	}
	return nil
}

// Fingerprint is the SHA-256 of what identifies the examples: the kind,
// the classes and every shard's name, count and checksum. Computing it
// reads only the manifest.
func (m *Manifest) Fingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%q\n", m.Format, m.Kind, m.Classes)
	for _, e := range m.Shards {
		fmt.Fprintf(h, "%s %d %s\n", e.Name, e.Count, e.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))
}
