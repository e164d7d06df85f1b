// Command noexport is a hostile plugin: it speaks ABI 1.0 but exports only
// nic_abi_version and nic_describe.
package main

//go:wasmexport nic_abi_version
func abiVersion() int32 { return 1 << 16 }

//go:wasmexport nic_describe
func describe() int32 { return 0 }

func main() {}
