package tokenizer

import "fmt"

// Bytes is a byte-level tokenizer with no vocabulary file: ids 0..255 are
// the UTF-8 bytes of the text, then 256..259 are <s>, </s>, <pad>, <mask>.
type Bytes struct{}

// bytesVocab is the number of ids of Bytes: 256 bytes and 4 specials.
const bytesVocab = 256 + len(specialTexts)

// NewBytes returns the byte tokenizer.
func NewBytes() Bytes { return Bytes{} }

// Encode returns the UTF-8 bytes of text as ids.
func (Bytes) Encode(text string) ([]int, error) {
	if err := checkUTF8(text); err != nil {
		return nil, err
	}
	ids := make([]int, len(text))
	for i := 0; i < len(text); i++ {
		ids[i] = int(text[i])
	}
	return ids, nil
}

// Decode returns the bytes of ids as a string; special ids become their
// literal strings. The result may be invalid UTF-8 if ids split a rune.
func (b Bytes) Decode(ids []int) (string, error) {
	out := make([]byte, 0, len(ids))
	for i, id := range ids {
		switch {
		case id >= 0 && id < 256:
			out = append(out, byte(id))
		case id >= 256 && id < bytesVocab:
			out = append(out, specialTexts[id-256]...)
		default:
			return "", fmt.Errorf("bytes tokenizer: id %d at position %d out of range [0,%d)", id, i, bytesVocab)
		}
	}
	return string(out), nil
}

// VocabSize returns 260.
func (Bytes) VocabSize() int { return bytesVocab }

// Special returns ids 256..259.
func (Bytes) Special() Specials { return Specials{BOS: 256, EOS: 257, PAD: 258, MASK: 259} }
