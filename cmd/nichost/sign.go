package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/sign"
)

// The signing commands run without a daemon: they are `plugin keygen`,
// `plugin sign` and `plugin verify`, beside the client commands of
// newPluginCmd.
func newSigningCmds() []*cobra.Command {
	return []*cobra.Command{newKeygenCmd(), newSignCmd(), newVerifyCmd()}
}

func newKeygenCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "keygen [--out PREFIX]",
		Short: "Make an Ed25519 key pair for signing plugins (PREFIX.key and PREFIX.pub)",
		Long: `plugin keygen writes a new Ed25519 key pair: PREFIX.key, the private key
(PEM, PKCS #8, mode 0600), with which plugin sign and nichost release sign
modules, and PREFIX.pub, the public key (PEM, PKIX), which a board's
configuration lists under signatures.keys. Existing files are never
overwritten. The key's ID, printed, is how signatures and errors name it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pub, priv, err := sign.GenerateKey()
			if err != nil {
				return err
			}
			keyPath, pubPath := out+".key", out+".pub"
			if err := writeNew(keyPath, sign.MarshalPrivateKey(priv), 0o600); err != nil {
				return err
			}
			if err := writeNew(pubPath, sign.MarshalPublicKey(pub), 0o644); err != nil {
				os.Remove(keyPath)
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "key %s\nprivate key %s (keep it secret)\npublic key %s (list it under signatures.keys)\n", sign.KeyID(pub), keyPath, pubPath)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "nichost-plugins", "path prefix of the two key files")
	return cmd
}

// writeNew writes a file that must not exist yet.
func writeNew(path string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s exists; keygen never overwrites a key (choose another --out)", path)
		}
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// describer is a host that runs nothing but Describe: no buses, logs
// dropped, the signature policy given.
func describer(policy *sign.Policy) (*host.Host, error) {
	return host.New(host.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Signatures: policy})
}

// moduleArgs checks that every argument is a .wasm file (a source
// directory is built first: nichost build, or nichost release).
func moduleArgs(args []string) error {
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return err
		}
		if st.IsDir() {
			return usage("%s is a directory: sign and verify take .wasm modules (nichost build DIR prints the module's path; nichost release writes them all)", a)
		}
	}
	return nil
}

// signModule describes the module at path and writes its signature beside
// it.
func signModule(ctx context.Context, h *host.Host, key ed25519.PrivateKey, path string) (sign.Signature, error) {
	desc, err := h.Describe(ctx, path)
	if err != nil {
		return sign.Signature{}, err
	}
	wasm, err := os.ReadFile(path)
	if err != nil {
		return sign.Signature{}, err
	}
	sig := sign.Sign(key, wasm, sign.DeclarationOf(desc))
	if err := os.WriteFile(sign.SigPath(path), sig.Marshal(), 0o644); err != nil {
		return sign.Signature{}, err
	}
	return sig, nil
}

func newSignCmd() *cobra.Command {
	var keyPath string
	cmd := &cobra.Command{
		Use:   "sign --key FILE.key MODULE.wasm...",
		Short: "Sign plugin modules: MODULE.wasm.sig covers the bytes and the declaration",
		Long: `plugin sign loads each module far enough to read its declaration (the class,
driver name, version and buses it describes itself with; nothing is granted
and nic_start is not called), then writes MODULE.wasm.sig beside it: a JSON
file with the module's SHA-256 and size, the declaration, the key's ID and
an Ed25519 signature over them. A daemon whose configuration requires
signatures loads the module only with a valid signature by a listed key.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if keyPath == "" {
				return usage("plugin sign: --key FILE.key is required (nichost plugin keygen makes one)")
			}
			if err := moduleArgs(args); err != nil {
				return err
			}
			key, err := sign.ReadPrivateKey(keyPath)
			if err != nil {
				return err
			}
			h, err := describer(nil)
			if err != nil {
				return err
			}
			defer h.Close()
			for _, path := range args {
				sig, err := signModule(cmd.Context(), h, key, path)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: signed by %s: %s\n", sign.SigPath(path), sig.Key, sig.Declaration)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&keyPath, "key", "k", "", "private key file (plugin keygen)")
	return cmd
}

func newVerifyCmd() *cobra.Command {
	var pubs []string
	cmd := &cobra.Command{
		Use:   "verify --pub FILE.pub... MODULE.wasm...",
		Short: "Check plugin modules' signatures as a daemon requiring them would",
		Long: `plugin verify checks each module as a daemon with signatures.require and
these keys would at load: the signature file is there, the module's bytes
are the ones signed, the key is one of --pub, the signature verifies, and
the module declares what the signature covers. It prints one line per
module and exits with status 1 if any is refused.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(pubs) == 0 {
				return usage("plugin verify: --pub FILE.pub is required (the keys to trust)")
			}
			if err := moduleArgs(args); err != nil {
				return err
			}
			keys, err := sign.ReadKeys(pubs)
			if err != nil {
				return err
			}
			h, err := describer(&sign.Policy{Keys: keys})
			if err != nil {
				return err
			}
			defer h.Close()
			failed := 0
			for _, path := range args {
				desc, err := h.Describe(cmd.Context(), path)
				if err != nil {
					failed++
					fmt.Fprintf(cmd.OutOrStdout(), "%s: REFUSED: %v\n", path, err)
					continue
				}
				b, _ := os.ReadFile(sign.SigPath(path))
				sig, _ := sign.ParseSignature(b)
				fmt.Fprintf(cmd.OutOrStdout(), "%s: OK, signed by %s: %s\n", path, sig.Key, sign.DeclarationOf(desc))
			}
			if failed > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d of %d modules refused", failed, len(args))}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&pubs, "pub", nil, "a trusted public key file (repeat for several)")
	return cmd
}
