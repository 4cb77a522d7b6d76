// Package rdsca holds the Amazon RDS certificate authorities: RDS server
// certificates chain to them and they are in no system trust store. DB-init
// verifies the database against the global bundle; the backend's tasks get
// the bundle of their region (small enough for a container's environment).
package rdsca

import (
	"crypto/x509"
	_ "embed"
	"encoding/pem"
	"fmt"
	"strings"
)

// global is the bundle AWS publishes as global-bundle.pem (every region's
// CAs). Regenerate with gen-global-bundle.sh.
//
//go:embed global-bundle.pem
var global []byte

// Global returns every RDS CA, PEM encoded.
func Global() []byte { return global }

// ForRegion returns, PEM encoded, the CAs of one region ("Amazon RDS
// us-east-1 Root CA RSA2048 G1", ..., not the Beta ones) and the roots they
// chain to within the bundle.
func ForRegion(region string) ([]byte, error) {
	certs, err := parse(global)
	if err != nil {
		return nil, err
	}
	bySubject := map[string]*x509.Certificate{}
	for _, c := range certs {
		bySubject[string(c.RawSubject)] = c
	}
	var picked []*x509.Certificate
	seen := map[string]bool{}
	var add func(c *x509.Certificate)
	add = func(c *x509.Certificate) {
		if seen[string(c.Raw)] {
			return
		}
		seen[string(c.Raw)] = true
		picked = append(picked, c)
		if issuer, ok := bySubject[string(c.RawIssuer)]; ok {
			add(issuer)
		}
	}
	for _, c := range certs {
		cn := c.Subject.CommonName
		if strings.Contains(cn, " "+region+" ") && !strings.Contains(cn, "Beta") {
			add(c)
		}
	}
	if len(picked) == 0 {
		return nil, fmt.Errorf("the RDS bundle has no CA for region %q", region)
	}
	var b strings.Builder
	for _, c := range picked {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return []byte(b.String()), nil
}

func parse(bundle []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for rest := bundle; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("RDS bundle: %w", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("RDS bundle holds no certificate")
	}
	return out, nil
}
