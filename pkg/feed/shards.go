package feed

import (
	"bytes"
	"fmt"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/data"
	"github.com/d2v/d2v/pkg/masking"
	"github.com/d2v/d2v/pkg/shard"
	"github.com/d2v/d2v/pkg/speech"
)

// Streamed reports whether pretraining streams its data: a shard folder
// (data.source shards, or a folder source whose data.path holds a
// manifest), or an image folder with data.load stream, or auto and more
// than config.StreamAbove bytes of decoded pixels (listing it to count).
func Streamed(c *config.Config) bool {
	if c.Data.Source == config.SourceShards || (c.Data.Source == config.SourceFolder && shard.IsDir(c.Data.Path)) {
		return true
	}
	if c.Data.Source != config.SourceFolder || c.Model.Modality != config.ModalityImage || c.Data.Load == config.LoadMemory {
		return false
	}
	if c.Data.Load == config.LoadStream {
		return true
	}
	_, files, _, err := data.ListImageFolder(c.Data.Path)
	if err != nil {
		return false // the in-memory loader reports it
	}
	n := 0
	for _, fs := range files {
		n += len(fs)
	}
	im := c.Modalities.Image
	return int64(n)*int64(im.Size*im.Size*im.Channels)*4 > config.StreamAbove
}

// inMemory refuses a shard folder to the in-memory loaders (evaluation,
// fine-tuning), which need labelled examples at hand.
func inMemory(c *config.Config) error {
	if c.Data.Source == config.SourceShards || (c.Data.Source == config.SourceFolder && shard.IsDir(c.Data.Path)) {
		return fmt.Errorf("data.source %s at %s: evaluation and fine-tuning load labelled data in memory, not shards; "+
			"give them the original data with --set data.source=... --set data.path=...", c.Data.Source, c.Data.Path)
	}
	return nil
}

// shardSource streams a shard folder or an image folder: images (patches,
// block or random masks, the configured augmentations) or speech (crops,
// span masks), decoded on the fly by shard.Loader's workers. What each
// example becomes is a pure function of (seed, step, sample), as in
// memory; the example order is shard.Order's, a pure function of (seed,
// epoch).
type shardSource struct {
	set     shard.Set
	kind    shard.Kind
	count   int
	summary string // what the set is, for Name
	fp      string // the data fingerprint
	cfg     *config.Config
	nMask   int
	b       *Batcher         // images: the patch grid and masks
	aug     data.AugmentSpec // images
}

func newShardSource(cfg *config.Config, B int) (*shardSource, error) {
	dir := cfg.Data.Path
	if cfg.Data.Limit > 0 {
		return nil, fmt.Errorf("data.limit: not supported when streaming %s; write a smaller shard set with d2v shard", dir)
	}
	s := &shardSource{cfg: cfg, nMask: NumMasked(cfg), kind: shard.KindImage}
	if shard.IsDir(dir) || cfg.Data.Source == config.SourceShards {
		m, err := shard.ReadManifest(dir)
		if err != nil {
			return nil, err
		}
		want := map[config.Modality]shard.Kind{config.ModalityImage: shard.KindImage, config.ModalityAudio: shard.KindAudio}[cfg.Model.Modality]
		if m.Kind != want {
			return nil, fmt.Errorf("data.path: %s holds %s shards; model.modality %s reads %s shards", dir, m.Kind, cfg.Model.Modality, want)
		}
		s.set, s.kind, s.count, s.summary, s.fp = shard.Shards{Dir: dir, M: m}, m.Kind, m.Count, m.Summary(dir), m.Fingerprint()
	} else { // an image folder, decoded on demand in a fixed permutation of its files
		f, err := shard.NewImageFolder(dir, 0)
		if err != nil {
			return nil, err
		}
		s.set, s.count, s.fp = f, f.Len(), f.Fingerprint()
		s.summary = fmt.Sprintf("%s: %d images of %d classes (data.load %s)", dir, f.Len(), len(f.Classes), cfg.Data.Load)
	}
	if s.kind == shard.KindAudio {
		return s, validateAudioMask(cfg, cfg.Modalities.Audio.Frames())
	}
	im := cfg.Modalities.Image
	if im.Channels != 1 && im.Channels != 3 {
		return nil, fmt.Errorf("modalities.image.channels: streamed images decode to 1 (gray) or 3 (RGB) channels, got %d", im.Channels)
	}
	// an empty set of the configured size: the patch grid and the masks
	var err error
	if s.b, err = NewBatcher(cfg, &data.ImageSet{H: im.Size, W: im.Size, C: im.Channels, Source: dir}, B); err != nil {
		return nil, err
	}
	s.aug = AugmentSpec(cfg)
	return s, nil
}

func (s *shardSource) Len() int     { return s.count }
func (s *shardSource) Input() Input { return Input{NMask: s.nMask} }

// Fingerprint identifies shards by their manifest (names, counts and
// SHA-256 of every shard) and an image folder by its files' paths, sizes
// and classes, so it costs no pass over the data.
func (s *shardSource) Fingerprint() string { return s.fp }

func (s *shardSource) Name() string {
	note := AugmentNote(s.aug)
	if s.kind == shard.KindAudio {
		note = fmt.Sprintf(", %d-sample crops of %d frames", s.cfg.Modalities.Audio.CropSamples, s.cfg.Modalities.Audio.Frames())
	}
	return fmt.Sprintf("%s, streamed (shuffle window %d)%s", s.summary, s.cfg.Data.ShuffleWindow, note)
}

// example is one decoded example as a step consumes it.
type example struct {
	x    []float32 // image: (T, P) patches; speech: the crop
	mask []bool    // (T) or (frames)
}

func (s *shardSource) steps(cfg *config.Config, first, B int, start int64) (Steps, error) {
	G := cfg.Data.BatchSize
	o := shard.Options{Seed: cfg.Run.Seed, Window: cfg.Data.ShuffleWindow, Batch: G, Rank: first / B, Ranks: G / B, Start: start}
	decode := s.decodeImage
	if s.kind == shard.KindAudio {
		decode = s.decodeAudio
	}
	l, err := shard.NewSetLoader(s.set, o, decode)
	if err != nil {
		return nil, fmt.Errorf("data.batch_size: %w", err)
	}
	return &shardSteps{l: l}, nil
}

// decodeImage runs on a loader worker: decode, augment, normalise, patch,
// mask; row is the example's sample index in the global batch.
func (s *shardSource) decodeImage(ex *shard.Example, step int64, row int) (example, error) {
	im := s.cfg.Modalities.Image
	gray := im.Channels == 1
	var pix []float32
	if s.aug.On() { // crop from the full resolution
		src, h, w, err := data.DecodeImageNative(ex.Data, ex.Member(), gray)
		if err != nil {
			return example{}, err
		}
		pix = make([]float32, im.Size*im.Size*im.Channels)
		s.aug.Draw(AugmentRNG(s.cfg.Run.Seed, step, row), h, w).Apply(pix, im.Size, im.Size, src, h, w, im.Channels)
	} else {
		var err error
		if pix, err = data.DecodeImage(ex.Data, ex.Member(), im.Size, im.Size, gray); err != nil {
			return example{}, err
		}
	}
	data.NormalizePixels(pix, float32(im.Mean), float32(im.Std))
	e := example{x: make([]float32, len(pix)), mask: make([]bool, s.b.Tokens())}
	data.PatchImage(pix, im.Size, im.Size, im.Channels, im.PatchSize, e.x)
	s.b.maskRow(s.cfg.Run.Seed, step, row, e.mask)
	return e, nil
}

// decodeAudio runs on a loader worker: decode, resample and normalise as
// the speech folder loader does, then crop and mask.
func (s *shardSource) decodeAudio(ex *shard.Example, step int64, row int) (example, error) {
	a, err := speech.ReadWAV(bytes.NewReader(ex.Data), ex.Member())
	if err != nil {
		return example{}, err
	}
	clip, skip, err := speech.PrepareClip(a, ex.Member())
	if err != nil {
		return example{}, err
	}
	if skip != nil { // d2v shard leaves such clips out
		return example{}, fmt.Errorf("%s: %v; rewrite the shards with d2v shard, which skips such clips", ex.Member(), skip)
	}
	au := s.cfg.Modalities.Audio
	e := example{x: make([]float32, au.CropSamples), mask: make([]bool, au.Frames())}
	cropAndMask(s.cfg, s.nMask, masking.NewRNG(s.cfg.Run.Seed, step, row), clip, e.x, e.mask)
	return e, nil
}

// shardSteps joins a loader's rows into the step's (B*T, P) or (B, crop)
// input and (B*T) mask.
type shardSteps struct {
	l    *shard.Loader[example]
	x    []float32
	mask []bool
}

func (s *shardSteps) Next(step int64) (any, any, []bool, error) {
	got, rows, err := s.l.Next()
	if err != nil {
		return nil, nil, nil, err
	}
	if got != step {
		return nil, nil, nil, fmt.Errorf("feed: the shard stream is at step %d, the loop asked for step %d", got, step)
	}
	s.x, s.mask = s.x[:0], s.mask[:0]
	for _, r := range rows {
		s.x = append(s.x, r.x...)
		s.mask = append(s.mask, r.mask...)
	}
	return s.x, s.x, s.mask, nil
}

func (s *shardSteps) Close() { s.l.Close() }
