package host

import (
	"context"
	"fmt"
	"os"

	"github.com/nichost/nichost/host/sign"
)

// digest is a module's digest, as signatures name it too.
func digest(wasm []byte) string { return sign.Digest(wasm) }

// ModuleDigest is the digest (Plugin.Digest) of the module source names: a
// .wasm file's, or what the host's builder makes of a Go or C source
// directory (built now if its cache does not hold that source). A daemon
// compares it with a running plugin's to tell whether a reload would
// change anything.
func (h *Host) ModuleDigest(ctx context.Context, source string) (string, error) {
	if err := h.errClosed("module digest"); err != nil {
		return "", err
	}
	path := source
	st, err := os.Stat(source)
	if err != nil {
		return "", fmt.Errorf("source: %w", err)
	}
	if st.IsDir() {
		res, err := h.builder.Build(ctx, source)
		if err != nil {
			return "", err
		}
		path = res.Path
	}
	wasm, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("source: %w", err)
	}
	return digest(wasm), nil
}
