// Package golden keeps the golden log: a short registry history, written by
// custos's own commands, that holds a leaf of every entry type of every
// module, committed under testdata/ with its head, its signed checkpoint and
// the synthetic key that signed it. Its test replays those leaves through the
// deployment's projections on every database engine and verifies the result,
// so a change that would leave an existing registry unreadable (a renamed,
// removed or retyped field of an entry) fails the build. The package has no
// code of its own: the generator and the test are in its tests. See
// docs/architecture.md, "How an entry type is versioned".
package golden
