//go:build amd64 && !purego

#include "textflag.h"

// Constants of the IDCT (see idct.go), each as one int32 to broadcast; for
// a rotation by (kc, ks): kc, ks-kc and kc+ks.
DATA idctK<>+0(SB)/4, $70936    // row cos6: kc
DATA idctK<>+4(SB)/4, $-242190  // row cos6: ks-kc
DATA idctK<>+8(SB)/4, $-100318  // row cos6: kc+ks
DATA idctK<>+12(SB)/4, $181     // row 1/sqrt2
DATA idctK<>+16(SB)/4, $3406    // cos3: kc
DATA idctK<>+20(SB)/4, $-5682   // cos3: ks-kc
DATA idctK<>+24(SB)/4, $1130    // cos3: kc+ks
DATA idctK<>+28(SB)/4, $4017    // cos1: kc
DATA idctK<>+32(SB)/4, $-4816   // cos1: ks-kc
DATA idctK<>+36(SB)/4, $3218    // cos1: kc+ks
DATA idctK<>+40(SB)/4, $1108    // column cos6: kc
DATA idctK<>+44(SB)/4, $-3784   // column cos6: ks-kc
DATA idctK<>+48(SB)/4, $-1568   // column cos6: kc+ks
DATA idctK<>+52(SB)/4, $11585   // column 1/sqrt2
DATA idctK<>+56(SB)/4, $524288  // column rounding, 1<<19
DATA idctK<>+60(SB)/4, $128     // level shift
DATA idctK<>+64(SB)/4, $255     // clamp
DATA idctK<>+68(SB)/4, $0
// VPERMD order that puts each row's eight packed bytes in one quadword.
DATA idctK<>+72(SB)/4, $0
DATA idctK<>+76(SB)/4, $4
DATA idctK<>+80(SB)/4, $1
DATA idctK<>+84(SB)/4, $5
DATA idctK<>+88(SB)/4, $2
DATA idctK<>+92(SB)/4, $6
DATA idctK<>+96(SB)/4, $3
DATA idctK<>+100(SB)/4, $7
GLOBL idctK<>(SB), RODATA|NOPTR, $104

// TRANSPOSE transposes the 8x8 int32 matrix whose rows are r0..r7 into
// t0..t7 (t_k gets column k), through u0..u7 as scratch; r, t and u must
// not overlap, except that u may reuse r.
#define TRANSPOSE(r0, r1, r2, r3, r4, r5, r6, r7, t0, t1, t2, t3, t4, t5, t6, t7, u0, u1, u2, u3, u4, u5, u6, u7) \
	VPUNPCKLDQ r1, r0, t0; \
	VPUNPCKHDQ r1, r0, t1; \
	VPUNPCKLDQ r3, r2, t2; \
	VPUNPCKHDQ r3, r2, t3; \
	VPUNPCKLDQ r5, r4, t4; \
	VPUNPCKHDQ r5, r4, t5; \
	VPUNPCKLDQ r7, r6, t6; \
	VPUNPCKHDQ r7, r6, t7; \
	VPUNPCKLQDQ t2, t0, u0; \
	VPUNPCKHQDQ t2, t0, u1; \
	VPUNPCKLQDQ t3, t1, u2; \
	VPUNPCKHQDQ t3, t1, u3; \
	VPUNPCKLQDQ t6, t4, u4; \
	VPUNPCKHQDQ t6, t4, u5; \
	VPUNPCKLQDQ t7, t5, u6; \
	VPUNPCKHQDQ t7, t5, u7; \
	VPERM2I128 $0x20, u4, u0, t0; \
	VPERM2I128 $0x31, u4, u0, t4; \
	VPERM2I128 $0x20, u5, u1, t1; \
	VPERM2I128 $0x31, u5, u1, t5; \
	VPERM2I128 $0x20, u6, u2, t2; \
	VPERM2I128 $0x31, u6, u2, t6; \
	VPERM2I128 $0x20, u7, u3, t3; \
	VPERM2I128 $0x31, u7, u3, t7

// ROTATE sets y0, y1 = rotate(u, v) of idct.go: t = kc*(u+v),
// y0 = t + (ks-kc)*v, y1 = t - (kc+ks)*u, with the three constants in
// memory; t and k are scratch (y1 may be t).
#define ROTATE(u, v, kc, ksmkc, kcpks, t, k, y0, y1) \
	VPADDD v, u, t; \
	VPBROADCASTD kc, k; \
	VPMULLD k, t, t; \
	VPBROADCASTD ksmkc, k; \
	VPMULLD v, k, k; \
	VPADDD k, t, y0; \
	VPBROADCASTD kcpks, k; \
	VPMULLD u, k, k; \
	VPSUBD k, t, y1

// func idctAVX2(b *[64]int32, dst *byte, stride int)
//
// The same IDCT as idct's scalar code, eight lanes at a time: the block
// is transposed so that each register holds one coefficient of the eight
// rows, the row pass runs on those, a second transpose gives one register
// per row, and the column pass runs on the eight columns at once. Every
// operation is the scalar one in 32-bit lanes (VPMULLD keeps the low 32
// bits, VPSRAD shifts arithmetically), so results are bit for bit the
// same. The pixels are level-shifted, clamped and stored eight to a row;
// b is left zero.
TEXT ·idctAVX2(SB), NOSPLIT, $0-24
	MOVQ b+0(FP), SI
	MOVQ dst+8(FP), DI
	MOVQ stride+16(FP), DX

	VMOVDQU 0(SI), Y0
	VMOVDQU 32(SI), Y1
	VMOVDQU 64(SI), Y2
	VMOVDQU 96(SI), Y3
	VMOVDQU 128(SI), Y4
	VMOVDQU 160(SI), Y5
	VMOVDQU 192(SI), Y6
	VMOVDQU 224(SI), Y7

	// Transpose rows Y0..Y7 into coefficients X0..X7 = Y8..Y15.
	TRANSPOSE(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15, Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7)

	// Row pass. Even part.
	VPSLLD $17, Y8, Y0            // a = X0<<17
	VPSLLD $17, Y12, Y1           // c = X4<<17
	VPADDD Y1, Y0, Y2             // e0
	VPSUBD Y1, Y0, Y0             // e1
	// r2, r6 = rotate(X2, X6)
	ROTATE(Y10, Y14, idctK<>+0(SB), idctK<>+4(SB), idctK<>+8(SB), Y1, Y3, Y4, Y1)
	VPADDD Y4, Y0, Y8             // f1
	VPSUBD Y4, Y0, Y0             // f2
	VPADDD Y1, Y2, Y12            // f0
	VPSUBD Y1, Y2, Y2             // f3

	// Odd part.
	VPSLLD $7, Y9, Y1             // p = X1<<7
	VPSLLD $7, Y15, Y3            // q = X7<<7
	VPADDD Y3, Y1, Y4             // o1
	VPSUBD Y3, Y1, Y1             // o7
	VPBROADCASTD idctK<>+12(SB), Y5
	VPMULLD Y5, Y13, Y13          // m5
	VPMULLD Y5, Y11, Y11          // m3
	VPADDD Y11, Y4, Y6            // o1'
	VPSUBD Y11, Y4, Y4            // o3
	VPADDD Y13, Y1, Y7            // o7'
	VPSUBD Y13, Y1, Y1            // o5
	VPSRAD $2, Y7, Y7
	VPSRAD $2, Y6, Y6
	// g7, g1 = rotate(o7'>>2, o1'>>2)
	ROTATE(Y7, Y6, idctK<>+16(SB), idctK<>+20(SB), idctK<>+24(SB), Y3, Y5, Y9, Y10)
	VPSRAD $2, Y4, Y4
	VPSRAD $2, Y1, Y1
	// g3, g5 = rotate(o3>>2, o5>>2)
	ROTATE(Y4, Y1, idctK<>+28(SB), idctK<>+32(SB), idctK<>+36(SB), Y3, Y5, Y11, Y13)

	VPADDD Y10, Y12, Y14          // out0 = f0+g1
	VPSUBD Y10, Y12, Y15          // out7
	VPADDD Y13, Y8, Y12           // out1 = f1+g5
	VPSUBD Y13, Y8, Y10           // out6
	VPADDD Y11, Y0, Y8            // out2 = f2+g3
	VPSUBD Y11, Y0, Y13           // out5
	VPADDD Y9, Y2, Y0             // out3 = f3+g7
	VPSUBD Y9, Y2, Y11            // out4

	// Transpose outputs (Y14 Y12 Y8 Y0 Y11 Y13 Y10 Y15) into rows
	// R0..R7 = Y1 Y2 Y3 Y4 Y5 Y6 Y7 Y9.
	TRANSPOSE(Y14, Y12, Y8, Y0, Y11, Y13, Y10, Y15, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y9, Y0, Y8, Y10, Y11, Y12, Y13, Y14, Y15)

	// Column pass. Even part.
	VPBROADCASTD idctK<>+56(SB), Y0
	VPADDD Y0, Y1, Y0             // a = R0 + 1<<19
	VPADDD Y5, Y0, Y8
	VPSRAD $2, Y8, Y8             // f0
	VPSUBD Y5, Y0, Y0
	VPSRAD $2, Y0, Y0             // f1
	VPSRAD $13, Y3, Y3            // u = R2>>13
	VPSRAD $13, Y7, Y7            // v = R6>>13
	// r2, r6 = rotate(u, v)
	ROTATE(Y3, Y7, idctK<>+40(SB), idctK<>+44(SB), idctK<>+48(SB), Y1, Y5, Y10, Y1)
	VPADDD Y10, Y0, Y3            // f1'
	VPSUBD Y10, Y0, Y0            // f2
	VPADDD Y1, Y8, Y5             // f0'
	VPSUBD Y1, Y8, Y8             // f3

	// Odd part.
	VPADDD Y9, Y2, Y1             // o1 = R1+R7
	VPSUBD Y9, Y2, Y2             // o7 = R1-R7
	VPBROADCASTD idctK<>+52(SB), Y7
	VPSRAD $13, Y4, Y4
	VPMULLD Y7, Y4, Y4            // m3
	VPSRAD $13, Y6, Y6
	VPMULLD Y7, Y6, Y6            // m5
	VPADDD Y4, Y1, Y10            // o1'
	VPSUBD Y4, Y1, Y1             // o3
	VPADDD Y6, Y2, Y11            // o7'
	VPSUBD Y6, Y2, Y2             // o5
	VPSRAD $14, Y11, Y11
	VPSRAD $14, Y10, Y10
	// g7, g1 = rotate(o7'>>14, o1'>>14)
	ROTATE(Y11, Y10, idctK<>+16(SB), idctK<>+20(SB), idctK<>+24(SB), Y4, Y6, Y12, Y13)
	VPSRAD $14, Y1, Y1
	VPSRAD $14, Y2, Y2
	// g3, g5 = rotate(o3>>14, o5>>14)
	ROTATE(Y1, Y2, idctK<>+28(SB), idctK<>+32(SB), idctK<>+36(SB), Y4, Y6, Y14, Y15)

	VPADDD Y13, Y5, Y1            // row0 = f0'+g1
	VPSUBD Y13, Y5, Y5            // row7
	VPADDD Y15, Y3, Y2            // row1 = f1'+g5
	VPSUBD Y15, Y3, Y3            // row6
	VPADDD Y14, Y0, Y4            // row2 = f2+g3
	VPSUBD Y14, Y0, Y0            // row5
	VPADDD Y12, Y8, Y6            // row3 = f3+g7
	VPSUBD Y12, Y8, Y8            // row4

	// >>18, +128, clamp to 0..255.
	VPBROADCASTD idctK<>+60(SB), Y9
	VPXOR Y10, Y10, Y10
	VPBROADCASTD idctK<>+64(SB), Y11
	VPSRAD $18, Y1, Y1
	VPSRAD $18, Y2, Y2
	VPSRAD $18, Y4, Y4
	VPSRAD $18, Y6, Y6
	VPSRAD $18, Y8, Y8
	VPSRAD $18, Y0, Y0
	VPSRAD $18, Y3, Y3
	VPSRAD $18, Y5, Y5
	VPADDD Y9, Y1, Y1
	VPADDD Y9, Y2, Y2
	VPADDD Y9, Y4, Y4
	VPADDD Y9, Y6, Y6
	VPADDD Y9, Y8, Y8
	VPADDD Y9, Y0, Y0
	VPADDD Y9, Y3, Y3
	VPADDD Y9, Y5, Y5
	VPMAXSD Y10, Y1, Y1
	VPMAXSD Y10, Y2, Y2
	VPMAXSD Y10, Y4, Y4
	VPMAXSD Y10, Y6, Y6
	VPMAXSD Y10, Y8, Y8
	VPMAXSD Y10, Y0, Y0
	VPMAXSD Y10, Y3, Y3
	VPMAXSD Y10, Y5, Y5
	VPMINSD Y11, Y1, Y1
	VPMINSD Y11, Y2, Y2
	VPMINSD Y11, Y4, Y4
	VPMINSD Y11, Y6, Y6
	VPMINSD Y11, Y8, Y8
	VPMINSD Y11, Y0, Y0
	VPMINSD Y11, Y3, Y3
	VPMINSD Y11, Y5, Y5

	// Pack rows 0-3 (Y1 Y2 Y4 Y6) and 4-7 (Y8 Y0 Y3 Y5) to bytes, one
	// row per quadword.
	VMOVDQU idctK<>+72(SB), Y12
	VPACKSSDW Y2, Y1, Y1
	VPACKSSDW Y6, Y4, Y4
	VPACKUSWB Y4, Y1, Y1
	VPERMD Y1, Y12, Y1
	VPACKSSDW Y0, Y8, Y8
	VPACKSSDW Y5, Y3, Y3
	VPACKUSWB Y3, Y8, Y8
	VPERMD Y8, Y12, Y8

	// Store, and clear b.
	LEAQ (DX)(DX*2), CX           // 3*stride
	MOVQ X1, (DI)
	VPEXTRQ $1, X1, (DI)(DX*1)
	VEXTRACTI128 $1, Y1, X2
	MOVQ X2, (DI)(DX*2)
	VPEXTRQ $1, X2, (DI)(CX*1)
	LEAQ (DI)(DX*4), DI
	MOVQ X8, (DI)
	VPEXTRQ $1, X8, (DI)(DX*1)
	VEXTRACTI128 $1, Y8, X2
	MOVQ X2, (DI)(DX*2)
	VPEXTRQ $1, X2, (DI)(CX*1)

	VMOVDQU Y10, 0(SI)
	VMOVDQU Y10, 32(SI)
	VMOVDQU Y10, 64(SI)
	VMOVDQU Y10, 96(SI)
	VMOVDQU Y10, 128(SI)
	VMOVDQU Y10, 160(SI)
	VMOVDQU Y10, 192(SI)
	VMOVDQU Y10, 224(SI)
	VZEROUPPER
	RET
