// Package valuevectors reads the ABI value-encoding test vectors of
// abi/testdata/values, which the host's decoder (package abi) and the Go
// SDK's codec (abi/guest) both run, so that the two are held to one list.
package valuevectors

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// A vector is one line of a testdata/values file.
type Vector struct {
	File, Name string
	OK         bool
	Canon      []byte // for OK: what re-encoding the value gives
	Path       string // for a refusal: the path its error names ("" to not check)
	Msg        []byte
}

func (v Vector) String() string { return v.File + ": " + v.Name }

// Read reads every *.txt file of dir; the format is in abi/testdata/values/
// README.md.
func Read(dir string) ([]Vector, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no vectors in %s: %v", dir, err)
	}
	var out []Vector
	seen := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for i, line := range strings.Split(string(data), "\n") {
			fields := strings.Fields(line)
			if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
				continue
			}
			v, err := parseVector(fields)
			if err == nil && seen[v.Name] {
				err = fmt.Errorf("name %q used twice", v.Name)
			}
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", f, i+1, err)
			}
			v.File = filepath.Base(f)
			seen[v.Name] = true
			out = append(out, v)
		}
	}
	return out, nil
}

func parseVector(fields []string) (Vector, error) {
	if len(fields) < 2 {
		return Vector{}, fmt.Errorf("want OUTCOME NAME HEX...")
	}
	v := Vector{Name: fields[1]}
	var err error
	if v.Msg, err = expandHex(fields[2:]); err != nil {
		return v, err
	}
	switch outcome := fields[0]; {
	case outcome == "ok":
		v.OK, v.Canon = true, v.Msg
	case strings.HasPrefix(outcome, "ok="):
		v.OK = true
		v.Canon, err = expandHex(strings.Fields(outcome[3:]))
	case outcome == "err":
	case strings.HasPrefix(outcome, "err@"):
		v.Path = outcome[4:]
	default:
		err = fmt.Errorf("outcome %q is not ok, ok=HEX, err or err@PATH", outcome)
	}
	return v, err
}

// expandHex concatenates tokens: hex digits, {N*HEX} or {keys:N}.
func expandHex(tokens []string) ([]byte, error) {
	var out []byte
	for _, tok := range tokens {
		if inner, ok := strings.CutPrefix(tok, "{"); ok {
			inner, ok = strings.CutSuffix(inner, "}")
			if !ok {
				return nil, fmt.Errorf("token %q has no closing brace", tok)
			}
			if ns, ok := strings.CutPrefix(inner, "keys:"); ok {
				n, err := strconv.Atoi(ns)
				if err != nil {
					return nil, fmt.Errorf("token %q: %v", tok, err)
				}
				for i := range n {
					out = append(out, 0x65)
					out = fmt.Appendf(out, "k%04x", i)
					out = append(out, 0xf6)
				}
				continue
			}
			ns, h, ok := strings.Cut(inner, "*")
			n, err := strconv.Atoi(ns)
			if !ok || err != nil {
				return nil, fmt.Errorf("token %q is not {N*HEX} or {keys:N}", tok)
			}
			b, err := hex.DecodeString(h)
			if err != nil {
				return nil, fmt.Errorf("token %q: %v", tok, err)
			}
			out = append(out, bytes.Repeat(b, n)...)
			continue
		}
		b, err := hex.DecodeString(tok)
		if err != nil {
			return nil, fmt.Errorf("token %q: %v", tok, err)
		}
		out = append(out, b...)
	}
	return out, nil
}

// Short formats v for a message, cut to 100 characters.
func Short(v any) string {
	s := fmt.Sprintf("%#v", v)
	if b, ok := v.([]byte); ok {
		s = fmt.Sprintf("%x", b)
	}
	if len(s) > 100 {
		s = s[:100] + fmt.Sprintf("... (%d characters)", len(s))
	}
	return s
}
