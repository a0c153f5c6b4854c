package main

import (
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/d2v/d2v/pkg/shard"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "streamrss:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	switch {
	case len(args) == 3 && args[0] == "images":
		n, err := strconv.Atoi(args[2])
		if err != nil {
			return err
		}
		return images(args[1], n)
	case len(args) == 4 && args[0] == "repeat":
		n, err := strconv.Atoi(args[3])
		if err != nil {
			return err
		}
		return repeat(args[1], args[2], n)
	}
	return fmt.Errorf("usage: streamrss images DIR N | streamrss repeat SHARDS OUT N")
}

// images writes n JPEGs (quality 90, about 20 KB): smooth structure plus
// noise, as BenchmarkShardLoader's pictures.
func images(dir string, n int) error {
	for i := range n {
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
		p := filepath.Join(dir, fmt.Sprint(i%2), fmt.Sprintf("%06d.jpg", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		err = jpeg.Encode(f, img, &jpeg.Options{Quality: 90})
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// repeat writes out/manifest.json listing the shards of src in order,
// round after round, until they hold n examples, with links to them.
func repeat(src, out string, n int) error {
	m, err := shard.ReadManifest(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		return err
	}
	for _, e := range m.Shards {
		if err := os.Symlink(filepath.Join(abs, e.Name), filepath.Join(out, e.Name)); err != nil && !os.IsExist(err) {
			return err
		}
	}
	r := *m
	r.Shards, r.Count = nil, 0
	for r.Count < n {
		for _, e := range m.Shards {
			if r.Count >= n {
				break
			}
			r.Shards = append(r.Shards, e)
			r.Count += e.Count
		}
	}
	r.Source = fmt.Sprintf("%s repeated to %d examples", src, r.Count)
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, shard.ManifestName), b, 0o644)
}
