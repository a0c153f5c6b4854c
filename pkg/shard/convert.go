package shard

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"strings"

	"github.com/d2v/d2v/pkg/data"
	"github.com/d2v/d2v/pkg/speech"
)

// Converters write a dataset in one of the layouts the in-memory loaders
// read as shards of perShard examples into out, one example in memory at
// a time (IDX files excepted: they are read whole). They return the
// manifest and, for speech, the clips skipped as the folder loader skips
// them (silent, constant or empty).
//
// Folders list their files class by class; written in that order, every
// shuffle window of the loader would hold one or two classes. So image and
// speech folders are written in a permutation of the listing drawn from
// seed (as WebDataset users shuffle before writing shards); the manifest's
// source records it.

// shuffled returns the (label, file) pairs of a class listing in the
// permutation of seed; label is -1 for an unlabelled (flat) listing.
func shuffled(files [][]string, labelled bool, seed int64) (labels []int, paths []string) {
	for l, fs := range files {
		for _, f := range fs {
			if !labelled {
				l = -1
			}
			labels, paths = append(labels, l), append(paths, f)
		}
	}
	perm := make([]int, len(paths))
	data.Permute(perm, uint64(seed), 0x434f4e56455254) // "CONVERT"
	outL, outP := make([]int, len(perm)), make([]string, len(perm))
	for i, j := range perm {
		outL[i], outP[i] = labels[j], paths[j]
	}
	return outL, outP
}

// FromImageFolder shards dir/<class>/<image>: each PNG or JPEG file's bytes
// unchanged, with its class. Every image's header is checked, so a broken
// file fails here rather than in training.
func FromImageFolder(dir, out string, perShard int, seed int64) (*Manifest, error) {
	classes, files, _, err := data.ListImageFolder(dir)
	if err != nil {
		return nil, err
	}
	w, err := NewWriter(out, perShard, KindImage, classes, fmt.Sprintf("%s, shuffled with seed %d", dir, seed))
	if err != nil {
		return nil, err
	}
	labels, paths := shuffled(files, true, seed)
	for i, f := range paths {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("shard: %w", err)
		}
		if _, err := data.DecodeImage(b, f, 1, 1, true); err != nil {
			return nil, err
		}
		ext := "png"
		if !bytes.HasPrefix(b, []byte("\x89PNG")) {
			ext = "jpg"
		}
		if err := w.Add(ext, b, labels[i]); err != nil {
			return nil, err
		}
	}
	return w.Close()
}

// FromIDX shards split "train" or "test" of an MNIST-style IDX folder,
// each image as an 8-bit gray PNG holding the IDX bytes exactly.
func FromIDX(dir, split, out string, perShard int) (*Manifest, error) {
	set, err := data.LoadMNISTDir(dir, split)
	if err != nil {
		return nil, err
	}
	w, err := NewWriter(out, perShard, KindImage, set.Classes, dir+" ("+split+")")
	if err != nil {
		return nil, err
	}
	img := image.NewGray(image.Rect(0, 0, set.W, set.H))
	var buf bytes.Buffer
	for i := range set.N {
		for p, x := range set.Image(i) { // x = byte/255 exactly: round back
			img.Pix[p] = uint8(x*255 + 0.5)
		}
		buf.Reset()
		if err := png.Encode(&buf, img); err != nil {
			return nil, fmt.Errorf("shard: %s image %d: %w", dir, i, err)
		}
		if err := w.Add("png", buf.Bytes(), set.Labels[i]); err != nil {
			return nil, err
		}
	}
	return w.Close()
}

// FromSpeechDir shards a speech folder (labelled <class>/*.wav or flat):
// each WAV file's bytes unchanged. Every clip is decoded once; a clip the
// folder loader would skip is skipped and its reason returned. With
// testFrac in (0,1) and at least two voices, only the voice-disjoint train
// split is written, the clips that pretraining on the folder reads with
// modalities.audio.test_frac = testFrac, so evaluation on the folder's
// held-out voices stays clean; 0 writes every clip.
func FromSpeechDir(dir, out string, perShard int, seed int64, testFrac float64) (*Manifest, []string, error) {
	classes, files, _, err := speech.ListDir(dir)
	if err != nil {
		return nil, nil, err
	}
	labels, paths := shuffled(files, len(classes) > 0, seed)
	set := &speech.Set{Source: dir, Classes: classes}
	var skipped []string
	for i, f := range paths { // decode once: what the folder loader keeps
		a, err := speech.LoadWAV(f)
		if err != nil {
			return nil, nil, err
		}
		if _, skip, err := speech.PrepareClip(a, f); err != nil {
			return nil, nil, err
		} else if skip != nil {
			skipped = append(skipped, fmt.Sprintf("%s: skipped: %v", f, skip))
			continue
		}
		set.Clips = append(set.Clips, speech.Clip{Label: labels[i], Voice: speech.VoiceOf(f), Path: f})
	}
	source := fmt.Sprintf("%s, shuffled with seed %d", dir, seed)
	if testFrac > 0 && len(set.Voices()) >= 2 {
		train, _, err := set.SplitByVoice(testFrac)
		if err != nil {
			return nil, nil, fmt.Errorf("shard: %s: %w", dir, err)
		}
		set = train
		source += fmt.Sprintf(", the voice-disjoint train split of test fraction %g", testFrac)
	}
	w, err := NewWriter(out, perShard, KindAudio, classes, source)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range set.Clips {
		b, err := os.ReadFile(c.Path)
		if err != nil {
			return nil, nil, fmt.Errorf("shard: %w", err)
		}
		if err := w.Add("wav", b, c.Label); err != nil {
			return nil, nil, err
		}
	}
	m, err := w.Close()
	return m, skipped, err
}

// FromText shards a .txt file or a folder of them (as data.LoadTextFiles
// reads them, mode "paragraph" or "file"): one document per example.
func FromText(path, mode, out string, perShard int) (*Manifest, error) {
	docs, err := data.LoadTextFiles(path, mode)
	if err != nil {
		return nil, err
	}
	w, err := NewWriter(out, perShard, KindText, nil, path+" ("+mode+")")
	if err != nil {
		return nil, err
	}
	for _, d := range docs {
		if err := w.Add("txt", []byte(d.Text), -1); err != nil {
			return nil, err
		}
	}
	return w.Close()
}

// Summary is a one-line description of a manifest for logs.
func (m *Manifest) Summary(dir string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d %s examples in %d shards", dir, m.Count, m.Kind, len(m.Shards))
	if m.Labelled() {
		fmt.Fprintf(&b, ", %d classes", len(m.Classes))
	}
	fmt.Fprintf(&b, " (from %s)", m.Source)
	return b.String()
}
