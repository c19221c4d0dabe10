// Package lint_test checks that the source tree is tidy: the Go BUILD files
// are what gazelle generates, the Starlark files are buildifier-clean, and
// the Go code is gofmt'd and passes go vet.
//
// The tests read the source tree itself, not runfiles: they are tagged
// "local" (no sandbox) and "external" (never cached), and find the tree by
// following the runfiles link of //:WORKSPACE.
package lint_test

import (
	"bytes"
	"flag"
	"go/format"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var (
	gazelle    = flag.String("gazelle", "", "path of the gazelle binary")
	buildifier = flag.String("buildifier", "", "path of the buildifier binary")
	goTool     = flag.String("go", "", "path of the go command")
)

// workspaceRoot returns the directory of the source tree's WORKSPACE file.
func workspaceRoot(t *testing.T) string {
	t.Helper()
	ws, err := filepath.EvalSymlinks(filepath.Join(os.Getenv("TEST_SRCDIR"), os.Getenv("TEST_WORKSPACE"), "WORKSPACE"))
	if err != nil {
		t.Fatalf("finding the workspace from the runfiles link of //:WORKSPACE: %v", err)
	}
	return filepath.Dir(ws)
}

// tool returns the absolute path of a tool passed by flag.
func tool(t *testing.T, name, path string) string {
	t.Helper()
	if path == "" {
		t.Fatalf("-%s not set: run this test with bazel test", name)
	}
	// Runfiles paths are relative to the workspace's runfiles directory;
	// rules_go runs tests in the package's directory below it.
	return filepath.Join(os.Getenv("TEST_SRCDIR"), os.Getenv("TEST_WORKSPACE"), path)
}

func run(t *testing.T, dir string, env []string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestGazelle(t *testing.T) {
	root := workspaceRoot(t)
	out, err := run(t, root, nil, tool(t, "gazelle", *gazelle), "-mode=diff", "-repo_root="+root)
	if err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("Go BUILD files are stale (%v); run `bazel run //:gazelle` and commit the result:\n%s", err, out)
	}
}

func TestBuildifier(t *testing.T) {
	root := workspaceRoot(t)
	out, err := run(t, root, nil, tool(t, "buildifier", *buildifier), "-mode=check", "-lint=warn", "-r", ".")
	if err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("Starlark files are not buildifier-clean (%v); run `bazel run //:buildifier` and fix the warnings:\n%s", err, out)
	}
}

// skipDir reports whether a directory holds no Go code of the project:
// Bazel's output links, VCS data, and test data (which go vet skips too).
func skipDir(name string) bool {
	return strings.HasPrefix(name, "bazel-") || strings.HasPrefix(name, ".") ||
		strings.HasPrefix(name, "_") || name == "testdata"
}

func TestGofmt(t *testing.T) {
	root := workspaceRoot(t)
	var checked int
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && skipDir(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		checked++
		formatted, err := format.Source(src)
		if err != nil {
			t.Errorf("%s: %v", path, err)
		} else if !bytes.Equal(src, formatted) {
			t.Errorf("%s is not gofmt'd; run gofmt -w on it", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatalf("no Go files found under %s", root)
	}
}

func TestGoVet(t *testing.T) {
	root := workspaceRoot(t)
	env := []string{
		"GOFLAGS=-mod=readonly",
		"GOTOOLCHAIN=local",
		// Never download in a test: ./bazelw has filled the module cache.
		"GOPROXY=off",
		"HOME=" + os.Getenv("TEST_TMPDIR"),
	}
	if os.Getenv("GOMODCACHE") == "" {
		t.Fatal("GOMODCACHE not set: run ./bazelw once, it writes the setting into .bazelrc.local")
	}
	if os.Getenv("GOCACHE") == "" {
		env = append(env, "GOCACHE="+filepath.Join(os.Getenv("TEST_TMPDIR"), "gocache"))
	}
	out, err := run(t, root, env, tool(t, "go", *goTool), "vet", "./...")
	if err != nil {
		t.Errorf("go vet ./... failed (%v):\n%s", err, out)
	}
}
