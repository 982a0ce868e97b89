//go:build amd64 && !purego

package index

import "golang.org/x/sys/cpu"

// haveScan8 reports whether this CPU runs scan8AVX512: AVX-512 with the
// VPOPCNTQ instruction (AVX512_VPOPCNTDQ), and an OS that saves ZMM state.
var haveScan8 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512VPOPCNTDQ

// haveFilter reports whether this CPU runs filterAVX512: AVX-512 with
// byte and word instructions (AVX512BW) and VPOPCNTW (AVX512_BITALG).
var haveFilter = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512BITALG

//go:noescape
func scan8AVX512(hs *Hash, n int, qw *[4][8]uint64, r uint64) (j int, mask uint64)

//go:noescape
func scan1AVX512(hs *Hash, n int, q *Hash, r uint64) (j int, mask uint64)

//go:noescape
func filterAVX512(part *uint16, n int, q uint16, lo uint16, span uint16) (j int, mask uint64)
