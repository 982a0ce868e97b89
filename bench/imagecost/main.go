// Command imagecost writes small image files that declare large images, the
// inputs of the decode budget's measurements (BENCHMARKS.md, "Images that
// cost more to decode than their pixels say"): a few hundred KB each, which
// the decoders turn into hundreds of MB or more.
//
//	go run ./bench/imagecost -out DIR [-size 10000]
//	/usr/bin/time -v custos hashmatch hash DIR/progressive444.jpg
//
// progressive444.jpg is a progressive JPEG (SOF2) of 3 full-resolution
// components with one DC scan of zero bits, which image/jpeg decodes into
// 4-byte coefficients and 1-byte samples: 15 bytes a pixel. baseline444.jpg
// is the same image sequential (SOF0): 3 bytes a pixel. png16.png is a
// 16-bit RGBA PNG of zeros: 8 bytes a pixel.
package main

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"flag"
	"fmt"
	"hash/crc32"
	"log"
	"os"
	"path/filepath"
)

// usage heads -help: what the harness measures.
const usage = `Usage: go run ./bench/imagecost [flags]

Writes small image files that declare large images (progressive444.jpg,
baseline444.jpg, png16.png), the inputs of the decode budget's measurements
(custos hashmatch hash, bench/decodefair). It measures nothing itself.

`

func main() {
	out := flag.String("out", ".", "directory to write the files to")
	size := flag.Int("size", 10000, "width and height of each image, at most 65535")
	flag.Usage = func() {
		fmt.Fprint(flag.CommandLine.Output(), usage)
		flag.PrintDefaults()
	}
	flag.Parse()
	if *size < 8 || *size > 65535 {
		log.Fatal("-size must be 8 to 65535")
	}
	n := *size
	for name, data := range map[string][]byte{
		"progressive444.jpg": jpegOfZeros(n, true),
		"baseline444.jpg":    jpegOfZeros(n, false),
		"png16.png":          png16OfZeros(n),
	} {
		if err := os.WriteFile(filepath.Join(*out, name), data, 0o644); err != nil {
			log.Fatal(err)
		}
		log.Printf("%s: %dx%d, %d bytes", name, n, n, len(data))
	}
}

// jpegOfZeros is an n x n JPEG of 3 components sampled 1x1 whose scan is
// all zero bits: with a DC table whose only code, "0", is difference 0 (and,
// sequential, an AC table whose only code, "0", ends the block), every block
// is flat grey.
func jpegOfZeros(n int, progressive bool) []byte {
	var b bytes.Buffer
	seg := func(marker byte, body ...byte) {
		b.Write([]byte{0xff, marker, byte((len(body) + 2) >> 8), byte(len(body) + 2)})
		b.Write(body)
	}
	b.Write([]byte{0xff, 0xd8})                                     // SOI
	seg(0xdb, append([]byte{0}, bytes.Repeat([]byte{1}, 64)...)...) // DQT 0, all ones
	sof := byte(0xc0)
	if progressive {
		sof = 0xc2
	}
	seg(sof, 8, byte(n>>8), byte(n), byte(n>>8), byte(n), 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0)
	oneCode := append([]byte{1}, make([]byte, 15)...)            // one code of length 1
	seg(0xc4, append(append([]byte{0x00}, oneCode...), 0x00)...) // DC table 0: symbol 0
	bits := 1                                                    // bits a block
	if !progressive {
		seg(0xc4, append(append([]byte{0x10}, oneCode...), 0x00)...) // AC table 0: EOB
		bits = 2
	}
	if progressive {
		seg(0xda, 3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 0, 0) // DC first scan, Ss=Se=Ah=Al=0
	} else {
		seg(0xda, 3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0)
	}
	blocks := ((n + 7) / 8) * ((n + 7) / 8) * 3
	b.Write(make([]byte, (blocks*bits+7)/8))
	b.Write([]byte{0xff, 0xd9}) // EOI
	return b.Bytes()
}

// png16OfZeros is an n x n 16-bit RGBA PNG whose pixels are all zero.
func png16OfZeros(n int) []byte {
	var b bytes.Buffer
	chunk := func(kind string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(kind))
		crc.Write(data)
		b.WriteString(kind)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	b.WriteString("\x89PNG\r\n\x1a\n")
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(n))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(n))
	ihdr[8], ihdr[9] = 16, 6 // 16 bits, RGBA
	chunk("IHDR", ihdr[:])
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	w := bufio.NewWriter(zw)
	row := make([]byte, 1+8*n) // filter byte 0, then zeros
	for range n {
		w.Write(row)
	}
	w.Flush()
	zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return b.Bytes()
}
