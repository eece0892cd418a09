package form

import (
	"strconv"
	"strings"
)

// number parses a whole decimal number of at most maxDigits digits: no
// sign, no spaces inside, no exponent, no fraction.
func number(s string, maxDigits int) (int, bool) {
	if s == "" || len(s) > maxDigits {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// value is the first value of name, trimmed of surrounding spaces.
func value(v map[string][]string, name string) string {
	if vs := v[name]; len(vs) > 0 {
		return strings.TrimSpace(vs[0])
	}
	return ""
}

// Ticked is whether the checkbox field was ticked: browsers send "on"
// unless the box says otherwise; "true" and "yes" are accepted too.
func Ticked(v map[string][]string, field string) bool {
	switch strings.ToLower(value(v, field)) {
	case "on", "true", "yes":
		return true
	}
	return false
}
