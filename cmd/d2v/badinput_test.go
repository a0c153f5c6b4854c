package main

// Bad input across every reader, through the real CLI: configs (unknown
// keys, wrong types, out-of-range values, impossible combinations), IDX,
// PNG/JPEG folders, text corpora, tokenizer files, empty datasets and a batch
// larger than the dataset. Each must exit 2 with one line naming the file or
// key, and leave no output that looks valid: no run folder at all, no files
// in an eval/finetune --out folder. (Checkpoints: ckptfault_test.go.)

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// idx returns an IDX file: magic, dims, then payload bytes (zeros).
func idx(magic uint32, dims []uint32, payload int) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, make([]byte, payload)...)
}

func idxImages(n, h, w uint32) []byte { return idx(0x803, []uint32{n, h, w}, int(n*h*w)) }
func idxLabels(n uint32) []byte       { return idx(0x801, []uint32{n}, int(n)) }

func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, w, h))
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.White)
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestBadInput(t *testing.T) {
	gpt2 := func(f string) string { p, _ := filepath.Abs("../../pkg/tokenizer/testdata/gpt2/" + f); return p }
	vocab, err := os.ReadFile(gpt2("encoder.json"))
	if err != nil {
		t.Fatal(err)
	}
	png28, jpg28 := pngBytes(t, 28, 28), jpegBytes(t, 28, 28)
	hugePNG := pngBytes(t, 1, 1)
	binary.BigEndian.PutUint32(hugePNG[16:], 65535) // IHDR width
	binary.BigEndian.PutUint32(hugePNG[20:], 65535) // IHDR height
	binary.BigEndian.PutUint32(hugePNG[29:], crc32.ChecksumIEEE(hugePNG[12:29]))
	idxDir := []string{"--set", "data.source=idx", "--set", "data.path=$D/mnist"}
	folder := []string{"--set", "data.source=folder", "--set", "data.path=$D/img", "--set", "modalities.image.size=28"}
	text := []string{"-c", "../../configs/text-tiny.yaml", "--set", "model.depth=2", "--set", "teacher.top_k=2",
		"--set", "modalities.text.seq_len=32", "--set", "data.batch_size=4", "--set", "data.source=text", "--set", "data.path=$D/t.txt"}
	bpe := append(append([]string(nil), text...), "--set", "modalities.text.tokenizer=bpe",
		"--set", "modalities.text.vocab_file=$D/vocab.json", "--set", "modalities.text.merges_file=$D/merges.txt")
	audio := []string{"-c", "../../configs/audio-tiny.yaml", "--set", "data.source=folder", "--set", "data.path=$D/wav"}
	tone, silence := wavPCM16(1, 8000), wavPCM16(0, 8000)
	adpcm := bytes.Clone(tone)
	binary.LittleEndian.PutUint16(adpcm[20:], 2) // format code 2: Microsoft ADPCM
	good := map[string][]byte{"t.txt": []byte(strings.Repeat("Light is a wave and a particle. ", 40))}
	tests := []struct {
		name  string
		files map[string][]byte // created under $D
		args  []string          // after "pretrain" unless args[0] is a command; $D is the temp dir
		want  []string          // all in the message; $D expanded
	}{
		// configs
		{"yaml unknown key", map[string][]byte{"c.yaml": []byte("model:\n  dimm: 8\n")}, []string{"-c", "$D/c.yaml"}, []string{"$D/c.yaml:2: ", `"model.dimm"`, `"model.dim"`}},
		{"yaml wrong type", map[string][]byte{"c.yaml": []byte("model:\n  dim: \"64\"\n")}, []string{"-c", "$D/c.yaml"}, []string{"$D/c.yaml:2: model.dim"}},
		{"yaml wrong type deep in a section", map[string][]byte{"c.yaml": []byte("modalities:\n  image:\n    size: 28\n    patch_size: [7]\n")},
			[]string{"-c", "$D/c.yaml"}, []string{"$D/c.yaml:4: modalities.image.patch_size: expected an integer, got a list"}},
		{"yaml out of range", map[string][]byte{"c.yaml": []byte("optim: {lr: -1}\n")}, []string{"-c", "$D/c.yaml"}, []string{"optim.lr", "-1"}},
		{"yaml syntax", map[string][]byte{"c.yaml": []byte("model: {dim: 8\n")}, []string{"-c", "$D/c.yaml"}, []string{"$D/c.yaml"}},
		{"yaml not a mapping", map[string][]byte{"c.yaml": []byte("- a\n- b\n")}, []string{"-c", "$D/c.yaml"}, []string{"top level", "mapping"}},
		{"yaml section not a mapping", map[string][]byte{"c.yaml": []byte("model: 3\n")}, []string{"-c", "$D/c.yaml"}, []string{"$D/c.yaml:1: model", "mapping"}},
		{"config is a folder", map[string][]byte{"dir/x": nil}, []string{"-c", "$D/dir"}, []string{"$D/dir"}},
		{"top_k > depth", nil, []string{"--set", "model.depth=2", "--set", "teacher.top_k=3"}, []string{"teacher.top_k", "[1,2]"}},
		{"mask ratio masks everything", nil, []string{"--set", "masking.ratio=0.999"}, []string{"masking.ratio"}},
		{"mask ratio masks nothing", nil, []string{"--set", "masking.ratio=0.001"}, []string{"masking.ratio"}},
		{"mask ratio 1", nil, []string{"--set", "masking.ratio=1"}, []string{"masking.ratio", "(0,1)"}},
		{"dim not divisible by heads", nil, []string{"--set", "model.dim=30", "--set", "model.heads=4"}, []string{"model.dim", "model.heads"}},
		{"image not divisible by patch", nil, []string{"--set", "modalities.image.patch_size=5"}, []string{"modalities.image.size"}},
		{"bad enum", nil, []string{"--set", "masking.kind=circle"}, []string{"masking.kind", "circle"}},
		{"mask kind for another modality", nil, []string{"--set", "masking.kind=bert"}, []string{"masking.kind", "image"}},
		{"bad bool", nil, []string{"--set", "run.progress=maybe"}, []string{"run.progress"}},
		{"negative steps", nil, []string{"--steps", "-1"}, []string{"run.steps"}},
		{"NaN lr", nil, []string{"--set", "optim.lr=NaN"}, []string{"optim.lr"}},
		{"set without =", nil, []string{"--set", "model.dim"}, []string{"model.dim"}},
		{"resume with --config", nil, []string{"--resume", "$D/runs/x", "-c", "../../configs/tiny.yaml"}, []string{"--resume"}},
		// IDX
		{"idx missing files", map[string][]byte{"mnist/README": nil}, idxDir, []string{"$D/mnist", "train-images-idx3-ubyte"}},
		{"idx truncated", map[string][]byte{"mnist/train-images-idx3-ubyte": idxImages(10, 28, 28)[:500], "mnist/train-labels-idx1-ubyte": idxLabels(10)},
			idxDir, []string{"$D/mnist/train-images-idx3-ubyte", "truncated"}},
		{"idx wrong magic", map[string][]byte{"mnist/train-images-idx3-ubyte": idxLabels(10), "mnist/train-labels-idx1-ubyte": idxLabels(10)},
			idxDir, []string{"$D/mnist/train-images-idx3-ubyte", "bad magic"}},
		{"idx empty file", map[string][]byte{"mnist/train-images-idx3-ubyte": {}, "mnist/train-labels-idx1-ubyte": idxLabels(10)},
			idxDir, []string{"$D/mnist/train-images-idx3-ubyte", "truncated header"}},
		{"idx zero images", map[string][]byte{"mnist/train-images-idx3-ubyte": idxImages(0, 28, 28), "mnist/train-labels-idx1-ubyte": idxLabels(0)},
			idxDir, []string{"$D/mnist/train-images-idx3-ubyte", "empty"}},
		{"idx count mismatch", map[string][]byte{"mnist/train-images-idx3-ubyte": idxImages(3, 28, 28), "mnist/train-labels-idx1-ubyte": idxLabels(4)},
			idxDir, []string{"$D/mnist/train-images-idx3-ubyte", "3 images", "4 labels"}},
		{"idx wrong image size", map[string][]byte{"mnist/train-images-idx3-ubyte": idxImages(8, 10, 10), "mnist/train-labels-idx1-ubyte": idxLabels(8)},
			idxDir, []string{"$D/mnist", "10x10x1", "modalities.image"}},
		{"idx gzip cut", map[string][]byte{"mnist/train-images-idx3-ubyte.gz": gzipped(t, idxImages(8, 28, 28))[:40], "mnist/train-labels-idx1-ubyte": idxLabels(8)},
			idxDir, []string{"$D/mnist/train-images-idx3-ubyte.gz"}},
		{"batch larger than dataset", map[string][]byte{"mnist/train-images-idx3-ubyte": idxImages(3, 28, 28), "mnist/train-labels-idx1-ubyte": idxLabels(3)},
			append(idxDir, "--set", "data.batch_size=4"), []string{"data.batch_size", "4", "3 items"}},
		// PNG/JPEG folders
		{"corrupt png", map[string][]byte{"img/a/1.png": png28, "img/b/2.png": png28[:40]}, folder, []string{"$D/img/b/2.png", "corrupt"}},
		{"corrupt jpeg", map[string][]byte{"img/a/1.png": png28, "img/b/2.jpg": jpg28[:len(jpg28)/2]}, folder, []string{"$D/img/b/2.jpg", "corrupt"}},
		{"not an image", map[string][]byte{"img/a/1.png": []byte("hello")}, folder, []string{"$D/img/a/1.png", "not a PNG or JPEG"}},
		{"png header claims 65535x65535", map[string][]byte{"img/a/1.png": hugePNG}, folder, []string{"$D/img/a/1.png", "pixel limit"}},
		{"empty class folder", map[string][]byte{"img/a/1.png": png28, "img/b/notes.txt": []byte("x")}, folder, []string{"$D/img/b", "no PNG or JPEG"}},
		{"no class folders", map[string][]byte{"img/1.png": png28}, folder, []string{"$D/img", "no class folders"}},
		{"image folder missing", nil, folder, []string{"$D/img"}},
		{"folder batch larger than dataset", map[string][]byte{"img/a/1.png": png28, "img/b/2.jpg": jpg28}, folder, []string{"data.batch_size", "2 items"}},
		// text corpora
		{"text invalid utf-8", map[string][]byte{"t.txt": []byte("light\n\xff\xfe bad")}, text, []string{"$D/t.txt", "invalid UTF-8", "offset 6"}},
		{"text empty", map[string][]byte{"t.txt": []byte(" \n\n \n")}, text, []string{"$D/t.txt", "empty"}},
		{"text missing", nil, text, []string{"$D/t.txt"}},
		{"text folder without .txt", map[string][]byte{"t.txt/a.md": []byte("x")}, text, []string{"$D/t.txt", "empty"}},
		{"text batch larger than dataset", map[string][]byte{"t.txt": []byte("light")}, text, []string{"data.batch_size", "1 items"}},
		// tokenizer files
		{"bpe vocab malformed", merge(good, map[string][]byte{"vocab.json": []byte("{\"a\": 1,"), "merges.txt": []byte("#version: 0.2\n")}),
			bpe, []string{"$D/vocab.json", "malformed JSON"}},
		{"bpe vocab empty", merge(good, map[string][]byte{"vocab.json": []byte("{}"), "merges.txt": []byte("#version: 0.2\n")}),
			bpe, []string{"$D/vocab.json", "empty"}},
		{"bpe vocab negative id", merge(good, map[string][]byte{"vocab.json": []byte(`{"a": -1}`), "merges.txt": []byte("#version: 0.2\n")}),
			bpe, []string{"$D/vocab.json", "negative id"}},
		{"bpe merges malformed", merge(good, map[string][]byte{"vocab.json": vocab, "merges.txt": []byte("#version: 0.2\nĠ t\nabc\n")}),
			bpe, []string{"$D/merges.txt", ":3"}},
		{"bpe merges missing", merge(good, map[string][]byte{"vocab.json": vocab}), bpe, []string{"$D/merges.txt"}},
		// WAV folders (speech pretraining takes a train split of the voices)
		{"wav not RIFF", map[string][]byte{"wav/one/v1_a.wav": []byte("hello, not audio"), "wav/one/v2_a.wav": tone}, audio, []string{"$D/wav/one/v1_a.wav"}},
		{"wav empty file", map[string][]byte{"wav/one/v1_a.wav": {}, "wav/one/v2_a.wav": tone}, audio, []string{"$D/wav/one/v1_a.wav"}},
		{"wav truncated", map[string][]byte{"wav/one/v1_a.wav": tone[:len(tone)-3], "wav/one/v2_a.wav": tone}, audio, []string{"$D/wav/one/v1_a.wav"}},
		{"wav header cut", map[string][]byte{"wav/one/v1_a.wav": tone[:30], "wav/one/v2_a.wav": tone}, audio, []string{"$D/wav/one/v1_a.wav"}},
		{"wav unsupported format", map[string][]byte{"wav/one/v1_a.wav": adpcm, "wav/one/v2_a.wav": tone}, audio, []string{"$D/wav/one/v1_a.wav"}},
		{"wav all silent", map[string][]byte{"wav/one/v1_a.wav": silence, "wav/one/v2_a.wav": silence}, audio, []string{"$D/wav", "skipped"}},
		{"wav empty class folder", map[string][]byte{"wav/one/v1_a.wav": tone, "wav/two/.keep": nil}, audio, []string{"$D/wav/two", "no WAV"}},
		{"wav no files", map[string][]byte{"wav/.keep": nil}, audio, []string{"$D/wav", "no WAV"}},
		{"wav named .wav, not a WAV", map[string][]byte{"wav/one/v1_a.wav": tone, "wav/one/v2_a.wav": []byte("a README saved as .wav")},
			audio, []string{"$D/wav/one/v2_a.wav", "not a WAV"}},
		{"wav only a stray file", map[string][]byte{"wav/one/v1_a.wav": tone, "wav/two/notes.txt": []byte("x")}, audio,
			[]string{"$D/wav/two: class folder has no WAV files, 1 stray file ignored ($D/wav/two/notes.txt)"}},
		{"wav batch larger than dataset", map[string][]byte{"wav/one/v1_a.wav": tone, "wav/one/v2_a.wav": tone, "wav/two/v3_a.wav": tone,
			"wav/two/v4_a.wav": tone}, audio, []string{"data.batch_size"}},
		// eval and finetune
		{"eval checkpoint missing", nil, []string{"eval", "--checkpoint", "$D/nope.safetensors", "--out", "$D/out"}, []string{"$D/nope.safetensors"}},
		{"eval run folder without checkpoint", map[string][]byte{"run/config.yaml": []byte("model: {dim: 8}\n")},
			[]string{"eval", "--checkpoint", "$D/run", "--out", "$D/out"}, []string{"$D/run"}},
		{"finetune checkpoint garbage", map[string][]byte{"c.safetensors": []byte("not a checkpoint at all")},
			[]string{"finetune", "--checkpoint", "$D/c.safetensors", "--out", "$D/out"}, []string{"$D/c.safetensors"}},
		{"eval folder data without test_path", map[string][]byte{"img/a/1.png": png28},
			[]string{"eval", "--random-init", "--out", "$D/out", "--set", "data.source=folder", "--set", "data.path=$D/img"}, []string{"data.test_path"}},
		{"wordnet folder missing", nil, []string{"eval", "--random-init", "--out", "$D/out", "-c", "../../configs/text-tiny.yaml",
			"--set", "data.task_path=$D/wn"}, []string{"$D/wn"}},
		{"wordnet malformed line", map[string][]byte{"wn/data.noun": []byte("00000100 05 n 01 cat 0 000 | a cat\nnot a synset line\n"), "wn/data.verb": nil},
			[]string{"eval", "--random-init", "--out", "$D/out", "-c", "../../configs/text-tiny.yaml", "--set", "data.task_path=$D/wn"},
			[]string{"$D/wn/data.noun:2"}},
		{"eval bad key", nil, []string{"eval", "--random-init", "--out", "$D/out", "--set", "eval.nope=1"}, []string{`"eval.nope"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := t.TempDir()
			expand := func(s string) string { return strings.ReplaceAll(s, "$D", d) }
			for name, b := range tt.files {
				p := filepath.Join(d, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			args := []string{"pretrain", "--set", "run.dir=" + d + "/runs", "--name", "x", "--steps", "2", "--set", "run.progress=false"}
			if len(tt.args) > 0 && (tt.args[0] == "eval" || tt.args[0] == "finetune") {
				args = nil
			}
			for _, a := range tt.args {
				args = append(args, expand(a))
			}
			code, _, stderr := run(t, args...)
			msg := strings.TrimSpace(stderr)
			if code != exitUsage || strings.Contains(msg, "\n") {
				t.Fatalf("exit %d, stderr %q; want exit 2 and one line", code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, expand(w)) {
					t.Errorf("message %q lacks %q", msg, expand(w))
				}
			}
			// nothing that looks like a run or a result: no run folder at
			// all (pkg/train creates it only once data and model are good)
			if _, err := os.Stat(filepath.Join(d, "runs", "x")); err == nil {
				t.Errorf("bad input left a run folder %s", filepath.Join(d, "runs", "x"))
			}
			if ents, _ := os.ReadDir(filepath.Join(d, "out")); len(ents) > 0 {
				t.Errorf("the --out folder holds %d entries", len(ents))
			}
		})
	}
}

func merge(a, b map[string][]byte) map[string][]byte {
	m := map[string][]byte{}
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// wavPCM16 is a mono 16 kHz 16-bit PCM WAV of n samples of a square wave of
// amplitude amp (0: silence).
func wavPCM16(amp int16, n int) []byte {
	b := []byte("RIFF")
	b = binary.LittleEndian.AppendUint32(b, uint32(36+2*n))
	b = append(b, "WAVEfmt "...)
	b = binary.LittleEndian.AppendUint32(b, 16)
	b = binary.LittleEndian.AppendUint16(b, 1) // PCM
	b = binary.LittleEndian.AppendUint16(b, 1) // mono
	b = binary.LittleEndian.AppendUint32(b, 16000)
	b = binary.LittleEndian.AppendUint32(b, 32000) // byte rate
	b = binary.LittleEndian.AppendUint16(b, 2)     // block align
	b = binary.LittleEndian.AppendUint16(b, 16)
	b = append(b, "data"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(2*n))
	for i := range n {
		v := amp * 1000
		if i/20%2 == 1 {
			v = -v
		}
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	return b
}
