//go:build amd64 && !purego

#include "textflag.h"

// func scan8AVX512(hs *Hash, n int, qw *[4][8]uint64, r uint64) (j int, mask uint64)
//
// Compares hs[0], hs[1], ... hs[n-1] with eight queries at once: ZMM
// register w holds word w of the eight queries, each hash word is
// broadcast, XORed and counted with VPOPCNTQ, and the four counts are
// summed lane by lane. It returns at the first hash within r of any query,
// with the mask of those queries, or j = n and mask 0.
TEXT ·scan8AVX512(SB), NOSPLIT, $0-48
	MOVQ hs+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ qw+16(FP), DI
	VMOVDQU64 0(DI), Z0
	VMOVDQU64 64(DI), Z1
	VMOVDQU64 128(DI), Z2
	VMOVDQU64 192(DI), Z3
	VPBROADCASTQ r+24(FP), Z4
	XORQ AX, AX

loop:
	CMPQ AX, CX
	JGE  none
	VPBROADCASTQ 0(SI), Z5
	VPBROADCASTQ 8(SI), Z6
	VPBROADCASTQ 16(SI), Z7
	VPBROADCASTQ 24(SI), Z8
	VPXORQ   Z0, Z5, Z5
	VPXORQ   Z1, Z6, Z6
	VPXORQ   Z2, Z7, Z7
	VPXORQ   Z3, Z8, Z8
	VPOPCNTQ Z5, Z5
	VPOPCNTQ Z6, Z6
	VPOPCNTQ Z7, Z7
	VPOPCNTQ Z8, Z8
	VPADDQ   Z5, Z6, Z5
	VPADDQ   Z7, Z8, Z7
	VPADDQ   Z5, Z7, Z5
	VPCMPUQ  $2, Z4, Z5, K1
	KMOVB    K1, BX
	TESTQ    BX, BX
	JNZ      found
	ADDQ     $32, SI
	INCQ     AX
	JMP      loop

found:
	MOVQ AX, j+32(FP)
	MOVQ BX, mask+40(FP)
	VZEROUPPER
	RET

none:
	MOVQ AX, j+32(FP)
	MOVQ $0, mask+40(FP)
	VZEROUPPER
	RET

// func scan1AVX512(hs *Hash, n int, q *Hash, r uint64) (j int, mask uint64)
//
// Compares hs[0..n) with one query, two hashes a ZMM register: the query
// is broadcast to both halves, each lane's count comes from VPOPCNTQ, and
// two permute-and-add steps leave each hash's distance in its four lanes.
// It returns at the first pair holding a hash within r, with mask bits 0-3
// set for hs[j] and 4-7 for hs[j+1]; or, with mask 0, the count of hashes
// it compared (n rounded down to even).
TEXT ·scan1AVX512(SB), NOSPLIT, $0-48
	MOVQ hs+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ q+16(FP), DI
	VBROADCASTI64X4 0(DI), Z0
	VPBROADCASTQ r+24(FP), Z4
	XORQ AX, AX

loop1:
	LEAQ 2(AX), DX
	CMPQ DX, CX
	JGT  none1
	VPXORQ   0(SI), Z0, Z5
	VPOPCNTQ Z5, Z5
	VPERMQ   $0x4E, Z5, Z6
	VPADDQ   Z6, Z5, Z5
	VPSHUFD  $0x4E, Z5, Z6
	VPADDQ   Z6, Z5, Z5
	VPCMPUQ  $2, Z4, Z5, K1
	KMOVB    K1, BX
	TESTQ    BX, BX
	JNZ      found1
	ADDQ     $64, SI
	MOVQ     DX, AX
	JMP      loop1

found1:
	MOVQ AX, j+32(FP)
	MOVQ BX, mask+40(FP)
	VZEROUPPER
	RET

none1:
	MOVQ AX, j+32(FP)
	MOVQ $0, mask+40(FP)
	VZEROUPPER
	RET

// func filterAVX512(part *uint16, n int, q uint16, lo uint16, span uint16) (j int, mask uint64)
//
// The partner filter of runMIH, 32 entries a pass: each 16-bit entry is
// XORed with the query's partner value q, counted with VPOPCNTW (AVX-512
// BITALG), and kept when its count c satisfies lo <= c <= lo+span, tested
// as the unsigned (c - lo) <= span (a count below lo wraps to a large
// value). It returns at the first 32 entries holding a kept one, j being
// the first of them and mask bit i marking entry j+i; or j = n and mask 0.
// The last, partial pass uses a masked load, so it never reads past
// part[n-1].
TEXT ·filterAVX512(SB), NOSPLIT, $0-40
	MOVQ part+0(FP), SI
	MOVQ n+8(FP), CX
	VPBROADCASTW q+16(FP), Z0
	VPBROADCASTW lo+18(FP), Z1
	VPBROADCASTW span+20(FP), Z2
	XORQ AX, AX

floop:
	MOVQ CX, DX
	SUBQ AX, DX
	CMPQ DX, $32
	JLT  ftail
	VMOVDQU16 (SI)(AX*2), Z3
	VPXORQ    Z0, Z3, Z3
	VPOPCNTW  Z3, Z3
	VPSUBW    Z1, Z3, Z3
	VPCMPUW   $2, Z2, Z3, K1
	KMOVD     K1, BX
	TESTL     BX, BX
	JNZ       ffound
	ADDQ      $32, AX
	JMP       floop

ftail:
	TESTQ DX, DX
	JLE   fnone
	MOVQ  DX, CX
	MOVL  $1, BX
	SHLL  CX, BX
	DECL  BX
	KMOVD BX, K2
	VMOVDQU16.Z (SI)(AX*2), K2, Z3
	VPXORQ    Z0, Z3, Z3
	VPOPCNTW  Z3, Z3
	VPSUBW    Z1, Z3, Z3
	VPCMPUW   $2, Z2, Z3, K2, K1
	KMOVD     K1, BX
	TESTL     BX, BX
	JNZ       ffound
	ADDQ      DX, AX

fnone:
	MOVQ AX, j+24(FP)
	MOVQ $0, mask+32(FP)
	VZEROUPPER
	RET

ffound:
	MOVQ AX, j+24(FP)
	MOVQ BX, mask+32(FP)
	VZEROUPPER
	RET
