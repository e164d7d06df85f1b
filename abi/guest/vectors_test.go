package guest

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/nichost/nichost/internal/valuevectors"
)

// The vectors of abi/testdata/values (format in its README.md), which
// abi/codec_vectors_test.go runs against the host's decoder.
func readVectors(t testing.TB) []valuevectors.Vector {
	t.Helper()
	vs, err := valuevectors.Read(filepath.Join("..", "testdata", "values"))
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// short formats v for a message, cut to 100 characters.
func short(v any) string {
	s := fmt.Sprintf("%#v", v)
	if b, ok := v.([]byte); ok {
		s = fmt.Sprintf("%x", b)
	}
	if len(s) > 100 {
		s = s[:100] + fmt.Sprintf("... (%d characters)", len(s))
	}
	return s
}
