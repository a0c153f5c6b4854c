package atomicfile

import (
	"io"
	"os"
	"path/filepath"
)

// Write calls body on a temporary file ".tmp-<base>-<random>" in path's
// directory, fsyncs and closes it, renames it over path and fsyncs the
// directory. On any error the temporary file is removed and an existing file
// at path is left untouched. The file gets mode 0644.
func Write(path string, body func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, ".tmp-"+base+"-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close() // may already be closed; the first error is the one to report
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := body(tmp); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil { // CreateTemp makes 0600
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes the rename durable. After the rename the new file is in
// place, so a failure here is reported but nothing is removed.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		_ = d.Close()
		return err
	}
	return d.Close()
}
