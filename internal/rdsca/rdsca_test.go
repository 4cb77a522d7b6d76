package rdsca

import (
	"crypto/x509"
	"encoding/pem"
	"slices"
	"testing"
	"time"
)

// RDS's certificate rotation guide names the CAs a us-east-1 instance can
// use: rds-ca-rsa2048-g1 (the default for new instances), rds-ca-rsa4096-g1,
// rds-ca-ecc384-g1, and the retired rds-ca-2019 (chained to the Amazon RDS
// Root 2019 CA). The regional bundle must hold each of them and its root.
func TestRegionalBundleHoldsTheRegionsCAsAndTheirRoots(t *testing.T) {
	pemBytes, err := ForRegion("us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	pool := x509.NewCertPool()
	var certs []*x509.Certificate
	for rest := pemBytes; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, c.Subject.CommonName)
		certs = append(certs, c)
		pool.AddCert(c)
	}
	for _, want := range []string{"Amazon RDS us-east-1 Root CA RSA2048 G1", "Amazon RDS us-east-1 Root CA RSA4096 G1",
		"Amazon RDS us-east-1 Root CA ECC384 G1", "Amazon RDS us-east-1 2019 CA", "Amazon RDS Root 2019 CA"} {
		if !slices.Contains(names, want) {
			t.Errorf("regional bundle lacks %q; has %v", want, names)
		}
	}
	for _, c := range certs {
		// Within each certificate's own validity: the bundle does not depend
		// on the day it is built (rds-ca-2019 expired in August 2024).
		at := c.NotBefore.Add(24 * time.Hour)
		if _, err := c.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			t.Errorf("%s does not chain to a root in the bundle: %v", c.Subject.CommonName, err)
		}
	}
	if len(pemBytes) > 16<<10 {
		t.Errorf("regional bundle is %d bytes; it travels in a container's environment", len(pemBytes))
	}
	if _, err := ForRegion("xx-nowhere-1"); err == nil {
		t.Error("an unknown region must be refused")
	}
}
