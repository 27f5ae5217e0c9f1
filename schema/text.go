package schema

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// What a file's bytes are, before YAML: netdep reads UTF-8 only, and says
// which encoding it found instead, and where the first byte YAML cannot take
// is, so that every problem of a file has a line and a column.

// encoding is a text encoding netdep recognises but does not read.
type encoding struct {
	name  string // "UTF-16 (little-endian)"
	unit  int    // 2 or 4 bytes
	big   bool
	bom   bool // the text starts with a byte order mark
	label string
}

// textEncoding names the encoding of data when it is UTF-16 or UTF-32: by
// its byte order mark, or, without one, by the NUL bytes ASCII has in those
// encodings (YAML 1.2, section 5.2: the first character of a stream is
// ASCII, so its zero bytes tell the encoding). UTF-32 is tried first: its
// little-endian mark starts with UTF-16's. nil for anything else.
func textEncoding(data []byte) *encoding {
	at := func(s string) bool { return bytes.HasPrefix(data, []byte(s)) }
	nonzero := func(i int) bool { return len(data) > i && data[i] != 0 }
	switch {
	case at("\x00\x00\xfe\xff"):
		return &encoding{name: "UTF-32 (big-endian)", unit: 4, big: true, bom: true, label: "UTF-32"}
	case at("\xff\xfe\x00\x00"):
		return &encoding{name: "UTF-32 (little-endian)", unit: 4, bom: true, label: "UTF-32"}
	case at("\xfe\xff"):
		return &encoding{name: "UTF-16 (big-endian)", unit: 2, big: true, bom: true, label: "UTF-16"}
	case at("\xff\xfe"):
		return &encoding{name: "UTF-16 (little-endian)", unit: 2, bom: true, label: "UTF-16"}
	case at("\x00\x00\x00") && nonzero(3):
		return &encoding{name: "UTF-32 (big-endian)", unit: 4, big: true, label: "UTF-32"}
	case nonzero(0) && len(data) >= 4 && at(string(data[:1])+"\x00\x00\x00"):
		return &encoding{name: "UTF-32 (little-endian)", unit: 4, label: "UTF-32"}
	case at("\x00") && nonzero(1):
		return &encoding{name: "UTF-16 (big-endian)", unit: 2, big: true, label: "UTF-16"}
	case nonzero(0) && len(data) >= 2 && data[1] == 0:
		return &encoding{name: "UTF-16 (little-endian)", unit: 2, label: "UTF-16"}
	}
	return nil
}

// problem is the one message for a file in enc.
func (e *encoding) problem(file string) Problem {
	how := "without a byte order mark"
	if e.bom {
		how = fmt.Sprintf("(it starts with a %s byte order mark)", e.label)
	}
	return errorf(Pos{File: file, Line: 1, Column: 1}, "", "expected UTF-8 text, found %s %s; save the file as UTF-8", e.name, how)
}

// decode turns text in enc into UTF-8, only to look for a netdep marker in
// it; bytes that do not decode become U+FFFD.
func (e *encoding) decode(data []byte) []byte {
	if e.bom {
		data = data[e.unit:]
	}
	order := binary.ByteOrder(binary.LittleEndian)
	if e.big {
		order = binary.BigEndian
	}
	var out []byte
	if e.unit == 4 {
		for i := 0; i+3 < len(data); i += 4 {
			out = utf8.AppendRune(out, rune(order.Uint32(data[i:])))
		}
		return out
	}
	units := make([]uint16, 0, len(data)/2)
	for i := 0; i+1 < len(data); i += 2 {
		units = append(units, order.Uint16(data[i:]))
	}
	return []byte(string(utf16.Decode(units)))
}

// forbiddenRune finds the first character of UTF-8 text that YAML does not
// allow in a stream (YAML 1.2, section 5.1: no C0 or C1 control character
// but tab, line feed, carriage return and next line; no U+FFFE or U+FFFF).
// yaml.v3 refuses them with "control characters are not allowed" and no
// position; this gives the offset of the culprit, -1 if there is none.
func forbiddenRune(data []byte) (off int, r rune) {
	for i := 0; i < len(data); {
		c := data[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
				return i, rune(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r >= 0x80 && r <= 0x9f && r != 0x85 || r == 0xfffe || r == 0xffff {
			return i, r
		}
		i += size
	}
	return -1, 0
}

// forbiddenProblem is the message for a character forbiddenRune found.
func forbiddenProblem(file string, data []byte, off int, r rune) Problem {
	what := "the control character"
	if r >= 0xfffe {
		what = "the non-character"
	}
	return errorf(offsetPos(file, data, off), "", "expected yaml text, found %s U+%04X; remove it (yaml allows no control characters but tab, line feed and carriage return)", what, r)
}

// offsetPos is the 1-based line and column (in characters, as yaml.v3
// counts them) of byte offset off in data.
func offsetPos(file string, data []byte, off int) Pos {
	off = min(off, len(data))
	before := data[:off]
	line := 1 + bytes.Count(before, []byte("\n"))
	start := bytes.LastIndexByte(before, '\n') + 1
	return Pos{File: file, Line: line, Column: 1 + utf8.RuneCount(before[start:])}
}

// invalidUTF8Pos is the position of the first byte that is not UTF-8.
func invalidUTF8Pos(file string, data []byte) Pos {
	off := 0
	for off < len(data) {
		r, size := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		off += size
	}
	return offsetPos(file, data, off)
}
