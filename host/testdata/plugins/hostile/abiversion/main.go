// Command abiversion is a hostile plugin: it declares ABI 2.0.
package main

//go:wasmexport nic_abi_version
func abiVersion() int32 { return 2 << 16 }

func main() {}
