// Command failstart is a test plugin that declares the warm handover but
// whose nic_start fails: the module a reload must roll back from.
package main

import (
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/host/testdata/plugins/resume/internal/resumer"
)

func init() { guest.Register(resumer.New(resumer.FailStart)) }

func main() {}
