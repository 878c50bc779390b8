package flagd

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"unicode/utf8"
)

// canonicalCBOR encodes a JSON value (nil, bool, float64, string, []any,
// map[string]any) as canonical CBOR, the bytes fractional v3 hashes:
// definite lengths, shortest integer heads, map keys sorted by their
// encoded bytes (shorter first, as RFC 7049 §3.9 and RFC 8949 §4.2.1 agree
// for text keys), whole numbers in int64 range as integers (so 1.0, 1 and
// -0.0 bucket as 1, 1 and 0) and other floats in the shortest of half,
// single and double precision that keeps the value. The few bytes are
// written here rather than with a library so that the hash input is pinned
// by this file alone.
func canonicalCBOR(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := encodeCBOR(&buf, v, 0); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// maxCBORDepth bounds nesting; contexts are already depth-limited, this
// keeps the encoder safe on its own.
const maxCBORDepth = 64

func encodeCBOR(buf *bytes.Buffer, v any, depth int) error {
	if depth > maxCBORDepth {
		return fmt.Errorf("nested more than %d levels", maxCBORDepth)
	}
	switch x := v.(type) {
	case nil:
		buf.WriteByte(0xf6)
	case bool:
		buf.WriteByte(map[bool]byte{false: 0xf4, true: 0xf5}[x])
	case float64:
		encodeNumber(buf, x)
	case string:
		if !utf8.ValidString(x) {
			return fmt.Errorf("string is not valid UTF-8")
		}
		writeHead(buf, 3, uint64(len(x)))
		buf.WriteString(x)
	case []any:
		writeHead(buf, 4, uint64(len(x)))
		for _, e := range x {
			if err := encodeCBOR(buf, e, depth+1); err != nil {
				return err
			}
		}
	case map[string]any:
		return encodeMap(buf, x, depth)
	default:
		return fmt.Errorf("%s cannot be a bucketing value", typeName(v))
	}
	return nil
}

func encodeMap(buf *bytes.Buffer, m map[string]any, depth int) error {
	type entry struct{ key, val []byte }
	entries := make([]entry, 0, len(m))
	for k, v := range m {
		var kb, vb bytes.Buffer
		if err := encodeCBOR(&kb, k, depth+1); err != nil {
			return err
		}
		if err := encodeCBOR(&vb, v, depth+1); err != nil {
			return err
		}
		entries = append(entries, entry{kb.Bytes(), vb.Bytes()})
	}
	slices.SortFunc(entries, func(a, b entry) int {
		if len(a.key) != len(b.key) {
			return len(a.key) - len(b.key)
		}
		return bytes.Compare(a.key, b.key)
	})
	writeHead(buf, 5, uint64(len(entries)))
	for _, e := range entries {
		buf.Write(e.key)
		buf.Write(e.val)
	}
	return nil
}

// writeHead writes a major type with its argument in the shortest form.
func writeHead(buf *bytes.Buffer, major byte, n uint64) {
	m := major << 5
	switch {
	case n < 24:
		buf.WriteByte(m | byte(n))
	case n <= math.MaxUint8:
		buf.Write([]byte{m | 24, byte(n)})
	case n <= math.MaxUint16:
		buf.WriteByte(m | 25)
		buf.Write(binary.BigEndian.AppendUint16(nil, uint16(n)))
	case n <= math.MaxUint32:
		buf.WriteByte(m | 26)
		buf.Write(binary.BigEndian.AppendUint32(nil, uint32(n)))
	default:
		buf.WriteByte(m | 27)
		buf.Write(binary.BigEndian.AppendUint64(nil, n))
	}
}

// encodeNumber writes a whole number in int64 range as an integer, any
// other number as the shortest float that holds it exactly.
func encodeNumber(buf *bytes.Buffer, f float64) {
	if f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
		if i := int64(f); i >= 0 {
			writeHead(buf, 0, uint64(i))
		} else {
			writeHead(buf, 1, uint64(-(i + 1)))
		}
		return
	}
	if math.IsNaN(f) {
		buf.Write([]byte{0xf9, 0x7e, 0x00})
		return
	}
	if h, ok := toHalf(f); ok {
		buf.WriteByte(0xf9)
		buf.Write(binary.BigEndian.AppendUint16(nil, h))
		return
	}
	if f32 := float32(f); float64(f32) == f {
		buf.WriteByte(0xfa)
		buf.Write(binary.BigEndian.AppendUint32(nil, math.Float32bits(f32)))
		return
	}
	buf.WriteByte(0xfb)
	buf.Write(binary.BigEndian.AppendUint64(nil, math.Float64bits(f)))
}

// toHalf returns f's IEEE 754 half-precision bits when f is exactly
// representable there (normal, subnormal or infinite).
func toHalf(f float64) (uint16, bool) {
	var sign uint16
	if math.Signbit(f) {
		sign, f = 0x8000, -f
	}
	switch {
	case math.IsInf(f, 0):
		return sign | 0x7c00, true
	case f == 0:
		return sign, true
	}
	frac, exp := math.Frexp(f) // f = frac × 2^exp, frac in [0.5, 1)
	e := exp - 1               // f = (2·frac) × 2^e
	if e >= -14 && e <= 15 {
		m := (2*frac - 1) * 1024
		if m != math.Trunc(m) {
			return 0, false
		}
		return sign | uint16(e+15)<<10 | uint16(m), true
	}
	if e < -14 {
		m := f * (1 << 24) // subnormal: f = m × 2^-24
		if m != math.Trunc(m) || m < 1 || m > 1023 {
			return 0, false
		}
		return sign | uint16(m), true
	}
	return 0, false
}
