package valuevectors

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestRead_TheVectors(t *testing.T) {
	vs, err := Read(filepath.Join("..", "..", "abi", "testdata", "values"))
	if err != nil {
		t.Fatal(err)
	}
	ok, refused := 0, 0
	for _, v := range vs {
		if v.OK {
			ok++
		} else {
			refused++
		}
	}
	if ok == 0 || refused == 0 {
		t.Fatalf("%d accepted and %d refused vectors: the files should hold both", ok, refused)
	}
}

func TestParseVector(t *testing.T) {
	v, err := parseVector(strings.Fields("ok=f5 a-bool f5"))
	if err != nil || !v.OK || !bytes.Equal(v.Canon, []byte{0xf5}) || v.Name != "a-bool" {
		t.Fatalf("parseVector = %+v, %v", v, err)
	}
	v, err = parseVector(strings.Fields("err@value[0] bad 81 {2*f7}"))
	if err != nil || v.OK || v.Path != "value[0]" || !bytes.Equal(v.Msg, []byte{0x81, 0xf7, 0xf7}) {
		t.Fatalf("parseVector = %+v, %v", v, err)
	}
	v, err = parseVector(strings.Fields("ok m a1 {keys:1}"))
	if err != nil || !bytes.Equal(v.Msg, []byte{0xa1, 0x65, 'k', '0', '0', '0', '0', 0xf6}) {
		t.Fatalf("{keys:1} = %x, %v", v.Msg, err)
	}
	if _, err := parseVector(strings.Fields("maybe x 00")); err == nil {
		t.Fatal("an unknown outcome was accepted")
	}
}
