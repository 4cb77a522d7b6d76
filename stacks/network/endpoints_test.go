package network

import (
	"maps"
	"slices"
	"testing"

	"github.com/bp/infra/config"
)

// Every name config accepts has an endpoint here, and nothing else.
func TestEndpointNamesMatchConfig(t *testing.T) {
	got := slices.Sorted(maps.Keys(interfaceEndpoints()))
	if want := config.InterfaceEndpointNames(); !slices.Equal(got, want) {
		t.Fatalf("endpoints %v, config accepts %v", got, want)
	}
}
