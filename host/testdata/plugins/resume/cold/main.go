// Command cold is a test plugin that declares the warm handover but never
// takes a device over, and whose active(True) never reports the link up:
// the link the host holds for it must run out.
package main

import (
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/host/testdata/plugins/resume/internal/resumer"
)

func init() { guest.Register(resumer.New(resumer.Cold)) }

func main() {}
