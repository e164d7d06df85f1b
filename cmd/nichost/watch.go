package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/spf13/cobra"

	"github.com/nichost/nichost/host/build"
	"github.com/nichost/nichost/internal/control"
)

// debounce is how long --watch waits after the last change before it
// builds: an editor's save is several events.
const debounce = 200 * time.Millisecond

// ignored reports files whose changes are not edits of the source: hidden
// files, editors' backups and swap files.
func ignored(name string) bool {
	base := filepath.Base(name)
	return strings.HasPrefix(base, ".") || strings.HasSuffix(base, "~") || strings.HasSuffix(base, ".swp") ||
		strings.HasSuffix(base, ".swx") || base == "4913" || strings.HasPrefix(base, "#")
}

// watch rebuilds dir on every change until ctx ends and, after each build
// that made a new module, asks the daemon to reload the plugin named
// reload (or, when reload is "", every plugin whose source is dir). A
// failed build is printed and the watch goes on; the running plugin is
// untouched.
func watch(ctx context.Context, cmd *cobra.Command, b *build.Builder, dir, reload string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("build --watch: %w", err)
	}
	defer w.Close()
	addTree := func(root string) error {
		return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			if p != root && ignored(p) {
				return filepath.SkipDir
			}
			return w.Add(p)
		})
	}
	if err := addTree(abs); err != nil {
		return fmt.Errorf("build --watch: %w", err)
	}
	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	fmt.Fprintf(errOut, "watching %s (Ctrl-C to stop)\n", dir)
	last := ""
	rebuild := func() {
		res, err := b.Build(ctx, abs)
		if err != nil {
			fmt.Fprintf(out, "%s\tbuild failed: %v\n", dir, err)
			return
		}
		fmt.Fprintf(out, "%s\tbuilt in %v\t%s\n", dir, res.Duration.Round(time.Millisecond), res.Path)
		if res.Key == last {
			return
		}
		first := last == ""
		last = res.Key
		if !first {
			reloadInto(ctx, cmd, out, abs, reload)
		}
	}
	rebuild()
	var timer <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-w.Errors:
			fmt.Fprintf(errOut, "build --watch: %v\n", err)
		case ev := <-w.Events:
			if ignored(ev.Name) || ev.Op == fsnotify.Chmod {
				continue
			}
			if ev.Op&fsnotify.Create != 0 {
				if st, err := os.Stat(ev.Name); err == nil && st.IsDir() {
					addTree(ev.Name)
				}
			}
			timer = time.After(debounce)
		case <-timer:
			timer = nil
			rebuild()
		}
	}
}

// reloadInto asks the daemon to reload the plugin named name, or those
// whose source is dir, and prints the new generation.
func reloadInto(ctx context.Context, cmd *cobra.Command, out io.Writer, dir, name string) {
	c := client(cmd)
	names := []string{name}
	if name == "" {
		ps, err := c.Plugins(ctx)
		if errors.Is(err, control.ErrUnreachable) {
			fmt.Fprintf(out, "not reloaded: %v\n", err)
			return
		}
		names = nil
		for _, p := range ps {
			if p.Source == dir {
				names = append(names, p.Name)
			}
		}
		if len(names) == 0 {
			fmt.Fprintf(out, "not reloaded: no plugin of the daemon has %s as its source (--reload NAME names one)\n", dir)
			return
		}
	}
	for _, n := range names {
		p, err := c.ReloadPlugin(ctx, n)
		if err != nil {
			fmt.Fprintf(out, "%s\treload failed, the previous module runs on: %v\n", n, err)
			continue
		}
		fmt.Fprintf(out, "%s\treloaded, generation %d (%s)\n", n, p.Generation, short(p.Digest))
	}
}
