package control

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nichost/nichost/abi"
)

// The JSON form of ABI values. JSON has no bytes, tuples or non-finite
// floats, and does not tell 1 from 1.0, so those are spelled out:
//
//	None        null
//	bool        true, false
//	int         a number without fraction or exponent: 5, -3
//	float       a number with a fraction or an exponent: 1.0, 2.5e-3;
//	            {"$float": "inf"}, {"$float": "-inf"}, {"$float": "nan"}
//	str         a string
//	bytes       {"$bytes": "0200"} (lower-case hex on output, either case on input)
//	list        an array
//	tuple       {"$tuple": [...]}
//	dict        an object; {"$map": {...}} when a key starts with "$"
//
// An object with a key starting with "$" is one of the forms above, with
// that one key, or it is refused: nothing reads two ways.

// ErrValue is wrapped by every error of DecodeValue and EncodeValue.
var ErrValue = errors.New("control: bad JSON value")

// EncodeValue writes an ABI value (or a Go value abi.Normalize accepts) in
// the JSON form. A string that is not valid UTF-8 is refused, because JSON
// would silently replace its bad bytes.
func EncodeValue(v any) (json.RawMessage, error) {
	n, err := abi.Normalize(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrValue, err.(*abi.Error).Msg)
	}
	var b bytes.Buffer
	if err := encode(&b, n, ""); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func encode(b *bytes.Buffer, v any, path string) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		encodeFloat(b, x)
	case string:
		if !utf8.ValidString(x) {
			return fmt.Errorf("%w: %s is a str that is not valid UTF-8", ErrValue, where(path))
		}
		writeString(b, x)
	case []byte:
		b.WriteString(`{"$bytes":"`)
		b.WriteString(hex.EncodeToString(x))
		b.WriteString(`"}`)
	case []any:
		return encodeSeq(b, x, path)
	case abi.Tuple:
		b.WriteString(`{"$tuple":`)
		if err := encodeSeq(b, x, path); err != nil {
			return err
		}
		b.WriteByte('}')
	case map[string]any:
		return encodeMap(b, x, path)
	default: // abi.Normalize leaves nothing else
		return fmt.Errorf("%w: %s has type %T", ErrValue, where(path), v)
	}
	return nil
}

// encodeFloat writes the shortest form that reads back as the same float64,
// with ".0" added where that form would read as an int.
func encodeFloat(b *bytes.Buffer, f float64) {
	switch {
	case math.IsInf(f, 1):
		b.WriteString(`{"$float":"inf"}`)
	case math.IsInf(f, -1):
		b.WriteString(`{"$float":"-inf"}`)
	case math.IsNaN(f):
		b.WriteString(`{"$float":"nan"}`)
	default:
		s := strconv.FormatFloat(f, 'g', -1, 64)
		b.WriteString(s)
		if !strings.ContainsAny(s, ".e") {
			b.WriteString(".0")
		}
	}
}

func writeString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s) // a valid UTF-8 string always marshals
	b.Write(q)
}

func encodeSeq(b *bytes.Buffer, l []any, path string) error {
	b.WriteByte('[')
	for i, e := range l {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := encode(b, e, fmt.Sprintf("%s[%d]", where(path), i)); err != nil {
			return err
		}
	}
	b.WriteByte(']')
	return nil
}

func encodeMap(b *bytes.Buffer, m map[string]any, path string) error {
	keys := make([]string, 0, len(m))
	wrap := false
	for k := range m {
		if !utf8.ValidString(k) {
			return fmt.Errorf("%w: %s has a key that is not valid UTF-8", ErrValue, where(path))
		}
		keys = append(keys, k)
		wrap = wrap || strings.HasPrefix(k, "$")
	}
	sort.Strings(keys)
	if wrap {
		b.WriteString(`{"$map":`)
	}
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, k)
		b.WriteByte(':')
		if err := encode(b, m[k], subkey(path, k)); err != nil {
			return err
		}
	}
	b.WriteByte('}')
	if wrap {
		b.WriteByte('}')
	}
	return nil
}

// DecodeValue reads one value in the JSON form into the ABI value model
// (nil, bool, int64, float64, string, []byte, []any, abi.Tuple,
// map[string]any), nested at most abi.MaxDepth deep. Errors wrap ErrValue
// and name the place of the problem ("args[1].ssid").
func DecodeValue(data json.RawMessage) (any, error) {
	return decodeValueAt(data, "")
}

// decodeValueAt is DecodeValue naming places under path ("args[0]").
func decodeValueAt(data []byte, path string) (any, error) {
	d := &decoder{dec: json.NewDecoder(bytes.NewReader(data))}
	d.dec.UseNumber()
	v, err := d.value(path, 0)
	if err != nil {
		return nil, err
	}
	if _, err := d.dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: more than one value", ErrValue)
	}
	n, err := abi.Normalize(v) // the ABI's own depth rule, exactly
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrValue, err.(*abi.Error).Msg)
	}
	return n, nil
}

type decoder struct{ dec *json.Decoder }

func (d *decoder) fail(path, format string, a ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrValue, where(path), fmt.Sprintf(format, a...))
}

// token reads the next token, turning the json package's syntax errors
// into ours with the offset.
func (d *decoder) token(path string) (json.Token, error) {
	t, err := d.dec.Token()
	if err == io.EOF {
		return nil, d.fail(path, "the JSON ends early")
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: malformed JSON at byte %d: %v", ErrValue, where(path), d.dec.InputOffset(), err)
	}
	return t, nil
}

func (d *decoder) value(path string, depth int) (any, error) {
	// The bound here only stops a deep document from recursing far; the
	// exact ABI rule is abi.Normalize's, applied to the result.
	if depth > abi.MaxDepth+1 {
		return nil, d.fail(path, "nests deeper than %d", abi.MaxDepth)
	}
	t, err := d.token(path)
	if err != nil {
		return nil, err
	}
	switch x := t.(type) {
	case nil, bool, string:
		return x, nil
	case json.Number:
		return number(x, path)
	case json.Delim:
		switch x {
		case '[':
			return d.list(path, depth)
		case '{':
			return d.object(path, depth)
		}
	}
	return nil, d.fail(path, "unexpected %v", t)
}

// number is an int64 when the JSON has neither fraction nor exponent, a
// float64 otherwise.
func number(n json.Number, path string) (any, error) {
	s := n.String()
	if !strings.ContainsAny(s, ".eE") {
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: the int %s does not fit 64 bits", ErrValue, where(path), s)
		}
		return i, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: the float %s is out of range", ErrValue, where(path), s)
	}
	return f, nil
}

func (d *decoder) list(path string, depth int) ([]any, error) {
	out := []any{}
	for d.dec.More() {
		v, err := d.value(fmt.Sprintf("%s[%d]", where(path), len(out)), depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if _, err := d.token(path); err != nil { // ']'
		return nil, err
	}
	return out, nil
}

// object reads a dict or one of the "$" forms.
func (d *decoder) object(path string, depth int) (any, error) {
	out := map[string]any{}
	special := ""
	var form any
	for d.dec.More() {
		t, err := d.token(path)
		if err != nil {
			return nil, err
		}
		k := t.(string) // the json package allows nothing else here
		if !strings.HasPrefix(k, "$") {
			if _, dup := out[k]; dup {
				return nil, d.fail(path, "the key %q appears twice", k)
			}
			v, err := d.value(subkey(path, k), depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = v
			continue
		}
		if special != "" {
			return nil, d.fail(path, "%q and %q in one object", special, k)
		}
		special = k
		if form, err = d.form(k, path, depth); err != nil {
			return nil, err
		}
	}
	if _, err := d.token(path); err != nil { // '}'
		return nil, err
	}
	if special == "" {
		return out, nil
	}
	if len(out) > 0 {
		return nil, d.fail(path, "%q must be the object's only key (write a dict with \"$\" keys as {\"$map\": {...}})", special)
	}
	return form, nil
}

// form reads the value of a "$" key.
func (d *decoder) form(k, path string, depth int) (any, error) {
	switch k {
	case "$bytes":
		s, err := d.str(path, k)
		if err != nil {
			return nil, err
		}
		b, err := hex.DecodeString(s)
		if err != nil {
			return nil, d.fail(path, "$bytes: %q is not an even number of hex digits", clip(s))
		}
		return b, nil
	case "$float":
		s, err := d.str(path, k)
		if err != nil {
			return nil, err
		}
		switch s {
		case "inf":
			return math.Inf(1), nil
		case "-inf":
			return math.Inf(-1), nil
		case "nan":
			return math.NaN(), nil
		}
		return nil, d.fail(path, `$float: %q is not "inf", "-inf" or "nan" (write finite floats as numbers)`, clip(s))
	case "$tuple":
		v, err := d.value(path, depth)
		if err != nil {
			return nil, err
		}
		l, ok := v.([]any)
		if !ok {
			return nil, d.fail(path, "$tuple: expected a list, got %s", abi.TypeName(v))
		}
		return abi.Tuple(l), nil
	case "$map":
		return d.literalMap(path, depth)
	}
	return nil, d.fail(path, `unknown form %q (want $bytes, $tuple, $map or $float; write a dict with "$" keys as {"$map": {...}})`, clip(k))
}

func (d *decoder) str(path, form string) (string, error) {
	t, err := d.token(path)
	if err != nil {
		return "", err
	}
	s, ok := t.(string)
	if !ok {
		return "", d.fail(path, "%s: expected a string, got %v", form, t)
	}
	return s, nil
}

// literalMap reads the object of {"$map": {...}}, whose keys are taken as
// they are.
func (d *decoder) literalMap(path string, depth int) (map[string]any, error) {
	t, err := d.token(path)
	if err != nil {
		return nil, err
	}
	if t != json.Delim('{') {
		return nil, d.fail(path, "$map: expected an object, got %v", t)
	}
	out := map[string]any{}
	for d.dec.More() {
		t, err := d.token(path)
		if err != nil {
			return nil, err
		}
		k := t.(string)
		if _, dup := out[k]; dup {
			return nil, d.fail(path, "the key %q appears twice", k)
		}
		v, err := d.value(subkey(path, k), depth+1)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	if _, err := d.token(path); err != nil {
		return nil, err
	}
	return out, nil
}

// where names a value's place in an error.
func where(path string) string {
	if path == "" {
		return "value"
	}
	return path
}

func subkey(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// clip shortens a string quoted in an error.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
