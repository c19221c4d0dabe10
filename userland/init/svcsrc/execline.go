package svcsrc

import (
	"errors"
	"fmt"

	"bazwrt/userland/init/execline"
)

// CheckExecline returns "" when an up or down file is an execline script
// that the device can run, and otherwise why it is not, with the line.
//
// s6-rc-compile: up and down "will be interpreted by the execlineb lexer"
// (s6-rc runs them with execlineb -P), and so does this system, with the
// interpreter of package execline in the device's binary. A script is
// refused when execlineb would refuse it (a syntax error), or when it
// runs an execline or s6 program that the interpreter does not implement
// (execline.Builtins' second list), which would fail on the device.
func CheckExecline(b []byte) string {
	err := execline.Check(b)
	var se *execline.SyntaxError
	var ue *execline.UnsupportedError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &se):
		return fmt.Sprintf("line %d: execline syntax error (s6-rc runs up and down with execlineb -P, and so does this system): %s", se.Line, se.Msg)
	case errors.As(err, &ue):
		return fmt.Sprintf("line %d: uses %s, an execline or s6 program that this system's execline interpreter "+
			"does not implement (see docs/services.md, \"execline\")", ue.Line, ue.Cmd)
	}
	return err.Error()
}
