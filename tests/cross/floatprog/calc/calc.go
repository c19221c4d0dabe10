// Package calc does float32 and float64 arithmetic for the cross test. The
// test runs it natively and compares with floatprog's output under qemu-user.
package calc

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Report computes with x and n and returns the results, one per line.
func Report(x float64, n int) string {
	var sum float64
	for i := 1; i <= n; i++ {
		sum += 1 / float64(i*i)
	}
	third := float32(x) / 3
	var b strings.Builder
	fmt.Fprintf(&b, "sqrt(%g) = %.15f\n", x, math.Sqrt(x))
	fmt.Fprintf(&b, "basel(%d) = %.15f\n", n, sum)
	fmt.Fprintf(&b, "float32 %g/3 = %.7f\n", x, third)
	fmt.Fprintf(&b, "exp(%g) = %s\n", x, strconv.FormatFloat(math.Exp(x), 'g', -1, 64))
	fmt.Fprintf(&b, "int(%g*1e9) = %d\n", x, int64(x*1e9))
	return b.String()
}
