package abi

import "embed"

// The C SDK for driver plugins, abi/c/nic.h and abi/c/nic.c, carried in
// every binary that imports this package, so that `nichost build` can
// build a C plugin directory without the source tree: host/build writes
// the files into its cache and compiles nic.c with the plugin's sources.
// (They live here, not in a package of abi/c, because Go refuses C files
// in a package that does not use cgo.)
//
//go:embed c/nic.h c/nic.c
var csdk embed.FS

// CSDKFiles returns the C SDK's files by name: "nic.h" and "nic.c".
func CSDKFiles() map[string][]byte {
	out := map[string][]byte{}
	for _, name := range []string{"nic.h", "nic.c"} {
		b, err := csdk.ReadFile("c/" + name)
		if err != nil {
			panic("abi: C SDK: " + err.Error()) // embedded at build time: cannot fail
		}
		out[name] = b
	}
	return out
}
