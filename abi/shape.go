package abi

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nichost/nichost/abi/internal/cborhead"
)

// checkShape walks an encoded message and refuses what ABI.md §3 rules out
// but the CBOR library would take: simple values other than false, true and
// null (undefined included), tags other than the tuple tag around an array,
// map keys that are not plain text strings, containers nested deeper than
// MaxDepth or larger than their limits, and indefinite lengths, naming the
// offending value's path. Lengths, UTF-8, duplicate keys, integer
// range and trailing bytes are left to the decoder. The walk allocates
// nothing unless it fails.
func checkShape(b []byte) error {
	s := shape{b: b}
	if err := s.item(0, false); err != nil {
		return fmt.Errorf("%w: %s %s", ErrEncoding, s.where(), err)
	}
	return nil
}

// The limits of one list or tuple and of one dict (ABI.md §3).
const (
	maxItems = 4096
	maxPairs = 1024
)

type shape struct {
	b    []byte
	off  int
	path []string // filled only on the way out of a failure
}

func (s *shape) where() string {
	if len(s.path) == 0 {
		return "value"
	}
	var sb strings.Builder
	sb.WriteString("value")
	for i := len(s.path) - 1; i >= 0; i-- {
		sb.WriteString(s.path[i])
	}
	return sb.String()
}

// head reads an item's initial byte and argument.
func (s *shape) head() (major byte, info byte, arg uint64, err error) {
	var fault cborhead.Fault
	major, info, arg, s.off, fault = cborhead.Read(s.b, s.off)
	switch fault {
	case cborhead.OK:
		return major, info, arg, nil
	case cborhead.Short:
		return 0, 0, 0, fmt.Errorf("is cut short (message ends at byte %d)", len(s.b))
	case cborhead.Indefinite:
		return 0, 0, 0, fmt.Errorf("has an indefinite length (lengths must be definite)")
	}
	return 0, 0, 0, fmt.Errorf("has a reserved additional-information value %d", info)
}

// item checks one item at depth containers deep; key says it is a map key.
func (s *shape) item(depth int, key bool) error {
	major, info, arg, err := s.head()
	if err != nil {
		return err
	}
	if key && major != 3 {
		return fmt.Errorf("is a map key of CBOR major type %d: keys are text strings", major)
	}
	switch major {
	case 0, 1:
		return nil
	case 2, 3:
		if arg > uint64(len(s.b)-s.off) {
			return fmt.Errorf("is cut short (a %d-byte string with %d bytes left)", arg, len(s.b)-s.off)
		}
		s.off += int(arg)
		return nil
	case 4, 5:
		if depth == MaxDepth {
			return fmt.Errorf("nests deeper than %d", MaxDepth)
		}
		if major == 4 && arg > maxItems {
			return fmt.Errorf("holds %d items, more than %d", arg, maxItems)
		}
		if major == 5 && arg > maxPairs {
			return fmt.Errorf("holds %d pairs, more than %d", arg, maxPairs)
		}
		n := arg
		if major == 5 {
			n *= 2
		}
		if n > uint64(len(s.b)-s.off) { // each item takes a byte at least
			return fmt.Errorf("is cut short (%d items with %d bytes left)", n, len(s.b)-s.off)
		}
		lastKey := 0 // offset of the key of the value being read
		for i := uint64(0); i < n; i++ {
			isKey := major == 5 && i%2 == 0
			at := s.off
			if err := s.item(depth+1, isKey); err != nil {
				switch {
				case major == 4:
					s.path = append(s.path, "["+strconv.FormatUint(i, 10)+"]")
				case !isKey:
					s.path = append(s.path, "."+s.keyText(lastKey))
				}
				return err
			}
			if isKey {
				lastKey = at
			}
		}
		return nil
	case 6:
		if arg != TagTuple {
			return fmt.Errorf("has CBOR tag %d: the only tag is %d (tuple)", arg, TagTuple)
		}
		if s.off < len(s.b) && s.b[s.off]>>5 != 4 {
			return fmt.Errorf("has the tuple tag around CBOR major type %d: it tags arrays only", s.b[s.off]>>5)
		}
		return s.item(depth, false)
	}
	// Major type 7: false, true, null and floats.
	switch info {
	case 20, 21, 22, 25, 26, 27:
		return nil
	case 23:
		return fmt.Errorf("is undefined (0xf7): the values are None, bool, int, float, str, bytes, list, tuple and dict")
	}
	return fmt.Errorf("is the CBOR simple value %d: only false, true and null are values", arg)
}

// keyText is the text of the (well-formed, text) key at off, for paths.
func (s *shape) keyText(off int) string {
	save := s.off
	defer func() { s.off = save }()
	s.off = off
	_, _, n, err := s.head()
	if err != nil || n > uint64(len(s.b)-s.off) {
		return "?"
	}
	return string(s.b[s.off : s.off+int(n)])
}
