//go:build !unix

package store

// processRunning cannot tell here whether a process runs: it says so, and
// the files of backups that did not finish are left for the operator.
func processRunning(pid int) bool { return true }
