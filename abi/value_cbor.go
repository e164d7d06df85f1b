//go:build !wasip1

package abi

// The host's CBOR codec, on fxamacker/cbor. A guest built for wasip1 does
// not link it: the Go SDK has a codec of its own (abi/guest), which the
// shared test vectors and a differential fuzz target hold to this one.

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/fxamacker/cbor/v2"
)

var (
	encMode cbor.EncMode
	decMode cbor.DecMode
)

func init() {
	tags := cbor.NewTagSet()
	if err := tags.Add(cbor.TagOptions{EncTag: cbor.EncTagRequired, DecTag: cbor.DecTagRequired},
		reflect.TypeOf(Tuple(nil)), TagTuple); err != nil {
		panic(err)
	}
	var err error
	encMode, err = cbor.EncOptions{
		Sort:          cbor.SortBytewiseLexical,
		IndefLength:   cbor.IndefLengthForbidden,
		NilContainers: cbor.NilContainerAsEmpty,
	}.EncModeWithTags(tags)
	if err != nil {
		panic(err)
	}
	decMode, err = cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		MaxNestedLevels:   MaxDepth + 1,
		MaxArrayElements:  4096,
		MaxMapPairs:       1024,
		IntDec:            cbor.IntDecConvertSignedOrFail,
		DefaultMapType:    reflect.TypeOf(map[string]any(nil)),
		UTF8:              cbor.UTF8RejectInvalid,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
	}.DecModeWithTags(tags)
	if err != nil {
		panic(err)
	}
}

// Marshal encodes v, which must be built only of the types listed above.
func Marshal(v any) ([]byte, error) {
	nv, err := normalize(v, "value", 0)
	if err != nil {
		return nil, err
	}
	b, err := encMode.Marshal(nv)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEncoding, err)
	}
	if len(b) > MaxMessage {
		return nil, fmt.Errorf("%w: message of %d bytes exceeds the %d-byte limit", ErrEncoding, len(b), MaxMessage)
	}
	return b, nil
}

// Unmarshal decodes one value from b and checks that it is built only of the
// ABI's types. Trailing bytes are an error.
func Unmarshal(b []byte) (any, error) {
	if len(b) > MaxMessage {
		return nil, fmt.Errorf("%w: message of %d bytes exceeds the %d-byte limit", ErrEncoding, len(b), MaxMessage)
	}
	if len(b) == 1 { // the usual reply of a query: a bool, None or a small int
		switch c := b[0]; {
		case c == 0xf4, c == 0xf5:
			return c == 0xf5, nil
		case c == 0xf6:
			return nil, nil
		case c <= 0x17:
			return int64(c), nil
		case c >= 0x20 && c <= 0x37:
			return -1 - int64(c-0x20), nil
		}
	}
	if err := checkShape(b); err != nil {
		return nil, err
	}
	var v any
	if err := decMode.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEncoding, err)
	}
	return normalize(v, "value", 0)
}

// UnmarshalInto decodes b into a Go struct (used for the fixed records of the
// handshake: Description and StartInfo). Unknown fields are an error.
func UnmarshalInto(b []byte, dst any) error {
	if len(b) > MaxMessage {
		return fmt.Errorf("%w: message of %d bytes exceeds the %d-byte limit", ErrEncoding, len(b), MaxMessage)
	}
	if err := checkShape(b); err != nil {
		return err
	}
	if err := decMode.Unmarshal(b, dst); err != nil {
		if v, verr := Unmarshal(b); verr == nil {
			if msg := unknownKey(v, reflect.TypeOf(dst).Elem(), ""); msg != "" {
				return fmt.Errorf("%w: %s", ErrEncoding, msg)
			}
		}
		return fmt.Errorf("%w: %v", ErrEncoding, err)
	}
	return nil
}

// unknownKey names the first map key in v that struct type t (by its cbor
// tags, recursively through slices of structs) does not have, or returns "".
func unknownKey(v any, t reflect.Type, path string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			return ""
		}
		for i, e := range l {
			if msg := unknownKey(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); msg != "" {
				return msg
			}
		}
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		fields := map[string]reflect.Type{}
		var names []string
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("cbor"), ",")
			if name == "" || name == "-" {
				continue
			}
			fields[name] = f.Type
			names = append(names, name)
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				where := ""
				if path != "" {
					where = " in " + path
				}
				return fmt.Sprintf("unknown key %q%s (this host speaks ABI %s; the keys are %s)", k, where, VersionString(Version), strings.Join(names, ", "))
			}
			sub := k
			if path != "" {
				sub = path + "." + k
			}
			if msg := unknownKey(m[k], ft, sub); msg != "" {
				return msg
			}
		}
	}
	return ""
}

// MarshalStruct encodes a fixed record (Description, StartInfo).
func MarshalStruct(v any) ([]byte, error) {
	b, err := encMode.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEncoding, err)
	}
	return b, nil
}
