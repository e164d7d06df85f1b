package guest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/internal/cborhead"
)

// The SDK's own codec for ABI.md §3's value model: hand-written, without
// reflection, so that a control call costs a few allocations instead of a
// general CBOR library's machinery. It decodes to the Go types abi.Unmarshal
// gives (nil, bool, int64, float64, string, []byte, []any, abi.Tuple,
// map[string]any) and encodes byte for byte what abi.Marshal writes; the
// test vectors of abi/testdata/values and a differential fuzz target hold
// the two codecs together.

// Limits of one message (ABI.md §3).
const (
	maxArrayItems = 4096 // items of one list or tuple
	maxMapPairs   = 1024 // pairs of one dict
)

// pathSeg is one step of the path to a value: a list index or a map key.
type pathSeg struct {
	key   string
	index int // -1 for a map key
}

// valuePath is the path to the value being read or written, kept in a
// fixed stack and only formatted for an error.
type valuePath struct {
	depth int // containers around the value
	segs  [abi.MaxDepth]pathSeg
}

// where names the value the way the host's codec does: "value",
// "value[2]", "value[1].ssid".
func (p *valuePath) where() string {
	var sb strings.Builder
	sb.WriteString("value")
	for _, s := range p.segs[:p.depth] {
		if s.index >= 0 {
			sb.WriteByte('[')
			sb.WriteString(strconv.Itoa(s.index))
			sb.WriteByte(']')
		} else {
			sb.WriteByte('.')
			sb.WriteString(s.key)
		}
	}
	return sb.String()
}

func (p *valuePath) errorf(format string, a ...any) error {
	return fmt.Errorf("%w: %s: %s", abi.ErrEncoding, p.where(), fmt.Sprintf(format, a...))
}

// enter counts one more container around the values that follow and
// returns the step that names them, for the caller to fill in.
func (p *valuePath) enter() (*pathSeg, error) {
	if p.depth == abi.MaxDepth {
		return nil, p.errorf("nests deeper than %d", abi.MaxDepth)
	}
	p.depth++
	return &p.segs[p.depth-1], nil
}

// decoder reads one message.
type decoder struct {
	valuePath
	b   []byte
	off int
}

// decodeValue decodes one value from b, checking it against the value
// model and its limits. Trailing bytes are an error. Strings and byte
// strings are copied: the result does not alias b.
func decodeValue(b []byte) (any, error) {
	if len(b) > abi.MaxMessage {
		return nil, fmt.Errorf("%w: message of %d bytes exceeds the %d-byte limit", abi.ErrEncoding, len(b), abi.MaxMessage)
	}
	d := decoder{b: b}
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	if d.off != len(b) {
		return nil, fmt.Errorf("%w: %d bytes after the value", abi.ErrEncoding, len(b)-d.off)
	}
	return v, nil
}

func (d *decoder) truncated() error { return d.errorf("the message ends inside the value") }

// head reads an item's initial byte and argument: the major type, the
// additional information and the argument it encodes (a length, a value or
// a tag number). Indefinite lengths and reserved encodings are errors.
func (d *decoder) head() (major byte, info byte, arg uint64, err error) {
	var fault cborhead.Fault
	major, info, arg, d.off, fault = cborhead.Read(d.b, d.off)
	switch {
	case fault == cborhead.OK:
		return major, info, arg, nil
	case fault == cborhead.Short:
		return 0, 0, 0, d.truncated()
	case fault == cborhead.Indefinite && major >= 2 && major <= 5:
		return 0, 0, 0, d.errorf("indefinite-length items are not allowed")
	}
	return 0, 0, 0, d.errorf("initial byte 0x%02x is not well-formed CBOR", major<<5|info)
}

// value reads one item at d.off.
func (d *decoder) value() (any, error) {
	major, info, arg, err := d.head()
	if err != nil {
		return nil, err
	}
	switch major {
	case 0:
		if arg > math.MaxInt64 {
			return nil, d.errorf("%d does not fit a signed 64-bit int", arg)
		}
		return int64(arg), nil
	case 1:
		if arg > math.MaxInt64 {
			return nil, d.errorf("-1-%d does not fit a signed 64-bit int", arg)
		}
		return -1 - int64(arg), nil
	case 2:
		p, err := d.bytes(arg)
		if err != nil {
			return nil, err
		}
		return append([]byte{}, p...), nil
	case 3:
		return d.text(arg)
	case 4:
		return d.array(arg)
	case 5:
		return d.dict(arg)
	case 6:
		if arg != abi.TagTuple {
			return nil, d.errorf("tag %d is not part of the value model (only %d, a tuple)", arg, abi.TagTuple)
		}
		if d.off >= len(d.b) {
			return nil, d.truncated()
		}
		if d.b[d.off]>>5 != 4 {
			return nil, d.errorf("tag %d must enclose an array", abi.TagTuple)
		}
		_, _, n, err := d.head()
		if err != nil {
			return nil, err
		}
		l, err := d.array(n)
		if err != nil {
			return nil, err
		}
		return abi.Tuple(l), nil
	}
	// Major type 7.
	switch info {
	case 20:
		return false, nil
	case 21:
		return true, nil
	case 22:
		return nil, nil
	case 24:
		return nil, d.errorf("simple value %d is not part of the value model", arg)
	case 25:
		return halfToFloat64(uint16(arg)), nil
	case 26:
		return float64(math.Float32frombits(uint32(arg))), nil
	case 27:
		return math.Float64frombits(arg), nil
	}
	return nil, d.errorf("simple value %d is not part of the value model", info)
}

// bytes returns the next n bytes of the message, uncopied.
func (d *decoder) bytes(n uint64) ([]byte, error) {
	if n > uint64(len(d.b)-d.off) {
		return nil, d.truncated()
	}
	p := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return p, nil
}

// text reads a str of n bytes.
func (d *decoder) text(n uint64) (string, error) {
	p, err := d.bytes(n)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(p) {
		return "", d.errorf("a str is not valid UTF-8")
	}
	return string(p), nil
}

// array reads the n items of a list or tuple.
func (d *decoder) array(n uint64) ([]any, error) {
	if n > maxArrayItems {
		return nil, d.errorf("%d items exceed the limit of %d", n, maxArrayItems)
	}
	if n > uint64(len(d.b)-d.off) { // every item takes a byte at least
		return nil, d.truncated()
	}
	seg, err := d.enter()
	if err != nil {
		return nil, err
	}
	l := make([]any, n)
	for i := range l {
		*seg = pathSeg{index: i}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		l[i] = v
	}
	d.depth--
	return l, nil
}

// dict reads the n pairs of a map: text keys, none twice.
func (d *decoder) dict(n uint64) (map[string]any, error) {
	if n > maxMapPairs {
		return nil, d.errorf("%d pairs exceed the limit of %d", n, maxMapPairs)
	}
	if n > uint64(len(d.b)-d.off)/2 {
		return nil, d.truncated()
	}
	seg, err := d.enter()
	if err != nil {
		return nil, err
	}
	m := make(map[string]any, n)
	for i := range int(n) {
		d.depth-- // an error in a key names the map
		k, err := d.key(i)
		d.depth++
		if err != nil {
			return nil, err
		}
		if _, dup := m[k]; dup {
			d.depth--
			return nil, d.errorf("key %q appears twice", k)
		}
		*seg = pathSeg{key: k, index: -1}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	d.depth--
	return m, nil
}

// key reads the key of pair i of a map.
func (d *decoder) key(i int) (string, error) {
	start := d.off
	major, _, n, err := d.head()
	if err != nil {
		return "", err
	}
	if major != 3 {
		return "", d.errorf("key %d is %s, not a str", i, itemName(d.b[start]))
	}
	return d.text(n)
}

// itemName names the kind of item an initial byte starts, for errors.
func itemName(ib byte) string {
	switch ib {
	case 0xf4, 0xf5:
		return "a bool"
	case 0xf6:
		return "null"
	case 0xf7:
		return "undefined"
	}
	return [...]string{"an int", "an int", "bytes", "a str", "a list", "a dict", "a tag", "a float or simple value"}[ib>>5]
}

// halfToFloat64 converts an IEEE 754 half-precision float.
func halfToFloat64(h uint16) float64 {
	exp, frac := int(h>>10&0x1f), float64(h&0x3ff)
	var f float64
	switch exp {
	case 0: // zero and subnormals
		f = math.Ldexp(frac, -24)
	case 0x1f:
		if frac == 0 {
			f = math.Inf(1)
		} else {
			f = math.NaN()
		}
	default:
		f = math.Ldexp(frac+1024, exp-25)
	}
	if h&0x8000 != 0 {
		f = math.Copysign(f, -1)
	}
	return f
}
