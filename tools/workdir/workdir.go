// Package workdir makes the relative paths a command is given mean what
// the user meant when the command runs under `bazel run`.
//
// `bazel run //tools:x -- file` starts x in its runfiles tree, not in the
// directory the user typed the command in; Bazel passes that directory in
// BUILD_WORKING_DIRECTORY. Outside `bazel run` (a build action, a test, a
// binary run directly) the variable is unset and the current directory is
// the right base.
package workdir

import (
	"os"
	"path/filepath"
)

// Env is the variable `bazel run` sets to the directory it was run in.
const Env = "BUILD_WORKING_DIRECTORY"

// Base returns the directory relative paths on the command line are
// relative to: $BUILD_WORKING_DIRECTORY when set, otherwise the current
// directory.
func Base(getenv func(string) string) (string, error) {
	if base := getenv(Env); base != "" {
		return base, nil
	}
	return os.Getwd()
}

// Abs returns path made absolute against Base; an absolute path is
// returned cleaned.
func Abs(path string, getenv func(string) string) (string, error) {
	if filepath.IsAbs(path) {
		return filepath.Clean(path), nil
	}
	base, err := Base(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(base, path), nil
}

// Chdir makes $BUILD_WORKING_DIRECTORY, when set, the current directory,
// so that every relative path the command reads, in its arguments and in
// the files they name (a manifest's sources), is taken where the user ran
// `bazel run`. Commands that read their own runfiles by relative path must
// use Abs instead. Call it first thing in main.
func Chdir(getenv func(string) string) error {
	if base := getenv(Env); base != "" {
		return os.Chdir(base)
	}
	return nil
}
