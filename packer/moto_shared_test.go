package packer_test

import "github.com/bp/infra/internal/moto"

// motoShared is one moto_server for the whole test binary; tests keep to
// their own bucket and parameter, so they may run in parallel. TestMain
// stops it.
var motoShared moto.Shared
