// Command ppp is the test driver declaring class PPP: its links are
// IP-only, the only kind that may report addresses and DNS servers.
package main

import (
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/internal/testdriver"
)

func init() { guest.Register(testdriver.NewPPP()) }

func main() {}
