package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// Find looks for .harden.yaml (or .harden.yml) in dir and each folder above
// it, and returns the first it finds, or "" when there is none. The walk
// stops at the root of the repository (the folder holding .git), so that a
// checkout never picks up settings from the folders around it.
func Find(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		for _, name := range []string{FileName, AltFileName} {
			p := filepath.Join(dir, name)
			st, err := os.Stat(p)
			if err == nil && st.Mode().IsRegular() {
				return p, nil
			}
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return "", err
			}
		}
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			return "", nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil
		}
		dir = parent
	}
}

// Cache finds and loads configuration for many Dockerfiles, reading each
// file once. It is safe for concurrent use.
type Cache struct {
	mu     sync.Mutex
	byPath map[string]*entry
}

type entry struct {
	once sync.Once
	cfg  *Config
	err  error
}

// ForDir returns the configuration that applies to files in dir, or nil
// when there is none.
func (c *Cache) ForDir(dir string) (*Config, error) {
	p, err := Find(dir)
	if err != nil || p == "" {
		return nil, err
	}
	return c.Load(p)
}

// Load reads a configuration file once and returns the same result to
// every caller.
func (c *Cache) Load(path string) (*Config, error) {
	c.mu.Lock()
	if c.byPath == nil {
		c.byPath = map[string]*entry{}
	}
	e, ok := c.byPath[path]
	if !ok {
		e = &entry{}
		c.byPath[path] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.cfg, e.err = Load(path) })
	return e.cfg, e.err
}
