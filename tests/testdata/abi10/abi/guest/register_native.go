//go:build !wasip1

package guest

// Register records the driver of a plugin's main package. In a native build
// nothing calls it back: the host constructs drivers itself through
// NewModule. It exists so that a plugin's source also builds natively.
func Register(d Driver) { registered = d }

var registered Driver
