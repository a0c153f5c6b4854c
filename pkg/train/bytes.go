package train

import (
	"encoding/binary"
	"math"
)

func putF64(b []byte, x float64) { binary.LittleEndian.PutUint64(b, math.Float64bits(x)) }
