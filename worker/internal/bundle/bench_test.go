package bundle

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/bp/infra/worker/testsupport/bundletest"
)

// BenchmarkSync_Apply64MiB measures a full apply (download from memory,
// sha256, staging, switch) of a 64 MiB checkpoint and a 200-file custom
// node tarball: the worker's own cost on top of the network.
func BenchmarkSync_Apply64MiB(b *testing.B) {
	weights := bytes.Repeat([]byte("0123456789abcdef"), 4<<20)
	var files []bundletest.Entry
	for i := range 200 {
		files = append(files, bundletest.Entry{Name: fmt.Sprintf("nodes/n%03d.py", i), Body: "x = 1\n"})
	}
	node := bundletest.TarGz(files)
	b.SetBytes(int64(len(weights) + len(node)))
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		e := newEnv(b)
		id := fmt.Sprintf("b-%d", i)
		e.publish(id, []bundletest.Asset{
			e.asset("checkpoint", weights, "models/checkpoints/big.safetensors", ActionCopy),
			e.asset("custom_node", node, "custom_nodes/pack", ActionExtractTarGz),
		}, "")
		b.StartTimer()
		if _, err := e.syncer.Sync(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}
