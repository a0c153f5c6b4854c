package data

import (
	"bufio"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// TextSet is a labelled text-classification set: Texts[i] has class
// Labels[i], an index into Classes.
type TextSet struct {
	Texts   []string
	Labels  []int
	Classes []string // class names, sorted; the id of a class is its index
	Source  string   // where the set came from, for logs and reports
}

// Len returns the number of examples.
func (s *TextSet) Len() int { return len(s.Texts) }

// ClassCounts returns the number of examples per class id.
func (s *TextSet) ClassCounts() []int {
	c := make([]int, len(s.Classes))
	for _, l := range s.Labels {
		c[l]++
	}
	return c
}

// WordNetOptions selects what LoadWordNet reads.
type WordNetOptions struct {
	// POS lists the parts of speech to read, any of "noun", "verb", "adj",
	// "adv" (file data.<pos>); empty means noun and verb. Duplicates are
	// ignored; files are read in the order given.
	POS []string
	// MinPerClass drops classes with fewer examples (counted after
	// de-duplication, before the MaxPerClass cap). 0 means the default
	// 200; a negative value keeps every class.
	MinPerClass int
	// MaxPerClass caps each class for balance, 0 = no cap. A capped class
	// keeps evenly spaced examples across its file order (example
	// floor(i*n/Max) for i < Max), so the kept ones span the whole class.
	MaxPerClass int
	// KeepExamples keeps the quoted example sentences of a gloss; by default
	// the text is the definition only (see LoadWordNet).
	KeepExamples bool
}

// DefaultWordNetMinPerClass is the MinPerClass used when the option is 0.
const DefaultWordNetMinPerClass = 200

// wordnetLexnames is the WordNet 3.0 list of lexicographer files
// (lexnames(5WN)), index = lex_filenum. LoadWordNet uses it when the
// database folder has no lexnames file (Debian's wordnet-base ships none).
var wordnetLexnames = []string{
	"adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal",
	"noun.artifact", "noun.attribute", "noun.body", "noun.cognition",
	"noun.communication", "noun.event", "noun.feeling", "noun.food",
	"noun.group", "noun.location", "noun.motive", "noun.object",
	"noun.person", "noun.phenomenon", "noun.plant", "noun.possession",
	"noun.process", "noun.quantity", "noun.relation", "noun.shape",
	"noun.state", "noun.substance", "noun.time", "verb.body", "verb.change",
	"verb.cognition", "verb.communication", "verb.competition",
	"verb.consumption", "verb.contact", "verb.creation", "verb.emotion",
	"verb.motion", "verb.perception", "verb.possession", "verb.social",
	"verb.stative", "verb.weather", "adj.ppl",
}

// wordnetSSTypes are the synset types allowed in each data file.
var wordnetSSTypes = map[string]string{"noun": "n", "verb": "v", "adj": "as", "adv": "r"}

// LoadWordNet reads a WordNet 3.0 database folder (data.noun, data.verb,
// ... in the wndb(5WN) format; Debian's wordnet-base installs it in
// /usr/share/wordnet) and returns the glosses labelled with the
// lexicographer file of their synset (noun.animal, verb.motion, ...).
//
// Class names come from the folder's lexnames file ("NN name syncat" per
// line) when it has one, else from the built-in WordNet 3.0 list. Lines
// starting with two spaces are the licence header and are skipped.
//
// The text of a synset is its gloss, the part after " | ", trimmed. Unless
// KeepExamples is set, it is cut at the first `; "`, which is where
// WordNet's quoted example sentences begin, so it is the definition only
// ("draw air into, and expel out of, the lungs"); examples often contain
// the headword itself, which would make the task easier than intended.
//
// Identical texts are merged so that no text can be on both sides of a
// split: a text seen under one class is kept once (its first occurrence);
// a text seen under two or more classes is dropped, as its label is
// ambiguous. Then classes below MinPerClass are dropped, MaxPerClass caps
// the rest, and the survivors keep file order (POS files in the order
// given, lines in file order). Classes are sorted by name.
//
// Errors name the folder or file: a missing folder or data file, a
// malformed line (file:line), an unknown POS, or an empty result.
func LoadWordNet(dir string, opts WordNetOptions) (*TextSet, error) {
	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("data: wordnet %s: %w", dir, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("data: wordnet %s: not a folder", dir)
	}
	pos := opts.POS
	if len(pos) == 0 {
		pos = []string{"noun", "verb"}
	}
	var posList []string
	for _, p := range pos {
		if _, ok := wordnetSSTypes[p]; !ok {
			return nil, fmt.Errorf("data: wordnet %s: unknown part of speech %q (want noun, verb, adj or adv)", dir, p)
		}
		if !slices.Contains(posList, p) {
			posList = append(posList, p)
		}
	}
	lexnames, err := readLexnames(filepath.Join(dir, "lexnames"))
	if err != nil {
		return nil, err
	}

	type entry struct {
		text string
		lex  int
	}
	var entries []entry
	seen := map[string]int{} // text -> index in entries, -1 once ambiguous
	for _, p := range posList {
		file := filepath.Join(dir, "data."+p)
		err := readWordNetData(file, wordnetSSTypes[p], len(lexnames), opts.KeepExamples, func(text string, lex int) {
			if i, ok := seen[text]; ok {
				if i >= 0 && entries[i].lex != lex {
					entries[i].lex = -1
					seen[text] = -1
				}
				return
			}
			seen[text] = len(entries)
			entries = append(entries, entry{text, lex})
		})
		if err != nil {
			return nil, err
		}
	}

	byLex := map[int][]int{} // lex_filenum -> entry indices, file order
	for i, e := range entries {
		if e.lex >= 0 {
			byLex[e.lex] = append(byLex[e.lex], i)
		}
	}
	minPer := opts.MinPerClass
	if minPer == 0 {
		minPer = DefaultWordNetMinPerClass
	}
	var names []string
	nameLex := map[string]int{}
	for lex, idx := range byLex {
		if len(idx) < minPer {
			continue
		}
		name := lexnames[lex]
		if _, dup := nameLex[name]; dup {
			return nil, fmt.Errorf("data: wordnet %s: lexicographer file name %q used twice", dir, name)
		}
		nameLex[name] = lex
		names = append(names, name)
	}
	slices.Sort(names)
	keep := make([]int, len(entries)) // entry index -> class id + 1, 0 = dropped
	for id, name := range names {
		idx := byLex[nameLex[name]]
		if m := opts.MaxPerClass; m > 0 && len(idx) > m {
			sub := make([]int, m)
			for i := range m {
				sub[i] = idx[i*len(idx)/m]
			}
			idx = sub
		}
		for _, i := range idx {
			keep[i] = id + 1
		}
	}
	s := &TextSet{Classes: names, Source: fmt.Sprintf("wordnet:%s (%s)", dir, strings.Join(posList, ","))}
	for i, e := range entries {
		if keep[i] > 0 {
			s.Texts = append(s.Texts, e.text)
			s.Labels = append(s.Labels, keep[i]-1)
		}
	}
	if len(s.Texts) == 0 {
		return nil, fmt.Errorf("data: wordnet %s: no examples left (%d distinct glosses in data.%s, no class with MinPerClass=%d)",
			dir, len(entries), strings.Join(posList, ", data."), minPer)
	}
	return s, nil
}

// readLexnames parses a lexnames file; a missing file yields the built-in
// WordNet 3.0 list.
func readLexnames(file string) ([]string, error) {
	f, err := os.Open(file)
	if os.IsNotExist(err) {
		return wordnetLexnames, nil
	}
	if err != nil {
		return nil, fmt.Errorf("data: wordnet %s: %w", file, err)
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		num, err := strconv.Atoi(fields[0])
		if len(fields) < 2 || err != nil || num != len(names) {
			return nil, fmt.Errorf("data: wordnet %s:%d: malformed lexnames line (want %02d NAME SYNCAT): %q", file, n, len(names), sc.Text())
		}
		names = append(names, fields[1])
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("data: wordnet %s: %w", file, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("data: wordnet %s: no lexicographer files listed", file)
	}
	return names, nil
}

// readWordNetData calls fn(text, lex_filenum) for each synset of a data.*
// file, in file order.
func readWordNetData(file, ssTypes string, nLex int, keepExamples bool, fn func(string, int)) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("data: wordnet %s: %w", file, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.HasPrefix(line, "  ") || strings.TrimSpace(line) == "" {
			continue
		}
		bad := func(why string) error {
			return fmt.Errorf("data: wordnet %s:%d: malformed line: %s", file, n, why)
		}
		head, gloss, ok := strings.Cut(line, " | ")
		if !ok {
			return bad(`no " | " before the gloss`)
		}
		fields := strings.Fields(head)
		if len(fields) < 4 {
			return bad("fewer than 4 fields before the gloss")
		}
		if len(fields[0]) != 8 || strings.Trim(fields[0], "0123456789") != "" {
			return bad(fmt.Sprintf("synset offset %q is not 8 digits", fields[0]))
		}
		lex, err := strconv.Atoi(fields[1])
		if err != nil || len(fields[1]) != 2 || lex < 0 || lex >= nLex {
			return bad(fmt.Sprintf("lex_filenum %q is not a 2-digit index below %d", fields[1], nLex))
		}
		if len(fields[2]) != 1 || !strings.Contains(ssTypes, fields[2]) {
			return bad(fmt.Sprintf("ss_type %q, want one of %q", fields[2], ssTypes))
		}
		text := strings.TrimSpace(gloss)
		if !keepExamples {
			if i := strings.Index(text, `; "`); i >= 0 {
				text = text[:i]
			}
			text = strings.TrimRight(text, " ;")
		}
		if text == "" {
			return bad("empty gloss")
		}
		fn(text, lex)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("data: wordnet %s: %w", file, err)
	}
	return nil
}

// SplitTextSet splits s into train and test sets, stratified: each class is
// shuffled with a permutation drawn from seed (one generator, classes in id
// order) and round(testFrac*n) of its n examples go to test, at least one
// when testFrac > 0 and n >= 2, and at most n-1 when testFrac < 1. Both
// halves keep the original example order and share s.Classes. testFrac is
// clamped to [0, 1] (NaN counts as 0). The same s, testFrac and seed give
// the same split.
func SplitTextSet(s *TextSet, testFrac float64, seed int64) (train, test *TextSet) {
	if math.IsNaN(testFrac) || testFrac < 0 {
		testFrac = 0
	}
	testFrac = min(testFrac, 1)
	byClass := make([][]int, len(s.Classes))
	for i, l := range s.Labels {
		byClass[l] = append(byClass[l], i)
	}
	rng := rand.New(rand.NewSource(seed))
	inTest := make([]bool, len(s.Texts))
	for _, idx := range byClass {
		n := len(idx)
		k := int(math.Round(testFrac * float64(n)))
		if testFrac > 0 && n >= 2 {
			k = max(k, 1)
		}
		if testFrac < 1 && n >= 2 {
			k = min(k, n-1)
		}
		perm := rng.Perm(n)
		for _, p := range perm[:k] {
			inTest[idx[p]] = true
		}
	}
	train = &TextSet{Classes: s.Classes, Source: fmt.Sprintf("%s train (test frac %g, seed %d)", s.Source, testFrac, seed)}
	test = &TextSet{Classes: s.Classes, Source: fmt.Sprintf("%s test (test frac %g, seed %d)", s.Source, testFrac, seed)}
	for i, t := range s.Texts {
		dst := train
		if inTest[i] {
			dst = test
		}
		dst.Texts = append(dst.Texts, t)
		dst.Labels = append(dst.Labels, s.Labels[i])
	}
	return train, test
}
