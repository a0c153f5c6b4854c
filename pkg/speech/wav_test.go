package speech

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// chunk is one RIFF chunk; the pad byte after an odd size is added by riff.
type chunk struct {
	id   string
	body []byte
}

// riff assembles a RIFF/WAVE file from chunks.
func riff(chunks ...chunk) []byte {
	var b bytes.Buffer
	for _, c := range chunks {
		b.WriteString(c.id)
		binary.Write(&b, binary.LittleEndian, uint32(len(c.body)))
		b.Write(c.body)
		if len(c.body)%2 == 1 {
			b.WriteByte(0)
		}
	}
	head := []byte("RIFF\x00\x00\x00\x00WAVE")
	binary.LittleEndian.PutUint32(head[4:], uint32(4+b.Len()))
	return append(head, b.Bytes()...)
}

// fmtChunk is a 16-byte fmt chunk.
func fmtChunk(tag, channels, rate, bits int) chunk {
	b := make([]byte, 16)
	le := binary.LittleEndian
	le.PutUint16(b[0:], uint16(tag))
	le.PutUint16(b[2:], uint16(channels))
	le.PutUint32(b[4:], uint32(rate))
	le.PutUint32(b[8:], uint32(rate*channels*bits/8))
	le.PutUint16(b[12:], uint16(channels*bits/8))
	le.PutUint16(b[14:], uint16(bits))
	return chunk{"fmt ", b}
}

// extChunk is a 40-byte WAVE_FORMAT_EXTENSIBLE fmt chunk with subformat sub.
func extChunk(sub, channels, rate, bits int) chunk {
	c := fmtChunk(wavFormatExtensible, channels, rate, bits)
	ext := make([]byte, 24)
	binary.LittleEndian.PutUint16(ext[0:], 22)           // cbSize
	binary.LittleEndian.PutUint16(ext[2:], uint16(bits)) // valid bits
	binary.LittleEndian.PutUint32(ext[4:], 0x3)          // channel mask FL|FR
	binary.LittleEndian.PutUint16(ext[8:], uint16(sub))
	copy(ext[10:], ksDataFormatTail)
	c.body = append(c.body, ext...) // 16 + cbSize + 22 = 40 bytes
	return c
}

// le packs little-endian values of any fixed-size type.
func le(vals ...any) []byte {
	var b bytes.Buffer
	for _, v := range vals {
		if err := binary.Write(&b, binary.LittleEndian, v); err != nil {
			panic(err)
		}
	}
	return b.Bytes()
}

// pcm24 packs signed 24-bit little-endian samples.
func pcm24(vals ...int32) []byte {
	var b []byte
	for _, v := range vals {
		b = append(b, byte(v), byte(v>>8), byte(v>>16))
	}
	return b
}

// validWAVs are the decodable fixtures, also the fuzz seeds.
func validWAVs() []struct {
	name string
	wav  []byte
	rate int
	want []float32
} {
	return []struct {
		name string
		wav  []byte
		rate int
		want []float32
	}{
		{"pcm8 mono", riff(fmtChunk(1, 1, 8000, 8), chunk{"data", []byte{128, 255, 0, 192, 64}}),
			8000, []float32{0, 127.0 / 128, -1, 0.5, -0.5}},
		{"pcm8 stereo", riff(fmtChunk(1, 2, 8000, 8), chunk{"data", []byte{0, 255, 192, 192}}),
			8000, []float32{(-1 + 127.0/128) / 2, 0.5}},
		{"pcm16 mono", riff(fmtChunk(1, 1, 16000, 16), chunk{"data", le(int16(0), int16(16384), int16(-32768), int16(32767))}),
			16000, []float32{0, 0.5, -1, 32767.0 / 32768}},
		{"pcm16 stereo", riff(fmtChunk(1, 2, 44100, 16), chunk{"data", le(int16(16384), int16(-16384), int16(8192), int16(8192))}),
			44100, []float32{0, 0.25}},
		{"pcm24 mono", riff(fmtChunk(1, 1, 48000, 24), chunk{"data", pcm24(0, 1<<22, -1<<23, 1<<23-1, -1)}),
			48000, []float32{0, 0.5, -1, float32(float64(1<<23-1) / (1 << 23)), float32(-1.0 / (1 << 23))}},
		{"pcm24 stereo", riff(fmtChunk(1, 2, 22050, 24), chunk{"data", pcm24(1<<22, 1<<21)}),
			22050, []float32{0.375}},
		{"pcm32 mono", riff(fmtChunk(1, 1, 16000, 32), chunk{"data", le(int32(1<<30), int32(math.MinInt32), int32(-1<<29))}),
			16000, []float32{0.5, -1, -0.25}},
		{"pcm32 stereo", riff(fmtChunk(1, 2, 16000, 32), chunk{"data", le(int32(1<<30), int32(0))}),
			16000, []float32{0.25}},
		{"float32 mono", riff(fmtChunk(3, 1, 16000, 32), chunk{"data", le(float32(0.125), float32(-0.75), float32(1))}),
			16000, []float32{0.125, -0.75, 1}},
		{"float32 stereo", riff(fmtChunk(3, 2, 16000, 32), chunk{"data", le(float32(0.5), float32(-0.25), float32(1), float32(1))}),
			16000, []float32{0.125, 1}},
		{"float64 mono", riff(fmtChunk(3, 1, 32000, 64), chunk{"data", le(0.5, -0.125)}),
			32000, []float32{0.5, -0.125}},
		{"float64 stereo", riff(fmtChunk(3, 2, 32000, 64), chunk{"data", le(0.5, 0.25)}),
			32000, []float32{0.375}},
		{"extensible pcm24 stereo", riff(extChunk(1, 2, 96000, 24), chunk{"data", pcm24(1<<22, -1<<22, 1<<21, 1<<21)}),
			96000, []float32{0, 0.25}},
		{"extensible float32 mono", riff(extChunk(3, 1, 8000, 32), chunk{"data", le(float32(-0.5))}),
			8000, []float32{-0.5}},
		{"skips LIST, odd chunk and trailer", riff(
			chunk{"LIST", []byte("INFOISFT\x05\x00\x00\x00Lavf\x00")}, // 17 bytes: odd, padded
			fmtChunk(1, 1, 16000, 16),
			chunk{"fact", le(uint32(2))},
			chunk{"data", le(int16(-16384), int16(8192))},
			chunk{"id3 ", []byte{1, 2, 3}}),
			16000, []float32{-0.5, 0.25}},
		{"odd data chunk (pcm8, 3 frames)", riff(fmtChunk(1, 1, 8000, 8), chunk{"data", []byte{128, 128, 0}}),
			8000, []float32{0, 0, -1}},
	}
}

func TestReadWAV(t *testing.T) {
	for _, tt := range validWAVs() {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ReadWAV(bytes.NewReader(tt.wav), "x.wav")
			if err != nil {
				t.Fatal(err)
			}
			if a.Rate != tt.rate || a.Source != "x.wav" {
				t.Errorf("rate %d source %q, want %d x.wav", a.Rate, a.Source, tt.rate)
			}
			if !slices.Equal(a.Samples, tt.want) {
				t.Errorf("samples %v, want %v", a.Samples, tt.want)
			}
		})
	}
}

func TestLoadWAV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.wav")
	if err := os.WriteFile(path, riff(fmtChunk(1, 1, 16000, 16), chunk{"data", le(int16(16384))}), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := LoadWAV(path)
	if err != nil || !slices.Equal(a.Samples, []float32{0.5}) || a.Source != path {
		t.Fatalf("LoadWAV = %+v, %v", a, err)
	}
	_, err = LoadWAV(filepath.Join(t.TempDir(), "missing.wav"))
	if err == nil || !strings.Contains(err.Error(), "missing.wav") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestReadWAVErrors(t *testing.T) {
	pcm16 := fmtChunk(1, 1, 16000, 16)
	data := chunk{"data", le(int16(1), int16(2))}
	good := riff(pcm16, data)
	withFmt := func(mod func(b []byte)) []byte {
		c := fmtChunk(1, 1, 16000, 16)
		c.body = bytes.Clone(c.body)
		mod(c.body)
		return riff(c, data)
	}
	badGUID := extChunk(1, 1, 16000, 16)
	badGUID.body[39] = 0
	tests := []struct {
		name string
		wav  []byte
		want string
	}{
		{"empty file", nil, "not a WAV file"},
		{"not riff", append([]byte("RIFX"), good[4:]...), "not a WAV file"},
		{"not wave", append(append([]byte{}, good[:8]...), append([]byte("AVI "), good[12:]...)...), "not a WAV file"},
		{"header only", good[:12], "no \"fmt \" or \"data\" chunk"},
		{"no data", riff(pcm16), "no \"data\" chunk"},
		{"data before fmt", riff(data, pcm16), "no \"fmt \" chunk before"},
		{"short fmt", riff(chunk{"fmt ", make([]byte, 14)}, data), "\"fmt \" chunk has 14 bytes"},
		{"mulaw", riff(fmtChunk(7, 1, 8000, 8), data), "unsupported WAV format tag 0x0007"},
		{"pcm 12-bit", riff(fmtChunk(1, 1, 8000, 12), data), "unsupported PCM bit depth 12"},
		{"float 16-bit", riff(fmtChunk(3, 1, 8000, 16), data), "unsupported IEEE float bit depth 16"},
		{"extensible short", riff(fmtChunk(wavFormatExtensible, 1, 8000, 16), data), "WAVE_FORMAT_EXTENSIBLE \"fmt \" chunk has 16 bytes"},
		{"extensible bad guid", riff(badGUID, data), "unsupported WAVE_FORMAT_EXTENSIBLE subformat"},
		{"zero channels", withFmt(func(b []byte) { b[2] = 0 }), "0 channels"},
		{"zero rate", withFmt(func(b []byte) { clear(b[4:8]) }), "sample rate 0"},
		{"bad block align", withFmt(func(b []byte) { b[12] = 3 }), "block align 3, want 2"},
		{"empty data", riff(pcm16, chunk{"data", nil}), "empty"},
		{"truncated data", good[:len(good)-1], "truncated: \"data\" chunk claims 4 bytes, file has 3"},
		{"partial frame", riff(pcm16, chunk{"data", []byte{1, 2, 3}}), "partial 2-byte frame"},
		{"partial stereo frame", riff(fmtChunk(1, 2, 8000, 16), chunk{"data", le(int16(1), int16(2), int16(3))}), "partial 4-byte frame"},
		{"truncated chunk header", good[:len(good)-10], "truncated chunk header"},
		{"truncated LIST", riff(chunk{"LIST", make([]byte, 10)})[:22], "truncated \"LIST\" chunk"},
		{"truncated fmt", riff(pcm16)[:24], "truncated: \"fmt \" chunk claims 16 bytes"},
		{"nan float", riff(fmtChunk(3, 1, 8000, 32), chunk{"data", le(float32(math.NaN()))}), "non-finite sample at frame 0"},
		{"overflowing float64", riff(fmtChunk(3, 1, 8000, 64), chunk{"data", le(0.0, 1e300)}), "non-finite sample at frame 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ReadWAV(bytes.NewReader(tt.wav), "bad.wav")
			if err == nil {
				t.Fatalf("no error; got %+v", a)
			}
			checkFileError(t, err, "bad.wav")
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// FuzzReadWAV checks that ReadWAV never panics, that its errors are one line
// naming the file, and that what it accepts is mono, finite and one sample
// per whole frame.
func FuzzReadWAV(f *testing.F) {
	for _, tt := range validWAVs() {
		f.Add(tt.wav)
		f.Add(tt.wav[:len(tt.wav)-1])
		f.Add(tt.wav[:len(tt.wav)/2])
		f.Add(tt.wav[:20])
	}
	f.Add([]byte{})
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ReadWAV(bytes.NewReader(b), "fuzz.wav")
		if err != nil {
			checkFileError(t, err, "fuzz.wav")
			return
		}
		if a.Rate <= 0 || len(a.Samples) == 0 || a.Source != "fuzz.wav" {
			t.Fatalf("accepted with rate %d, %d samples, source %q", a.Rate, len(a.Samples), a.Source)
		}
		if len(a.Samples) > len(b) {
			t.Fatalf("%d samples from %d bytes", len(a.Samples), len(b))
		}
		for i, v := range a.Samples {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("sample %d is %v", i, v)
			}
		}
	})
}
