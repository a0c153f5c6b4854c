package feed

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/d2v/d2v/pkg/config"
	"github.com/d2v/d2v/pkg/data"
	"github.com/d2v/d2v/pkg/masking"
	"github.com/d2v/d2v/pkg/shard"
	"github.com/d2v/d2v/pkg/speech"
)

// shardCfg writes the first n embedded MNIST images as PNG shards of per
// and returns a config that streams them.
func shardCfg(t *testing.T, n, per int) *config.Config {
	t.Helper()
	set, err := data.Embedded("train")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "shards")
	w, err := shard.NewWriter(dir, per, shard.KindImage, set.Classes, "test")
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewGray(image.Rect(0, 0, set.W, set.H))
	for i := range n {
		for p, x := range set.Image(i) {
			img.Pix[p] = uint8(x*255 + 0.5)
		}
		var b bytes.Buffer
		png.Encode(&b, img)
		if err := w.Add("png", b.Bytes(), set.Labels[i]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Data.Source, cfg.Data.Path, cfg.Data.BatchSize, cfg.Data.ShuffleWindow = config.SourceShards, dir, 16, 20
	return cfg
}

// Streamed images are the in-memory images, normalised and patched the
// same way, in shard.Order's order; the masks are the in-memory feed's.
func TestShardImagesMatchMemory(t *testing.T) {
	cfg := shardCfg(t, 50, 12)
	src, err := New(cfg, 16)
	if err != nil {
		t.Fatal(err)
	}
	steps, err := NewSteps(src, cfg, 0, 16, 3) // epoch 1 (3 steps per epoch)
	if err != nil {
		t.Fatal(err)
	}
	defer steps.Close()
	x, _, mask, err := steps.Next(3)
	if err != nil {
		t.Fatal(err)
	}
	mem := config.Default()
	set, _ := LoadImages(mem, "train")
	b, _ := NewBatcher(mem, set, 16)
	ord, _ := shard.NewOrder(cfg.Run.Seed, 20, []int{12, 12, 12, 12, 2})
	n := len(x.([]float32)) / 16
	for j := range 16 {
		sh, m := ord.Source(1, j)
		want := b.Patches([]int{sh*12 + m})
		got := x.([]float32)[j*n : (j+1)*n]
		for k := range got {
			if math.Abs(float64(got[k]-want[k])) > 1e-5 {
				t.Fatalf("row %d (example %d) value %d: %v, in memory %v", j, sh*12+m, k, got[k], want[k])
			}
		}
	}
	if !slices.Equal(mask, b.Mask(cfg.Run.Seed, 3, 0)) {
		t.Error("streamed masks differ from the in-memory feed's")
	}
	// rank 1 of 2 gets the second half of the global batch
	half, err := NewSteps(src, cfg, 8, 8, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer half.Close()
	x1, _, m1, err := half.Next(3)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x1.([]float32), x.([]float32)[8*n:]) || !slices.Equal(m1, mask[8*len(mask)/16:]) {
		t.Error("rank 1 of 2 does not get rows 8..15 of the global batch")
	}
}

// wavFile is a mono 16-bit PCM WAV of n samples at rate (a tone whose pitch
// depends on f).
func wavFile(rate, n int, f float64) []byte {
	b := []byte("RIFF")
	b = binary.LittleEndian.AppendUint32(b, uint32(36+2*n))
	b = append(b, "WAVEfmt "...)
	b = binary.LittleEndian.AppendUint32(b, 16)
	b = binary.LittleEndian.AppendUint16(b, 1) // PCM
	b = binary.LittleEndian.AppendUint16(b, 1) // mono
	b = binary.LittleEndian.AppendUint32(b, uint32(rate))
	b = binary.LittleEndian.AppendUint32(b, uint32(2*rate))
	b = binary.LittleEndian.AppendUint16(b, 2)
	b = binary.LittleEndian.AppendUint16(b, 16)
	b = append(b, "data"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(2*n))
	for i := range n {
		b = binary.LittleEndian.AppendUint16(b, uint16(int16(8000*math.Sin(f*float64(i)))))
	}
	return b
}

// Streamed speech is the speech folder loader's clips, cropped and masked
// exactly as the in-memory feed crops and masks them.
func TestShardSpeechMatchesMemory(t *testing.T) {
	dir := t.TempDir()
	folder := filepath.Join(dir, "speech")
	for i := range 10 {
		p := filepath.Join(folder, []string{"no", "yes"}[i%2], fmt.Sprintf("v%d_%d.wav", i/3, i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, wavFile(8000, 2000+700*i, 0.05+0.01*float64(i)), 0o644) // 0.25-1.04 s at 8 kHz
	}
	out := filepath.Join(dir, "shards")
	m, _, err := shard.FromSpeechDir(folder, out, 3, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load("../../configs/audio-tiny.yaml", []string{"data.source=shards", "data.path=" + out,
		"data.batch_size=4", "data.shuffle_window=5"})
	if err != nil {
		t.Fatal(err)
	}
	src, err := New(cfg, 4)
	if err != nil {
		t.Fatal(err)
	}
	steps, err := NewSteps(src, cfg, 0, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer steps.Close()
	// the clips in write order (a permutation of the folder), prepared as
	// the folder loader prepares them; the same multiset as the loader's
	var clips [][]float32
	for _, e := range m.Shards {
		f, _ := os.Open(filepath.Join(out, e.Name))
		exs, err := shard.ReadAll(f, e.Name, m)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, ex := range exs {
			a, err := speech.ReadWAV(bytes.NewReader(ex.Data), ex.Member())
			if err != nil {
				t.Fatal(err)
			}
			x, _, err := speech.PrepareClip(a, ex.Member())
			if err != nil {
				t.Fatal(err)
			}
			clips = append(clips, x)
		}
	}
	set, err := speech.LoadDir(folder)
	if err != nil {
		t.Fatal(err)
	}
	lens := func(cs [][]float32) []int {
		var n []int
		for _, c := range cs {
			n = append(n, len(c))
		}
		slices.Sort(n)
		return n
	}
	var mem [][]float32
	for _, c := range set.Clips {
		mem = append(mem, c.Samples)
	}
	if !slices.Equal(lens(clips), lens(mem)) {
		t.Fatalf("the shards' clips (lengths %v) are not the folder loader's (%v)", lens(clips), lens(mem))
	}
	ord, _ := shard.NewOrder(cfg.Run.Seed, 5, []int{3, 3, 3, 1})
	crop, frames := cfg.Modalities.Audio.CropSamples, cfg.Modalities.Audio.Frames()
	for step := int64(1); step < 5; step++ { // 2 steps per epoch
		x, _, mask, err := steps.Next(step)
		if err != nil {
			t.Fatal(err)
		}
		for j := range 4 {
			sh, k := ord.Source(step/2, int(step%2)*4+j)
			wx, wm := make([]float32, crop), make([]bool, frames)
			cropAndMask(cfg, NumMasked(cfg), masking.NewRNG(cfg.Run.Seed, step, j), clips[sh*3+k], wx, wm)
			if !slices.Equal(x.([]float32)[j*crop:(j+1)*crop], wx) || !slices.Equal(mask[j*frames:(j+1)*frames], wm) {
				t.Fatalf("step %d row %d: not clip %d cropped and masked as in memory", step, j, sh*3+k)
			}
		}
	}
}

// An image folder streamed (data.load stream) gives exactly the in-memory
// loader's patches and masks, in shard.Order's order over the folder's
// permuted files; data.load auto keeps a small folder in memory.
func TestFolderStreamMatchesMemory(t *testing.T) {
	set, err := data.Embedded("train")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	img := image.NewGray(image.Rect(0, 0, set.W, set.H))
	for i := range 30 {
		for p, x := range set.Image(i) {
			img.Pix[p] = uint8(x*255 + 0.5)
		}
		var b bytes.Buffer
		png.Encode(&b, img)
		p := filepath.Join(dir, set.Classes[set.Labels[i]], fmt.Sprintf("%02d.png", i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, b.Bytes(), 0o644)
	}
	cfg := config.Default()
	cfg.Data.Source, cfg.Data.Path, cfg.Data.BatchSize, cfg.Data.ShuffleWindow = config.SourceFolder, dir, 8, 10
	if Streamed(cfg) {
		t.Fatal("data.load auto streams a 30-image folder")
	}
	mem, err := LoadImages(cfg, "train") // the in-memory loader: class-sorted listing
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewBatcher(cfg, mem, 8)
	_, files, _, _ := data.ListImageFolder(dir)
	index := map[string]int{}
	for _, fs := range files {
		for _, f := range fs {
			index[f] = len(index)
		}
	}
	cfg.Data.Load = config.LoadStream
	if !Streamed(cfg) {
		t.Fatal("data.load stream does not stream")
	}
	src, err := New(cfg, 8)
	if err != nil {
		t.Fatal(err)
	}
	folder := src.(*shardSource).set.(*shard.ImageFolder)
	steps, err := NewSteps(src, cfg, 0, 8, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer steps.Close()
	ord, _ := shard.NewOrder(cfg.Run.Seed, 10, folder.Counts())
	for step := int64(2); step < 5; step++ { // 3 steps per epoch: across an epoch
		x, _, mask, err := steps.Next(step)
		if err != nil {
			t.Fatal(err)
		}
		xs := x.([]float32)
		n := len(xs) / 8
		for j := range 8 {
			_, k := ord.Source(step/3, int(step%3)*8+j)
			if want := b.Patches([]int{index[folder.Path(k)]}); !slices.Equal(xs[j*n:(j+1)*n], want) {
				t.Fatalf("step %d row %d: not %s as loaded in memory", step, j, folder.Path(k))
			}
		}
		if !slices.Equal(mask, b.Mask(cfg.Run.Seed, step, 0)) {
			t.Fatalf("step %d: masks differ from the in-memory feed's", step)
		}
	}
}

// d2v shard --from speech with the config's test fraction writes exactly
// the voice-disjoint train clips that pretraining on the folder reads.
func TestSpeechShardsHoldTheTrainVoices(t *testing.T) {
	dir := t.TempDir()
	folder := filepath.Join(dir, "speech")
	for i := range 16 { // 8 voices, 2 classes; lengths tell the clips apart
		p := filepath.Join(folder, []string{"no", "yes"}[i%2], fmt.Sprintf("v%d_%d.wav", i/2, i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, wavFile(16000, 3000+100*i, 0.05+0.01*float64(i)), 0o644)
	}
	cfg, err := config.Load("../../configs/audio-tiny.yaml", []string{"data.source=folder", "data.path=" + folder})
	if err != nil {
		t.Fatal(err)
	}
	train, err := LoadSpeech(cfg, "train")
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := shard.FromSpeechDir(folder, filepath.Join(dir, "shards"), 4, 0, cfg.Modalities.Audio.TestFrac)
	if err != nil {
		t.Fatal(err)
	}
	var got, want []int
	for _, e := range m.Shards {
		f, _ := os.Open(filepath.Join(dir, "shards", e.Name))
		exs, err := shard.ReadAll(f, e.Name, m)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, ex := range exs {
			got = append(got, len(ex.Data))
		}
	}
	for _, c := range train.Clips {
		st, _ := os.Stat(c.Path)
		want = append(want, int(st.Size()))
	}
	slices.Sort(got)
	slices.Sort(want)
	if len(want) == 16 || !slices.Equal(got, want) {
		t.Errorf("shards hold clips of sizes %v; the folder's train voices are %v (of 16 clips)", got, want)
	}
}
