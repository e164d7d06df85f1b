package build

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ManifestName is the build manifest that makes a directory a C plugin:
//
//	language: c             # required; only "c" for now
//	sources: [lan.c, phy.c] # optional; default: every *.c file in the directory, sorted
//	cflags: [-DFOO=1]       # optional extra compiler flags
//	sdk: true               # optional, default true: compile and link nichost's C SDK (nic.h, nic.c)
//
// Paths are relative to the directory and stay inside it. A directory
// without it is a Go plugin.
const ManifestName = "nichost-plugin.yaml"

// languages are the values of the manifest's language.
var languages = []string{"c"}

// manifest is a parsed ManifestName.
type manifest struct {
	Language string
	Sources  []string // as written; nil when not given
	CFlags   []string
	SDK      bool
}

// manifestKeys are the keys a manifest may have, in the order of the
// documentation.
var manifestKeys = []string{"language", "sources", "cflags", "sdk"}

// parseManifest parses a manifest's text. Its errors start with
// "nichost-plugin.yaml:LINE: " where a line is known.
func parseManifest(src []byte) (*manifest, error) {
	m := &manifest{SDK: true}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(src)).Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		var line int
		if _, serr := fmt.Sscanf(msg, "line %d: ", &line); serr == nil {
			_, msg, _ = strings.Cut(msg, ": ")
			return nil, fmt.Errorf("%s:%d: %s", ManifestName, line, msg)
		}
		return nil, fmt.Errorf("%s: %s", ManifestName, msg)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == 0 || (root.Kind == yaml.ScalarNode && root.Tag == "!!null") {
		return nil, fmt.Errorf("%s: language: missing (supported: %s)", ManifestName, strings.Join(languages, ", "))
	}
	if root.Kind != yaml.MappingNode {
		return nil, at(root, "want a mapping of %s, not %s", strings.Join(manifestKeys, ", "), describe(root))
	}
	seen := map[string]bool{}
	var langNode *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, at(k, "a key must be a name, not %s", describe(k))
		}
		if seen[k.Value] {
			return nil, at(k, "%s: given twice", k.Value)
		}
		seen[k.Value] = true
		var err error
		switch k.Value {
		case "language":
			langNode = v
			m.Language, err = scalarString(v, k.Value)
		case "sources":
			m.Sources, err = stringList(v, k.Value, checkSources)
			if err == nil && len(m.Sources) == 0 {
				err = at(v, "sources: empty; leave it out to compile every *.c file in the directory")
			}
		case "cflags":
			m.CFlags, err = stringList(v, k.Value, checkCFlag)
			if n := len(m.CFlags); err == nil && n > 0 && slices.Contains(pathFlags, m.CFlags[n-1]) {
				err = at(v.Content[n-1], "cflags: %s needs a path after it", m.CFlags[n-1])
			}
		case "sdk":
			if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
				return nil, at(v, "sdk: want true or false, not %s", describe(v))
			}
			err = v.Decode(&m.SDK)
		default:
			err = at(k, "unknown key %q (want one of %s)", k.Value, strings.Join(manifestKeys, ", "))
		}
		if err != nil {
			return nil, err
		}
	}
	switch {
	case langNode == nil:
		return nil, at(root, "language: missing (supported: %s)", strings.Join(languages, ", "))
	case !slices.Contains(languages, m.Language):
		return nil, at(langNode, "language: %q is not supported (supported: %s)", m.Language, strings.Join(languages, ", "))
	}
	return m, nil
}

// at is an error about node n of the manifest, with its line.
func at(n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", ManifestName, n.Line, fmt.Sprintf(format, args...))
}

// describe names what a node is, for errors.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.Tag == "!!null" {
		return "nothing"
	}
	return fmt.Sprintf("%q", n.Value)
}

func scalarString(n *yaml.Node, key string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", at(n, "%s: want a string, not %s", key, describe(n))
	}
	return n.Value, nil
}

// stringList decodes a list of non-empty strings, checking each with check,
// which sees the strings before it too.
func stringList(n *yaml.Node, key string, check func(prev []string, s string) error) ([]string, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, at(n, "%s: want a list of strings, not %s", key, describe(n))
	}
	out := []string{}
	for _, item := range n.Content {
		if item.Kind != yaml.ScalarNode || item.Tag == "!!null" {
			return nil, at(item, "%s: want a list of strings, not one holding %s", key, describe(item))
		}
		if item.Value == "" {
			return nil, at(item, "%s: an empty string", key)
		}
		if err := check(out, item.Value); err != nil {
			return nil, at(item, "%s: %v", key, err)
		}
		out = append(out, item.Value)
	}
	return out, nil
}

// checkSources checks a source file's path: relative, inside the
// directory, a .c file, not listed twice.
func checkSources(prev []string, s string) error {
	if err := insideDir(s); err != nil {
		return err
	}
	if filepath.Ext(s) != ".c" {
		return fmt.Errorf("%q is not a .c file", s)
	}
	for _, p := range prev {
		if filepath.Clean(p) == filepath.Clean(s) {
			return fmt.Errorf("%q listed twice", s)
		}
	}
	return nil
}

// pathFlags are the compiler flags that name a file or a directory to read
// from, joined (-Iinc) or as the next flag (-I inc). The path must stay
// inside the plugin directory: the cache key covers only its files.
var pathFlags = []string{"-I", "-iquote", "-isystem", "-idirafter", "-include", "-imacros", "-L"}

// ownFlags are what the builder decides: what is built, for which target,
// and where it goes.
var ownFlags = []string{"-o", "-c", "-S", "-E", "-target", "--target", "-mexec-model", "--sysroot", "-isysroot", "-nostdlib"}

// checkCFlag checks one of the extra compiler flags.
func checkCFlag(prev []string, f string) error {
	if len(prev) > 0 {
		last := prev[len(prev)-1]
		if slices.Contains(pathFlags, last) {
			if err := insideDir(f); err != nil {
				return fmt.Errorf("%s %s: %v (the cache key covers only the plugin directory's files)", last, f, err)
			}
			return nil
		}
	}
	if strings.HasPrefix(f, "@") {
		return fmt.Errorf("%q: response files are not supported (list the flags here)", f)
	}
	for _, own := range ownFlags {
		if f == own || strings.HasPrefix(f, own+"=") || (own == "-o" && strings.HasPrefix(f, "-o")) {
			return fmt.Errorf("%q: nichost sets %s itself", f, own)
		}
	}
	for _, pf := range pathFlags {
		if rest, ok := strings.CutPrefix(f, pf); ok && rest != "" && f != pf {
			rest = strings.TrimPrefix(rest, "=")
			if err := insideDir(rest); err != nil {
				return fmt.Errorf("%q: %v (the cache key covers only the plugin directory's files)", f, err)
			}
		}
	}
	return nil
}

// insideDir checks that a path from the manifest is relative and stays
// inside the plugin directory.
func insideDir(p string) error {
	switch {
	case filepath.IsAbs(p) || strings.HasPrefix(p, "/"):
		return fmt.Errorf("%q is an absolute path; paths are relative to the plugin directory", p)
	case !filepath.IsLocal(p):
		return fmt.Errorf("%q leaves the plugin directory", p)
	}
	return nil
}
