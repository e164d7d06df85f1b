package abi

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"reflect"
	"sort"
	"strings"
)

// Values crossing the ABI are encoded as CBOR (RFC 8949) restricted to these
// Go types, which mirror MicroPython's:
//
//	none   nil
//	bool   bool
//	int    int64
//	float  float64
//	str    string
//	bytes  []byte
//	list   []any
//	tuple  Tuple (CBOR tag TagTuple around an array)
//	map    map[string]any (text keys only)
//
// On encode (and in Normalize) the Go types a Go caller has in hand are
// accepted too: every integer type and named integer types such as Edge
// (int; a uint64 above MaxInt64 is refused), float32, named string and
// bool types, net.HardwareAddr and byte arrays such as [6]byte (bytes),
// net.IP, netip.Addr, netip.Prefix and netip.AddrPort (their text form, a
// str), []string and other slices (list), other arrays such as [2]string
// (tuple), and maps with string keys.
// Anything else is refused on encode and on decode, with an error naming the
// path to the offending value.

// Tuple is an immutable sequence, encoded as an array under TagTuple.
type Tuple []any

// TagTuple is the CBOR tag number marking an array as a tuple.
const TagTuple = 32870

// MaxDepth is how deeply lists, tuples and maps may nest in one message.
const MaxDepth = 16

// ErrEncoding is wrapped by every encoding and decoding error.
var ErrEncoding = errors.New("abi: bad value encoding")

// Normalize converts v to the canonical types of the value model (see
// above), so that code checking an argument's type sees int64 for an
// int32, []byte for a net.HardwareAddr and "10.0.0.2/24" for a
// netip.Prefix. A value the ABI cannot carry is a TypeError naming the type.
func Normalize(v any) (any, error) {
	nv, err := normalize(v, "", 0)
	if err != nil {
		return nil, TypeError("%s", strings.TrimPrefix(err.Error(), ErrEncoding.Error()+": "))
	}
	return nv, nil
}

// at names a value's place in an error: its path of keys and indexes, or
// "value" for the whole.
func at(path string) string {
	if path == "" {
		return "value"
	}
	return path
}

// key is the path of a map entry under path.
func key(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// normalize checks v against the value model and converts the accepted Go
// spellings (int, uint8, float32, []string, ...) to the canonical ones.
func normalize(v any, path string, depth int) (any, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("%w: %s nests deeper than %d", ErrEncoding, at(path), MaxDepth)
	}
	switch x := v.(type) {
	case nil, bool, int64, float64, string:
		return x, nil
	case []byte:
		if x == nil {
			return []byte{}, nil
		}
		return x, nil
	case int:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case net.HardwareAddr:
		return append([]byte{}, x...), nil
	case net.IP:
		if x == nil {
			return nil, fmt.Errorf("%w: %s is a nil net.IP", ErrEncoding, at(path))
		}
		return x.String(), nil
	case netip.Addr:
		if !x.IsValid() {
			return nil, fmt.Errorf("%w: %s is the zero netip.Addr", ErrEncoding, at(path))
		}
		return x.String(), nil
	case netip.Prefix:
		if !x.IsValid() {
			return nil, fmt.Errorf("%w: %s is the zero netip.Prefix", ErrEncoding, at(path))
		}
		return x.String(), nil
	case netip.AddrPort:
		if !x.IsValid() {
			return nil, fmt.Errorf("%w: %s is the zero netip.AddrPort", ErrEncoding, at(path))
		}
		return x.String(), nil
	case []any:
		return normalizeSeq(x, path, depth)
	case Tuple:
		out, err := normalizeSeq(x, path, depth)
		return Tuple(out), err
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			n, err := normalize(e, key(path, k), depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	}
	return normalizeKind(reflect.ValueOf(v), path, depth)
}

// normalizeKind takes the Go types by kind: named and sized numbers,
// strings and bools, slices (lists), arrays (tuples) and string-keyed maps.
func normalizeKind(rv reflect.Value, path string, depth int) (any, error) {
	switch rv.Kind() {
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return uintToInt(rv.Uint(), path)
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.String:
		return rv.String(), nil
	case reflect.Slice:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return append([]byte{}, rv.Bytes()...), nil
		}
		return normalizeElems(rv, path, depth)
	case reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 { // [6]byte: bytes
			b := make([]byte, rv.Len())
			reflect.Copy(reflect.ValueOf(b), rv)
			return b, nil
		}
		out, err := normalizeElems(rv, path, depth)
		return Tuple(out), err
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			break
		}
		out := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			k := it.Key().String()
			n, err := normalize(it.Value().Interface(), key(path, k), depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: %s has type %s, which the ABI cannot carry", ErrEncoding, at(path), rv.Type())
}

func normalizeElems(rv reflect.Value, path string, depth int) ([]any, error) {
	out := make([]any, rv.Len())
	for i := range out {
		n, err := normalize(rv.Index(i).Interface(), fmt.Sprintf("%s[%d]", at(path), i), depth+1)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

func normalizeSeq(x []any, path string, depth int) ([]any, error) {
	out := make([]any, len(x))
	for i, e := range x {
		n, err := normalize(e, fmt.Sprintf("%s[%d]", at(path), i), depth+1)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

func uintToInt(u uint64, path string) (any, error) {
	if u > math.MaxInt64 {
		return nil, fmt.Errorf("%w: %s = %d does not fit a signed 64-bit int", ErrEncoding, at(path), u)
	}
	return int64(u), nil
}

// TypeName is the MicroPython name of a value's type, for error messages.
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int64, int, int8, int16, int32, uint, uint8, uint16, uint32, uint64:
		return "int"
	case float64, float32:
		return "float"
	case net.HardwareAddr:
		return "bytes (net.HardwareAddr)"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case []any:
		return "list"
	case Tuple:
		return "tuple"
	case map[string]any:
		return "dict"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// SortedKeys returns m's keys in order, for deterministic iteration.
func SortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
