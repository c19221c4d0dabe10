// Command mkcpio writes a deterministic initramfs (cpio "newc") from files
// given on the command line, adding /dev and /dev/console so that the kernel
// can give /init a console before anything is mounted. Every entry is owned
// by root with mtime 0.
//
//	mkcpio -o OUT.cpio /init=path/to/init [/name=path ...]
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"bazwrt/tests/kernel/mkcpio/cpio"
)

func main() {
	out := flag.String("o", "", "the cpio `file` to write")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: mkcpio -o OUT.cpio /name=FILE...")
		os.Exit(2)
	}
	entries := []cpio.Entry{
		{Name: "dev", Mode: cpio.ModeDir | 0o755},
		{Name: "dev/console", Mode: cpio.ModeChar | 0o600, RdevMajor: 5, RdevMinor: 1},
	}
	args := append([]string(nil), flag.Args()...)
	sort.Strings(args)
	for _, a := range args {
		name, path, ok := strings.Cut(a, "=")
		if !ok || !strings.HasPrefix(name, "/") {
			fmt.Fprintf(os.Stderr, "mkcpio: want /name=FILE, got %q\n", a)
			os.Exit(2)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "mkcpio: %v\n", err)
			os.Exit(1)
		}
		entries = append(entries, cpio.Entry{Name: strings.TrimPrefix(name, "/"), Mode: cpio.ModeFile | 0o755, Data: data})
	}
	if err := os.WriteFile(*out, cpio.Write(entries), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "mkcpio: %v\n", err)
		os.Exit(1)
	}
}
