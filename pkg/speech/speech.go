package speech

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/d2v/d2v/pkg/data"
)

// Clip is one utterance ready for the audio modality.
type Clip struct {
	Samples []float32 // 16 kHz mono, normalised to zero mean and unit variance
	Label   int       // index into Set.Classes; -1 if unlabelled
	Voice   string    // speaker or synthetic voice: the file name up to its first '_'
	Path    string    // where it came from, for messages
}

// Set is a list of utterances with their class names.
type Set struct {
	Clips       []Clip
	Classes     []string // sorted class folder names; empty when unlabelled
	Source      string   // where the set came from, for logs
	Skipped     int      // clips dropped at load (silent or empty), counted in SkipReasons
	SkipReasons []string // one line per skipped clip: "<path>: <why>"
	// Ignored are the stray files passed over in the class (or flat)
	// folders: not named .wav and not starting like a WAV file (a README,
	// notes.txt), as an image folder passes over files that are not images.
	Ignored []string
}

// LoadDir loads a folder of WAV files in one of two layouts:
//
//   - labelled: <dir>/<class>/*.wav, one subfolder per class (sorted names
//     give the label order); loose files beside the class folders, such as a
//     README, are ignored;
//   - unlabelled: a flat folder of WAV files, every clip with Label -1.
//
// Hidden files and folders (leading '.') are ignored. A file in a class
// folder, or in a flat folder, that is named .wav (or .wave) or starts like
// a WAV file ("RIFF"...."WAVE") must be one that ReadWAV decodes: a truncated
// or corrupt one, or one whose sample rate is outside 1..768 kHz, is an
// error naming it. Any other file is a stray (a README, notes) and is passed
// over and listed in Ignored, like a non-image file in an image folder.
// Each clip is mixed down to mono, resampled to Rate (16 kHz) and
// normalised on its own (see Normalize); a silent, constant or empty clip is skipped and
// counted in Skipped and SkipReasons rather than failing the load. The
// voice of a clip is its file name up to the first '_' (without the
// extension if there is no '_'). Clips are in sorted path order.
func LoadDir(dir string) (*Set, error) {
	classes, files, ignored, err := ListDir(dir)
	if err != nil {
		return nil, err
	}
	set := &Set{Source: dir, Classes: classes, Ignored: ignored}
	for label, fs := range files {
		if len(classes) == 0 {
			label = -1
		}
		for _, f := range fs {
			if err := set.addFile(f, label); err != nil {
				return nil, err
			}
		}
	}
	return set.nonEmpty()
}

// ListDir lists dir as LoadDir reads it, without reading a
// clip: the sorted class folder names and each class's WAV files in sorted
// order (or, for a flat unlabelled folder, no classes and one list of
// files), and the stray files passed over.
func ListDir(dir string) (classes []string, files [][]string, ignored []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("data: speech folder: %w", err)
	}
	for _, e := range entries { // ReadDir sorts by name
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			classes = append(classes, e.Name())
		}
	}
	if len(classes) == 0 { // flat, unlabelled
		var fs []string
		if fs, ignored, err = listWAVs(dir, nil); err != nil {
			return nil, nil, nil, err
		}
		if len(fs) == 0 {
			return nil, nil, nil, fmt.Errorf("data: %s: no WAV files%s; want <dir>/<class>/*.wav or a flat folder of .wav files", dir, data.IgnoredNote(ignored))
		}
		return nil, [][]string{fs}, ignored, nil
	}
	for _, c := range classes {
		var fs []string
		if fs, ignored, err = listWAVs(filepath.Join(dir, c), ignored); err != nil {
			return nil, nil, nil, err
		}
		if len(fs) == 0 {
			return nil, nil, nil, fmt.Errorf("data: %s: class folder has no WAV files%s", filepath.Join(dir, c), data.IgnoredNote(ignored))
		}
		files = append(files, fs)
	}
	return classes, files, ignored, nil
}

// listWAVs returns the WAV files of dir (by name or by content), sorted by
// name, and ignored with the folder's other non-hidden regular files
// appended.
func listWAVs(dir string, ignored []string) ([]string, []string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("data: speech folder: %w", err)
	}
	var files []string
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		switch ext := strings.ToLower(filepath.Ext(e.Name())); {
		case ext == ".wav" || ext == ".wave" || looksLikeWAV(p):
			files = append(files, p) // must decode: a broken one is an error
		default:
			ignored = append(ignored, p)
		}
	}
	return files, ignored, nil
}

// looksLikeWAV reports whether the file starts with a RIFF/WAVE header.
func looksLikeWAV(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return true // let the load report it
	}
	defer f.Close()
	var hdr [12]byte
	n, _ := io.ReadFull(f, hdr[:])
	return n == 12 && string(hdr[0:4]) == "RIFF" && string(hdr[8:12]) == "WAVE"
}

func (s *Set) addFile(path string, label int) error {
	a, err := LoadWAV(path)
	if err != nil {
		return err // LoadWAV names the file
	}
	return s.add(a, label, voiceOf(path), path)
}

// Sample rates a speech clip may have; the lower bound also caps the
// upsampling factor (and memory) at 16 for a file whose header is corrupt.
const (
	minSpeechRate = 1000
	maxSpeechRate = 768000
)

// add resamples and normalises one decoded clip and appends it, or records
// why it was skipped. A sample rate outside [minSpeechRate, maxSpeechRate]
// is an error.
func (s *Set) add(a *Audio, label int, voice, path string) error {
	x, skip, err := PrepareClip(a, path)
	if err != nil {
		return err
	}
	if skip != nil {
		s.Skipped++
		s.SkipReasons = append(s.SkipReasons, fmt.Sprintf("%s: skipped: %v", path, skip))
		return nil
	}
	s.Clips = append(s.Clips, Clip{Samples: x, Label: label, Voice: voice, Path: path})
	return nil
}

// PrepareClip resamples a decoded clip to Rate and normalises it in
// place, as every speech loader does. A sample rate outside
// [minSpeechRate, maxSpeechRate] is an error naming path; a silent,
// constant or empty clip comes back as skip (the reason), for the caller
// to count.
func PrepareClip(a *Audio, path string) (x []float32, skip, err error) {
	if a.Rate < minSpeechRate || a.Rate > maxSpeechRate {
		return nil, nil, fmt.Errorf("data: %s: sample rate %d Hz is outside [%d, %d]; is the header corrupt?", path, a.Rate, minSpeechRate, maxSpeechRate)
	}
	x = a.Samples
	if a.Rate != Rate && len(x) > 0 {
		x = Resample(x, a.Rate, Rate)
	}
	if _, _, err := Normalize(x); err != nil {
		return nil, err, nil
	}
	return x, nil, nil
}

func (s *Set) nonEmpty() (*Set, error) {
	switch {
	case len(s.Clips) > 0:
		return s, nil
	case s.Skipped > 0:
		return nil, fmt.Errorf("data: %s: all %d clips were skipped (first: %s)", s.Source, s.Skipped, s.SkipReasons[0])
	}
	return nil, fmt.Errorf("data: %s: no clips", s.Source)
}

// VoiceOf returns the voice of a clip file, as the speech loaders name it:
// its base name up to the first '_', or without its extension if it has
// no '_'.
func VoiceOf(path string) string { return voiceOf(path) }

// voiceOf returns a file's base name up to its first '_', or without its
// extension if it has no '_'.
func voiceOf(path string) string {
	base := filepath.Base(path)
	if i := strings.IndexByte(base, '_'); i >= 0 {
		return base[:i]
	}
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// Voices returns the distinct voices of s, sorted.
func (s *Set) Voices() []string {
	seen := map[string]bool{}
	var vs []string
	for _, c := range s.Clips {
		if !seen[c.Voice] {
			seen[c.Voice] = true
			vs = append(vs, c.Voice)
		}
	}
	sort.Strings(vs)
	return vs
}

// MinLen returns the length in samples of the shortest clip, 0 for an empty set.
func (s *Set) MinLen() int {
	if len(s.Clips) == 0 {
		return 0
	}
	m := len(s.Clips[0].Samples)
	for _, c := range s.Clips[1:] {
		m = min(m, len(c.Samples))
	}
	return m
}

// Filter returns the clips with at least minLen samples, in order, and how
// many it dropped. The kept set shares sample slices with s; Skipped and
// SkipReasons are copied unchanged (they describe the load).
func (s *Set) Filter(minLen int) (kept *Set, dropped int) {
	kept = s.withClips(nil)
	for _, c := range s.Clips {
		if len(c.Samples) >= minLen {
			kept.Clips = append(kept.Clips, c)
		} else {
			dropped++
		}
	}
	return kept, dropped
}

// withClips returns a set with s's metadata and the given clips.
func (s *Set) withClips(clips []Clip) *Set {
	return &Set{
		Clips:       clips,
		Classes:     append([]string(nil), s.Classes...),
		Source:      s.Source,
		Skipped:     s.Skipped,
		SkipReasons: append([]string(nil), s.SkipReasons...),
		Ignored:     append([]string(nil), s.Ignored...),
	}
}

// CropOrPad fills dst with len(dst) samples of the normalised clip x.
//
// If x has at least len(dst) samples it copies x[offset:offset+len(dst)];
// offset must then lie in [0, len(x)-len(dst)] (callers draw it at random
// for a random crop) and CropOrPad panics otherwise. If x is shorter than
// dst it copies all of x to the front of dst, ignores offset, and fills the
// rest with zeros. Padding rule: clips are normalised before they are
// cropped or padded, so the zeros are silence at the utterance mean; mark
// them in the batch's PadMask (positions >= len(x)) so no loss or target
// uses them.
func CropOrPad(dst, x []float32, offset int) {
	if len(x) <= len(dst) {
		n := copy(dst, x)
		clear(dst[n:])
		return
	}
	if offset < 0 || offset > len(x)-len(dst) {
		panic(fmt.Sprintf("data: CropOrPad: offset %d outside [0, %d] for a %d-sample clip and %d-sample crop",
			offset, len(x)-len(dst), len(x), len(dst)))
	}
	copy(dst, x[offset:offset+len(dst)])
}

// SplitByVoice splits s into voice-disjoint train and test sets, so a test
// score measures generalisation to unseen speakers. It is deterministic: of
// the sorted voices, round(testFrac*voices) (at least 1, at most all but
// one) evenly spaced ones go to test. If a class then has no test clip, the
// first train voice that has it and whose move leaves every class of train
// covered moves to test (and likewise the other way), so both sides hold
// every class when that is possible. It is an error if s has fewer than 2
// voices or testFrac is not in (0, 1).
func (s *Set) SplitByVoice(testFrac float64) (train, test *Set, err error) {
	if !(testFrac > 0 && testFrac < 1) {
		return nil, nil, fmt.Errorf("data: split by voice: test fraction must be in (0,1), got %g", testFrac)
	}
	voices := s.Voices()
	nv := len(voices)
	if nv < 2 {
		return nil, nil, fmt.Errorf("data: split by voice: %s has %d voice(s), need at least 2 for a voice-disjoint split", s.Source, nv)
	}
	nt := min(max(int(math.Round(testFrac*float64(nv))), 1), nv-1)
	inTest := make(map[string]bool, nv)
	for i := range nt {
		inTest[voices[(2*i+1)*nv/(2*nt)]] = true // evenly spaced, distinct since nt <= nv
	}
	classes := map[string]map[int]bool{} // voice -> labels it has
	for _, c := range s.Clips {
		if classes[c.Voice] == nil {
			classes[c.Voice] = map[int]bool{}
		}
		if c.Label >= 0 {
			classes[c.Voice][c.Label] = true
		}
	}
	balanceClasses(voices, classes, inTest, true)
	balanceClasses(voices, classes, inTest, false)
	train, test = s.withClips(nil), s.withClips(nil)
	for _, c := range s.Clips {
		if inTest[c.Voice] {
			test.Clips = append(test.Clips, c)
		} else {
			train.Clips = append(train.Clips, c)
		}
	}
	train.Source = s.Source + " (voice-disjoint train)"
	test.Source = s.Source + " (voice-disjoint test)"
	return train, test, nil
}

// balanceClasses moves voices into the side given by toTest (from the
// other side) until that side covers every label it can without the other
// side losing a label it covers or its last voice.
func balanceClasses(voices []string, classes map[string]map[int]bool, inTest map[string]bool, toTest bool) {
	cover := func(test bool) (map[int]int, int) { // label -> voices on that side having it; voice count
		n, count := map[int]int{}, 0
		for _, v := range voices {
			if inTest[v] == test {
				count++
				for l := range classes[v] {
					n[l]++
				}
			}
		}
		return n, count
	}
	for moved := true; moved; {
		moved = false
		dst, _ := cover(toTest)
		src, nsrc := cover(!toTest)
		for _, v := range voices {
			if inTest[v] == toTest || nsrc < 2 {
				continue
			}
			gains, hurts := false, false
			for l := range classes[v] {
				gains = gains || dst[l] == 0
				hurts = hurts || src[l] == 1
			}
			if gains && !hurts {
				inTest[v] = toTest
				moved = true
				break
			}
		}
	}
}
