// Package atomicfile writes files so that readers (and a process killed
// mid-write) see either the old file or the complete new one, never a part.
//
// It may import the standard library only.
package atomicfile
