//go:build !amd64 || purego

package index

var (
	haveScan8  = false
	haveFilter = false
)

func scan8AVX512(hs *Hash, n int, qw *[4][8]uint64, r uint64) (j int, mask uint64) {
	panic("index: scan8AVX512 without AVX-512")
}

func scan1AVX512(hs *Hash, n int, q *Hash, r uint64) (j int, mask uint64) {
	panic("index: scan1AVX512 without AVX-512")
}

func filterAVX512(part *uint16, n int, q uint16, lo uint16, span uint16) (j int, mask uint64) {
	panic("index: filterAVX512 without AVX-512")
}
