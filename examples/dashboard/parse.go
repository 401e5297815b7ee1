package dashboard

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseText parses the line format written by the collector, one sample per
// line:
//
//	metric{label="value",...} <unix-millis> <value>
//
// The label block may be omitted or empty. Blank lines and lines starting
// with '#' are skipped. Samples are grouped into series (labels in any
// order name the same series), in order of first appearance. Errors name
// the 1-based line number.
func ParseText(data []byte) ([]Series, error) {
	var out []*Series
	byKey := map[string]*Series{}
	lines := strings.Split(string(data), "\n")
	for i, line := range lines {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 3 {
			return nil, fmt.Errorf("line %d: want 3 fields, got %d", i+1, len(fields))
		}
		metric, labels, err := parseSeries(fields[0])
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", i+1, err)
		}
		ms, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: bad timestamp %q", i+1, fields[1])
		}
		value, err := strconv.ParseFloat(fields[2], 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: bad value %q", i+1, fields[2])
		}
		key := SeriesKey(metric, labels)
		s, ok := byKey[key]
		if !ok {
			s = &Series{Metric: metric, Labels: labels}
			byKey[key] = s
			out = append(out, s)
		}
		s.Samples = append(s.Samples, Sample{T: ms, V: value})
	}
	series := []Series{}
	for _, s := range out {
		series = append(series, *s)
	}
	return series, nil
}

// parseSeries splits `metric{a="x",b="y"}` into the name and its labels.
func parseSeries(s string) (string, Labels, error) {
	labels := Labels{}
	open := strings.Index(s, "{")
	if open < 0 {
		return s, labels, nil
	}
	if !strings.HasSuffix(s, "}") {
		return "", nil, fmt.Errorf("unterminated label block in %q", s)
	}
	metric := s[:open]
	body := s[open+1 : len(s)-1]
	if body == "" {
		return metric, labels, nil
	}
	for _, pair := range strings.Split(body, ",") {
		kv := strings.SplitN(pair, "=", 2)
		if len(kv) != 2 || kv[0] == "" {
			return "", nil, fmt.Errorf("bad label %q", pair)
		}
		value, err := strconv.Unquote(kv[1])
		if err != nil {
			return "", nil, fmt.Errorf("bad label value %s", kv[1])
		}
		labels[kv[0]] = value
	}
	return metric, labels, nil
}

// AppendText appends the samples of s in the line format ParseText reads.
func AppendText(dst []byte, s Series) []byte {
	key := SeriesKey(s.Metric, s.Labels)
	for _, smp := range s.Samples {
		dst = append(dst, key...)
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, smp.T, 10)
		dst = append(dst, ' ')
		dst = strconv.AppendFloat(dst, smp.V, 'g', -1, 64)
		dst = append(dst, '\n')
	}
	return dst
}
