package stats

import (
	"encoding/binary"
)

// The stored columns of a chunk of records, in the order they are written.
// Every value is a code: 0 is unknown (or absent) for the enumerated tags
// (the index in their Dimension's Values), the ICCS category is its index
// in the classification plus one, ages are years plus one, region and
// offence index the import's Dictionary.
const (
	colICCS = iota
	colStage
	colUnit
	colAttempt
	colWeapon
	colContext
	colCyber
	colRegion
	colYear
	colMonth
	colDay
	colVictimSex
	colVictimAge
	colVictimCitizenship
	colRelationship
	colPerpetratorSex
	colPerpetratorAge
	colJuvenile
	colPerpetratorCitizenship
	colRecidivism
	colOffence
	colCount
	numCols
)

// colNames are the columns' names in stats_columns.
var colNames = [numCols]string{"iccs", "stage", "unit", "attempt", "weapon", "context", "cyber", "region", "year", "month", "day",
	"victim_sex", "victim_age", "victim_citizenship", "relationship", "perpetrator_sex", "perpetrator_age", "juvenile",
	"perpetrator_citizenship", "recidivism", "offence", "count"}

// colWidth is the bytes a column takes per record.
var colWidth = [numCols]int{colICCS: 2, colRegion: 2, colYear: 2, colOffence: 2, colCount: 4}

func width(c int) int {
	if w := colWidth[c]; w > 0 {
		return w
	}
	return 1
}

// chunkSize is the most records a chunk holds.
const chunkSize = 1 << 16

// chunk is up to chunkSize records, column by column. The count column is
// empty when every record counts 1 (most files: a row per offence, victim
// or person).
type chunk struct {
	n    int
	cols [numCols][]byte
	ones bool // every count so far is 1
}

func newChunk() *chunk {
	c := &chunk{ones: true}
	for i := range c.cols {
		c.cols[i] = make([]byte, 0, chunkSize*width(i))
	}
	return c
}

func (c *chunk) reset() {
	c.n, c.ones = 0, true
	for i := range c.cols {
		c.cols[i] = c.cols[i][:0]
	}
}

// add appends a record's codes (v, by column; v[colCount] the count).
func (c *chunk) add(v *[numCols]uint32) {
	for i := range numCols {
		switch width(i) {
		case 1:
			c.cols[i] = append(c.cols[i], byte(v[i]))
		case 2:
			c.cols[i] = binary.LittleEndian.AppendUint16(c.cols[i], uint16(v[i]))
		case 4:
			if i == colCount {
				if v[i] != 1 && c.ones {
					// The first count other than 1: write the ones before it.
					c.ones = false
					for range c.n {
						c.cols[i] = binary.LittleEndian.AppendUint32(c.cols[i], 1)
					}
				}
				if c.ones {
					continue
				}
			}
			c.cols[i] = binary.LittleEndian.AppendUint32(c.cols[i], v[i])
		}
	}
	c.n++
}

// get reads column col of record i from a stored column's bytes.
func get(data []byte, col, i int) uint32 {
	switch width(col) {
	case 1:
		return uint32(data[i])
	case 2:
		return uint32(binary.LittleEndian.Uint16(data[2*i:]))
	}
	if len(data) == 0 {
		return 1 // count: every record counts 1
	}
	return binary.LittleEndian.Uint32(data[4*i:])
}
