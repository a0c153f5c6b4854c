package config

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// Load returns Default() overridden by the YAML file at path (none when path
// is "") and then by each "key=value" in sets (dotted keys: "model.dim=128"),
// and validated.
//
// Unknown keys are errors, with the nearest valid key suggested. YAML values
// must have the field's type (an integer field takes 64 or 1e3, not "64");
// --set values are strings parsed to the field's type. Validation errors are
// returned as Validate gives them.
func Load(path string, sets []string) (*Config, error) { return LoadOn(nil, path, sets) }

// LoadOn resolves base < the YAML file at path < sets, where base is a saved
// config (a checkpoint's): the way resume, eval and fine-tuning start from
// a checkpoint's settings and still take a config file and overrides.
func LoadOn(base *Config, path string, sets []string) (*Config, error) {
	v := viper.New()
	if base != nil {
		y, err := base.YAML()
		if err != nil {
			return nil, err
		}
		if err := mergeYAML(v, y, savedName); err != nil {
			return nil, err
		}
	}
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if err := mergeYAML(v, raw, path); err != nil {
			return nil, err
		}
	}
	for _, s := range sets {
		key, val, err := parseSet(s)
		if err != nil {
			return nil, err
		}
		v.Set(key, val)
	}
	return decode(v)
}

// FromYAML reads a config written by YAML (a run's config.yaml or a
// checkpoint's metadata). Keys missing from b keep their defaults; unknown
// keys and wrong types are errors; the result is validated.
func FromYAML(b []byte) (*Config, error) {
	v := viper.New()
	if err := mergeYAML(v, b, yamlName); err != nil {
		return nil, err
	}
	return decode(v)
}

// YAML returns the config as YAML with the same keys and order as the Config
// tree, readable by Load and FromYAML: FromYAML(c.YAML()) equals c.
func (c *Config) YAML() ([]byte, error) {
	doc, err := encode(schema(), reflect.ValueOf(c).Elem())
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("config: encode yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("config: encode yaml: %w", err)
	}
	return buf.Bytes(), nil
}

// mergeYAML parses raw, checks every key and value against the schema and
// merges the result into v. name locates syntax errors.
func mergeYAML(v *viper.Viper, raw []byte, name string) error {
	var doc any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		var te *yaml.TypeError // several "line N: ..." lines: prefix each, one problem per line
		if errors.As(err, &te) {
			lines := make([]string, len(te.Errors))
			for i, e := range te.Errors {
				lines[i] = fmt.Sprintf("config: %s: yaml: %s", name, e)
			}
			return errors.New(strings.Join(lines, "\n"))
		}
		return fmt.Errorf("config: %s: %w", name, err)
	}
	if doc == nil { // empty file
		return nil
	}
	m, err := checkSection(schema(), doc)
	var ke *keyError
	if errors.As(err, &ke) && name != savedName && name != yamlName {
		if line := keyLine(raw, ke.key); line > 0 {
			return fmt.Errorf("config: %s:%d: %s", name, line, ke.msg)
		}
		return fmt.Errorf("config: %s: %s", name, ke.msg)
	}
	if err != nil {
		return err
	}
	return v.MergeConfigMap(m)
}

// Names of the YAML that is no file: a checkpoint's saved config, FromYAML's
// input. Errors in a file name it and the line.
const (
	savedName = "saved config"
	yamlName  = "yaml"
)

// decode applies v over Default() with no weak typing and no unused keys
// (checkSection and parseSet have already given the exact messages), then
// validates.
func decode(v *viper.Viper) (*Config, error) {
	c := Default()
	err := v.UnmarshalExact(c, func(dc *mapstructure.DecoderConfig) {
		dc.WeaklyTypedInput = false
		dc.DecodeHook = nil // viper's default hooks parse durations and split strings
	})
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// checkSection checks a YAML mapping against section n and returns it with
// every leaf converted to its field's plain Go type.
func checkSection(n *node, val any) (map[string]any, error) {
	m, ok := asMap(val)
	if !ok {
		where := n.key
		if where == "" {
			where = "top level"
		}
		return nil, &keyError{n.key, fmt.Sprintf("%s: expected a mapping of keys, got %s", where, show(val))}
	}
	out := make(map[string]any, len(m))
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names) // report the same error every time
	for _, name := range names {
		c := n.child(name)
		if c == nil {
			return nil, unknownKey(join(n.key, name))
		}
		var err error
		if c.leaf() {
			out[name], err = checkLeaf(c, m[name])
		} else {
			out[name], err = checkSection(c, m[name])
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func asMap(val any) (map[string]any, bool) {
	switch m := val.(type) {
	case map[string]any:
		return m, true
	case map[any]any: // YAML mapping with a non-string key
		out := make(map[string]any, len(m))
		for k, v := range m {
			out[fmt.Sprint(k)] = v
		}
		return out, true
	}
	return nil, false
}

// checkLeaf accepts a YAML value of the leaf's type: integers for ints
// (integral floats such as 1e3 too), integers or floats for floats, booleans
// for bools and strings for strings and enums.
func checkLeaf(n *node, val any) (any, error) {
	switch n.typ.Kind() {
	case reflect.Int, reflect.Int64:
		switch x := val.(type) {
		case int:
			return x, nil
		case int64:
			return x, nil
		case uint64:
			if x <= math.MaxInt64 {
				return int64(x), nil
			}
		case float64:
			if x == math.Trunc(x) && math.Abs(x) <= 1<<53 {
				return int64(x), nil
			}
		}
	case reflect.Float64:
		switch x := val.(type) {
		case int:
			return float64(x), nil
		case int64:
			return float64(x), nil
		case uint64:
			return float64(x), nil
		case float64:
			return x, nil
		}
	case reflect.Bool:
		if x, ok := val.(bool); ok {
			return x, nil
		}
	case reflect.String:
		if x, ok := val.(string); ok {
			return x, nil
		}
	}
	return nil, typeError(n, val)
}

// parseSet splits "key=value" and parses value to the key's type.
func parseSet(s string) (string, any, error) {
	key, val, ok := strings.Cut(s, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		return "", nil, fmt.Errorf("config: --set %q: expected key=value, e.g. model.dim=128", s)
	}
	n := lookup(key)
	if n == nil {
		return "", nil, unknownKey(key)
	}
	if !n.leaf() {
		return "", nil, fmt.Errorf("config: %q is a section, not a key: set one of its keys, e.g. %q", key, firstLeaf(n).key)
	}
	var (
		out any
		err error
	)
	switch t := strings.TrimSpace(val); n.typ.Kind() {
	case reflect.Int, reflect.Int64:
		out, err = strconv.ParseInt(t, 10, 64)
	case reflect.Float64:
		out, err = strconv.ParseFloat(t, 64)
	case reflect.Bool:
		out, err = strconv.ParseBool(t)
	default:
		out = val
	}
	if err != nil {
		return "", nil, typeError(n, val)
	}
	return key, out, nil
}

func firstLeaf(n *node) *node {
	for !n.leaf() {
		n = n.children[0]
	}
	return n
}

// encode builds the YAML node for n from the struct value v.
func encode(n *node, v reflect.Value) (*yaml.Node, error) {
	if n.leaf() {
		var y yaml.Node
		if err := y.Encode(v.Interface()); err != nil {
			return nil, fmt.Errorf("config: %s: %w", n.key, err)
		}
		return &y, nil
	}
	m := &yaml.Node{Kind: yaml.MappingNode}
	for _, c := range n.children {
		cv, err := encode(c, v.Field(c.index[len(c.index)-1]))
		if err != nil {
			return nil, err
		}
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: c.name}, cv)
	}
	return m, nil
}

// scalar formats a leaf value as YAML writes it, for Docs.
func scalar(v reflect.Value) string {
	var y yaml.Node
	if err := y.Encode(v.Interface()); err != nil {
		return fmt.Sprint(v.Interface())
	}
	return y.Value
}
