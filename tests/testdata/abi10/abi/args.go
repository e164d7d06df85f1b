package abi

import "net"

// Helpers that check the type of an argument and name it in the error, the
// way MicroPython reports a wrong type to config(...) or connect(...).

// Int returns v as an int, or a TypeError naming the parameter. Every Go
// integer type is an int (a uint64 above MaxInt64 is refused); a bool
// is not: MicroPython accepts bools as ints, nichost is stricter because a
// bool given for a number is nearly always a mistake.
func Int(name string, v any) (int64, error) {
	switch v.(type) {
	case nil, bool, float32, float64, string:
		return 0, TypeError("%s: expected int, got %s", name, TypeName(v))
	}
	n, err := Normalize(v)
	if err != nil {
		return 0, TypeError("%s: expected int, got %s", name, TypeName(v))
	}
	i, ok := n.(int64)
	if !ok {
		return 0, TypeError("%s: expected int, got %s", name, TypeName(v))
	}
	return i, nil
}

// Bool returns v as a bool, or a TypeError naming the parameter.
func Bool(name string, v any) (bool, error) {
	if b, ok := v.(bool); ok {
		return b, nil
	}
	return false, TypeError("%s: expected bool, got %s", name, TypeName(v))
}

// Str returns v as a string, or a TypeError naming the parameter.
func Str(name string, v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	return "", TypeError("%s: expected str, got %s", name, TypeName(v))
}

// Bytes returns v as bytes, or a TypeError naming the parameter.
func Bytes(name string, v any) ([]byte, error) {
	switch b := v.(type) {
	case []byte:
		return b, nil
	case net.HardwareAddr:
		return b, nil
	}
	return nil, TypeError("%s: expected bytes, got %s", name, TypeName(v))
}

// MAC checks that v is a 6-byte MAC address: a TypeError for another type, a
// ValueError for another length.
func MAC(name string, v any) ([]byte, error) {
	b, err := Bytes(name, v)
	if err != nil {
		return nil, err
	}
	if len(b) != 6 {
		return nil, ValueError("%s: a MAC address is 6 bytes, got %d", name, len(b))
	}
	return append([]byte(nil), b...), nil
}
