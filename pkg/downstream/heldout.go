package downstream

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/data"
	"github.com/d2v/d2v/pkg/feed"
	"github.com/d2v/d2v/pkg/speech"
)

// data.test_path: the user's own held-out folder, for every modality. When
// it is set, eval and fine-tuning measure on that folder instead of the
// data's own test split; the train split is unchanged (for speech and text
// that is still the train voices / the train 90% of the task). The folder
// holds one subfolder per class, named as the train classes (a class the
// train split lacks is an error; one it does not hold is fine):
//
//   - images: <class>/* image files (data.LoadImageFolder), resized and
//     normalised as the train images;
//   - speech: <class>/*.wav (speech.LoadDir);
//   - text: <class>/*.txt, one example per blank-line separated paragraph.

// heldOutImages reads data.test_path as an image folder, whatever data.source is.
func heldOutImages(cfg *config.Config) (*data.ImageSet, error) {
	c := *cfg
	c.Data.Source, c.Data.Path, c.Data.Limit = config.SourceFolder, cfg.Data.TestPath, 0
	set, err := feed.LoadImages(&c, "train") // the "train" of a folder source is data.path
	if err != nil {
		return nil, fmt.Errorf("data.test_path: %w", err)
	}
	return set, nil
}

// heldOutSpeech reads data.test_path as a labelled WAV folder.
func heldOutSpeech(cfg *config.Config) (*speech.Set, error) {
	set, err := speech.LoadDir(cfg.Data.TestPath)
	if err != nil {
		return nil, fmt.Errorf("data.test_path: %w", err)
	}
	return set, nil
}

// heldOutText reads data.test_path as <class>/*.txt paragraphs.
func heldOutText(cfg *config.Config) (*data.TextSet, error) {
	dir := cfg.Data.TestPath
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("data.test_path: %w", err)
	}
	set := &data.TextSet{Source: dir}
	for _, e := range entries {
		if !e.IsDir() || e.Name()[0] == '.' {
			continue
		}
		docs, err := data.LoadTextFiles(filepath.Join(dir, e.Name()), data.TextModeParagraph)
		if err != nil {
			return nil, fmt.Errorf("data.test_path: %w", err)
		}
		set.Classes = append(set.Classes, e.Name())
		for _, d := range docs {
			set.Texts = append(set.Texts, d.Text)
			set.Labels = append(set.Labels, len(set.Classes)-1)
		}
	}
	if len(set.Classes) == 0 {
		return nil, fmt.Errorf("data.test_path: %s: no class subfolders", dir)
	}
	return set, nil
}

// relabel maps the labels of a held-out set (its own sorted class names) to
// the train split's class ids by name.
func relabel(labels []int, classes, trainClasses []string, source string) error {
	ids := make([]int, len(classes))
	for i, c := range classes {
		if ids[i] = slices.Index(trainClasses, c); ids[i] < 0 {
			return fmt.Errorf("data.test_path: %s: class %q is not a train class (train has %d: %v)",
				source, c, len(trainClasses), abbreviate(trainClasses))
		}
	}
	for i, y := range labels {
		labels[i] = ids[y]
	}
	return nil
}

func abbreviate(s []string) []string {
	if len(s) > 8 {
		return append(slices.Clip(s[:8]), "...")
	}
	return s
}
