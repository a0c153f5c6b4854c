package feed

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/shard"
)

// benchImage is a 224x224 RGB picture with smooth structure and some
// noise, so PNG and JPEG sizes (about 120 KB and 25 KB) are photo-like
// rather than the best or worst case.
func benchImage(i int) *image.RGBA {
	r := rand.New(rand.NewPCG(uint64(i), 1))
	img := image.NewRGBA(image.Rect(0, 0, 224, 224))
	fx, fy := 0.02+0.05*r.Float64(), 0.02+0.05*r.Float64()
	for y := range 224 {
		for x := range 224 {
			for c := range 3 {
				v := 128 + 60*math.Sin(fx*float64(x)+float64(c)) + 50*math.Cos(fy*float64(y)*float64(c+1)) + 10*r.NormFloat64()
				img.Pix[(y*224+x)*4+c] = uint8(min(max(v, 0), 255))
			}
			img.Pix[(y*224+x)*4+3] = 255
		}
	}
	return img
}

// benchWAV is 4 s of 16 kHz 16-bit mono: two tones and noise.
func benchWAV(i int) []byte {
	const n = 64000
	r := rand.New(rand.NewPCG(uint64(i), 2))
	b := wavFile(16000, 0, 0)[:40]
	b = binary.LittleEndian.AppendUint32(b, 2*n)
	binary.LittleEndian.PutUint32(b[4:], 36+2*n)
	for t := range n {
		v := 6000*math.Sin(0.05*float64(t)*(1+float64(i%7)/10)) + 3000*math.Sin(0.31*float64(t)) + 500*r.NormFloat64()
		b = binary.LittleEndian.AppendUint16(b, uint16(int16(v)))
	}
	return b
}

// benchShards writes n examples of kind ("png", "jpg" or "wav") in shards
// of 64 and returns a config that streams them at batch B.
func benchShards(b *testing.B, ext string, n, B int) *config.Config {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "shards")
	kind := shard.KindImage
	if ext == "wav" {
		kind = shard.KindAudio
	}
	w, err := shard.NewWriter(dir, 64, kind, []string{"a", "b"}, "bench")
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		var buf bytes.Buffer
		switch ext {
		case "png":
			err = png.Encode(&buf, benchImage(i))
		case "jpg":
			err = jpeg.Encode(&buf, benchImage(i), &jpeg.Options{Quality: 90})
		case "wav":
			buf.Write(benchWAV(i))
		}
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Add(ext, buf.Bytes(), i%2); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		b.Fatal(err)
	}
	var cfg *config.Config
	if ext == "wav" { // data2vec Base speech: 1 s crops (16000 samples) here
		cfg, err = config.Load("../../configs/audio-base.yaml", []string{"modalities.audio.crop_samples=16000"})
	} else { // ViT-B/16 input: 224x224 RGB, 196 patches, block masks of >= 16
		cfg, err = config.Load("", []string{"modalities.image.size=224", "modalities.image.patch_size=16",
			"modalities.image.channels=3", "modalities.image.mean=0.5", "modalities.image.std=0.25", "masking.min_per_block=16"})
	}
	if err != nil {
		b.Fatal(err)
	}
	cfg.Data.Source, cfg.Data.Path, cfg.Data.BatchSize, cfg.Data.ShuffleWindow = config.SourceShards, dir, B, 256
	return cfg
}

// BenchmarkShardLoader: examples per second decoded, augmented (images:
// random resized crop and flip), normalised, patched or cropped, masked
// and batched from shards by feed.NewSteps, one worker per core. Each
// iteration is one batch of 32.
func BenchmarkShardLoader(b *testing.B) {
	for _, name := range []string{"png", "jpg", "png-augment", "jpg-augment", "wav"} {
		b.Run(name, func(b *testing.B) {
			const B = 32
			ext, aug := name[:3], len(name) > 3
			cfg := benchShards(b, ext, 256, B)
			cfg.Modalities.Image.Augment.Crop, cfg.Modalities.Image.Augment.Flip = aug, aug
			src, err := New(cfg, B)
			if err != nil {
				b.Fatal(err)
			}
			steps, err := NewSteps(src, cfg, 0, B, 0)
			if err != nil {
				b.Fatal(err)
			}
			defer steps.Close()
			b.ReportAllocs()
			b.ResetTimer()
			t0, cpu0 := time.Now(), cpuTime()
			for i := range b.N {
				if _, _, _, err := steps.Next(int64(i)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*B)/time.Since(t0).Seconds(), "examples/s")
			b.ReportMetric((cpuTime()-cpu0).Seconds()*1000/float64(b.N*B), "cpu-ms/example")
		})
	}
}

// cpuTime is the process's user+sys CPU time: on a shared machine it moves
// far less with the load than wall time does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
