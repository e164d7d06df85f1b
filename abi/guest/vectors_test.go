package guest

import (
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
