package data

import (
	"fmt"
	"os"
	"path/filepath"
)

// mnistNames maps a split to its standard image and label file names
// (shared by MNIST and Fashion-MNIST), without the optional ".gz".
var mnistNames = map[string][2]string{
	"train": {"train-images-idx3-ubyte", "train-labels-idx1-ubyte"},
	"test":  {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"},
}

// LoadMNISTDir loads split "train" or "test" from dir holding the standard
// MNIST (or Fashion-MNIST) file names, each gzipped (".gz") or raw.
// scripts/get-mnist.sh fills data/mnist with the full official files.
func LoadMNISTDir(dir, split string) (*ImageSet, error) {
	names, ok := mnistNames[split]
	if !ok {
		return nil, fmt.Errorf("data: mnist split must be \"train\" or \"test\", got %q", split)
	}
	var paths [2]string
	for i, base := range names {
		p, err := findMaybeGz(dir, base)
		if err != nil {
			return nil, err
		}
		paths[i] = p
	}
	set, err := LoadIDX(paths[0], paths[1])
	if err != nil {
		return nil, err
	}
	set.Source = dir
	return set, nil
}

// findMaybeGz returns dir/base.gz or dir/base, whichever exists first.
func findMaybeGz(dir, base string) (string, error) {
	for _, name := range []string{base + ".gz", base} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("data: %s: no %s or %s.gz; run scripts/get-mnist.sh %s", dir, base, base, dir)
}
