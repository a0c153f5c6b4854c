package shard

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
)

// MaxMemberBytes bounds one member read into memory (64 MiB): a header
// claiming more is corrupt, or an example no loader here could use.
const MaxMemberBytes = 64 << 20

// Example is one example read from a shard, its payload still encoded.
type Example struct {
	Shard string // shard file name, for messages
	Key   string // member name without the extension
	Ext   string // the payload's extension: png, jpg, jpeg, wav or txt
	Data  []byte // the payload's bytes
	Label int    // class id from the .cls member; -1 when unlabelled
}

// Member names the payload member as "<shard>: <key>.<ext>", for messages.
func (e *Example) Member() string { return e.Shard + ": " + e.Key + "." + e.Ext }

// scanner reads the examples of one shard in order.
type scanner struct {
	name string // shard file name, for messages
	m    *Manifest
	f    io.Closer
	in   *eofReader
	tr   *tar.Reader
	next *tar.Header // lookahead: the first member of the next example; nil at the end
	last string      // the last member name read, for messages
	n    int         // examples scanned
}

// openShard opens dir/e.Name for scanning; the file is read sequentially
// and the data of skipped members is seeked over, not read.
func openShard(dir string, e Entry, m *Manifest) (*scanner, error) {
	f, err := os.Open(filepath.Join(dir, e.Name))
	if err != nil {
		return nil, fmt.Errorf("shard: %w", err)
	}
	s := newScanner(f, e.Name, m)
	s.f = f
	return s, nil
}

func newScanner(r io.Reader, name string, m *Manifest) *scanner {
	in := &eofReader{r: r}
	return &scanner{name: name, m: m, in: in, tr: tar.NewReader(in), last: "(start)"}
}

// eofReader notes whether its reader ran out. archive/tar reports a file
// cut at a block boundary as a clean io.EOF; a whole archive ends with two
// zero blocks that tar reads without reaching the end of the file, so an
// io.EOF after the reader ran out means the shard was truncated. Seek
// passes through, so tar still seeks over skipped members' data.
type eofReader struct {
	r   io.Reader
	eof bool
}

func (e *eofReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		e.eof = true
	}
	return n, err
}

func (e *eofReader) Seek(off int64, whence int) (int64, error) {
	if s, ok := e.r.(io.Seeker); ok {
		return s.Seek(off, whence)
	}
	return 0, errors.New("not a seeker")
}

func (s *scanner) scanned() int  { return s.n }
func (s *scanner) where() string { return s.name }

func (s *scanner) close() {
	if s.f != nil {
		s.f.Close()
	}
}

// header returns the next regular member, or nil at the end of the shard.
func (s *scanner) header() (*tar.Header, error) {
	for {
		h, err := s.tr.Next()
		if errors.Is(err, io.EOF) && !s.in.eof {
			return nil, nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("shard: %s: truncated after member %s; rewrite the shard", s.name, s.last)
			}
			return nil, fmt.Errorf("shard: %s: after member %s: %v", s.name, s.last, err)
		}
		if h.Typeflag == tar.TypeReg || h.Typeflag == tar.TypeRegA { //nolint:staticcheck // old tars write TypeRegA
			s.last = h.Name
			return h, nil
		}
	}
}

// splitName splits a member name into its key and lower-case extension at
// the first dot of its base name, as WebDataset does.
func splitName(name string) (key, ext string, ok bool) {
	dir, base := path.Split(name)
	i := strings.IndexByte(base, '.')
	if i <= 0 || i == len(base)-1 || strings.ContainsFunc(name, unicode.IsControl) {
		return "", "", false
	}
	return dir + base[:i], strings.ToLower(base[i+1:]), true
}

// scan returns the next example, io.EOF at the end of the shard. With
// read false the members' data are skipped and only the key is returned.
func (s *scanner) scan(read bool) (*Example, error) {
	if s.n == 0 && s.next == nil {
		h, err := s.header()
		if err != nil {
			return nil, err
		}
		if s.next = h; h == nil {
			return nil, fmt.Errorf("shard: %s: no members", s.name)
		}
	}
	if s.next == nil {
		return nil, io.EOF
	}
	key, _, ok := splitName(s.next.Name)
	if !ok {
		return nil, fmt.Errorf("shard: %s: member %q is not named <key>.<ext>", s.name, s.next.Name)
	}
	ex := &Example{Shard: s.name, Key: key, Label: -1}
	var cls []byte
	hasCls := false
	for h := s.next; ; {
		k, ext, ok := splitName(h.Name)
		if !ok {
			return nil, fmt.Errorf("shard: %s: member %q is not named <key>.<ext>", s.name, h.Name)
		}
		if k != key {
			s.next = h
			break
		}
		isData := isDataExt(s.m.Kind, ext)
		if isData {
			if ex.Ext != "" {
				return nil, fmt.Errorf("shard: %s: example %s has two payloads (.%s and .%s)", s.name, key, ex.Ext, ext)
			}
			ex.Ext = ext
		}
		if read && (isData || ext == "cls") {
			b, err := s.body(h)
			if err != nil {
				return nil, err
			}
			if isData {
				ex.Data = b
			} else {
				cls, hasCls = b, true
			}
		}
		var err error
		if h, err = s.header(); err != nil {
			return nil, err
		}
		if h == nil {
			s.next = nil
			break
		}
	}
	s.n++
	if !read {
		return ex, nil
	}
	return ex, s.finish(ex, cls, hasCls)
}

// body reads one member's data, bounded by MaxMemberBytes.
func (s *scanner) body(h *tar.Header) ([]byte, error) {
	if h.Size < 0 || h.Size > MaxMemberBytes {
		return nil, fmt.Errorf("shard: %s: member %s: %d bytes, more than the %d a member may have", s.name, h.Name, h.Size, MaxMemberBytes)
	}
	// grow with the data actually read, so a header that lies about its
	// size costs no more memory than the bytes that follow it
	var buf bytes.Buffer
	buf.Grow(int(min(h.Size, 1<<20)))
	if n, err := io.Copy(&buf, s.tr); err != nil || n != h.Size {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("shard: %s: member %s: truncated (%v); rewrite the shard", s.name, h.Name, err)
	}
	b := buf.Bytes()
	return b, nil
}

// finish checks that a read example has its payload and, in a labelled
// set, a valid label.
func (s *scanner) finish(ex *Example, cls []byte, hasCls bool) error {
	want := strings.Join(dataExts[s.m.Kind], "/.")
	if ex.Ext == "" {
		return fmt.Errorf("shard: %s: example %s has no .%s member", s.name, ex.Key, want)
	}
	if !s.m.Labelled() {
		return nil
	}
	if !hasCls {
		return fmt.Errorf("shard: %s: member %s.%s has no label (no %s.cls member)", s.name, ex.Key, ex.Ext, ex.Key)
	}
	l, err := strconv.Atoi(strings.TrimSpace(string(cls)))
	if err != nil || l < 0 || l >= len(s.m.Classes) {
		return fmt.Errorf("shard: %s: member %s.cls: label %q is not a class id in [0, %d)", s.name, ex.Key, cls, len(s.m.Classes))
	}
	ex.Label = l
	return nil
}

// end checks that a shard scanned for its manifest count holds no more.
func (s *scanner) end() error {
	if s.next != nil {
		return fmt.Errorf("shard: %s: more than the %d examples the manifest says (member %s)", s.name, s.n, s.next.Name)
	}
	return nil
}

// ReadAll reads every example of a shard stream r in order, with m giving
// the kind and classes; name is used in messages. It is the plain,
// in-order reader that the fuzz test and tools use.
func ReadAll(r io.Reader, name string, m *Manifest) ([]*Example, error) {
	s := newScanner(r, name, m)
	var out []*Example
	for {
		ex, err := s.scan(true)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ex)
	}
}
