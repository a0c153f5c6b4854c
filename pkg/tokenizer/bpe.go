package tokenizer

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
)

// BPE is a GPT-2 byte-level BPE tokenizer. It is safe for concurrent use.
type BPE struct {
	tokens  []string         // id -> token in byte-level runes; "" for unused ids
	vocab   map[string]int   // token -> id
	merges  map[[2]int]merge // adjacent symbol pair -> rank and result
	byteID  [256]int         // id of each single-byte symbol
	special Specials         // ids of <s>, </s>, <pad>, <mask>
	size    int              // VocabSize
	mu      sync.RWMutex     // guards cache
	cache   map[string][]int // pre-token -> ids
}

// merge is one line of the merges file.
type merge struct {
	rank int // line order: lower merges first
	id   int // id of the merged symbol
}

// maxCache bounds the pre-token cache; it is cleared when full so memory
// stays bounded on open-ended corpora.
const maxCache = 1 << 16

// maxVocabID bounds vocabulary ids (real vocabularies have at most a few
// hundred thousand), since the id -> token table is sized by the largest.
const maxVocabID = 1 << 24

// LoadBPE reads a GPT-2 vocabulary (vocab.json or encoder.json: a JSON object
// token -> id) and its merges (merges.txt or vocab.bpe: an optional
// "#version" first line, then one "a b" pair per line in rank order).
//
// Special tokens <s>, </s>, <pad>, <mask> take the vocabulary's ids when it
// has them (RoBERTa's vocab.json does); missing ones are appended after the
// largest vocabulary id in that order, so plain GPT-2 (ids 0..50256) gets
// <s>=50257, </s>=50258, <pad>=50259, <mask>=50260 and VocabSize 50261.
func LoadBPE(vocabPath, mergesPath string) (*BPE, error) {
	t, err := loadVocab(vocabPath)
	if err != nil {
		return nil, err
	}
	if err := t.loadMerges(mergesPath); err != nil {
		return nil, err
	}
	return t, nil
}

func loadVocab(path string) (*BPE, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bpe vocab: %w", err)
	}
	var vocab map[string]int
	if err := json.Unmarshal(raw, &vocab); err != nil {
		return nil, fmt.Errorf("bpe vocab %s: malformed JSON (want an object token -> id): %v", path, err)
	}
	if len(vocab) == 0 {
		return nil, fmt.Errorf("bpe vocab %s: empty vocabulary", path)
	}
	size := 0
	for tok, id := range vocab {
		if id < 0 {
			return nil, fmt.Errorf("bpe vocab %s: token %q has negative id %d", path, tok, id)
		}
		if id >= maxVocabID { // ids index a table: a corrupt one must not exhaust memory
			return nil, fmt.Errorf("bpe vocab %s: token %q has id %d, want < %d", path, tok, id, maxVocabID)
		}
		size = max(size, id+1)
	}
	t := &BPE{vocab: vocab, tokens: make([]string, size), merges: map[[2]int]merge{}, cache: map[string][]int{}}
	for tok, id := range vocab {
		if t.tokens[id] != "" {
			return nil, fmt.Errorf("bpe vocab %s: id %d used by both %q and %q", path, id, t.tokens[id], tok)
		}
		t.tokens[id] = tok
	}
	for b, r := range byteToRune {
		id, ok := vocab[string(r)]
		if !ok {
			return nil, fmt.Errorf("bpe vocab %s: no token for byte 0x%02x (%q); not a byte-level BPE vocabulary", path, b, string(r))
		}
		t.byteID[b] = id
	}
	ids := [4]*int{&t.special.BOS, &t.special.EOS, &t.special.PAD, &t.special.MASK}
	for i, s := range specialTexts {
		id, ok := vocab[s]
		if !ok {
			id = size
			size++
		}
		*ids[i] = id
	}
	t.size = size
	return t, nil
}

func (t *BPE) loadMerges(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("bpe merges: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSuffix(sc.Text(), "\r")
		if text == "" || (line == 1 && strings.HasPrefix(text, "#version")) {
			continue
		}
		parts := strings.Split(text, " ")
		if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
			return fmt.Errorf("bpe merges %s:%d: want two tokens separated by one space, got %q", path, line, text)
		}
		a, okA := t.vocab[parts[0]]
		b, okB := t.vocab[parts[1]]
		c, okC := t.vocab[parts[0]+parts[1]]
		if !okA || !okB || !okC {
			return fmt.Errorf("bpe merges %s:%d: merge %q: %q, %q or %q is missing from the vocab; are vocab and merges from the same model?",
				path, line, text, parts[0], parts[1], parts[0]+parts[1])
		}
		if _, dup := t.merges[[2]int{a, b}]; !dup {
			t.merges[[2]int{a, b}] = merge{rank: len(t.merges), id: c}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("bpe merges %s: %w", path, err)
	}
	return nil
}

// Encode returns the BPE ids of text. Special-token strings in text are
// ordinary text. Invalid UTF-8 is an error naming the byte offset.
func (t *BPE) Encode(text string) ([]int, error) {
	if err := checkUTF8(text); err != nil {
		return nil, err
	}
	var ids []int
	for _, piece := range pretokenize(text) {
		ids = append(ids, t.encodePiece(piece)...)
	}
	return ids, nil
}

// encodePiece returns the ids of one pre-token, from the cache if possible.
// The returned slice must not be modified.
func (t *BPE) encodePiece(piece string) []int {
	t.mu.RLock()
	ids, ok := t.cache[piece]
	t.mu.RUnlock()
	if ok {
		return ids
	}
	ids = t.bpe(piece)
	t.mu.Lock()
	if len(t.cache) >= maxCache {
		clear(t.cache)
	}
	t.cache[piece] = ids
	t.mu.Unlock()
	return ids
}

// bpe merges the byte symbols of piece: repeatedly the adjacent pair with the
// lowest rank, all its non-overlapping occurrences left to right, as gpt-2
// encoder.py bpe does.
func (t *BPE) bpe(piece string) []int {
	word := make([]int, len(piece))
	for i := 0; i < len(piece); i++ {
		word[i] = t.byteID[piece[i]]
	}
	for len(word) > 1 {
		best, found := merge{}, false
		var pair [2]int
		for i := 0; i+1 < len(word); i++ {
			m, ok := t.merges[[2]int{word[i], word[i+1]}]
			if ok && (!found || m.rank < best.rank) {
				best, found, pair = m, true, [2]int{word[i], word[i+1]}
			}
		}
		if !found {
			break
		}
		out := word[:0] // in place: out never overtakes the read index
		for i := 0; i < len(word); i++ {
			if i+1 < len(word) && word[i] == pair[0] && word[i+1] == pair[1] {
				out = append(out, best.id)
				i++
			} else {
				out = append(out, word[i])
			}
		}
		word = out
	}
	return word
}

// Decode returns the text of ids; special ids decode to their literal
// strings. Bytes are returned as they are, so ids that split a multi-byte
// rune give invalid UTF-8 rather than a replacement character.
func (t *BPE) Decode(ids []int) (string, error) {
	var sb strings.Builder
	for i, id := range ids {
		if s, ok := t.special.text(id); ok && (id >= len(t.tokens) || t.tokens[id] == "") {
			sb.WriteString(s)
			continue
		}
		if id < 0 || id >= len(t.tokens) || t.tokens[id] == "" {
			return "", fmt.Errorf("bpe decode: id %d at position %d is not in the vocab (size %d)", id, i, t.size)
		}
		for _, r := range t.tokens[id] {
			b, ok := runeToByte[r]
			if !ok {
				return "", fmt.Errorf("bpe decode: token %q (id %d) has rune %q outside the byte-level alphabet", t.tokens[id], id, r)
			}
			sb.WriteByte(b)
		}
	}
	return sb.String(), nil
}

// VocabSize returns one more than the largest id, appended specials included.
func (t *BPE) VocabSize() int { return t.size }

// Special returns the ids of <s>, </s>, <pad>, <mask>.
func (t *BPE) Special() Specials { return t.special }
