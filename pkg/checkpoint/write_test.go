package checkpoint

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// dirNames lists dir, failing the test on error.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteMissingDir(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "nope", "ckpt.safetensors")
	err := Write(path, sample(), nil)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error = %v, want one naming %s", err, path)
	}
	if names := dirNames(t, root); len(names) != 0 {
		t.Errorf("left behind %v", names)
	}
}

// failAfter accepts n bytes, then fails like a full disk.
type failAfter struct {
	w io.Writer
	n int
}

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k, _ := f.w.Write(p[:f.n])
		f.n = 0
		return k, syscall.ENOSPC
	}
	f.n -= len(p)
	return f.w.Write(p)
}

func TestWriteFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt-00000001.safetensors")
	old := []Tensor{F32("w", []int{2}, []float32{1, 2})}
	if err := Write(path, old, map[string]string{"step": "1"}); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dup := append(sample(), F32("student.pos", []int{1}, []float32{0}))
	bad := sample()
	bad[0].Data = bad[0].Data[:5]
	tests := []struct {
		name    string
		tensors []Tensor
		inject  bool
		want    string
	}{
		{"duplicate name", dup, false, `duplicate tensor "student.pos"`},
		{"size mismatch", bad, false, `tensor "student.pos": data is 5 bytes, shape (2,3) F32 needs 24`},
		{"disk full", sample(), true, "no space left on device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.inject {
				wrapWriter = func(w io.Writer) io.Writer { return &failAfter{w: w, n: 20} }
				defer func() { wrapWriter = func(w io.Writer) io.Writer { return w } }()
			}
			err := Write(path, tt.tensors, nil)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one naming %s and %q", err, path, tt.want)
			}
			if tt.inject && !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("error %v does not wrap ENOSPC", err)
			}
			after, err := os.ReadFile(path)
			if err != nil || string(after) != string(before) {
				t.Errorf("old file changed (err %v)", err)
			}
			if names := dirNames(t, dir); len(names) != 1 {
				t.Errorf("dir holds %v, want only the old file", names)
			}
		})
	}
}

func TestWriteOverwrites(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.safetensors")
	for _, v := range []float32{1, 2} {
		if err := Write(path, []Tensor{F32("w", []int{1}, []float32{v})}, nil); err != nil {
			t.Fatal(err)
		}
	}
	f, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := f.Tensors["w"].Float32s(); len(got) != 1 || got[0] != 2 {
		t.Errorf("w = %v, want [2]", got)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Errorf("dir holds %v", names)
	}
}

func TestReadMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gone.safetensors")
	_, err := Read(path)
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("error = %v", err)
	}
}
