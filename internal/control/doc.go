// Package control is the daemon's control API: HTTP and JSON on a unix
// socket, for `nichost` commands, `nichost shell` and anyone with curl.
// Every AbstractNIC method and network module function is an endpoint,
// with MicroPython's argument rules and exceptions; so are the plugins'
// list, reload and restart, an event stream and the daemon's recent log,
// both as server-sent events. docs/control-api.md is the reference.
//
// The daemon makes the socket with Listen (its mode and group decide who
// may call) and serves a Server on it; commands use a Client. Values cross
// in a JSON form of the ABI's value model (EncodeValue, DecodeValue) that
// keeps bytes, tuples and floats apart from strings, lists and ints.
package control
