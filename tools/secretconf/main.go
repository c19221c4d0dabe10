// Command secretconf writes a configuration file that holds a secret read
// from a file of the user's, such as a wifi passphrase, so that the secret
// never has to be written in a BUILD file. The secret is checked first:
// one line (a final newline is not part of it), printable ASCII only, and
// of a length the configuration's reader accepts. Errors name the file and
// what was wrong, never the secret.
//
//	secretconf -template CONF -secret FILE -name NAME -key KEY= -min 8 -max 63 -what "WPA passphrase" -out OUT
//
// OUT is CONF followed by the line KEY SECRET.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"bazwrt/tools/atomicfile"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("secretconf", flag.ContinueOnError)
	fs.SetOutput(stderr)
	template := fs.String("template", "", "the configuration without the secret")
	secretPath := fs.String("secret", "", "the `file` holding the secret")
	name := fs.String("name", "", "what to call the secret's file in errors (default: its path)")
	key := fs.String("key", "", "what comes before the secret on its line, e.g. wpa_passphrase=")
	min := fs.Int("min", 1, "the fewest characters the secret may have")
	max := fs.Int("max", 0, "the most characters the secret may have (0: no limit)")
	what := fs.String("what", "secret", "what the secret is, for errors")
	out := fs.String("out", "", "the configuration to write")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *template == "" || *secretPath == "" || *key == "" || *out == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: secretconf -template CONF -secret FILE -key KEY -out OUT [-name NAME] [-min N] [-max N] [-what WHAT]")
		return 2
	}
	if *name == "" {
		*name = *secretPath
	}
	conf, err := os.ReadFile(*template)
	if err != nil {
		fmt.Fprintf(stderr, "secretconf: %v\n", err)
		return 1
	}
	b, err := os.ReadFile(*secretPath)
	if err != nil {
		fmt.Fprintf(stderr, "secretconf: the %s: %v\n", *what, err)
		return 1
	}
	secret, err := Parse(b, *min, *max)
	if err != nil {
		fmt.Fprintf(stderr, "secretconf: %s: the %s %v\n", *name, *what, err)
		return 1
	}
	if len(conf) > 0 && conf[len(conf)-1] != '\n' {
		conf = append(conf, '\n')
	}
	conf = append(conf, *key+secret+"\n"...)
	if err := atomicfile.Write(*out, conf, 0o600); err != nil {
		fmt.Fprintf(stderr, "secretconf: %v\n", err)
		return 1
	}
	return 0
}

// Parse returns the secret in b: its one line, without a final "\n" or
// "\r\n", of min to max printable ASCII characters (max 0: no limit).
// Errors say what is wrong and where, not what the secret is, and read as
// the end of a sentence that names it.
func Parse(b []byte, min, max int) (string, error) {
	s := string(b)
	s = strings.TrimSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\r")
	if s == "" {
		return "", errors.New("is empty: want it alone on the file's first line")
	}
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return "", fmt.Errorf("has more than one line (a newline at byte %d): want it alone on one line", i)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return "", fmt.Errorf("has byte 0x%02x at byte %d: want printable ASCII (space to ~)", c, i)
		}
	}
	if len(s) < min || (max > 0 && len(s) > max) {
		want := fmt.Sprintf("%d to %d", min, max)
		if max == 0 {
			want = fmt.Sprintf("at least %d", min)
		}
		return "", fmt.Errorf("is %d characters: want %s", len(s), want)
	}
	return s, nil
}
