package dashboard

import "math"

// Downsample reduces a line to at most threshold samples with
// Largest-Triangle-Three-Buckets, which keeps peaks and the visual shape.
// Lines that are already short enough (or threshold < 3) are returned as is.
func Downsample(data []Sample, threshold int) []Sample {
	if threshold < 3 || len(data) <= threshold {
		return data
	}
	out := make([]Sample, 0, threshold)
	out = append(out, data[0])
	every := float64(len(data)-2) / float64(threshold-2)
	a := 0
	for i := 0; i < threshold-2; i++ {
		// Average of the next bucket: the third corner of the triangle.
		avgStart := int(float64(i+1)*every) + 1
		avgEnd := int(float64(i+2)*every) + 1
		if avgEnd > len(data) {
			avgEnd = len(data)
		}
		var avgX, avgY float64
		for j := avgStart; j < avgEnd; j++ {
			avgX += float64(data[j].T)
			avgY += data[j].V
		}
		n := float64(avgEnd - avgStart)
		avgX /= n
		avgY /= n

		ax, ay := float64(data[a].T), data[a].V
		rangeStart := int(float64(i)*every) + 1
		rangeEnd := int(float64(i+1)*every) + 1
		maxArea, next := -1.0, rangeStart
		for j := rangeStart; j < rangeEnd; j++ {
			area := math.Abs((ax-avgX)*(data[j].V-ay) - (ax-float64(data[j].T))*(avgY-ay))
			if area > maxArea {
				maxArea, next = area, j
			}
		}
		out = append(out, data[next])
		a = next
	}
	return append(out, data[len(data)-1])
}
