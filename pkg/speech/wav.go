package speech

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// Rate is the sample rate (Hz) that the audio modality expects; call
// Resample(a.Samples, a.Rate, Rate) on what ReadWAV returns.
const Rate = 16000

// WAVE format tags (mmreg.h).
const (
	wavFormatPCM        = 0x0001
	wavFormatFloat      = 0x0003
	wavFormatExtensible = 0xFFFE
	// maxFmtBytes bounds a fmt chunk; real ones are 16, 18 or 40 bytes.
	maxFmtBytes = 1 << 16
)

// ksDataFormatTail is bytes 2..15 of every KSDATAFORMAT_SUBTYPE_* GUID in a
// WAVE_FORMAT_EXTENSIBLE fmt chunk; bytes 0..1 hold the plain format tag.
var ksDataFormatTail = []byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

// Audio is one mono utterance.
type Audio struct {
	Samples []float32 // mono, nominally in [-1, 1]
	Rate    int       // samples per second, as stored in the file
	Source  string    // file name, for error messages
}

// wavFormat is the part of a fmt chunk that decoding needs.
type wavFormat struct {
	tag        int // wavFormatPCM or wavFormatFloat after resolving EXTENSIBLE
	channels   int
	rate       int
	blockAlign int
	bits       int // container bits per sample: 8, 16, 24, 32 or 64
}

// LoadWAV opens and decodes a WAV file; see ReadWAV.
func LoadWAV(path string) (*Audio, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err) // *PathError already names the file
	}
	defer f.Close()
	return ReadWAV(bufio.NewReader(f), path)
}

// ReadWAV decodes a RIFF/WAVE stream into mono float32 samples at the file's
// own rate. name is used only in error messages.
//
// Supported: WAVE_FORMAT_PCM with 8-bit (unsigned), 16-, 24- or 32-bit
// (signed) samples, IEEE float with 32- or 64-bit samples, and
// WAVE_FORMAT_EXTENSIBLE whose subformat is PCM or float. Integer samples are
// scaled by 1/2^(bits-1) into [-1, 1); float samples are kept as stored (they
// must be finite). Several channels are mixed down to mono by averaging.
// Chunks other than "fmt " and "data" (LIST, fact, cue, ...) are skipped,
// including the pad byte after an odd-sized chunk; "fmt " must come before
// "data", and anything after "data" is ignored. A data chunk that is shorter
// than it claims or holds a partial last frame is an error.
func ReadWAV(r io.Reader, name string) (*Audio, error) {
	var hdr [12]byte
	if n, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("data: %s: not a WAV file: %d-byte file is shorter than the 12-byte RIFF header", name, n)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("data: %s: not a WAV file: starts with %q...%q, want \"RIFF\"...\"WAVE\"", name, hdr[0:4], hdr[8:12])
	}
	var format *wavFormat
	for {
		var ch [8]byte
		n, err := io.ReadFull(r, ch[:])
		switch {
		case n == 0 && errors.Is(err, io.EOF):
			if format == nil {
				return nil, fmt.Errorf("data: %s: no \"fmt \" or \"data\" chunk", name)
			}
			return nil, fmt.Errorf("data: %s: no \"data\" chunk", name)
		case err != nil:
			return nil, fmt.Errorf("data: %s: truncated chunk header: got %d of 8 bytes", name, n)
		}
		id, size := string(ch[0:4]), int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch id {
		case "fmt ":
			if size < 16 || size > maxFmtBytes {
				return nil, fmt.Errorf("data: %s: \"fmt \" chunk has %d bytes, want 16 to %d", name, size, maxFmtBytes)
			}
			body, err := readChunk(r, name, id, size)
			if err != nil {
				return nil, err
			}
			if format, err = parseWAVFormat(body, name); err != nil {
				return nil, err
			}
		case "data":
			if format == nil {
				return nil, fmt.Errorf("data: %s: no \"fmt \" chunk before the \"data\" chunk", name)
			}
			if size == 0 {
				return nil, fmt.Errorf("data: %s: empty: \"data\" chunk has no samples", name)
			}
			body, err := readChunk(r, name, id, size)
			if err != nil {
				return nil, err
			}
			if len(body)%format.blockAlign != 0 {
				return nil, fmt.Errorf("data: %s: truncated: \"data\" chunk of %d bytes ends in a partial %d-byte frame",
					name, len(body), format.blockAlign)
			}
			samples, err := decodeWAV(body, format, name)
			if err != nil {
				return nil, err
			}
			return &Audio{Samples: samples, Rate: format.rate, Source: name}, nil
		default:
			if _, err := io.CopyN(io.Discard, r, size+size&1); err != nil {
				return nil, fmt.Errorf("data: %s: truncated %q chunk: %v", name, id, err)
			}
		}
	}
}

// readChunk reads a chunk body of size bytes and its pad byte, if any. The
// buffer grows as data arrives, so a lying size cannot force a huge
// allocation. A missing pad byte at the end of the stream is tolerated.
func readChunk(r io.Reader, name, id string, size int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, size))
	if err != nil {
		return nil, fmt.Errorf("data: %s: reading %q chunk: %v", name, id, err)
	}
	if int64(len(body)) < size {
		return nil, fmt.Errorf("data: %s: truncated: %q chunk claims %d bytes, file has %d", name, id, size, len(body))
	}
	if size&1 == 1 {
		var pad [1]byte
		_, _ = io.ReadFull(r, pad[:])
	}
	return body, nil
}

// parseWAVFormat validates a fmt chunk body and resolves EXTENSIBLE to PCM
// or float.
func parseWAVFormat(b []byte, name string) (*wavFormat, error) {
	le := binary.LittleEndian
	f := &wavFormat{
		tag:        int(le.Uint16(b[0:])),
		channels:   int(le.Uint16(b[2:])),
		rate:       int(le.Uint32(b[4:])),
		blockAlign: int(le.Uint16(b[12:])),
		bits:       int(le.Uint16(b[14:])),
	}
	if f.tag == wavFormatExtensible {
		if len(b) < 40 || le.Uint16(b[16:]) < 22 {
			return nil, fmt.Errorf("data: %s: WAVE_FORMAT_EXTENSIBLE \"fmt \" chunk has %d bytes, want 40", name, len(b))
		}
		guid := b[24:40]
		if !bytes.Equal(guid[2:], ksDataFormatTail) {
			return nil, fmt.Errorf("data: %s: unsupported WAVE_FORMAT_EXTENSIBLE subformat GUID % x; want PCM or IEEE float", name, guid)
		}
		f.tag = int(le.Uint16(guid))
	}
	if f.channels == 0 {
		return nil, fmt.Errorf("data: %s: \"fmt \" chunk says 0 channels", name)
	}
	if f.rate == 0 {
		return nil, fmt.Errorf("data: %s: \"fmt \" chunk says sample rate 0", name)
	}
	switch {
	case f.tag == wavFormatPCM && (f.bits == 8 || f.bits == 16 || f.bits == 24 || f.bits == 32):
	case f.tag == wavFormatFloat && (f.bits == 32 || f.bits == 64):
	case f.tag == wavFormatPCM:
		return nil, fmt.Errorf("data: %s: unsupported PCM bit depth %d; want 8, 16, 24 or 32", name, f.bits)
	case f.tag == wavFormatFloat:
		return nil, fmt.Errorf("data: %s: unsupported IEEE float bit depth %d; want 32 or 64", name, f.bits)
	default:
		return nil, fmt.Errorf("data: %s: unsupported WAV format tag 0x%04x; want PCM (1), IEEE float (3) or EXTENSIBLE (0xfffe)", name, f.tag)
	}
	if want := f.channels * f.bits / 8; f.blockAlign != want {
		return nil, fmt.Errorf("data: %s: \"fmt \" block align %d, want %d for %d channels of %d bits", name, f.blockAlign, want, f.channels, f.bits)
	}
	return f, nil
}

// decodeWAV turns whole frames into mono samples, averaging the channels.
func decodeWAV(b []byte, f *wavFormat, name string) ([]float32, error) {
	le := binary.LittleEndian
	width := f.bits / 8
	var sample func(p []byte) float64
	switch {
	case f.tag == wavFormatPCM && width == 1:
		sample = func(p []byte) float64 { return (float64(p[0]) - 128) / 128 }
	case f.tag == wavFormatPCM && width == 2:
		sample = func(p []byte) float64 { return float64(int16(le.Uint16(p))) / (1 << 15) }
	case f.tag == wavFormatPCM && width == 3:
		sample = func(p []byte) float64 {
			v := int32(uint32(p[0])<<8|uint32(p[1])<<16|uint32(p[2])<<24) >> 8 // sign-extend 24 bits
			return float64(v) / (1 << 23)
		}
	case f.tag == wavFormatPCM && width == 4:
		sample = func(p []byte) float64 { return float64(int32(le.Uint32(p))) / (1 << 31) }
	case width == 4:
		sample = func(p []byte) float64 { return float64(math.Float32frombits(le.Uint32(p))) }
	default:
		sample = func(p []byte) float64 { return math.Float64frombits(le.Uint64(p)) }
	}
	frames := len(b) / f.blockAlign
	out := make([]float32, frames)
	for i := range out {
		frame := b[i*f.blockAlign:]
		sum := 0.0
		for c := 0; c < f.channels; c++ {
			sum += sample(frame[c*width:])
		}
		v := float32(sum / float64(f.channels))
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("data: %s: non-finite sample at frame %d; the float data is corrupt", name, i)
		}
		out[i] = v
	}
	return out, nil
}
