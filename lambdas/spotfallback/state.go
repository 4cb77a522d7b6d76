package spotfallback

import (
	"fmt"
	"strings"
	"time"
)

// state is the fallback state a fleet's ASG tag records, so the function
// keeps nothing between runs. The value reads, for people in the console:
//
//	"active since 2026-11-27T12:00:00Z"              fallback on, alert sent
//	"active since 2026-11-27T12:00:00Z alert-pending" fallback on, alert not yet sent
//	"ended 2026-11-27T12:40:00Z"                      back on Spot
//
// An absent or unreadable tag is "never fell back".
type state struct {
	Active       bool
	Since        time.Time // Active: when the fallback started; else when it ended (zero: never)
	AlertPending bool
}

func (s state) String() string {
	ts := s.Since.UTC().Format(time.RFC3339)
	switch {
	case s.Active && s.AlertPending:
		return "active since " + ts + " alert-pending"
	case s.Active:
		return "active since " + ts
	case s.Since.IsZero():
		return ""
	}
	return "ended " + ts
}

func parseState(v string) (state, error) {
	f := strings.Fields(v)
	switch {
	case len(f) == 0:
		return state{}, nil
	case len(f) >= 3 && f[0] == "active" && f[1] == "since":
		t, err := time.Parse(time.RFC3339, f[2])
		if err != nil || len(f) > 4 || (len(f) == 4 && f[3] != "alert-pending") {
			break
		}
		return state{Active: true, Since: t, AlertPending: len(f) == 4}, nil
	case len(f) == 2 && f[0] == "ended":
		if t, err := time.Parse(time.RFC3339, f[1]); err == nil {
			return state{Since: t}, nil
		}
	}
	return state{}, fmt.Errorf("unreadable fallback state %q", v)
}
