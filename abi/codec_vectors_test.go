package abi

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/nichost/nichost/internal/valuevectors"
)

// The value-encoding vectors of testdata/values (see its README.md), run
// against the host's decoder. abi/guest runs the same files against the
// SDK's codec.

// hostDeviations are the vectors on which the host's decoder is known to
// disagree with ABI.md §3, and why (none now: simple values, undefined,
// stray tags, non-text keys and the depth of empty containers were fixed
// by checkShape). The test fails when one no longer deviates, so that an
// entry is removed with its fix.
var hostDeviations = map[string]string{}

func TestUnmarshal_Vectors(t *testing.T) {
	vs, err := valuevectors.Read(filepath.Join("testdata", "values"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			got, err := Unmarshal(v.Msg)
			why, known := hostDeviations[v.Name]
			if (err == nil) != v.OK {
				if known {
					t.Logf("known deviation from ABI.md: %s (value %s, error %v)", why, valuevectors.Short(got), err)
					return
				}
				if v.OK {
					t.Fatalf("%s: refused: %v", v, err)
				}
				t.Fatalf("%s: accepted as %s", v, valuevectors.Short(got))
			}
			if known {
				t.Fatalf("the host's decoder now follows ABI.md on %s: remove it from hostDeviations", v.Name)
			}
			if !v.OK {
				return
			}
			b, err := Marshal(got)
			if err != nil || !bytes.Equal(b, v.Canon) {
				t.Fatalf("%s: decoded as %s, which encodes as %s, %v; want %s", v, valuevectors.Short(got), valuevectors.Short(b), err, valuevectors.Short(v.Canon))
			}
		})
	}
}
