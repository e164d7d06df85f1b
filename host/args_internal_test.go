package host

import (
	"bytes"
	"testing"

	"github.com/nichost/nichost/abi"
)

// noArgs stands for the encoding of [[], {}]; it must be exactly that.
func TestNoArgs_IsTheEncodingOfNoArguments(t *testing.T) {
	b, err := abi.Marshal([]any{[]any{}, map[string]any{}})
	if err != nil || !bytes.Equal(b, noArgs) {
		t.Fatalf("[[], {}] encodes as %x, %v; noArgs is %x", b, err, noArgs)
	}
}
