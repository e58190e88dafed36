package detect

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"go.yaml.in/yaml/v3"
)

// Manifests are decoded with real parsers into generic trees and read with
// the lenient accessors below: a field of an unexpected type is simply not
// there, so one odd value never hides the rest of the file. Decoding
// errors become notes with the parser's line.

// document reads and decodes a manifest once per scan; decode notes why a
// file cannot be used and returns nil for it.
func (s *scan) document(p string, decode func(data []byte) map[string]any) map[string]any {
	if v, ok := s.parsed[p]; ok {
		m, _ := v.(map[string]any)
		return m
	}
	var m map[string]any
	if data := s.read(p); data != nil {
		m = decode(data)
	}
	s.parsed[p] = m
	return m
}

// jsonObject decodes a JSON object, or notes why it cannot.
func (s *scan) jsonObject(p string) map[string]any {
	return s.document(p, func(data []byte) map[string]any {
		var v any
		if err := json.NewDecoder(bytes.NewReader(data)).Decode(&v); err != nil {
			s.note(p, jsonErrorLine(data, err), "invalid JSON: "+jsonErrorText(err))
			return nil
		}
		obj, ok := v.(map[string]any)
		if !ok {
			s.note(p, 1, "is not a JSON object")
		}
		return obj
	})
}

func jsonErrorLine(data []byte, err error) int {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return lineAt(data, int(se.Offset))
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return lineAt(data, int(te.Offset))
	}
	return 0
}

func jsonErrorText(err error) string {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "the file ends in the middle of a value"
	}
	return err.Error()
}

// tomlTable decodes a TOML document, or notes why it cannot.
func (s *scan) tomlTable(p string) map[string]any {
	return s.document(p, func(data []byte) map[string]any {
		var m map[string]any
		if err := toml.Unmarshal(data, &m); err != nil {
			line := 0
			var de *toml.DecodeError
			if errors.As(err, &de) {
				line, _ = de.Position()
			}
			s.note(p, line, "invalid TOML: "+tomlErrorText(err))
			return nil
		}
		return m
	})
}

func tomlErrorText(err error) string {
	var de *toml.DecodeError
	if errors.As(err, &de) {
		return de.Error()
	}
	return err.Error()
}

// yamlDoc decodes a YAML document into a generic tree, or notes why it cannot.
func (s *scan) yamlDoc(p string) map[string]any {
	return s.document(p, func(data []byte) map[string]any {
		var m map[string]any
		if err := yaml.Unmarshal(data, &m); err != nil {
			s.note(p, 0, "invalid YAML: "+strings.TrimPrefix(err.Error(), "yaml: "))
			return nil
		}
		return m
	})
}

// xmlDecode decodes an XML document into v, or notes why it cannot.
func (s *scan) xmlDecode(p string, v any) bool {
	data := s.read(p)
	if data == nil {
		return false
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	// Manifests declare UTF-8 or a superset harden does not need to decode
	// exactly: element names and versions are ASCII.
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	if err := dec.Decode(v); err != nil {
		line := 0
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			line = se.Line
		}
		s.note(p, line, "invalid XML: "+strings.TrimPrefix(err.Error(), fmt.Sprintf("XML syntax error on line %d: ", line)))
		return false
	}
	return true
}

// value walks a decoded tree along keys.
func value(m map[string]any, keys ...string) any {
	var cur any = m
	for _, k := range keys {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = obj[k]
	}
	return cur
}

// str is the string at keys, or "".
func str(m map[string]any, keys ...string) string {
	s, _ := value(m, keys...).(string)
	return s
}

// table is the object at keys, or nil.
func table(m map[string]any, keys ...string) map[string]any {
	t, _ := value(m, keys...).(map[string]any)
	return t
}

// strs is the list of strings at keys; non-string items are skipped.
func strs(m map[string]any, keys ...string) []string {
	return stringList(value(m, keys...))
}

func stringList(v any) []string {
	var out []string
	switch l := v.(type) {
	case []any:
		for _, item := range l {
			if s, ok := item.(string); ok {
				out = append(out, s)
			}
		}
	case []string:
		out = l
	}
	return out
}

// tables is the array of tables at keys ([[bin]] in TOML).
func tables(m map[string]any, keys ...string) []map[string]any {
	var out []map[string]any
	switch l := value(m, keys...).(type) {
	case []any:
		for _, item := range l {
			if t, ok := item.(map[string]any); ok {
				out = append(out, t)
			}
		}
	case []map[string]any:
		out = l
	}
	return out
}

// lineAt is the 1-based line of byte offset off.
func lineAt(data []byte, off int) int {
	off = min(max(off, 0), len(data))
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// lineOf is the first line holding needle, or 0. Parsers return values
// without positions; the first line that mentions a key or value is where
// a reader looks, which is what evidence needs.
func lineOf(data []byte, needle string) int {
	if needle == "" {
		return 0
	}
	i := bytes.Index(data, []byte(needle))
	if i < 0 {
		return 0
	}
	return lineAt(data, i)
}

// lineOfKey is the first line where key is a key: quoted and followed by
// a colon (JSON), or at a line start followed by = or : (TOML, INI, YAML).
func lineOfKey(data []byte, key string) int {
	quoted := []byte(`"` + key + `"`)
	for off := 0; ; {
		i := bytes.Index(data[off:], quoted)
		if i < 0 {
			break
		}
		off += i + len(quoted)
		if rest := bytes.TrimLeft(data[off:], " \t\r\n"); len(rest) > 0 && rest[0] == ':' {
			return lineAt(data, off)
		}
	}
	for i, line := range bytes.Split(data, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if bytes.HasPrefix(t, []byte(key)) {
			rest := bytes.TrimSpace(t[len(key):])
			if len(rest) > 0 && (rest[0] == '=' || rest[0] == ':') {
				return i + 1
			}
		}
	}
	return 0
}
