package config

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// problemLine is how every line of a Load error starts: "config: " or a
// dotted key and a colon (Validate's "model.dim: must be ...").
var problemLine = regexp.MustCompile(`^(config: |[a-z0-9_]+(\.[a-z0-9_]+)+: )`)

// checkLoaded checks the outcome of Load: an error has one problem per
// line, each naming the config or a key; a config round-trips through YAML.
func checkLoaded(t *testing.T, c *Config, err error) {
	t.Helper()
	if err != nil {
		msg := err.Error()
		for _, line := range strings.Split(msg, "\n") {
			if !problemLine.MatchString(line) {
				t.Fatalf("error line %q names neither the config nor a key; whole error:\n%s", line, msg)
			}
		}
		return
	}
	y, err := c.YAML()
	if err != nil {
		t.Fatalf("YAML of a loaded config: %v", err)
	}
	back, err := FromYAML(y)
	if err != nil {
		t.Fatalf("FromYAML(YAML()) of a loaded config: %v\n%s", err, y)
	}
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("FromYAML(YAML()) differs from the loaded config:\n got %+v\nwant %+v\nyaml:\n%s", back, c, y)
	}
}

// FuzzLoadYAML feeds arbitrary bytes to Load as a config file.
func FuzzLoadYAML(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("..", "..", "configs", "*.yaml"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no configs/*.yaml seeds: %v", err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"",
		"model: {dim: 32, heads: 3}",             // validation error
		"model: {dim: 30, heads: 0, depth: 0}\n", // several problems
		"model:\n  dim: \"64\"\n",                // wrong type
		"model:\n  dimm: 64\n",                   // unknown key
		"model: [1, 2]\n",                        // section is a list
		"- a\n- b\n",                             // top level is a list
		"model: {dim: 64\n",                      // syntax error
		"model:\n\tdim: 64\n",                    // tab indent
		"model: {dim: 1e3, heads: 8}\n",          // integral float
		"model: {dim: 1.5}\n",                    // fractional int
		"masking: {ratio: .nan}\n",               // NaN
		"optim: {lr: .inf}\n",                    // Inf
		"model: {dim: 18446744073709551615}\n",   // uint64
		"model: {dim: 64}\nmodel: {dim: 32}\n",   // duplicate key
		"? [a, b]\n: c\n",                        // non-string key
		"run: {progress: yes}\n",                 // YAML 1.1 bool
		"model: {modality: text}\ndata: {source: text}\nmasking: {kind: bert}\n",
		"a: &x {b: *x}\n", // alias
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "fuzz.yaml")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Load(p, nil)
		checkLoaded(t, c, err)
	})
}

// FuzzSet feeds arbitrary --set strings to Load.
func FuzzSet(f *testing.F) {
	for _, s := range []string{
		"model.dim=128",
		"model.dim= 64 ",
		"model.dim=abc",
		"model.dim=1e3",
		"model=1",
		"=1",
		"model.dim",
		"modle.dim=64",
		"run.batch_size=8",
		"masking.ratio=NaN",
		"optim.lr=+Inf",
		"loss.scale=-0",
		"run.progress=T",
		"model.modality=text",
		"model.modality=audio",
		"data.path=a\nb",
		"run.out=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Load("", []string{s})
		checkLoaded(t, c, err)
	})
}
