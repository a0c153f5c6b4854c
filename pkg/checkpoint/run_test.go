package checkpoint

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestStepPath(t *testing.T) {
	if got := StepPath("runs/x", 100); got != "runs/x/ckpt-00000100.safetensors" {
		t.Errorf("StepPath = %q", got)
	}
	if got := StepPath("d", 123456789); got != "d/ckpt-123456789.safetensors" {
		t.Errorf("StepPath = %q", got)
	}
}

func TestListLatestPrune(t *testing.T) {
	dir := t.TempDir()
	if _, err := Latest(dir); !errors.Is(err, ErrNoCheckpoint) || !strings.Contains(err.Error(), dir) {
		t.Errorf("Latest(empty) error = %v", err)
	}
	// Steps written out of order, one past 8 digits, plus files List must skip.
	steps := []int64{300, 20, 100000000, 1}
	for _, s := range steps {
		if err := Write(StepPath(dir, s), sample()[:1], nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, junk := range []string{".tmp-ckpt-00000400.safetensors-123", "config.yaml", "ckpt-abc.safetensors", "ckpt-.safetensors", "ckpt-00000500.safetensors.bak"} {
		if err := os.WriteFile(filepath.Join(dir, junk), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "ckpt-00000900.safetensors"), 0o755); err != nil {
		t.Fatal(err)
	}
	want := []string{StepPath(dir, 1), StepPath(dir, 20), StepPath(dir, 300), StepPath(dir, 100000000)}
	got, err := List(dir)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("List = %v, %v; want %v", got, err, want)
	}
	if latest, err := Latest(dir); err != nil || latest != want[3] {
		t.Errorf("Latest = %q, %v", latest, err)
	}
	if err := Prune(dir, 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := List(dir); len(got) != 4 {
		t.Errorf("Prune(0) removed files: %v", got)
	}
	if err := Prune(dir, 2); err != nil {
		t.Fatal(err)
	}
	if got, _ := List(dir); !slices.Equal(got, want[2:]) {
		t.Errorf("after Prune(2): %v, want %v", got, want[2:])
	}
	if _, err := os.Stat(filepath.Join(dir, "config.yaml")); err != nil {
		t.Errorf("Prune touched other files: %v", err)
	}
	if _, err := List(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("List(missing) error = %v", err)
	}
}

func TestCheck(t *testing.T) {
	f, err := Parse(mustEncode(t, []Tensor{
		F32("student.blocks.03.ffn.fc1.w", []int{64, 256}, make([]float32, 64*256)),
		F32("student.pos", []int{2, 3}, make([]float32, 6)),
		F32("extra", []int{1}, []float32{0}),
	}), "x.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		want map[string][]int
		err  string
	}{
		{"match, extra allowed", map[string][]int{"student.pos": {2, 3}}, ""},
		{"shape", map[string][]int{"student.blocks.03.ffn.fc1.w": {64, 128}},
			`checkpoint: x.safetensors: "student.blocks.03.ffn.fc1.w" has shape (64,256), model expects (64,128)`},
		{"missing and shape", map[string][]int{"student.pos": {3, 2}, "head.w": {4}},
			`checkpoint: x.safetensors: "head.w" is missing, model expects shape (4); "student.pos" has shape (2,3), model expects (3,2)`},
		{"many", map[string][]int{"a": nil, "b": nil, "c": nil, "d": nil, "e": nil, "f": nil, "g": nil},
			`"e" is missing, model expects shape (); and 2 more`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.want, f, "x.safetensors")
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("error = %v, want %q", err, tt.err)
			}
		})
	}
}

func mustEncode(t testing.TB, tensors []Tensor) []byte {
	t.Helper()
	b, err := encode(tensors, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
