// Command mksquashfs writes a squashfs image from an fsspec manifest,
// without root privileges and deterministically.
//
//	mksquashfs -manifest M.json -o out.squashfs [-comp xz|gzip] [-b 131072] [-mkfs-time N] [-no-dedup]
//
// The manifest format is described in bazwrt/tools/fsspec. -mkfs-time
// defaults to $SOURCE_DATE_EPOCH, or 0; it is also every inode's mtime.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"bazwrt/tools/fsspec"
	"bazwrt/tools/mksquashfs/squashfs"
	"bazwrt/tools/workdir"
)

func main() {
	// Under bazel run, relative paths are where the user ran it.
	if err := workdir.Chdir(os.Getenv); err != nil {
		fmt.Fprintf(os.Stderr, "mksquashfs: BUILD_WORKING_DIRECTORY: %v\n", err)
		os.Exit(1)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mksquashfs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	manifest := fs.String("manifest", "", "manifest `file` (JSON, see bazwrt/tools/fsspec)")
	out := fs.String("o", "", "output image `file`")
	comp := fs.String("comp", "xz", "compression: xz or gzip")
	block := fs.Int("b", 128<<10, "data block size in bytes, a power of two from 4096 to 1048576")
	mkfsTime := fs.String("mkfs-time", "", "superblock and inode time, seconds since 1970 (default $SOURCE_DATE_EPOCH, or 0)")
	noDedup := fs.Bool("no-dedup", false, "store identical files separately")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *manifest == "" || *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: mksquashfs -manifest M.json -o out.squashfs [-comp xz|gzip] [-b 131072] [-mkfs-time N] [-no-dedup]")
		return 2
	}
	if err := build(*manifest, *out, *comp, *block, *mkfsTime, *noDedup); err != nil {
		fmt.Fprintf(stderr, "mksquashfs: %v\n", err)
		return 1
	}
	return 0
}

func build(manifest, out, comp string, block int, mkfsTime string, noDedup bool) error {
	c, err := squashfs.ParseCompression(comp)
	if err != nil {
		return err
	}
	if mkfsTime == "" {
		mkfsTime = os.Getenv("SOURCE_DATE_EPOCH")
	}
	var t uint64
	if mkfsTime != "" {
		if t, err = strconv.ParseUint(mkfsTime, 10, 32); err != nil {
			return fmt.Errorf("mkfs time %q: want seconds since 1970 that fit in 32 bits", mkfsTime)
		}
	}
	mf, err := os.Open(manifest)
	if err != nil {
		return err
	}
	entries, err := fsspec.Decode(mf)
	mf.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", manifest, err)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	_, err = squashfs.Write(f, entries, squashfs.Options{
		Compression: c,
		BlockSize:   block,
		MkfsTime:    uint32(t),
		NoDedup:     noDedup,
	})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out)
		return fmt.Errorf("%s: %w", manifest, err)
	}
	return nil
}
