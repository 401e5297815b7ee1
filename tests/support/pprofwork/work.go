// A small Go workload whose CPU and allocation profiles exercise what
// `perfgate profile top` must get right: recursion (fib), inlined calls
// (mix), a function both inlined and called through a func value (sumMix),
// and allocations of two sizes. PPROFSPEC_VARIANT=b shifts the mix.
package pprofspec

import "os"

// fib is recursive: exercises "cum counted once per sample".
func fib(n int) int {
	if n < 2 {
		return n
	}
	return fib(n-1) + fib(n-2)
}

// mix is small enough to be inlined into its callers.
func mix(x int) int {
	x ^= x >> 7
	x *= 0x5bd1e995
	return x ^ (x >> 13)
}

// sumMix calls the inlined helper in a hot loop; it is itself inlined into
// TestWork at one call site and called through a func value at another
// (not inlined there) -> "(partial-inline)".
func sumMix(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += mix(i) & 7
	}
	return s
}

var sumMixPtr = sumMix

var sink [][]byte

// allocate makes garbage of various sizes.
func allocate(n, size int) {
	for i := 0; i < n; i++ {
		b := make([]byte, size)
		if i%64 == 0 {
			sink = append(sink, b)
			if len(sink) > 256 {
				sink = sink[:0]
			}
		}
	}
}

//go:noinline
func smallAlloc(n int) {
	for i := 0; i < n; i++ {
		sink = append(sink, make([]byte, 16))
		if len(sink) > 1024 {
			sink = sink[:0]
		}
	}
}

// Variant selects a workload mix so that two profiles differ (for -diff_base).
func Variant() string { return os.Getenv("PPROFSPEC_VARIANT") }

// viaPtr calls sumMix through a func value, so that call is not inlined.
//
//go:noinline
func viaPtr(n int) int { return sumMixPtr(n) }
