package abi_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nichost/nichost/internal/ccodec"
	"github.com/nichost/nichost/internal/valuevectors"
)

// The C SDK's codec (nic_decode, and the nic_put_* encoder) runs the same
// accept/reject vectors as the host's and the Go SDK's: accepted messages
// re-encode to the host's canonical bytes, refused ones fail with an error
// naming the offending value's path.
func TestCSDK_CodecVectors(t *testing.T) {
	c := ccodec.Need(t)
	vs, err := valuevectors.Read(filepath.Join("testdata", "values"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			res, err := c.Check(v.Msg)
			if err != nil {
				t.Fatal(err)
			}
			if !v.OK {
				switch {
				case res.OK:
					t.Fatalf("%s: accepted, re-encoded as %s", v, valuevectors.Short(res.Canon))
				case !strings.HasPrefix(res.Err, "invalid value encoding: "):
					t.Fatalf("%s: error %q does not say it is an encoding error", v, res.Err)
				case v.Path != "" && !strings.Contains(res.Err, ": "+v.Path+": "):
					t.Fatalf("%s: error %q does not name %s", v, res.Err, v.Path)
				}
				return
			}
			if !res.OK {
				t.Fatalf("%s: refused: %s", v, res.Err)
			}
			if res.EncErr != "" || !bytes.Equal(res.Canon, v.Canon) {
				t.Fatalf("%s: re-encoded as %s (%s); want %s", v, valuevectors.Short(res.Canon), res.EncErr, valuevectors.Short(v.Canon))
			}
		})
	}
}
