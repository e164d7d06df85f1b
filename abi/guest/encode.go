package guest

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/nichost/nichost/abi"
)

// encoder writes one message the way abi.Marshal does: integers in their
// shortest form, floats as 64-bit (NaN and the infinities as the 16-bit
// f97e00, f97c00 and f9fc00, as the host's CBOR library writes them), map
// keys in bytewise order of their encoding (RFC 8949 §4.2.1: shorter keys
// first), definite lengths only.
type encoder struct {
	valuePath
	b []byte
}

// appendValue appends the encoding of v to dst. v is built of the value
// model's Go types or the others abi.Marshal accepts (every integer type,
// named types, []string, net.HardwareAddr, netip.Prefix, ...); a value the
// model cannot carry, one over a limit of ABI.md §3 or a str that is not
// valid UTF-8 is an error naming its path, and dst is returned unchanged.
func appendValue(dst []byte, v any) ([]byte, error) {
	e := encoder{b: dst}
	if err := e.value(v, false); err != nil {
		return dst, err
	}
	if n := len(e.b) - len(dst); n > abi.MaxMessage {
		return dst, fmt.Errorf("%w: message of %d bytes exceeds the %d-byte limit", abi.ErrEncoding, n, abi.MaxMessage)
	}
	return e.b, nil
}

// encodeValue is appendValue to a new slice.
func encodeValue(v any) ([]byte, error) { return appendValue(nil, v) }

// appendHead appends an item's initial byte and argument in the shortest
// form.
func appendHead(b []byte, major byte, arg uint64) []byte {
	m := major << 5
	switch {
	case arg < 24:
		return append(b, m|byte(arg))
	case arg <= math.MaxUint8:
		return append(b, m|24, byte(arg))
	case arg <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, m|25), uint16(arg))
	case arg <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, m|26), uint32(arg))
	}
	return binary.BigEndian.AppendUint64(append(b, m|27), arg)
}

func (e *encoder) int(i int64) {
	if i < 0 {
		e.b = appendHead(e.b, 1, uint64(-1-i))
		return
	}
	e.b = appendHead(e.b, 0, uint64(i))
}

func (e *encoder) uint(u uint64) error {
	if u > math.MaxInt64 {
		return e.errorf("%d does not fit a signed 64-bit int", u)
	}
	e.b = appendHead(e.b, 0, u)
	return nil
}

func (e *encoder) float(f float64) {
	switch {
	case f != f:
		e.b = append(e.b, 0xf9, 0x7e, 0x00)
	case math.IsInf(f, 1):
		e.b = append(e.b, 0xf9, 0x7c, 0x00)
	case math.IsInf(f, -1):
		e.b = append(e.b, 0xf9, 0xfc, 0x00)
	default:
		e.b = binary.BigEndian.AppendUint64(append(e.b, 0xfb), math.Float64bits(f))
	}
}

func (e *encoder) text(s string) error {
	if !utf8.ValidString(s) {
		return e.errorf("a str is not valid UTF-8")
	}
	e.b = append(appendHead(e.b, 3, uint64(len(s))), s...)
	return nil
}

// value appends v. normalized says v came out of abi.Normalize, so an
// unknown type is not looked up there again.
func (e *encoder) value(v any, normalized bool) error {
	switch x := v.(type) {
	case nil:
		e.b = append(e.b, 0xf6)
	case bool:
		if x {
			e.b = append(e.b, 0xf5)
		} else {
			e.b = append(e.b, 0xf4)
		}
	case int64:
		e.int(x)
	case int:
		e.int(int64(x))
	case int32:
		e.int(int64(x))
	case int16:
		e.int(int64(x))
	case int8:
		e.int(int64(x))
	case uint64:
		return e.uint(x)
	case uint:
		return e.uint(uint64(x))
	case uint32:
		e.int(int64(x))
	case uint16:
		e.int(int64(x))
	case uint8:
		e.int(int64(x))
	case float64:
		e.float(x)
	case float32:
		e.float(float64(x))
	case string:
		return e.text(x)
	case []byte:
		e.b = append(appendHead(e.b, 2, uint64(len(x))), x...)
	case []any:
		return e.list(x)
	case abi.Tuple:
		e.b = append(e.b, 0xd9, abi.TagTuple>>8, abi.TagTuple&0xff)
		return e.list(x)
	case map[string]any:
		return e.dict(x)
	case []string:
		seg, err := e.open(len(x))
		if err != nil {
			return err
		}
		for i, s := range x {
			*seg = pathSeg{index: i}
			if err := e.text(s); err != nil {
				return err
			}
		}
		e.depth--
	default:
		if normalized {
			return e.errorf("has type %T, which the ABI cannot carry", v)
		}
		return e.other(v)
	}
	return nil
}

// other appends a value of a type the switch above does not know, as
// abi.Normalize converts it (its errors renamed to this value's path).
func (e *encoder) other(v any) error {
	n, err := abi.Normalize([]any{v})
	if err != nil {
		msg := err.Error()
		if ae, ok := err.(*abi.Error); ok {
			msg = ae.Msg
		}
		return fmt.Errorf("%w: %s%s", abi.ErrEncoding, e.where(), strings.TrimPrefix(msg, "value[0]"))
	}
	return e.value(n.([]any)[0], true)
}

// open checks a list or tuple of n items against the limits, appends its
// head and enters it.
func (e *encoder) open(n int) (*pathSeg, error) {
	if n > maxArrayItems {
		return nil, e.errorf("%d items exceed the limit of %d", n, maxArrayItems)
	}
	seg, err := e.enter()
	if err != nil {
		return nil, err
	}
	e.b = appendHead(e.b, 4, uint64(n))
	return seg, nil
}

func (e *encoder) list(l []any) error {
	seg, err := e.open(len(l))
	if err != nil {
		return err
	}
	for i, v := range l {
		*seg = pathSeg{index: i}
		if err := e.value(v, false); err != nil {
			return err
		}
	}
	e.depth--
	return nil
}

// keyOrder is the order of map keys in an encoding: bytewise order of the
// encoded keys, which for text keys is shorter first, then bytewise.
func keyOrder(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

func (e *encoder) dict(m map[string]any) error {
	if len(m) > maxMapPairs {
		return e.errorf("%d pairs exceed the limit of %d", len(m), maxMapPairs)
	}
	seg, err := e.enter()
	if err != nil {
		return err
	}
	e.b = appendHead(e.b, 5, uint64(len(m)))
	var small [16]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, keyOrder)
	for _, k := range keys {
		if !utf8.ValidString(k) {
			e.depth-- // name the map
			return e.errorf("key %q is not valid UTF-8", k)
		}
		e.b = append(appendHead(e.b, 3, uint64(len(k))), k...)
		*seg = pathSeg{key: k, index: -1}
		if err := e.value(m[k], false); err != nil {
			return err
		}
	}
	e.depth--
	return nil
}
