package tokenizer

import (
	"fmt"
	"unicode/utf8"
)

// Tokenizer turns text into token ids and back.
type Tokenizer interface {
	// Encode returns the ids of text, without BOS/EOS. Text must be valid
	// UTF-8; special-token strings inside it are ordinary text.
	Encode(text string) ([]int, error)
	// Decode returns the text of ids. Special ids decode to their literal
	// strings ("<s>", "</s>", "<pad>", "<mask>").
	Decode(ids []int) (string, error)
	// VocabSize is one more than the largest id, specials included: the
	// number of rows an embedding table needs.
	VocabSize() int
	// Special returns the ids of the special tokens.
	Special() Specials
}

// Specials holds the ids of the special tokens, RoBERTa naming.
type Specials struct {
	BOS  int // "<s>": start of sequence (also CLS)
	EOS  int // "</s>": end of sequence (also SEP)
	PAD  int // "<pad>": padding, masked out of attention and loss
	MASK int // "<mask>": replaces masked input tokens
}

// Literal strings of the special tokens, in the order they are appended when
// a vocabulary lacks them.
const (
	BOSText  = "<s>"
	EOSText  = "</s>"
	PADText  = "<pad>"
	MASKText = "<mask>"
)

var specialTexts = [4]string{BOSText, EOSText, PADText, MASKText}

// ids returns the specials in specialTexts order.
func (s Specials) ids() [4]int { return [4]int{s.BOS, s.EOS, s.PAD, s.MASK} }

// text returns the literal string of a special id, or false.
func (s Specials) text(id int) (string, bool) {
	for i, sid := range s.ids() {
		if id == sid {
			return specialTexts[i], true
		}
	}
	return "", false
}

// checkUTF8 reports the byte offset of the first invalid UTF-8 sequence.
func checkUTF8(text string) error {
	if utf8.ValidString(text) {
		return nil
	}
	for off := 0; off < len(text); {
		r, n := utf8.DecodeRuneInString(text[off:])
		if r == utf8.RuneError && n == 1 {
			return fmt.Errorf("tokenizer: invalid UTF-8 at byte offset %d (byte 0x%02x); decode the input as UTF-8 first", off, text[off])
		}
		off += n
	}
	return nil
}
