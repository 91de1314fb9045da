package jsonwire

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Unmarshal decodes data into the non-nil pointer v, accepting what encoding/json's Unmarshal
// accepts and refusing what it refuses, for the kinds this package covers: one value, blanks
// around it; unknown object keys skipped; keys matched exactly, else case-insensitively; a
// repeated key decoded again over the first (last wins); null leaving a value as it was and
// setting pointers and slices to nil; invalid UTF-8 in strings replaced by U+FFFD, as are lone
// surrogates; nesting deeper than 10000 refused. Hostile input gets an error, never a panic; a
// type error leaves v partly decoded (encoding/json's does too), so callers drop v on error.
func Unmarshal(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("jsonwire: Unmarshal needs a non-nil pointer")
	}
	d := decoder{data: data}
	if err := d.value(rv.Elem()); err != nil {
		return err
	}
	d.skipSpace()
	if d.off < len(d.data) {
		return d.syntax("after top-level value")
	}
	return nil
}

// maxDepth is encoding/json's nesting limit, so that both refuse the same input.
const maxDepth = 10000

type decoder struct {
	data  []byte
	off   int
	depth int
}

type unmarshaler interface{ UnmarshalJSON([]byte) error }

var unmarshalerType = reflect.TypeFor[unmarshaler]()

// SyntaxError is malformed JSON, worded as encoding/json words it where a client may have
// matched the words ("unexpected end of JSON input").
type SyntaxError struct {
	Offset int
	msg    string
}

func (e *SyntaxError) Error() string { return e.msg }

func (d *decoder) syntax(what string) error {
	if d.off >= len(d.data) {
		return &SyntaxError{Offset: d.off, msg: "unexpected end of JSON input"}
	}
	return &SyntaxError{Offset: d.off, msg: fmt.Sprintf("invalid character %q %s (offset %d)", d.data[d.off], what, d.off)}
}

func (d *decoder) typeError(what string, t reflect.Type) error {
	return fmt.Errorf("cannot decode JSON %s at offset %d into %s", what, d.off, t)
}

func (d *decoder) skipSpace() {
	for d.off < len(d.data) {
		switch d.data[d.off] {
		case ' ', '\t', '\n', '\r':
			d.off++
		default:
			return
		}
	}
}

func (d *decoder) peek() byte {
	d.skipSpace()
	if d.off < len(d.data) {
		return d.data[d.off]
	}
	return 0
}

// value decodes the next value into v; an invalid v (no target) skips it.
func (d *decoder) value(v reflect.Value) error {
	c := d.peek()
	if !v.IsValid() {
		_, err := d.skip()
		return err
	}
	// Pointers: null sets them to nil, anything else goes into what they point to (allocated if
	// nil, reused if not, as encoding/json does).
	for v.Kind() == reflect.Pointer {
		if c == 'n' {
			if err := d.literal("null"); err != nil {
				return err
			}
			v.SetZero()
			return nil
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		v = v.Elem()
	}
	if v.CanAddr() && v.Addr().Type().Implements(unmarshalerType) {
		start := d.off
		if _, err := d.skip(); err != nil {
			return err
		}
		if err := v.Addr().Interface().(unmarshaler).UnmarshalJSON(d.data[start:d.off]); err != nil {
			return fmt.Errorf("at offset %d: %w", start, err)
		}
		return nil
	}
	switch c {
	case '{':
		if v.Kind() == reflect.Map {
			return d.mapObject(v)
		}
		return d.object(v)
	case '[':
		return d.array(v)
	case '"':
		s, err := d.str()
		if err != nil {
			return err
		}
		if v.Kind() != reflect.String {
			return d.typeError("string", v.Type())
		}
		v.SetString(s)
		return nil
	case 't', 'f':
		word := "true"
		if c == 'f' {
			word = "false"
		}
		if err := d.literal(word); err != nil {
			return err
		}
		if v.Kind() != reflect.Bool {
			return d.typeError("bool", v.Type())
		}
		v.SetBool(c == 't')
		return nil
	case 'n':
		if err := d.literal("null"); err != nil {
			return err
		}
		if v.Kind() == reflect.Slice || v.Kind() == reflect.Map || v.Kind() == reflect.Interface {
			v.SetZero()
		}
		return nil
	default:
		num, err := d.number()
		if err != nil {
			return err
		}
		return d.storeNumber(num, v)
	}
}

func (d *decoder) storeNumber(num string, v reflect.Value) error {
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || v.OverflowInt(n) {
			return d.typeError("number "+num, v.Type())
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, err := strconv.ParseUint(num, 10, 64)
		if err != nil || v.OverflowUint(n) {
			return d.typeError("number "+num, v.Type())
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		n, err := strconv.ParseFloat(num, v.Type().Bits())
		if err != nil || v.OverflowFloat(n) {
			return d.typeError("number "+num, v.Type())
		}
		v.SetFloat(n)
	default:
		return d.typeError("number", v.Type())
	}
	return nil
}

func (d *decoder) enter() error {
	d.depth++
	if d.depth > maxDepth {
		return &SyntaxError{Offset: d.off, msg: fmt.Sprintf("exceeded max depth %d (offset %d)", maxDepth, d.off)}
	}
	return nil
}

func (d *decoder) object(v reflect.Value) error {
	if v.Kind() != reflect.Struct {
		return d.typeError("object", v.Type())
	}
	fields, err := fieldsOf(v.Type())
	if err != nil {
		return err
	}
	if err := d.enter(); err != nil {
		return err
	}
	return d.members(func(key string) error {
		var target reflect.Value
		if f := lookup(fields, key); f != nil {
			target = v.Field(f.index)
		}
		return d.value(target)
	})
}

// mapObject decodes an object into a map with string keys; each value is decoded into a fresh
// element, as encoding/json does.
func (d *decoder) mapObject(v reflect.Value) error {
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		return d.typeError("object", t)
	}
	if err := d.enter(); err != nil {
		return err
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(t))
	}
	return d.members(func(key string) error {
		elem := reflect.New(t.Elem()).Elem()
		if err := d.value(elem); err != nil {
			return err
		}
		k := reflect.New(t.Key()).Elem()
		k.SetString(key)
		v.SetMapIndex(k, elem)
		return nil
	})
}

// members reads an object's members from its "{" (the caller has entered it) to its "}",
// handing each key to member, which decodes the value that follows.
func (d *decoder) members(member func(key string) error) error {
	d.off++ // {
	if d.peek() == '}' {
		d.off++
		d.depth--
		return nil
	}
	for {
		if d.peek() != '"' {
			return d.syntax("looking for an object key")
		}
		key, err := d.str()
		if err != nil {
			return err
		}
		if d.peek() != ':' {
			return d.syntax("after object key")
		}
		d.off++
		if err := member(key); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.off++
		case '}':
			d.off++
			d.depth--
			return nil
		default:
			return d.syntax("after object value")
		}
	}
}

// lookup finds key's field as encoding/json does: an exact match first, else one equal under
// Unicode case folding.
func lookup(fields []field, key string) *field {
	for i := range fields {
		if fields[i].name == key {
			return &fields[i]
		}
	}
	for i := range fields {
		if strings.EqualFold(fields[i].name, key) {
			return &fields[i]
		}
	}
	return nil
}

func (d *decoder) array(v reflect.Value) error {
	if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
		return d.typeError("array", v.Type())
	}
	if err := d.enter(); err != nil {
		return err
	}
	d.off++ // [
	i := 0
	if d.peek() == ']' {
		d.off++
	} else {
		for {
			// Elements are decoded over what the slice already holds, as encoding/json does.
			if v.Kind() == reflect.Slice {
				if i >= v.Cap() {
					v.Grow(1)
				}
				if i >= v.Len() {
					v.SetLen(i + 1)
				}
			}
			target := reflect.Value{}
			if i < v.Len() {
				target = v.Index(i)
			}
			if err := d.value(target); err != nil {
				return err
			}
			i++
			c := d.peek()
			if c == ']' {
				d.off++
				break
			}
			if c != ',' {
				return d.syntax("after array element")
			}
			d.off++
		}
	}
	d.depth--
	if v.Kind() == reflect.Array {
		for ; i < v.Len(); i++ {
			v.Index(i).SetZero()
		}
	} else if i == 0 {
		v.Set(reflect.MakeSlice(v.Type(), 0, 0))
	} else {
		v.SetLen(i)
	}
	return nil
}
