package data

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const wordnetTestdata = "testdata/wordnet"

func TestLoadWordNetFixture(t *testing.T) {
	s, err := LoadWordNet(wordnetTestdata, WordNetOptions{MinPerClass: -1})
	if err != nil {
		t.Fatal(err)
	}
	wantClasses := []string{"noun.animal", "noun.artifact", "noun.food", "verb.body", "verb.motion"}
	if !slices.Equal(s.Classes, wantClasses) {
		t.Fatalf("classes %q, want %q", s.Classes, wantClasses)
	}
	type ex struct {
		text  string
		class string
	}
	want := []ex{
		{"a small furry pet that purrs", "noun.animal"}, // example sentence stripped
		{"a loyal pet that barks", "noun.animal"},
		{"a large animal ridden by people", "noun.animal"},
		{"a tool for driving nails", "noun.artifact"}, // two examples stripped
		{"a seat with a back for one person", "noun.artifact"},
		{"a small open container for drinking", "noun.artifact"}, // duplicate (mug) merged
		{"food baked from flour and water", "noun.food"},
		// "a shaped mass of something" is under noun.food and noun.animal: dropped
		{"move on foot at a steady pace", "verb.motion"},
		{"move on foot faster than walking", "verb.motion"},
		{"move through water using the limbs", "verb.motion"},
		{"clean the body with water and soap", "verb.body"},
		{"put clothes on oneself", "verb.body"},
	}
	var got []ex
	for i, text := range s.Texts {
		got = append(got, ex{text, s.Classes[s.Labels[i]]})
	}
	if !slices.Equal(got, want) {
		t.Fatalf("examples\n got %q\nwant %q", got, want)
	}
	if !slices.Equal(s.ClassCounts(), []int{3, 3, 1, 2, 3}) {
		t.Errorf("class counts %v", s.ClassCounts())
	}
	if !strings.Contains(s.Source, "wordnet:") || !strings.Contains(s.Source, "noun,verb") {
		t.Errorf("source %q", s.Source)
	}
}

func TestLoadWordNetOptions(t *testing.T) {
	t.Run("min per class", func(t *testing.T) {
		s, err := LoadWordNet(wordnetTestdata, WordNetOptions{MinPerClass: 3})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"noun.animal", "noun.artifact", "verb.motion"}; !slices.Equal(s.Classes, want) {
			t.Fatalf("classes %q, want %q", s.Classes, want)
		}
		if s.Len() != 9 || len(s.Labels) != 9 {
			t.Fatalf("%d examples, want 9", s.Len())
		}
	})
	t.Run("max per class", func(t *testing.T) {
		s, err := LoadWordNet(wordnetTestdata, WordNetOptions{POS: []string{"verb"}, MinPerClass: -1, MaxPerClass: 2})
		if err != nil {
			t.Fatal(err)
		}
		// verb.motion keeps examples 0 and 1*3/2 = 1 of its 3.
		want := []string{"move on foot at a steady pace", "move on foot faster than walking",
			"clean the body with water and soap", "put clothes on oneself"}
		if !slices.Equal(s.Texts, want) {
			t.Fatalf("texts %q, want %q", s.Texts, want)
		}
		if !slices.Equal(s.ClassCounts(), []int{2, 2}) {
			t.Errorf("class counts %v", s.ClassCounts())
		}
	})
	t.Run("keep examples", func(t *testing.T) {
		s, err := LoadWordNet(wordnetTestdata, WordNetOptions{POS: []string{"noun"}, MinPerClass: -1, KeepExamples: true})
		if err != nil {
			t.Fatal(err)
		}
		if want := `a tool for driving nails; "hand me the hammer"; "he dropped it"`; s.Texts[3] != want {
			t.Fatalf("text %q, want %q", s.Texts[3], want)
		}
	})
	t.Run("adj adv and duplicate POS", func(t *testing.T) {
		s, err := LoadWordNet(wordnetTestdata, WordNetOptions{POS: []string{"adv", "adj", "adv"}, MinPerClass: -1})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"with speed", "above average in size", "very big"}; !slices.Equal(s.Texts, want) {
			t.Fatalf("texts %q, want %q", s.Texts, want)
		}
		if want := []string{"adj.all", "adv.all"}; !slices.Equal(s.Classes, want) {
			t.Fatalf("classes %q", s.Classes)
		}
	})
	t.Run("deterministic", func(t *testing.T) {
		a, err := LoadWordNet(wordnetTestdata, WordNetOptions{MinPerClass: -1})
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			b, err := LoadWordNet(wordnetTestdata, WordNetOptions{MinPerClass: -1})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a.Texts, b.Texts) || !slices.Equal(a.Labels, b.Labels) || !slices.Equal(a.Classes, b.Classes) {
				t.Fatal("two loads differ")
			}
		}
	})
}

// copyWordNet copies the fixture's data files (not lexnames) into a fresh folder.
func copyWordNet(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range []string{"noun", "verb", "adj", "adv"} {
		b, err := os.ReadFile(filepath.Join(wordnetTestdata, "data."+p))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "data."+p), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadWordNetLexnames(t *testing.T) {
	t.Run("built-in list without lexnames", func(t *testing.T) {
		dir := copyWordNet(t)
		a, err := LoadWordNet(dir, WordNetOptions{MinPerClass: -1})
		if err != nil {
			t.Fatal(err)
		}
		b, err := LoadWordNet(wordnetTestdata, WordNetOptions{MinPerClass: -1})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a.Classes, b.Classes) || !slices.Equal(a.Texts, b.Texts) || !slices.Equal(a.Labels, b.Labels) {
			t.Fatalf("built-in list gives %q, fixture lexnames %q", a.Classes, b.Classes)
		}
	})
	t.Run("fixture lexnames matches built-in", func(t *testing.T) {
		names, err := readLexnames(filepath.Join(wordnetTestdata, "lexnames"))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(names, wordnetLexnames) {
			t.Fatalf("lexnames %q", names)
		}
	})
	t.Run("names from lexnames file", func(t *testing.T) {
		dir := copyWordNet(t)
		var b strings.Builder
		for i := range 45 {
			fmt.Fprintf(&b, "%02d\tfile%02d\t1\n", i, i)
		}
		if err := os.WriteFile(filepath.Join(dir, "lexnames"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := LoadWordNet(dir, WordNetOptions{MinPerClass: -1})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"file05", "file06", "file13", "file29", "file38"}; !slices.Equal(s.Classes, want) {
			t.Fatalf("classes %q, want %q", s.Classes, want)
		}
	})
}

func TestLoadWordNetErrors(t *testing.T) {
	write := func(t *testing.T, dir, name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string)
		opts  WordNetOptions
		want  []string // substrings of the error
	}{
		{"missing folder", nil, WordNetOptions{}, []string{"no-such-folder"}},
		{"missing data file", func(t *testing.T, dir string) {
			write(t, dir, "data.noun", "00000100 05 n 01 cat 0 000 | a pet\n")
		}, WordNetOptions{}, []string{"data.verb"}},
		{"no gloss", func(t *testing.T, dir string) {
			write(t, dir, "data.noun", "  header\n00000100 05 n 01 cat 0 000 | a pet\n00000200 05 n 01 dog 0 000\n")
		}, WordNetOptions{POS: []string{"noun"}}, []string{"data.noun:3", "malformed"}},
		{"bad lex_filenum", func(t *testing.T, dir string) {
			write(t, dir, "data.noun", "00000100 45 n 01 cat 0 000 | a pet\n")
		}, WordNetOptions{POS: []string{"noun"}}, []string{"data.noun:1", "lex_filenum"}},
		{"bad offset", func(t *testing.T, dir string) {
			write(t, dir, "data.noun", "cat 05 n 01 cat 0 000 | a pet\n")
		}, WordNetOptions{POS: []string{"noun"}}, []string{"data.noun:1", "offset"}},
		{"wrong ss_type", func(t *testing.T, dir string) {
			write(t, dir, "data.noun", "00000100 05 v 01 cat 0 000 | a pet\n")
		}, WordNetOptions{POS: []string{"noun"}}, []string{"data.noun:1", "ss_type"}},
		{"empty gloss", func(t *testing.T, dir string) {
			write(t, dir, "data.noun", "00000100 05 n 01 cat 0 000 | ; \"only an example\"\n")
		}, WordNetOptions{POS: []string{"noun"}}, []string{"data.noun:1", "gloss"}},
		{"bad lexnames", func(t *testing.T, dir string) {
			write(t, dir, "data.noun", "00000100 05 n 01 cat 0 000 | a pet\n")
			write(t, dir, "lexnames", "00\tadj.all\t3\n02\tadv.all\t4\n")
		}, WordNetOptions{POS: []string{"noun"}}, []string{"lexnames:2", "malformed"}},
		{"unknown POS", func(t *testing.T, dir string) {}, WordNetOptions{POS: []string{"nouns"}}, []string{`"nouns"`}},
		{"empty result", func(t *testing.T, dir string) {
			write(t, dir, "data.noun", "  only a header\n")
		}, WordNetOptions{POS: []string{"noun"}}, []string{"no examples"}},
		{"below default minimum", func(t *testing.T, dir string) {
			write(t, dir, "data.noun", "00000100 05 n 01 cat 0 000 | a pet\n")
		}, WordNetOptions{POS: []string{"noun"}}, []string{"no examples", "MinPerClass=200"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.setup == nil {
				dir = filepath.Join(dir, "no-such-folder")
			} else {
				c.setup(t, dir)
			}
			_, err := LoadWordNet(dir, c.opts)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
			for _, w := range append(c.want, dir) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}

func TestSplitTextSet(t *testing.T) {
	s := &TextSet{Classes: []string{"a", "b", "c"}, Source: "test"}
	sizes := []int{10, 5, 1}
	for c, n := range sizes {
		for i := range n {
			s.Texts = append(s.Texts, fmt.Sprintf("%s%d", s.Classes[c], i))
			s.Labels = append(s.Labels, c)
		}
	}
	train, test := SplitTextSet(s, 0.2, 7)
	if got := test.ClassCounts(); !slices.Equal(got, []int{2, 1, 0}) {
		t.Errorf("test counts %v, want [2 1 0]", got)
	}
	if got := train.ClassCounts(); !slices.Equal(got, []int{8, 4, 1}) {
		t.Errorf("train counts %v, want [8 4 1]", got)
	}
	// Disjoint, complete, and each half in the original order.
	pos := map[string]int{}
	for i, x := range s.Texts {
		pos[x] = i
	}
	seen := map[string]bool{}
	for _, half := range []*TextSet{train, test} {
		if !slices.Equal(half.Classes, s.Classes) || len(half.Texts) != len(half.Labels) {
			t.Fatal("half has wrong classes or lengths")
		}
		last := -1
		for i, x := range half.Texts {
			if seen[x] {
				t.Fatalf("%q in both halves", x)
			}
			seen[x] = true
			if pos[x] <= last || s.Labels[pos[x]] != half.Labels[i] {
				t.Fatalf("%q out of order or relabelled", x)
			}
			last = pos[x]
		}
	}
	if len(seen) != len(s.Texts) {
		t.Fatalf("%d of %d examples kept", len(seen), len(s.Texts))
	}

	train2, test2 := SplitTextSet(s, 0.2, 7)
	if !slices.Equal(train.Texts, train2.Texts) || !slices.Equal(test.Texts, test2.Texts) {
		t.Error("same seed gives a different split")
	}
	differs := false
	for seed := int64(8); seed < 20 && !differs; seed++ {
		_, t3 := SplitTextSet(s, 0.2, seed)
		differs = !slices.Equal(t3.Texts, test.Texts)
	}
	if !differs {
		t.Error("the seed has no effect")
	}

	// Edge fractions: a tiny fraction still tests each class of >= 2, a
	// fraction just below 1 still trains on one example of each, and 1
	// (or more) puts everything in test.
	_, tiny := SplitTextSet(s, 0.01, 1)
	if got := tiny.ClassCounts(); !slices.Equal(got, []int{1, 1, 0}) {
		t.Errorf("frac 0.01 test counts %v", got)
	}
	mostTest, _ := SplitTextSet(s, 0.99, 1)
	if got := mostTest.ClassCounts(); !slices.Equal(got, []int{1, 1, 0}) {
		t.Errorf("frac 0.99 train counts %v", got)
	}
	noTrain, all := SplitTextSet(s, 1.5, 1)
	if noTrain.Len() != 0 || all.Len() != s.Len() {
		t.Errorf("frac 1.5: %d train, %d test", noTrain.Len(), all.Len())
	}
	none, zero := SplitTextSet(s, 0, 1)
	if none.Len() != s.Len() || zero.Len() != 0 {
		t.Errorf("frac 0: %d train, %d test", none.Len(), zero.Len())
	}
}

// wordnetSystemDirs are where distributions install the WordNet 3.0
// database (Debian/Ubuntu wordnet-base: /usr/share/wordnet).
var wordnetSystemDirs = []string{"/usr/share/wordnet", "/usr/local/WordNet-3.0/dict", "/usr/share/wordnet/dict"}

func TestLoadWordNetSystem(t *testing.T) {
	dir := ""
	for _, d := range wordnetSystemDirs {
		if _, err := os.Stat(filepath.Join(d, "data.noun")); err == nil {
			dir = d
			break
		}
	}
	if dir == "" {
		t.Skip("no WordNet database installed (scripts/get-wordnet.sh installs Debian's wordnet-base)")
	}
	s, err := LoadWordNet(dir, WordNetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	counts := s.ClassCounts()
	for i, c := range s.Classes {
		t.Logf("%-20s %6d", c, counts[i])
	}
	t.Logf("%s: %d classes, %d glosses", s.Source, len(s.Classes), s.Len())
	if len(s.Classes) < 20 || s.Len() < 50000 {
		t.Errorf("only %d classes, %d glosses", len(s.Classes), s.Len())
	}
	train, test := SplitTextSet(s, 0.1, 1)
	t.Logf("split 0.1 seed 1: %d train, %d test", train.Len(), test.Len())
}
