package shard

import (
	"archive/tar"
	"bytes"
	"testing"
)

// FuzzReadAll feeds arbitrary bytes to the shard reader: it must return
// examples or an error, never panic or allocate beyond MaxMemberBytes per
// member.
func FuzzReadAll(f *testing.F) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, mb := range []member{{"a/k0.png", []byte("\x89PNG\r\n\x1a\n")}, {"a/k0.cls", []byte("1")}, {"k1.jpg", []byte{0xff, 0xd8, 0xff}}, {"k1.cls", []byte("0")}} {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: mb.name, Size: int64(len(mb.data))})
		tw.Write(mb.data)
	}
	tw.Close()
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:700])
	f.Add([]byte{})
	m := &Manifest{Format: FormatVersion, Kind: KindImage, Classes: []string{"x", "y"}}
	f.Fuzz(func(t *testing.T, b []byte) {
		exs, err := ReadAll(bytes.NewReader(b), "fuzz.tar", m)
		if err != nil {
			return
		}
		for _, ex := range exs {
			if ex.Label < 0 || ex.Label >= 2 || ex.Ext == "" || ex.Key == "" {
				t.Fatalf("accepted a bad example: %+v", ex)
			}
		}
	})
}
