// Package runfiles finds a test's data files in Bazel's runfiles tree.
//
// Tests get the paths of their data as flags set from $(rootpath ...) in
// their BUILD target; those paths are relative to the workspace's runfiles
// directory, while rules_go runs a test in its package's directory.
package runfiles

import (
	"os"
	"path/filepath"
	"testing"
)

// Path returns the absolute path of a $(rootpath ...) value. It fails the
// test when rootpath is empty, as it is when the test is not run by Bazel.
func Path(t testing.TB, rootpath string) string {
	t.Helper()
	if rootpath == "" {
		t.Fatal("path flag not set: run this test with bazel test")
	}
	return filepath.Join(os.Getenv("TEST_SRCDIR"), os.Getenv("TEST_WORKSPACE"), rootpath)
}

// Read returns the content of the data file at a $(rootpath ...) value,
// failing the test when it cannot be read.
func Read(t testing.TB, rootpath string) []byte {
	t.Helper()
	b, err := os.ReadFile(Path(t, rootpath))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
