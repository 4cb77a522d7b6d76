// Command genunits writes the AMI files generated from bootcontract (systemd
// units and the Packer boot locals) into the packer/ folder. Run it from the
// repository root after changing bootcontract: go run ./packer/cmd/genunits
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/bp/infra/packer/internal/bootfiles"
)

func main() {
	dir := flag.String("dir", "packer", "packer/ folder to write into")
	flag.Parse()
	if err := write(context.Background(), *dir); err != nil {
		slog.Error("genunits failed", "err", err)
		os.Exit(1)
	}
}

func write(ctx context.Context, dir string) error {
	for _, f := range bootfiles.Files() {
		path := filepath.Join(dir, f.Path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("create folder for %s: %w", path, err)
		}
		if err := os.WriteFile(path, []byte(f.Content), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		slog.InfoContext(ctx, "wrote", "file", path)
	}
	return nil
}
