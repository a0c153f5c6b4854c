package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/d2v/d2v/pkg/checkpoint"
)

// TestAudioPretrainEvalFinetune runs the speech path end to end on the
// embedded spoken digits with a tiny model: pretraining writes a checkpoint
// whose teacher shares the conv feature encoder and positional conv
// (teacher.scope blocks), eval and finetune read it on the voice-disjoint
// split, and bad audio settings are one-line errors with exit 2.
func TestAudioPretrainEvalFinetune(t *testing.T) {
	dir := t.TempDir()
	small := []string{"-c", "../../configs/audio-tiny.yaml", "--set", "run.dir=" + dir, "--set", "model.dim=32",
		"--set", "model.ffn_dim=64", "--set", "model.depth=2", "--set", "teacher.top_k=2", "--set", "modalities.audio.conv_dim=16",
		"--set", "modalities.audio.pos_conv_groups=4", "--set", "data.batch_size=4", "--set", "data.limit=32",
		"--set", "run.log_every=2", "--set", "run.progress=false"}
	code, _, stderr := run(t, append(append([]string{"pretrain"}, small...), "--name", "wav", "--steps", "6")...)
	if code != exitOK {
		t.Fatalf("audio pretrain exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "voices") {
		t.Errorf("the run header should describe the speech set: %s", stderr)
	}
	rd := filepath.Join(dir, "wav")
	f, err := checkpoint.Read(filepath.Join(rd, "ckpt-00000006.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"student.fe.conv.0.w", "student.fe.conv.6.ln.g", "student.fe.proj.w", "student.pos_conv.0.w", "student.embed_ln.g"} {
		if _, ok := f.Tensors[name]; !ok {
			t.Errorf("audio checkpoint lacks %s", name)
		}
	}
	for name := range f.Tensors {
		if strings.HasPrefix(name, "teacher.fe.") || strings.HasPrefix(name, "teacher.pos_conv") {
			t.Errorf("teacher.scope blocks: the teacher must share the feature encoder, found %s", name)
		}
	}
	code, stdout, stderr := run(t, "eval", "--checkpoint", rd, "--out", filepath.Join(dir, "ev"), "--k", "3")
	if code != exitOK || !strings.Contains(stdout, "linear_probe") {
		t.Fatalf("audio eval exit %d: %s %s", code, stdout, stderr)
	}
	checkEvalRows(t, filepath.Join(dir, "ev", "eval.json"), "encoder", "random_init", "raw")
	code, stdout, stderr = run(t, "finetune", "--checkpoint", rd, "--out", filepath.Join(dir, "ft"),
		"--set", "finetune.steps=3", "--set", "finetune.batch_size=4")
	if code != exitOK || !strings.Contains(stdout, "test accuracy") {
		t.Fatalf("audio finetune exit %d: %s %s", code, stdout, stderr)
	}

	// bad input: settings, and a folder with a truncated WAV
	bad := t.TempDir()
	if err := os.MkdirAll(filepath.Join(bad, "one"), 0o755); err != nil {
		t.Fatal(err)
	}
	wav := pcm16WAV(16000, 800)
	if err := os.WriteFile(filepath.Join(bad, "one", "v1_a.wav"), wav[:len(wav)/2-1], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		sets []string
		want string
	}{
		{[]string{"modalities.audio.crop_samples=500"}, "modalities.audio.crop_samples"},
		{[]string{"masking.kind=block"}, "masking.kind"},
		{[]string{"modalities.audio.pos_conv_groups=5"}, "modalities.audio.pos_conv_groups"},
		{[]string{"data.source=folder", "data.path=" + bad}, "v1_a.wav"},
		{[]string{"data.source=folder", "data.path=" + filepath.Join(dir, "none")}, "none"},
	} {
		args := append([]string{"pretrain"}, small...)
		for _, s := range tt.sets {
			args = append(args, "--set", s)
		}
		t.Run(tt.want, func(t *testing.T) { wantUsageError(t, args, tt.want) })
	}
}

// TestStrayFilesInDataFolders: a stray file (notes, a README) in a speech
// or image class folder is passed over, counted, and named in the run
// header; the run goes on. (A truncated WAV stays an error: TestBadInput.)
func TestStrayFilesInDataFolders(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{"wav/one/notes.txt": []byte("recorded on tuesday"), "wav/two/README": nil,
		"img/a/notes.txt": []byte("x"), "img/README.md": []byte("loose files beside the classes are not counted")}
	for i, class := range []string{"one", "two"} {
		for v := range 4 {
			files[fmt.Sprintf("wav/%s/v%d_%d.wav", class, v, i)] = pcm16WAV(16000, 4000+400*v)
		}
	}
	png28 := pngBytes(t, 28, 28)
	for i := range 8 {
		files[fmt.Sprintf("img/%c/%d.png", 'a'+i%2, i)] = png28
	}
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	common := []string{"pretrain", "--set", "run.dir=" + dir + "/runs", "--steps", "1", "--set", "run.progress=false",
		"--set", "data.source=folder", "--set", "data.batch_size=4"}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"speech", []string{"-c", "../../configs/audio-tiny.yaml", "--set", "data.path=" + dir + "/wav", "--set", "model.depth=1",
			"--set", "teacher.top_k=1", "--set", "modalities.audio.test_frac=0.25"},
			"2 stray files ignored (first: " + filepath.Join(dir, "wav/one/notes.txt") + ")"},
		{"image", []string{"--set", "data.path=" + dir + "/img", "--set", "modalities.image.size=28"},
			"8 images, 1 stray file ignored (" + filepath.Join(dir, "img/a/notes.txt") + ")"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, append(append(common, "--name", tt.name), tt.args...)...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("the run header does not say %q:\n%s", tt.want, stderr)
			}
		})
	}
}

// pcm16WAV is a mono 16-bit PCM WAV file of n samples of a 440 Hz tone.
func pcm16WAV(rate, n int) []byte {
	b := make([]byte, 44+2*n)
	copy(b, "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+2*n))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1) // PCM
	binary.LittleEndian.PutUint16(b[22:], 1) // mono
	binary.LittleEndian.PutUint32(b[24:], uint32(rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(2*rate))
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(2*n))
	for i := 0; i < n; i++ {
		v := int16(8000 * math.Sin(2*math.Pi*440*float64(i)/float64(rate)))
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(v))
	}
	return b
}
