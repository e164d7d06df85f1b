// Package pyval reads and prints values as MicroPython's REPL writes them:
// the literals of `nichost shell` lines (str, bytes, int, float, bool,
// None, tuples, lists, dicts with str keys) in the ABI's value model, and
// the REPL's repr of a result.
package pyval

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nichost/nichost/abi"
)

// Call is one shell line: target.method(args, key=value, ...).
type Call struct {
	Target, Method string
	Args           []any
	KW             map[string]any
}

// SyntaxError is a line that does not parse, with the column (1-based)
// where it went wrong.
type SyntaxError struct {
	Col int
	Msg string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("SyntaxError: %s (column %d)", e.Msg, e.Col) }

// TypeError is a literal that parses as Python but has no form in the ABI's
// value model: a dict key that is not a str. MicroPython would take
// {1: 2}; nichost's values cannot carry it, so the shell raises TypeError
// as MicroPython does for a value of the wrong type.
type TypeError struct {
	Col int
	Msg string
}

func (e *TypeError) Error() string { return fmt.Sprintf("TypeError: %s (column %d)", e.Msg, e.Col) }

type parser struct {
	s   string
	i   int
	dep int
}

func (p *parser) fail(format string, a ...any) error {
	return &SyntaxError{Col: p.i + 1, Msg: fmt.Sprintf(format, a...)}
}

func (p *parser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *parser) eat(c byte) bool {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *parser) ident() string {
	p.space()
	j := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || p.i > j && c >= '0' && c <= '9' {
			p.i++
			continue
		}
		break
	}
	return p.s[j:p.i]
}

// Parse reads one literal.
func Parse(src string) (any, error) {
	p := &parser{s: src}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, p.fail("unexpected %q after the value", p.s[p.i:])
	}
	return v, nil
}

// ParseCall reads a shell line "name.method(...)".
func ParseCall(line string) (Call, error) {
	p := &parser{s: line}
	var c Call
	if c.Target = p.ident(); c.Target == "" {
		return c, p.fail("want NAME.method(...)")
	}
	if !p.eat('.') {
		return c, p.fail("want .method(...) after %s", c.Target)
	}
	if c.Method = p.ident(); c.Method == "" {
		return c, p.fail("want a method name after %s.", c.Target)
	}
	if !p.eat('(') {
		return c, p.fail("want ( after %s.%s", c.Target, c.Method)
	}
	for !p.eat(')') {
		if len(c.Args)+len(c.KW) > 0 && !p.eat(',') {
			return c, p.fail("want , or )")
		}
		if p.eat(')') {
			break
		}
		save := p.i
		if k := p.ident(); k != "" && p.eat('=') {
			v, err := p.value()
			if err != nil {
				return c, err
			}
			if c.KW == nil {
				c.KW = map[string]any{}
			}
			if _, dup := c.KW[k]; dup {
				return c, p.fail("keyword argument repeated: %s", k)
			}
			c.KW[k] = v
			continue
		}
		p.i = save
		if len(c.KW) > 0 {
			return c, p.fail("positional argument follows keyword argument")
		}
		v, err := p.value()
		if err != nil {
			return c, err
		}
		c.Args = append(c.Args, v)
	}
	p.space()
	if p.i != len(p.s) {
		return c, p.fail("unexpected %q after the call", p.s[p.i:])
	}
	return c, nil
}

func (p *parser) value() (any, error) {
	p.space()
	if p.i >= len(p.s) {
		return nil, p.fail("a value is missing")
	}
	if p.dep++; p.dep > abi.MaxDepth {
		return nil, p.fail("values nest deeper than %d", abi.MaxDepth)
	}
	defer func() { p.dep-- }()
	switch c := p.s[p.i]; {
	case c == '\'' || c == '"':
		return p.str(false)
	case (c == 'b' || c == 'B') && p.i+1 < len(p.s) && (p.s[p.i+1] == '\'' || p.s[p.i+1] == '"'):
		p.i++
		return p.str(true)
	case c == '(':
		p.i++
		items, trailing, err := p.items(')')
		if err != nil {
			return nil, err
		}
		if len(items) == 1 && !trailing {
			return items[0], nil // a parenthesised value, not a tuple
		}
		return abi.Tuple(items), nil
	case c == '[':
		p.i++
		items, _, err := p.items(']')
		return items, err
	case c == '{':
		p.i++
		return p.dict()
	case c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9':
		return p.number()
	}
	switch w := p.ident(); w {
	case "True":
		return true, nil
	case "False":
		return false, nil
	case "None":
		return nil, nil
	case "":
		return nil, p.fail("unexpected %q", p.s[p.i:p.i+1])
	default:
		for p.i < len(p.s) && p.s[p.i] == '.' {
			p.i++
			w += "." + p.ident()
		}
		if v, ok := Names[w]; ok {
			return v, nil
		}
		if strings.Contains(w, ".") {
			return nil, p.fail("name %q isn't a constant of network or WLAN", w)
		}
		return nil, p.fail("name %q isn't a value (quote a string: '%s')", w, w)
	}
}

// Names are the constants a line may use as values, as MicroPython code
// writes them after "import network" or "from network import WLAN":
// network.STA_IF and AP_IF; WLAN's IF_STA, IF_AP, SEC_*, PM_*; and the
// WLANWiPy profile's WLAN.STA, WLAN.AP, WLAN.WEP, WLAN.WPA, WLAN.WPA2,
// WLAN.INT_ANT and WLAN.EXT_ANT. Each WLAN.NAME is also network.WLAN.NAME.
// The values are the host's (package host; a test checks they agree).
var Names = func() map[string]any {
	wlan := map[string]int64{
		"IF_STA": 0, "IF_AP": 1,
		"SEC_OPEN": 0, "SEC_WEP": 1, "SEC_WPA": 2, "SEC_WPA2": 3, "SEC_WPA_WPA2": 4, "SEC_WPA3": 6, "SEC_WPA2_WPA3": 7,
		"PM_NONE": 0x10, "PM_PERFORMANCE": 0xa11142, "PM_POWERSAVE": 0x111022,
		"STA": 1, "AP": 2, "WEP": 1, "WPA": 2, "WPA2": 3, "INT_ANT": 0, "EXT_ANT": 1,
	}
	m := map[string]any{"network.STA_IF": int64(0), "network.AP_IF": int64(1)}
	for k, v := range wlan {
		m["WLAN."+k], m["network.WLAN."+k] = v, v
	}
	return m
}()

// items reads values up to close; trailing says a comma ended the list.
func (p *parser) items(close byte) ([]any, bool, error) {
	items := []any{}
	trailing := false
	for !p.eat(close) {
		if len(items) > 0 && !trailing {
			return nil, false, p.fail("want , or %c", close)
		}
		v, err := p.value()
		if err != nil {
			return nil, false, err
		}
		items = append(items, v)
		trailing = p.eat(',')
	}
	return items, trailing, nil
}

func (p *parser) dict() (any, error) {
	m := map[string]any{}
	for !p.eat('}') {
		if len(m) > 0 && !p.eat(',') {
			return nil, p.fail("want , or }")
		}
		if p.eat('}') {
			break
		}
		k, err := p.value()
		if err != nil {
			return nil, err
		}
		ks, ok := k.(string)
		if !ok {
			return nil, &TypeError{Col: p.i + 1, Msg: fmt.Sprintf("dict keys must be str here (nichost's values), not %s", abi.TypeName(k))}
		}
		if !p.eat(':') {
			return nil, p.fail("want : after a dict key")
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		m[ks] = v
	}
	return m, nil
}

func (p *parser) number() (any, error) {
	j := p.i
	if p.s[p.i] == '-' || p.s[p.i] == '+' {
		p.i++
	}
	for p.i < len(p.s) && strings.IndexByte("0123456789abcdefABCDEFxXoO._+-", p.s[p.i]) >= 0 {
		c := p.s[p.i]
		if (c == '+' || c == '-') && !(p.s[p.i-1] == 'e' || p.s[p.i-1] == 'E') {
			break
		}
		p.i++
	}
	lit := strings.ReplaceAll(p.s[j:p.i], "_", "")
	digits := strings.ToLower(strings.TrimLeft(lit, "+-"))
	prefixed := strings.HasPrefix(digits, "0x") || strings.HasPrefix(digits, "0o") || strings.HasPrefix(digits, "0b")
	switch {
	case prefixed:
		if n, err := strconv.ParseInt(lit, 0, 64); err == nil {
			return n, nil
		}
	case !strings.ContainsAny(digits, ".e"):
		// Python reads 010 as a syntax error, not as C's octal 8.
		if len(digits) > 1 && digits[0] == '0' && strings.Trim(digits, "0") != "" {
			p.i = j
			return nil, p.fail("%q: leading zeros are not allowed in a decimal integer (0o for octal)", lit)
		}
		if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
			return n, nil
		}
	default:
		if f, err := strconv.ParseFloat(lit, 64); err == nil {
			return f, nil
		}
	}
	p.i = j
	return nil, p.fail("%q is not a number (or is out of the 64-bit range)", lit)
}

func (p *parser) str(isBytes bool) (any, error) {
	q := p.s[p.i]
	p.i++
	var b []byte
	for {
		if p.i >= len(p.s) {
			return nil, p.fail("the string is not closed")
		}
		c := p.s[p.i]
		p.i++
		if c == q {
			break
		}
		if c != '\\' {
			if isBytes && c >= 0x80 {
				return nil, p.fail("bytes can only contain ASCII literal characters")
			}
			b = append(b, c)
			continue
		}
		if p.i >= len(p.s) {
			return nil, p.fail("the string is not closed")
		}
		e := p.s[p.i]
		p.i++
		switch e {
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case '0':
			b = append(b, 0)
		case '\\', '\'', '"':
			b = append(b, e)
		case 'x':
			if p.i+2 > len(p.s) {
				return nil, p.fail("\\x needs two hex digits")
			}
			n, err := strconv.ParseUint(p.s[p.i:p.i+2], 16, 8)
			if err != nil {
				return nil, p.fail("\\x needs two hex digits")
			}
			p.i += 2
			if isBytes {
				b = append(b, byte(n))
			} else {
				b = utf8.AppendRune(b, rune(n))
			}
		case 'u':
			if isBytes || p.i+4 > len(p.s) {
				return nil, p.fail("\\u needs four hex digits, in a str")
			}
			n, err := strconv.ParseUint(p.s[p.i:p.i+4], 16, 32)
			if err != nil {
				return nil, p.fail("\\u needs four hex digits")
			}
			p.i += 4
			b = utf8.AppendRune(b, rune(n))
		default:
			b = append(b, '\\', e)
		}
	}
	if isBytes {
		if b == nil {
			b = []byte{}
		}
		return b, nil
	}
	if !utf8.Valid(b) {
		return nil, p.fail("the string is not valid UTF-8")
	}
	return string(b), nil
}

// Repr prints v as MicroPython's REPL does: 'str', b'\x02', True, None,
// 1.5, (1,), [1, 2], {'a': 1} (dict keys sorted, so output is stable).
func Repr(v any) string {
	var sb strings.Builder
	repr(&sb, v)
	return sb.String()
}

func repr(sb *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		sb.WriteString("None")
	case bool:
		if x {
			sb.WriteString("True")
		} else {
			sb.WriteString("False")
		}
	case int64:
		sb.WriteString(strconv.FormatInt(x, 10))
	case int:
		sb.WriteString(strconv.Itoa(x))
	case float64:
		sb.WriteString(float(x))
	case string:
		quote(sb, x, false)
	case []byte:
		sb.WriteByte('b')
		quote(sb, string(x), true)
	case abi.Tuple:
		sb.WriteByte('(')
		for i, e := range x {
			if i > 0 {
				sb.WriteString(", ")
			}
			repr(sb, e)
		}
		if len(x) == 1 {
			sb.WriteByte(',')
		}
		sb.WriteByte(')')
	case []any:
		sb.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				sb.WriteString(", ")
			}
			repr(sb, e)
		}
		sb.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		sb.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				sb.WriteString(", ")
			}
			quote(sb, k, false)
			sb.WriteString(": ")
			repr(sb, x[k])
		}
		sb.WriteByte('}')
	default:
		fmt.Fprintf(sb, "<%T>", v)
	}
}

// float prints as MicroPython does: its repr is C's %.16g with ".0" added
// to integral values, so 1000000.0 and 1e+16, 0.0001 and 1e-05, inf and
// nan. The digits are Go's shortest that read back rather than %.16g's
// sixteen, so a value survives a print and a parse; the two differ only
// for the rare double that needs seventeen digits.
func float(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // 1e+16, 1.5e-05: %g's form
	_, exp, _ := strings.Cut(s, "e")
	if e, _ := strconv.Atoi(exp); e >= -4 && e < 16 {
		s = strconv.FormatFloat(f, 'f', -1, 64)
	}
	if !strings.ContainsAny(s, ".en") {
		s += ".0"
	}
	return s
}

// quote writes s quoted: single quotes unless s holds ' and no ".
func quote(sb *strings.Builder, s string, isBytes bool) {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	sb.WriteByte(q)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == q || c == '\\':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case c == '\n':
			sb.WriteString(`\n`)
		case c == '\r':
			sb.WriteString(`\r`)
		case c == '\t':
			sb.WriteString(`\t`)
		case c < 0x20 || c == 0x7f || isBytes && c >= 0x80:
			fmt.Fprintf(sb, `\x%02x`, c)
		case c >= 0x80:
			r, n := utf8.DecodeRuneInString(s[i:])
			sb.WriteRune(r)
			i += n
			continue
		default:
			sb.WriteByte(c)
		}
		i++
	}
	sb.WriteByte(q)
}
