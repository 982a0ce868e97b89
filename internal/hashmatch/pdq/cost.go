package pdq

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
)

// hashScratch is the memory hashing a decoded image takes beside it: the
// Hasher's buffers for a 512x512 luma (the resize bounds them) and the
// variants' copies, rounded up.
const hashScratch = 8 << 20

// decodeCost estimates, from the header alone, the most memory decoding
// and hashing data takes: the decoded image in the layout its decoder
// gives, the decoder's working buffers, a copy of the input and the
// hashing's scratch. It errs on the high side: a budget that counts it
// holds what the decoders really allocate, which a pixel count does not (a
// progressive JPEG takes 5 bytes a sample, a 16-bit RGBA PNG 8 a pixel, a
// grey baseline JPEG 2).
func decodeCost(f *format, cfg image.Config, data []byte) int64 {
	w, h := int64(cfg.Width), int64(cfg.Height)
	px := w * h
	var n int64
	switch f.name {
	case "jpeg":
		n = jpegCost(data, w, h)
	case "png":
		bpp := modelBytes(cfg.ColorModel)
		n = bpp*px + 2*(bpp*w+1) // the image, the current and previous rows
		if pngInterlaced(data) {
			n += bpp * px // each pass's image, merged into the whole one
		}
	case "gif":
		n = 2 * px // the first frame, and its copy when interlaced
	case "webp":
		// A lossy file (VP8) decodes into 4:2:0 planes of whole 16x16
		// macroblocks; a lossless one (VP8L) into 4-byte pixels, copied
		// once more by its colour-indexing transform, and an extended one
		// (VP8X) may hold either, its alpha decoded as a lossless image.
		if len(data) >= 16 && string(data[12:16]) == "VP8 " {
			n = 2 * 16 * ((w + 15) / 16) * 16 * ((h + 15) / 16)
		} else {
			n = 8 * px
		}
	case "bmp":
		n = modelBytes(cfg.ColorModel)*px + 4*w
	case "tiff":
		// The image, and one strip or tile's samples (as large as the
		// image when it is one strip) in a buffer that may grow to twice
		// its size.
		n = 3 * modelBytes(cfg.ColorModel) * px
	default:
		n = 8 * px
	}
	return n + int64(len(data)) + hashScratch
}

// modelBytes is the bytes a pixel of an image of model m takes in memory.
func modelBytes(m color.Model) int64 {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		return 4
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 8
}

// pngInterlaced reads the interlace method of a PNG's IHDR, which comes
// first.
func pngInterlaced(data []byte) bool {
	return len(data) > 28 && string(data[12:16]) == "IHDR" && data[28] != 0
}

// jpegCost is decodeCost for a JPEG of w x h, from its frame header
// (SOF): image/jpeg and jpegdec decode each component into a plane of
// whole MCUs, one byte a sample; a progressive file (SOF2) also keeps every
// coefficient, 4 bytes a sample, until its last scan; a sequential one may
// have its planes allocated twice, when jpegdec gives up on it part way and
// image/jpeg starts again. CMYK, and RGB (an Adobe marker of transform 0 or
// components named R, G, B), are then converted into 4 bytes a pixel.
func jpegCost(data []byte, w, h int64) int64 {
	sof, comps := jpegFrame(data)
	if len(comps) == 0 {
		return 16 * w * h // no frame header found: the worst case
	}
	h0, v0 := int64(comps[0].h), int64(comps[0].v)
	if len(comps) == 1 {
		h0, v0 = 1, 1 // image/jpeg's grey images have 8x8 MCUs
	}
	mxx, myy := (w+8*h0-1)/(8*h0), (h+8*v0-1)/(8*v0)
	var planes int64
	for _, c := range comps {
		ch, cv := int64(c.h), int64(c.v)
		if len(comps) == 1 {
			ch, cv = 1, 1
		}
		planes += 64 * mxx * myy * ch * cv
	}
	n := 2 * planes
	if sof == 0xc2 {
		n = 5 * planes
	}
	rgb := len(comps) == 3 && comps[0].id == 'R' && comps[1].id == 'G' && comps[2].id == 'B'
	if len(comps) == 4 || (len(comps) == 3 && (rgb || adobeRGB(data))) {
		n += 4 * w * h
	}
	return n
}

type jpegComp struct {
	id   byte
	h, v byte
}

// jpegFrame finds the first frame header (SOFn) before the first scan and
// returns its marker and components; none when there is none.
func jpegFrame(data []byte) (byte, []jpegComp) {
	pos := 2
	for pos+4 <= len(data) {
		if data[pos] != 0xff {
			return 0, nil
		}
		m := data[pos+1]
		if m == 0xff { // fill byte
			pos++
			continue
		}
		if m == 0xd8 || m == 0x01 || (m >= 0xd0 && m <= 0xd7) { // no length
			pos += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(data[pos+2:]))
		if n < 2 { // a segment's length counts its own two bytes
			return 0, nil
		}
		body := data[pos+4 : min(pos+2+n, len(data))]
		switch {
		case m == 0xda || m == 0xd9: // SOS, EOI
			return 0, nil
		case m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc:
			if len(body) < 6 {
				return 0, nil
			}
			nc := int(body[5])
			if nc < 1 || nc > 4 || len(body) < 6+3*nc {
				return 0, nil
			}
			comps := make([]jpegComp, nc)
			for i := range comps {
				c := body[6+3*i:]
				comps[i] = jpegComp{id: c[0], h: max(c[1]>>4, 1), v: max(c[1]&0x0f, 1)}
			}
			return m, comps
		}
		pos += 2 + n
	}
	return 0, nil
}

// adobeRGB reports whether data holds an Adobe (APP14) marker of colour
// transform 0, which makes image/jpeg convert 3 components to RGB. It looks
// through the whole file, as image/jpeg reads such a marker wherever it is.
func adobeRGB(data []byte) bool {
	for i := 0; ; {
		k := bytes.Index(data[i:], []byte{0xff, 0xee})
		if k < 0 {
			return false
		}
		i += k + 2
		// length (2), "Adobe", version (2), flags0 (2), flags1 (2), transform
		if len(data) >= i+14 && string(data[i+2:i+7]) == "Adobe" && data[i+13] == 0 {
			return true
		}
	}
}
