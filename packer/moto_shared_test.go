package packer_test

import (
	"sync"
	"testing"

	"github.com/bp/infra/internal/moto"
	"github.com/bp/infra/internal/testtool"
)

// motoShared is one moto_server for the whole test binary (its start costs
// about a second and a half of CPU); tests keep to their own bucket and
// parameter, so they may run in parallel. TestMain stops it.
var motoShared struct {
	once sync.Once
	s    *moto.Server
	stop func()
	err  error
}

// sharedMoto starts moto_server on first use; a missing moto_server skips
// locally and fails under CI=true.
func sharedMoto(t *testing.T) *moto.Server {
	t.Helper()
	bin := testtool.Require(t, "moto_server", "pip install 'moto[server]==5.2.1'")
	motoShared.once.Do(func() { motoShared.s, motoShared.stop, motoShared.err = moto.Launch(bin) })
	if motoShared.err != nil {
		t.Fatalf("start moto_server: %v", motoShared.err)
	}
	return motoShared.s
}
