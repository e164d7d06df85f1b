package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Error is a problem in a configuration, at the line of the key or value it
// is about.
type Error struct {
	File string // the file; "" for a configuration read by ParseConfig
	Line int    // 1-based; 0 in the rare case yaml names no place
	Err  error  // what is wrong
}

// Error reads "config FILE:LINE: what is wrong", or "line LINE: what is
// wrong" without a file.
func (e *Error) Error() string {
	var where string
	switch {
	case e.File != "" && e.Line > 0:
		where = fmt.Sprintf("config %s:%d: ", e.File, e.Line)
	case e.File != "":
		where = fmt.Sprintf("config %s: ", e.File)
	case e.Line > 0:
		where = fmt.Sprintf("line %d: ", e.Line)
	}
	return where + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// LoadConfig reads and checks a configuration file. Relative plugin sources
// and signature keys are taken relative to the file's directory. A problem
// in the file is an *Error naming the file and the line.
func LoadConfig(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	cfg, err := ParseConfig(f)
	if err != nil {
		if e, ok := errors.AsType[*Error](err); ok {
			located := *e
			located.File = path
			return nil, &located
		}
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	for i := range cfg.Plugins {
		if src := cfg.Plugins[i].Source; !filepath.IsAbs(src) {
			cfg.Plugins[i].Source = filepath.Join(filepath.Dir(path), src)
		}
	}
	for i, k := range cfg.Signatures.Keys {
		if !filepath.IsAbs(k) {
			cfg.Signatures.Keys[i] = filepath.Join(filepath.Dir(path), k)
		}
	}
	return cfg, nil
}

// ParseConfig decodes a configuration and checks it; unknown keys are
// errors, so a misspelt grant is not silently ignored. A problem in the text
// is an *Error with the line of the offending key or value: a syntax error,
// an unknown key, a value of the wrong type, or a field Validate rejects.
func ParseConfig(r io.Reader) (*Config, error) {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(src)).Decode(&doc); err != nil && err != io.EOF {
		return nil, syntaxError(err, src)
	}
	if err := newChecker().check(&doc, reflect.TypeFor[Config](), ""); err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	var cfg Config
	if err := dec.Decode(&cfg); err != nil && err != io.EOF {
		return nil, decodeError(err)
	}
	if err := cfg.Validate(); err != nil {
		var path []string
		if fe, ok := errors.AsType[*fieldError](err); ok {
			path = fe.path
		}
		return nil, &Error{Line: lineOf(&doc, path), Err: err}
	}
	return &cfg, nil
}

// fieldError is a validation error that knows the field it is about: path
// holds the mapping keys and sequence indices that lead to it from the
// level of the Validate that returned it.
type fieldError struct {
	path []string
	err  error
}

func (e *fieldError) Error() string { return e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

// at records that err, which may wrap an error from a nested Validate, is
// about the field at path: the path of the nested error, if any, is taken
// to be below path.
func at(err error, path ...string) error {
	if inner, ok := errors.AsType[*fieldError](err); ok {
		path = append(path[:len(path):len(path)], inner.path...)
	}
	return &fieldError{path: path, err: err}
}

// lineOf returns the line of the node at path in doc: for a scalar the
// value's line, for a mapping or sequence the line of its key. Where the
// path leaves the document (a missing field) it is the line of the deepest
// node on the path that is there.
func lineOf(doc *yaml.Node, path []string) int {
	n := resolve(doc)
	if n == nil {
		return 0
	}
	line := n.Line
	for _, seg := range path {
		switch n.Kind {
		case yaml.MappingNode:
			k, v := lookup(n, seg)
			if k == nil {
				return line
			}
			n = resolve(v)
			if n == nil {
				return line
			}
			line = k.Line
			if n.Kind == yaml.ScalarNode {
				line = n.Line
			}
		case yaml.SequenceNode:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(n.Content) {
				return line
			}
			if n = resolve(n.Content[i]); n == nil {
				return line
			}
			line = n.Line
		default:
			return line
		}
	}
	return line
}

// lookup finds key in mapping m: among its own keys first, then in the
// mappings merged into it with <<, earlier ones first, as yaml decodes them.
func lookup(m *yaml.Node, key string) (k, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if c := m.Content[i]; !isMerge(c) && c.Value == key {
			return c, m.Content[i+1]
		}
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if !isMerge(m.Content[i]) {
			continue
		}
		for _, merged := range mergedMappings(m.Content[i+1]) {
			if k, v := lookup(merged, key); k != nil {
				return k, v
			}
		}
	}
	return nil, nil
}

// mergedMappings returns the mappings a << value merges: a mapping or a
// sequence of them, through aliases. Other nodes are left out.
func mergedMappings(v *yaml.Node) []*yaml.Node {
	v = resolve(v)
	switch {
	case v == nil:
		return nil
	case v.Kind == yaml.MappingNode:
		return []*yaml.Node{v}
	case v.Kind == yaml.SequenceNode:
		var ms []*yaml.Node
		for _, c := range v.Content {
			if c = resolve(c); c != nil && c.Kind == yaml.MappingNode {
				ms = append(ms, c)
			}
		}
		return ms
	}
	return nil
}

// resolve returns the node n stands for: a document's content, an alias's
// anchored node. It returns nil for an empty document.
func resolve(n *yaml.Node) *yaml.Node {
	for { // ends: a document holds one node, and an alias points at one that is not an alias
		switch {
		case n == nil:
			return nil
		case n.Kind == yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		case n.Kind == yaml.AliasNode:
			n = n.Alias
		default:
			return n
		}
	}
}

func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge"
}

// checker walks a document alongside the Go type it decodes into and
// reports, with its line and path, the first mapping key no field takes or
// value that does not decode (it decodes each scalar on its own). It also
// reports the structural problems that yaml's decoder would name without a
// line: a << whose value is not a mapping, an anchor that contains itself.
type checker struct {
	open map[*yaml.Node]bool // anchored nodes being walked, to catch a node that contains itself
	done map[visit]bool      // nodes already walked for a type, so aliases cost nothing more
}

type visit struct {
	n *yaml.Node
	t reflect.Type
}

func newChecker() *checker {
	return &checker{open: map[*yaml.Node]bool{}, done: map[visit]bool{}}
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// check walks n as a value of type t (nil: any value, whose keys are all
// right) found at path, e.g. "plugins[0].buses.spi", and reports the first
// problem in document order.
func (c *checker) check(n *yaml.Node, t reflect.Type, path string) error {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, d := range n.Content {
			if err := c.check(d, t, path); err != nil {
				return err
			}
		}
		return nil
	case yaml.AliasNode:
		if c.open[n.Alias] {
			return &Error{Line: n.Line, Err: fmt.Errorf("%s*%s: the anchor %s contains itself", prefix(path), n.Value, n.Value)}
		}
		return c.check(n.Alias, t, path)
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && t.Kind() == reflect.Interface {
		t = nil
	}
	if c.done[visit{n, t}] {
		return nil
	}
	c.done[visit{n, t}] = true
	if t != nil && !walks(n, t) {
		return decodes(n, t, path)
	}
	if n.Anchor != "" {
		c.open[n] = true
		defer delete(c.open, n)
	}
	switch n.Kind {
	case yaml.SequenceNode:
		var elem reflect.Type
		if t != nil {
			elem = t.Elem()
		}
		for i, item := range n.Content {
			if err := c.check(item, elem, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		return c.mapping(n, t, path)
	}
	return nil
}

// walks reports whether check goes into n, a sequence or mapping decoded
// as a slice or array, or a struct or map, that has no UnmarshalYAML.
func walks(n *yaml.Node, t reflect.Type) bool {
	if t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) {
		return false
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return n.Kind == yaml.SequenceNode
	case reflect.Struct, reflect.Map:
		return n.Kind == yaml.MappingNode
	}
	return false
}

// decodes decodes n, a value at path, into a new value of type t, and
// reports the problem yaml finds, with path: a value of the wrong type, a
// bad duration or size.
func decodes(n *yaml.Node, t reflect.Type, path string) error {
	err := n.Decode(reflect.New(t).Interface())
	if err == nil {
		return nil
	}
	e := decodeError(err)
	if e.Line == 0 {
		e.Line = n.Line
	}
	if path != "" {
		e.Err = &problem{prefix(path) + e.Err.Error(), err}
	}
	return e
}

// mapping checks the keys of mapping n, of struct or map type t (nil: any).
func (c *checker) mapping(n *yaml.Node, t reflect.Type, path string) error {
	var fields []field
	var elem reflect.Type // the type of any other key's value
	strict := false       // whether other keys are errors
	switch {
	case t == nil:
	case t.Kind() == reflect.Struct:
		fields, elem = yamlFields(t)
		strict = elem == nil
	case t.Kind() == reflect.Map:
		elem = t.Elem()
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if isMerge(k) {
			if err := c.merge(k, v, t, path); err != nil {
				return err
			}
			continue
		}
		vt := elem
		if j := slices.IndexFunc(fields, func(f field) bool { return f.name == k.Value }); j >= 0 {
			vt = fields[j].t
		} else if strict {
			names := make([]string, len(fields))
			for j, f := range fields {
				names[j] = f.name
			}
			return &Error{Line: k.Line, Err: fmt.Errorf("%sunknown key %q; want one of %s", prefix(path), k.Value, strings.Join(names, ", "))}
		}
		if err := c.check(v, vt, joinKey(path, k.Value)); err != nil {
			return err
		}
	}
	return nil
}

// merge checks the value of the << key k, merged into a mapping of type t.
func (c *checker) merge(k, v *yaml.Node, t reflect.Type, path string) error {
	items := []*yaml.Node{v}
	if r := resolve(v); r != nil && r.Kind == yaml.SequenceNode {
		items = r.Content
	}
	for _, item := range items {
		if r := resolve(item); r == nil || r.Kind != yaml.MappingNode {
			return &Error{Line: k.Line, Err: fmt.Errorf("%s<<: merges a mapping or a sequence of mappings, not %s", prefix(path), describe(r))}
		}
		if err := c.check(item, t, path); err != nil {
			return err
		}
	}
	return nil
}

// describe names a node's kind for a message.
func describe(n *yaml.Node) string {
	switch {
	case n == nil:
		return "nothing"
	case n.Kind == yaml.SequenceNode:
		return "a sequence"
	case n.Kind == yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "this"
}

// field is a key a struct takes, and the type of its value.
type field struct {
	name string
	t    reflect.Type
}

// yamlFields returns the keys struct t takes, in the order of its fields,
// as yaml's decoder maps them: the tag's name or the lower-cased field name,
// ",inline" structs flattened. inlineMap is the element type of an inline
// map, which takes every other key, or nil.
func yamlFields(t reflect.Type) (fields []field, inlineMap reflect.Type) {
	for f := range t.Fields() {
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "" && !strings.Contains(string(f.Tag), ":") {
			tag = string(f.Tag) // yaml's old form, `name,opts`
		}
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if !slices.Contains(strings.Split(opts, ","), "inline") {
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			fields = append(fields, field{name, f.Type})
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch ft.Kind() {
		case reflect.Struct:
			sub, m := yamlFields(ft)
			fields = append(fields, sub...)
			if m != nil {
				inlineMap = m
			}
		case reflect.Map:
			inlineMap = ft.Elem()
		}
	}
	return fields, inlineMap
}

func prefix(path string) string {
	if path == "" {
		return ""
	}
	return path + ": "
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// yamlLineRE splits a yaml message into its line and the rest.
var yamlLineRE = regexp.MustCompile(`(?s)^(?:yaml: )?line (\d+): (.*)$`)

// parserProblems are the messages of yaml's parser (as opposed to its
// scanner). yaml.v3 numbers the lines of these from 0, so they are one too
// low: "a: [1\nb: 2" is reported at line 1.
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// problem is a message from yaml, reworded, that keeps the original error.
type problem struct {
	msg string
	err error
}

func (p *problem) Error() string { return p.msg }
func (p *problem) Unwrap() error { return p.err }

// syntaxError turns an error from parsing src into an *Error with the line
// of the problem. yaml leaves the line out when the problem is on the first
// line, and for a few problems it has no line for; those are found in src.
func syntaxError(err error, src []byte) *Error {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if parserProblems[m[2]] {
			line++
		}
		return &Error{Line: line, Err: &problem{m[2], err}}
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	return &Error{Line: unnumberedLine(msg, src), Err: &problem{msg, err}}
}

var unknownAnchorRE = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// unnumberedLine finds the line of a yaml syntax problem reported without
// one.
func unnumberedLine(msg string, src []byte) int {
	if m := unknownAnchorRE.FindStringSubmatch(msg); m != nil {
		alias := regexp.MustCompile(`\*` + regexp.QuoteMeta(m[1]) + `(?:[\s,\]}]|$)`)
		if loc := alias.FindIndex(src); loc != nil {
			return lineAt(src, loc[0])
		}
		return 0
	}
	if strings.Contains(msg, "UTF-8") || strings.Contains(msg, "Unicode") || strings.Contains(msg, "control characters") {
		for off := 0; off < len(src); {
			r, size := utf8.DecodeRune(src[off:])
			if r == utf8.RuneError && size <= 1 || !yamlPrintable(r) {
				return lineAt(src, off)
			}
			off += size
		}
		return 0
	}
	// The scanner and parser name no line when the problem is on the first
	// one.
	return 1
}

// yamlPrintable reports whether YAML allows r in a stream.
func yamlPrintable(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0x7e || r == 0x85 ||
		r >= 0xa0 && r <= 0xd7ff || r >= 0xe000 && r <= 0xfffd || r >= 0x10000 && r <= 0x10ffff
}

// lineAt returns the 1-based line of byte offset off in src.
func lineAt(src []byte, off int) int {
	return 1 + bytes.Count(src[:off], []byte("\n"))
}

// decodeError turns an error from decoding into the Config types into an
// *Error: the first of yaml's type errors (a value of the wrong type, a key
// given twice, a bad size), each of which names its line.
func decodeError(err error) *Error {
	msg := err.Error()
	if te, ok := errors.AsType[*yaml.TypeError](err); ok && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{Line: line, Err: &problem{m[2], err}}
	}
	return &Error{Err: &problem{strings.TrimPrefix(msg, "yaml: "), err}}
}
