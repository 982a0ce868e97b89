//go:build !amd64 || purego

package jpegdec

const haveAVX2 = false

func idctAVX2(b *[64]int32, dst *byte, stride int) { panic("jpegdec: no AVX2") }
