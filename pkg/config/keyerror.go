package config

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// How a bad key or value is reported: each message names the key and, for
// an unknown key, the nearest valid one.

// keyError is a problem with one key or section (key "": the top level):
// mergeYAML puts the file and line where key is written in front of msg.
type keyError struct{ key, msg string }

func (e *keyError) Error() string { return "config: " + e.msg }

// keyLine is the line (1-based) of the dotted key in the YAML raw: where
// the key is written, or where an alias (*name) brings it in; 0 if it is not
// written there as such (e.g. it comes from a merge key "<<").
func keyLine(raw []byte, key string) int {
	var doc yaml.Node
	if yaml.Unmarshal(raw, &doc) != nil || len(doc.Content) == 0 {
		return 0
	}
	n, line, aliased := doc.Content[0], doc.Content[0].Line, false
	for _, part := range strings.Split(key, ".") {
		if part == "" {
			break
		}
		for n.Kind == yaml.AliasNode {
			n, aliased = n.Alias, true
		}
		if n.Kind != yaml.MappingNode {
			return 0
		}
		next := (*yaml.Node)(nil)
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == part {
				next = n.Content[i+1]
				if !aliased {
					line = n.Content[i].Line
				}
			}
		}
		if next == nil {
			return 0
		}
		if next.Kind == yaml.AliasNode && !aliased {
			line = next.Line
		}
		n = next
	}
	return line
}

func typeError(n *node, val any) error {
	want := map[reflect.Kind]string{
		reflect.Int: "an integer", reflect.Int64: "an integer", reflect.Float64: "a number",
		reflect.Bool: "true or false", reflect.String: "a string",
	}[n.typ.Kind()]
	return &keyError{n.key, fmt.Sprintf("%s: expected %s, got %s", n.key, want, show(val))}
}

// show formats a value the user wrote for an error message.
func show(val any) string {
	switch x := val.(type) {
	case nil:
		return "nothing (null)"
	case string:
		return strconv.Quote(x)
	case []any:
		return "a list"
	}
	if _, ok := asMap(val); ok {
		return "a mapping"
	}
	return fmt.Sprint(val)
}

// unknownKey names the key and suggests the closest valid one: the nearest by
// edit distance if close enough, else a key with the same last part in
// another section (run.batch_size -> data.batch_size).
func unknownKey(key string) error {
	best, bestD := "", math.MaxInt
	var walk func(*node)
	walk = func(n *node) {
		for _, c := range n.children {
			if d := levenshtein(key, c.key); d < bestD {
				best, bestD = c.key, d
			}
			walk(c)
		}
	}
	walk(schema())
	if bestD > max(2, len(key)/5) {
		best = ""
		last := key[strings.LastIndex(key, ".")+1:]
		for _, l := range leaves() {
			if strings.HasSuffix(l.key, "."+last) {
				best = l.key
				break
			}
		}
	}
	if best == "" {
		return &keyError{key, fmt.Sprintf("unknown key %q", key)}
	}
	return &keyError{key, fmt.Sprintf("unknown key %q (did you mean %q?)", key, best)}
}

// levenshtein is the edit distance between a and b (insert, delete, replace
// one byte).
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
