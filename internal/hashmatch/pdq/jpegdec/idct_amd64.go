//go:build amd64 && !purego

package jpegdec

import "golang.org/x/sys/cpu"

// haveAVX2 reports whether idctAVX2 runs here.
var haveAVX2 = cpu.X86.HasAVX2

// idctAVX2 is idct's general case (a full 2-D transform, level shift,
// clamp and store to dst, rows stride bytes apart; b left zero) in AVX2.
//
//go:noescape
func idctAVX2(b *[64]int32, dst *byte, stride int)
