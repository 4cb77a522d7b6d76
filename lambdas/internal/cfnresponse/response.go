package cfnresponse

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Status values of a response.
const (
	StatusSuccess = "SUCCESS"
	StatusFailed  = "FAILED"
)

// MaxBodyBytes is CloudFormation's limit on the response body.
const MaxBodyBytes = 4096

// Response is the body PUT to the ResponseURL.
type Response struct {
	Status             string         `json:"Status"`
	Reason             string         `json:"Reason,omitempty"`
	PhysicalResourceID string         `json:"PhysicalResourceId"`
	StackID            string         `json:"StackId"`
	RequestID          string         `json:"RequestId"`
	LogicalResourceID  string         `json:"LogicalResourceId"`
	NoEcho             bool           `json:"NoEcho"`
	Data               map[string]any `json:"Data,omitempty"`
}

const truncatedMarker = " [truncated]"

// Marshal encodes the response, shortening Reason until the body is under
// MaxBodyBytes. If Data alone is too large it is dropped and the response
// becomes FAILED, because CloudFormation would reject it anyway.
func (r Response) Marshal() ([]byte, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode custom resource response: %w", err)
	}
	if len(body) < MaxBodyBytes {
		return body, nil
	}
	// JSON escaping makes the encoded size non-linear in the Reason length, so
	// binary-search the longest prefix of Reason that fits.
	full := r.Reason
	var best []byte
	lo, hi := 0, len(full)
	for lo <= hi {
		mid := (lo + hi) / 2
		r.Reason = truncateUTF8(full, mid) + truncatedMarker
		candidate, err := json.Marshal(r)
		if err != nil {
			return nil, fmt.Errorf("encode custom resource response: %w", err)
		}
		if len(candidate) < MaxBodyBytes {
			best, lo = candidate, mid+1
		} else {
			hi = mid - 1
		}
	}
	if best != nil {
		return best, nil
	}
	r.Data = nil
	r.Status = StatusFailed
	r.Reason = "response Data exceeds CloudFormation's 4096-byte limit"
	return json.Marshal(r)
}

// truncateUTF8 cuts s to at most n bytes without splitting a rune.
func truncateUTF8(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
