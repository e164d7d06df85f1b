package guest

import (
	"slices"

	"github.com/nichost/nichost/abi"
)

// Args are the positional and keyword arguments of a method call, as the
// caller wrote them in Python. The SDK owns neither slice nor map after the
// call returns; a driver may keep them.
//
// A driver reads them through At and Key, which name the parameter in every
// error, and checks their number with Takes:
//
//	if err := a.Takes("sleep", 1); err != nil {
//		return nil, err
//	}
//	ns, err := a.At(0, "ns").Int()
type Args struct {
	Pos []any
	KW  map[string]any // nil or empty when the call has none
}

// Len is the number of arguments of both kinds.
func (a Args) Len() int { return len(a.Pos) + len(a.KW) }

// At is the positional argument i, called name in error messages. It is
// missing (Arg.Given is false) when the caller passed fewer arguments.
func (a Args) At(i int, name string) Arg {
	if i < 0 || i >= len(a.Pos) {
		return Arg{Name: name, index: i, positional: true}
	}
	return Arg{Name: name, Value: a.Pos[i], Given: true}
}

// Key is the keyword argument name. It is missing (Arg.Given is false) when
// the caller did not pass it.
func (a Args) Key(name string) Arg {
	v, ok := a.KW[name]
	if !ok {
		return Arg{Name: name, keyword: true}
	}
	return Arg{Name: name, Value: v, Given: true}
}

// Takes checks the shape of a call of method: at most maxPos positional
// arguments, and no keyword arguments but those listed. Its TypeErrors read
// as MicroPython's do: "disconnect() takes no arguments", "active() takes
// no keyword arguments", "active() takes at most 1 argument, got 2",
// "scan() got an unexpected keyword argument 'ssid'".
func (a Args) Takes(method string, maxPos int, keywords ...string) error {
	if maxPos == 0 && len(keywords) == 0 {
		if a.Len() != 0 {
			return abi.TypeError("%s() takes no arguments", method)
		}
		return nil
	}
	if len(keywords) == 0 && len(a.KW) > 0 {
		return abi.TypeError("%s() takes no keyword arguments", method)
	}
	for _, k := range abi.SortedKeys(a.KW) {
		if !slices.Contains(keywords, k) {
			return abi.TypeError("%s() got an unexpected keyword argument '%s'", method, k)
		}
	}
	if len(a.Pos) > maxPos {
		plural := "s"
		if maxPos == 1 {
			plural = ""
		}
		return abi.TypeError("%s() takes at most %d argument%s, got %d", method, maxPos, plural, len(a.Pos))
	}
	return nil
}

// Arg is one argument of a call, looked up by Args.At or Args.Key. Its
// typed accessors return the value or a TypeError that names the parameter
// and both types ("ns: expected int, got str", the texts of abi.Int and
// its siblings), or, for a missing argument, one that says so.
type Arg struct {
	Name  string // the parameter's name, for error messages
	Value any    // the decoded value; nil when missing
	Given bool   // the caller passed it

	index      int  // of a missing positional argument
	positional bool // a missing positional argument, looked up by At
	keyword    bool // a missing keyword argument, looked up by Key
}

// Or returns the argument itself if the caller passed it, else an argument
// holding def: a.At(1, "n").Or(1).Int() reads an optional count.
func (v Arg) Or(def any) Arg {
	if v.Given {
		return v
	}
	return Arg{Name: v.Name, Value: def, Given: true}
}

// err is the error of a missing argument, made only when it is needed:
// an optional argument's Or costs nothing.
func (v Arg) err() error {
	switch {
	case v.keyword:
		return abi.TypeError("missing keyword argument %q", v.Name)
	case v.positional:
		return abi.TypeError("missing argument %d (%s)", v.index, v.Name)
	}
	return abi.TypeError("missing argument %s", v.Name)
}

// Any returns the argument's value whatever its type, or the error of a
// missing argument.
func (v Arg) Any() (any, error) {
	if !v.Given {
		return nil, v.err()
	}
	return v.Value, nil
}

// Int returns the argument as an int (bools are refused).
func (v Arg) Int() (int64, error) {
	if !v.Given {
		return 0, v.err()
	}
	return abi.Int(v.Name, v.Value)
}

// Bool returns the argument as a bool.
func (v Arg) Bool() (bool, error) {
	if !v.Given {
		return false, v.err()
	}
	return abi.Bool(v.Name, v.Value)
}

// Str returns the argument as a str.
func (v Arg) Str() (string, error) {
	if !v.Given {
		return "", v.err()
	}
	return abi.Str(v.Name, v.Value)
}

// Bytes returns the argument as bytes. The slice is the call's own: the
// driver may keep it.
func (v Arg) Bytes() ([]byte, error) {
	if !v.Given {
		return nil, v.err()
	}
	return abi.Bytes(v.Name, v.Value)
}
