package shard

import (
	"errors"
	"fmt"
	"io"
)

// stream reads the examples of one epoch in stream order (its parts
// concatenated in the epoch's permuted order), one part open at a time.
type stream struct {
	set    Set
	counts []int
	perm   []int      // part order of the epoch
	k      int        // index into perm of the open part
	sc     partReader // the open part; nil before the first
	pos    int        // stream position of the next example
}

// seek moves to stream position pos: forwards it skips members' data
// (only headers are read); to an earlier position, or the first time,
// it opens the shard that holds pos.
func (s *stream) seek(pos int) error {
	if s.sc != nil && pos >= s.pos && s.k < len(s.perm) {
		for s.pos < pos {
			if _, err := s.scan(false); err != nil {
				return err
			}
		}
		return nil
	}
	s.close()
	start := 0
	for k, i := range s.perm {
		if n := s.counts[i]; pos < start+n {
			if err := s.open(k); err != nil {
				return err
			}
			s.pos = start
			for s.pos < pos {
				if _, err := s.scan(false); err != nil {
					return err
				}
			}
			return nil
		}
		start += s.counts[i]
	}
	return fmt.Errorf("shard: internal: position %d beyond the examples", pos)
}

func (s *stream) open(k int) error {
	sc, err := s.set.open(s.perm[k])
	if err != nil {
		return err
	}
	s.k, s.sc = k, sc
	return nil
}

// scan returns the example at the current position (its data read only
// if read) and moves on, into the next shard after a shard's last example.
func (s *stream) scan(read bool) (*Example, error) {
	count := s.counts[s.perm[s.k]]
	if s.sc.scanned() == count { // the part's count is read: the next part
		s.sc.close()
		if s.k+1 == len(s.perm) {
			return nil, fmt.Errorf("shard: internal: read past the last shard")
		}
		if err := s.open(s.k + 1); err != nil {
			return nil, err
		}
		count = s.counts[s.perm[s.k]]
	}
	ex, err := s.sc.scan(read)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("shard: %s: ends after %d examples, the manifest says %d (truncated?)", s.sc.where(), s.sc.scanned(), count)
		}
		return nil, err
	}
	if s.sc.scanned() == count { // a shard's lookahead header is read already: free to check
		if err := s.sc.end(); err != nil {
			return nil, err
		}
	}
	s.pos++
	return ex, nil
}

func (s *stream) close() {
	if s.sc != nil {
		s.sc.close()
		s.sc = nil
	}
}
