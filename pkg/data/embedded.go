package data

import (
	"embed"
	"fmt"
	"io"
	"path"
)

// mnistFS holds a real MNIST subset (see mnist/README.md): the first 6000
// training and the first 2000 test images, so tests and demos run offline.
//
//go:embed mnist/*.gz
var mnistFS embed.FS

// Embedded returns a fresh copy of the embedded MNIST subset: split "train"
// (first 6000 official training images) or "test" (first 2000 official
// test images), 28x28x1, labels 0..9.
func Embedded(split string) (*ImageSet, error) {
	names, ok := mnistNames[split]
	if !ok {
		return nil, fmt.Errorf("data: embedded mnist split must be \"train\" or \"test\", got %q", split)
	}
	set, err := readEmbedded(names[0], ReadIDXImages)
	if err != nil {
		return nil, err
	}
	labels, err := readEmbedded(names[1], ReadIDXLabels)
	if err != nil {
		return nil, err
	}
	if len(labels) != set.N {
		return nil, fmt.Errorf("data: embedded mnist %s: %d images but %d labels", split, set.N, len(labels))
	}
	set.Labels = labels
	set.Classes = numericClasses(labels)
	set.Source = fmt.Sprintf("embedded MNIST %s subset", split)
	return set, nil
}

func readEmbedded[T any](base string, read func(io.Reader, string) (T, error)) (T, error) {
	name := path.Join("mnist", base+".gz")
	f, err := mnistFS.Open(name)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("data: embedded %s: %w", name, err)
	}
	defer f.Close()
	return read(f, "embedded:"+name)
}
