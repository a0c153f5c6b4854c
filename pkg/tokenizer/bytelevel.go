package tokenizer

// byteToRune maps each byte to a printable rune so that BPE symbols never
// hold whitespace or control characters; mirrors gpt-2 encoder.py
// bytes_to_unicode. Printable Latin-1 bytes map to themselves and the other
// 68 bytes map, in byte order, to U+0100.. (so a space becomes 'Ġ', U+0120).
var byteToRune [256]rune

// runeToByte inverts byteToRune.
var runeToByte = make(map[rune]byte, 256)

func init() {
	n := rune(0)
	for b := 0; b < 256; b++ {
		if keepsByte(b) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = 256 + n
			n++
		}
		runeToByte[byteToRune[b]] = byte(b)
	}
}

// keepsByte reports whether byte b is its own rune: '!'..'~', '¡'..'¬', '®'..'ÿ'.
func keepsByte(b int) bool {
	return ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF)
}
