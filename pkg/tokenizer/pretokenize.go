package tokenizer

import "unicode"

// class is the category of a rune for the GPT-2 pattern.
type class uint8

const (
	classSpace  class = iota // \s: Unicode White_Space
	classLetter              // \p{L}
	classNumber              // \p{N}
	classOther               // [^\s\p{L}\p{N}]
)

func classify(r rune) class {
	switch {
	case unicode.IsSpace(r): // White_Space, as \s in the Python regex module
		return classSpace
	case unicode.IsLetter(r):
		return classLetter
	case unicode.IsNumber(r):
		return classNumber
	}
	return classOther
}

// pretokenize splits text the way the GPT-2 pattern
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// does with leftmost-first alternation. Go's regexp has no lookahead, so this
// is a hand-written matcher over runes; the pieces concatenate to text.
func pretokenize(text string) []string {
	rs := []rune(text)
	var pieces []string
	for i := 0; i < len(rs); {
		n := matchAt(rs, i)
		pieces = append(pieces, string(rs[i:i+n]))
		i += n
	}
	return pieces
}

// matchAt returns the length in runes of the pattern's match at rs[i:]; it is
// always at least 1 because every rune falls in one of the four classes.
func matchAt(rs []rune, i int) int {
	if n := contraction(rs[i:]); n > 0 {
		return n
	}
	start := i
	if rs[i] == ' ' && i+1 < len(rs) && classify(rs[i+1]) != classSpace {
		start = i + 1 // " ?" binds the space to the run that follows
	}
	c := classify(rs[start])
	if c != classSpace {
		return runEnd(rs, start, c) - i
	}
	// \s+(?!\S): take the whitespace run, but leave its last rune for the
	// next piece when a non-space follows and the run has more than one rune.
	end := runEnd(rs, i, classSpace)
	if end < len(rs) && end-i > 1 {
		return end - 1 - i
	}
	return end - i // \s+(?!\S) at the end of text, or \s+ for a single rune
}

// runEnd returns the index after the run of class c starting at rs[i].
func runEnd(rs []rune, i int, c class) int {
	for i < len(rs) && classify(rs[i]) == c {
		i++
	}
	return i
}

// contraction returns the length of 's 't 're 've 'm 'll 'd at the start of
// rs, or 0. Case-sensitive, as in GPT-2.
func contraction(rs []rune) int {
	if len(rs) < 2 || rs[0] != '\'' {
		return 0
	}
	switch rs[1] {
	case 's', 't', 'm', 'd':
		return 2
	}
	if len(rs) >= 3 {
		switch string(rs[1:3]) {
		case "re", "ve", "ll":
			return 3
		}
	}
	return 0
}
