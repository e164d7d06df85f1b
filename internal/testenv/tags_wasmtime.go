//go:build wasmtime

package testenv

const wasmtimeTag = true
