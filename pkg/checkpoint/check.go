package checkpoint

import (
	"fmt"
	"slices"
	"strings"
)

// maxProblems caps how many mismatches one Check error lists.
const maxProblems = 5

// Check reports whether f holds every tensor in want with the wanted shape;
// path is used in the message only. Extra tensors in f are allowed (a
// checkpoint may carry optimizer state or a head the caller does not load).
// Dtypes are not checked. All problems, in name order, go into one line:
//
//	checkpoint: x.safetensors: "student.blocks.03.ffn.fc1.w" has shape (64,256), model expects (64,128)
func Check(want map[string][]int, f *File, path string) error {
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	slices.Sort(names)
	var problems []string
	for _, name := range names {
		t, ok := f.Tensors[name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%q is missing, model expects shape %s", name, FormatShape(want[name])))
		case !slices.Equal(t.Shape, want[name]):
			problems = append(problems, fmt.Sprintf("%q has shape %s, model expects %s",
				name, FormatShape(t.Shape), FormatShape(want[name])))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	more := ""
	if len(problems) > maxProblems {
		more = fmt.Sprintf("; and %d more", len(problems)-maxProblems)
		problems = problems[:maxProblems]
	}
	return fmt.Errorf("checkpoint: %s: %s%s", path, strings.Join(problems, "; "), more)
}
