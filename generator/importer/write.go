package importer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ExistsError lists the files an import would overwrite.
type ExistsError struct {
	Paths []string
}

func (e *ExistsError) Error() string {
	return fmt.Sprintf("would overwrite %s (pass --force to replace them)", strings.Join(e.Paths, ", "))
}

// WriteFiles writes files into dir. Without force it writes nothing when
// any of them exists already.
func WriteFiles(dir string, files []File, force bool) error {
	if !force {
		var exist []string
		for _, f := range files {
			p := filepath.Join(dir, f.Name)
			if _, err := os.Lstat(p); err == nil {
				exist = append(exist, p)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		if len(exist) > 0 {
			return &ExistsError{Paths: exist}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		p := filepath.Join(dir, f.Name)
		tmp := p + ".tmp"
		if err := os.WriteFile(tmp, f.Data, 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, p); err != nil {
			os.Remove(tmp)
			return err
		}
	}
	return nil
}
