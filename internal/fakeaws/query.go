package fakeaws

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Call is one API request a fake received.
type Call struct {
	Action string
	Params url.Values
}

// members reads a query-protocol list such as InstanceIds.member.1..N.
func members(params url.Values, name string) []string {
	type item struct {
		idx int
		val string
	}
	var items []item
	prefix := name + ".member."
	for k, v := range params {
		if !strings.HasPrefix(k, prefix) || len(v) == 0 {
			continue
		}
		idx, err := strconv.Atoi(strings.TrimPrefix(k, prefix))
		if err != nil {
			continue
		}
		items = append(items, item{idx, v[0]})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].idx < items[j].idx })
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.val
	}
	return out
}

// parseQuery reads a form-encoded query-protocol request.
func parseQuery(r *http.Request) (Call, error) {
	if r.Method != http.MethodPost {
		return Call{}, fmt.Errorf("query protocol wants POST, got %s", r.Method)
	}
	if err := r.ParseForm(); err != nil {
		return Call{}, fmt.Errorf("parse form: %w", err)
	}
	if r.Header.Get("Authorization") == "" {
		return Call{}, fmt.Errorf("request is not signed")
	}
	return Call{Action: r.PostForm.Get("Action"), Params: r.PostForm}, nil
}

// writeQueryResult writes <ActionResponse><ActionResult>result</ActionResult>...</ActionResponse>.
func writeQueryResult(w http.ResponseWriter, action, xmlns string, result any) {
	var inner []byte
	if result != nil {
		b, err := xml.Marshal(result)
		if err != nil {
			writeQueryError(w, http.StatusInternalServerError, "InternalFailure", err.Error())
			return
		}
		// Keep the fields only: the Result element is the wrapper.
		inner = b[bytes.IndexByte(b, '>')+1 : bytes.LastIndexByte(b, '<')]
	}
	body := fmt.Sprintf(`<%sResponse xmlns="%s"><%sResult>%s</%sResult><ResponseMetadata><RequestId>fake-request</RequestId></ResponseMetadata></%sResponse>`,
		action, xmlns, action, inner, action, action)
	// A Content-Length like the real endpoints send, instead of chunking.
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = io.WriteString(w, body)
}

// writeQueryError writes the query-protocol error document.
func writeQueryError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	var msg strings.Builder
	_ = xml.EscapeText(&msg, []byte(message))
	fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fake-request</RequestId></ErrorResponse>`,
		code, msg.String())
}
