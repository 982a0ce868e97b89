// Package index is an exact Hamming radius-search index over 256-bit PDQ
// hashes, built for tens of millions of hashes.
//
// # Search
//
// Search finds every stored hash within Hamming distance r of a query,
// never missing one, for any r from 0 to MaxRadius (256). For r <= 47 it
// uses multi-index hashing (Norouzi, Punjani and Fleet, "Fast exact search
// in Hamming space with multi-index hashing", as in ThreatExchange's C++
// mih.h): the 256 bits are cut into 16 slots of 16 bits, each slot value
// is indexed in a compact CSR table, and the query probes every slot value
// close enough that the pigeonhole principle guarantees each match lies in
// a probed bucket (272 buckets at r = 31). Unlike plain MIH, slots are
// paired into 32-bit super-slots and every table entry carries its partner
// slot's value, so a second pigeonhole step rejects about 99.7% of bucket
// entries with a sequential 2-byte read, and only a handful of hashes per
// query are fetched at random for the full 256-bit comparison; layout.go
// gives the argument. On CPUs with AVX-512 BITALG that filter runs 32
// entries a pass (VPOPCNTW, filterAVX512), elsewhere four a pass in Go. Each match is reported once, from its first
// admitting slot, without a per-query "seen" set.
//
// # Clusters
//
// Near-duplicates of a few pictures share slot values, so some buckets
// would hold thousands of entries and every query near them would verify
// thousands of candidates. Build finds those dense buckets (more than 8
// times the expected n/65536 entries and more than 64; a random haystack
// has none) and takes their hashes out of the tables into groups: each
// group has a centre (the bitwise majority of its members) and holds every
// hash within 64 bits of it, stored again contiguously and sorted by
// distance to the centre. Hamming distance is a metric, so a query at
// distance D from a centre can only match members whose own distance to
// it lies in [D-r, D+r]: a query compares itself with each centre and
// scans only that band of each group, with the single-query scan kernel,
// and a random query (128 ± 8 bits from every centre) almost never
// reaches a band. At most 1024 groups are kept, the largest clusters.
// groups.go gives the construction.
//
// # Choosing the path
//
// Before probing, a query prices its plan from the bucket sizes and the
// groups' bands; when that costs more than reading every hash (large r,
// small indexes, clusters the groups do not capture) it runs a tight
// linear scan instead, and runMIH gives up for the scan midway when
// verifications explode. SearchBatch
// spreads queries over GOMAXPROCS goroutines and runs the scan-bound ones
// as a cache-blocked scan that compares each chunk of the haystack with
// many queries while it is in cache. On CPUs with AVX-512 VPOPCNTQ the
// scans use assembly kernels (scan8_amd64.s): eight queries a pass for
// batches, two hashes a register for one query, which then runs at the
// memory bandwidth; elsewhere Go kernels (four queries a pass) do.
//
// # Storage
//
// Hashes are stored once, contiguously (32 B each), with their uint64 ids
// (8 B, not stored at all when the ids are 0..n-1, as in a bank's index)
// and, per slot, a uint32 position and a uint16 partner value (6 B per
// slot, 96 B in all): 128 B per hash with dense ids plus 4 MiB of offset
// tables. A hash in a group has no table entries but is stored a second
// time in its group with its position (36 B): 68 B. MemoryBytes reports
// it. Indexes under 16384 hashes get no tables
// and are always scanned. The 16 tables are the price of exact radius-31
// search at these speeds: an entry names a position and a partner value
// within its bucket, at least 33.4 bits however it is coded, so no layout
// with these tables fits in 64 B a hash, and the layouts that do read 20
// times more entries or make 40 to 400 times more random reads a query.
// docs/hashmatch.md ("The index") gives the trade-off.
//
// WriteFile and BuildFile save an index as a file of exactly these arrays
// (a header with a version, a CRC-32C of its fields and an HMAC-SHA-256
// of the whole under the caller's key; see file.go) and Open memory-maps
// one, so that a restart serves after one pass of the MAC over the file,
// on every core, instead of a rebuild. BuildFile builds one slot pair at a time
// and writes it out, so building 100 million hashes never holds the whole
// index in memory.
//
// # Updates
//
// Add and Remove work after Build without a rebuild: additions go to a
// small unsorted delta that every query scans, removals set tombstones,
// and once the delta outgrows a threshold that grows with the index (1024
// to 8192 entries) the delta and tombstones are folded into a freshly
// built main segment (its groups found anew, then a counting sort per
// slot, slot pairs in parallel),
// so the rebuild cost is amortised over many updates. Compact folds them
// in on demand. A merge needs memory for the old and the new segment at
// once. For bulk loading use Build: it is far cheaper than repeated Add.
//
// # Concurrency
//
// An Index is safe for concurrent use: any number of goroutines may search
// while others Add, Remove or Compact. Writers are serialised with one
// another; searches share a read lock, and a merge builds the new segment
// while searches continue, taking the write lock only to publish it.
//
// # Hashes
//
// Hash is [4]uint64; its doc comment fixes the bit layout relative to the
// canonical 64-digit PDQ hex string and the 32-byte big-endian form, and
// ParseHex, String, HashFromBytes and Bytes convert, so an adapter from
// another PDQ hash type is one line.
package index
