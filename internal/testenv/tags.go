package testenv

// BuildFlags are the go command's flags that build another binary or
// module with the build tags of this one: a test that builds nichost (the
// daemon, a module of its own) must build it with the engine the test
// pass runs on, or a pass with NICHOST_ENGINE=wasmtime would test a
// binary that has no wasmtime.
func BuildFlags() []string {
	if wasmtimeTag {
		return []string{"-tags", "wasmtime"}
	}
	return nil
}
