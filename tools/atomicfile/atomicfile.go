// Package atomicfile writes a file whole or not at all, for the build's
// tools: a reader (or a Bazel action interrupted half-way) never sees half
// a file.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write writes b to path, mode perm, through a temporary file in the same
// directory and a rename.
func Write(path string, b []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
